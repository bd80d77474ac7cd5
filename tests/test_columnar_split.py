"""Decoding on two cores gives exactly what one sequential read gives (issue "Speed: a
columnar hot path": use both cores where it pays).

The cut is the risky part: a reader that starts inside a file must give the same events
as the one that read up to there, and the counts of both halves must add up to the
whole file's report. So every input file of the corpus, the lab and the ingest cases is
cut at many line boundaries (every one for short files), including where the cut is not
clean (inside a traceback, between CRI partial records, after an access-log line that
set the flavour): the rows and reports must equal the sequential decode every time.
These cuts run in this process (``_decode_split`` without a helper decodes the second
piece here, with the same fresh reader the helper uses).

The helper process itself is real (a ``python -c`` child over pipes): it is started on
generated pino logs, killed mid-way (the pieces are then decoded here), and cancelled.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import probes.columnar.decode as decode_mod
import probes.columnar.split as split_mod
from probes.columnar import events_from_columns
from probes.columnar.decode import Decoded, NotDecoded, decode_inputs
from probes.columnar.split import Helper, Split, plan_split
from probes.ingest import IngestConfig, InputFile
from probes.ingest.sources import discover
from tests import score
from tests.bench_ingest import generate
from tests.test_columnar_decode import FILES, ROOT, _hostile_file
from tests.test_columnar_pipeline import _both

CASES = list(score.discover())


def _sequential(inputs: list[InputFile], config: IngestConfig) -> Decoded | NotDecoded:
    return decode_mod._decode_split(inputs, config, None, None, None, None)


def _cut(inputs: list[InputFile], config: IngestConfig, split: Split) -> Decoded | NotDecoded:
    return decode_mod._decode_split(inputs, config, None, None, split, None)


def _at(path: Path, cut: int) -> Split:
    """One file cut at byte ``cut``, planned on the file now at ``path``."""
    st = path.stat()
    return Split(((0, 0, cut),), ((0, cut, None),), ((st.st_dev, st.st_ino),))


def _same(a: Decoded | NotDecoded, b: Decoded | NotDecoded) -> bool:
    if isinstance(a, NotDecoded) or isinstance(b, NotDecoded):
        return isinstance(a, NotDecoded) and isinstance(b, NotDecoded)
    return (a.reports == b.reports
            and list(events_from_columns(a.columns)) == list(events_from_columns(b.columns)))


def _line_starts(path: Path) -> list[int]:
    data = path.read_bytes()
    return [i + 1 for i, b in enumerate(data) if b == 10 and 0 < i + 1 < len(data)]


def _cuts(path: Path, most: int = 12) -> list[int]:
    starts = _line_starts(path)
    if len(starts) <= 2 * most:
        return starts
    step = len(starts) / most
    return sorted({starts[int(k * step)] for k in range(most)})


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_input_file_cut_at_line_boundaries_decodes_as_one_read(path: Path) -> None:
    config = IngestConfig()
    inputs = [InputFile(str(path), path)]
    whole = _sequential(inputs, config)
    for cut in _cuts(path):
        got = _cut(inputs, config, _at(path, cut))
        assert _same(got, whole), f"{path} cut at byte {cut}"


@pytest.mark.parametrize("variant", ["lf", "crlf", "no-final-newline"])
def test_hostile_lines_cut_at_every_line_boundary(tmp_path: Path, variant: str) -> None:
    cap = 1024
    path = tmp_path / "hostile.log"
    _hostile_file(path, cap, crlf=variant == "crlf", final_newline=variant != "no-final-newline")
    config = IngestConfig(max_line_bytes=cap)
    inputs = [InputFile("hostile.log", path)]
    whole = _sequential(inputs, config)
    assert isinstance(whole, Decoded)
    starts = _line_starts(path)
    # the hostile lines sit between line 400 and 440 of about 750: every cut around them
    for cut in starts[395:445] + starts[::100]:
        got = _cut(inputs, config, _at(path, cut))
        assert _same(got, whole), f"cut at byte {cut}"


def test_a_cut_inside_a_traceback_is_not_clean_and_the_first_side_reads_on(
        tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = [f'{{"level":30,"time":{1714557600000 + i},"msg":"tick {i}"}}' for i in range(50)]
    lines += ['{"level":50,"time":1714557600100,"msg":"boom","err":{"message":"x"}}',
              "Traceback (most recent call last):",
              '  File "app.py", line 3, in <module>',
              "ValueError: x"]
    lines += [f'{{"level":30,"time":{1714557600200 + i},"msg":"tock {i}"}}' for i in range(50)]
    path.write_text("\n".join(lines) + "\n")
    inputs = [InputFile("app.log", path)]
    config = IngestConfig()
    whole = _sequential(inputs, config)
    inside = _line_starts(path)[51]  # after "Traceback ...": the block is open
    got = _cut(inputs, config, _at(path, inside))
    assert _same(got, whole)
    reader_stopped: list[bool] = []
    original = decode_mod._ColumnReader._clean_at_cut

    def spy(self: decode_mod._ColumnReader) -> bool:
        reader_stopped.append(original(self))
        return reader_stopped[-1]

    mp = pytest.MonkeyPatch()
    mp.setattr(decode_mod._ColumnReader, "_clean_at_cut", spy)
    try:
        _cut(inputs, config, _at(path, inside))
        clean_cut = _line_starts(path)[20]
        _cut(inputs, config, _at(path, clean_cut))
    finally:
        mp.undo()
    assert reader_stopped == [False, True]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_every_case_split_in_two_decodes_as_one_read(
        case: score.Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    inputs = discover(case.inputs)
    split = plan_split(inputs, min_bytes=0)
    if split is None:
        pytest.skip("nothing to cut (one short input)")
    config = IngestConfig()
    # held-back cases: compared, never shown (a mismatch names the case only)
    assert _same(_cut(inputs, config, split), _sequential(inputs, config)), (
        f"{case.set}/{case.name} ({case.part})")


# --------------------------------------------------------------------------- the plan


def test_the_plan_cuts_after_a_line_ending_before_a_json_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    path = tmp_path / "a.log"
    path.write_bytes(b"".join(b'{"i":%d}\n  continued\n' % i for i in range(10_000)))
    inp = [InputFile("a.log", path)]
    assert plan_split(inp) is None  # under SPLIT_MIN_BYTES
    split = plan_split(inp, min_bytes=0)
    assert split is not None
    ((i, start, cut),) = split.mine
    assert (i, start) == (0, 0) and split.theirs == ((0, cut, None),)
    data = path.read_bytes()
    assert cut is not None and data[cut - 1 : cut + 1] == b"\n{"
    assert abs(cut - len(data) * (1 - split_mod.HELPER_SHARE)) < 64
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "1")
    assert plan_split(inp, min_bytes=0) is None  # one process: nothing to plan


def test_the_plan_keeps_a_file_whole_when_no_line_ends_near_the_middle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "CUT_WINDOW", 1024)
    small, big = tmp_path / "small.log", tmp_path / "big.log"
    small.write_bytes(b'{"a":1}\n' * 7_500)  # 60 kB before a 100 kB line
    big.write_bytes(b'{"msg":"' + b"x" * 100_000 + b'"}\n')
    inputs = [InputFile("small.log", small), InputFile("big.log", big)]
    split = plan_split(inputs, min_bytes=0)
    # the big file is not cut; it goes to the side that holds most of it (the helper)
    assert split is not None
    assert (split.mine, split.theirs) == (((0, 0, None),), ((1, 0, None),))
    assert plan_split([inputs[1]], min_bytes=0) is None


# --------------------------------------------------------------------------- the helper


class _Watched(Helper):
    """The real helper, recording what it answered (real process, real pipes)."""

    answers: list[tuple[bool, object]] = []

    def result(self, *a: object, **kw: object) -> tuple[bool, object]:
        got = super().result(*a, **kw)  # type: ignore[arg-type]
        _Watched.answers.append(got)
        return got


@pytest.fixture
def pino_pair(tmp_path: Path) -> list[InputFile]:
    a, b = tmp_path / "api-0.log", tmp_path / "api-1.log"
    generate(a, 3_000_000, seed=3)
    generate(b, 1_000_000, seed=4)
    return [InputFile("api-0.log", a), InputFile("api-1.log", b)]


def test_the_helper_process_decodes_its_half_exactly(
        pino_pair: list[InputFile], monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(decode_mod, "Helper", _Watched)
    monkeypatch.setattr(decode_mod, "PROGRESS_BYTES", 1 << 16)
    _Watched.answers = []
    config = IngestConfig()
    seen: list[int] = []
    got = decode_inputs(pino_pair, config, progress=seen.append)
    assert _Watched.answers and _Watched.answers[0][0] is True  # the helper answered
    assert _same(got, _sequential(pino_pair, config))
    assert len(seen) > 10 and seen == sorted(seen)  # both sides' bytes, in order
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # the helper writes nothing to the terminal


class _Killed(Helper):
    """A helper whose process is killed as soon as it starts (names the fault it mocks:
    a helper that dies, as an OOM kill would end it)."""

    def __init__(self, *a: object) -> None:
        super().__init__(*a)  # type: ignore[arg-type]
        self._proc.kill()


def test_a_helper_that_dies_costs_only_time(
        pino_pair: list[InputFile], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(decode_mod, "Helper", _Killed)
    config = IngestConfig()
    assert _same(decode_inputs(pino_pair, config), _sequential(pino_pair, config))


def test_cancelling_keeps_what_was_read_and_ends_the_helper(
        pino_pair: list[InputFile], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    started: list[Helper] = []

    class Kept(Helper):
        def __init__(self, *a: object) -> None:
            super().__init__(*a)  # type: ignore[arg-type]
            started.append(self)

    monkeypatch.setattr(decode_mod, "Helper", Kept)
    monkeypatch.setattr(decode_mod, "PROGRESS_BYTES", 1 << 16)
    cancel = threading.Event()
    config = IngestConfig()

    def progress(n: int) -> None:
        if n > 1_000_000:
            cancel.set()

    got = decode_inputs(pino_pair, config, cancel=cancel, progress=progress)
    assert isinstance(got, Decoded)
    assert [r.error for r in got.reports] == ["cancelled", "cancelled"]
    first = got.reports[0]
    with open(pino_pair[0].path, "rb") as fh:  # type: ignore[arg-type]
        total = sum(1 for _ in fh)
    assert 0 < first.lines_read < total // 2 and got.reports[1].lines_read == 0
    # the rows are the first lines of the first file, in order, as far as it was read
    lines = [ev.line for ev in events_from_columns(got.columns)]
    assert lines == list(range(1, len(lines) + 1)) and len(lines) == first.events
    assert started and started[0]._proc.poll() is not None  # the helper was ended


def test_an_analysis_split_over_two_processes_gives_the_per_event_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 4_000_000, seed=21)
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(decode_mod, "Helper", _Watched)
    _Watched.answers = []
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert path.used and path.bulk and _Watched.answers[0][0] is True
    assert columnar == per_event


def test_the_helper_is_not_fooled_by_a_probes_package_in_the_working_directory(
        pino_pair: list[InputFile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper is ``python -c``, which would put the working directory first on its
    path: a user's own ``probes`` package there must not replace scaledoc's."""
    shadow = tmp_path / "work"
    (shadow / "probes").mkdir(parents=True)
    (shadow / "probes" / "__init__.py").write_text("raise SystemExit('not scaledoc')\n")
    monkeypatch.chdir(shadow)
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    got = decode_inputs(pino_pair, IngestConfig())
    assert isinstance(got, Decoded) and got.processes == 2


def test_mutated_real_lines_cut_anywhere_decode_as_one_read(tmp_path: Path) -> None:
    """The fuzzer's material (real lab and corpus lines, some mutated: broken JSON, NULs,
    deep nesting, escapes, truncation) in files of up to 120 lines, each cut at three
    random line boundaries: the cut decode equals the sequential one, or both decline."""
    import random

    from tests.test_fuzz import _mutate, _real_lines

    rng = random.Random(29)
    lines = _real_lines()
    config = IngestConfig()
    compared = clean = 0
    for n in range(150):
        start = rng.randrange(len(lines))
        chunk = [_mutate(rng, ln) if rng.random() < 0.3 else ln
                 for ln in lines[start:start + rng.randint(2, 120)]]
        path = tmp_path / f"m{n % 4}.log"
        path.write_bytes("\n".join(chunk).encode("utf-8", errors="surrogateescape") + b"\n")
        inputs = [InputFile(path.name, path)]
        whole = _sequential(inputs, config)
        starts = _line_starts(path)
        for cut in rng.sample(starts, min(3, len(starts))):
            got = _cut(inputs, config, _at(path, cut))
            assert _same(got, whole), f"file {n} cut at byte {cut}: {path.read_bytes()[:400]!r}"
            compared += 1
            clean += isinstance(got, Decoded)
    assert compared > 300 and clean > compared // 2  # most cuts decode (not all declined)


@pytest.mark.parametrize("server_line", [
    "[2024-05-01 10:00:20 +0000] [7] [INFO] Booting worker with pid: 7",
    "[Wed May 01 10:00:20.123456 2024] [core:error] [pid 7] AH00124: Request exceeded the "
    "limit of 10 internal redirects"])
def test_a_cut_after_a_server_line_that_names_the_access_flavour_is_not_clean(
        tmp_path: Path, server_line: str) -> None:
    """A gunicorn or Apache line earlier in the file makes the combined-format access
    lines after it that server's (nginx is the default): a fresh reader after the cut
    would not know, so the first reader reads on."""
    clf = ('10.0.0.{i} - - [01/May/2024:10:00:{s:02d} +0000] "GET /chat HTTP/1.1" 200 12 '
           '"-" "curl/8.0"')
    lines = [clf.format(i=i, s=i) for i in range(20)] + [server_line]
    lines += [clf.format(i=i, s=21 + i) for i in range(20)]
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    inputs = [InputFile("access.log", path)]
    config = IngestConfig()
    whole = _sequential(inputs, config)
    assert isinstance(whole, Decoded)
    flavours = {f["access"] for f in whole.columns.fields.values() if "access" in f}
    assert "nginx" in flavours and len(flavours) == 2  # the server line changed the flavour
    after = _line_starts(path)[21]  # two lines after the server line
    got = _cut(inputs, config, _at(path, after))
    assert _same(got, whole)


def test_a_file_rotated_after_the_plan_is_read_whole_from_what_was_opened(
        tmp_path: Path) -> None:
    """A log rotated by renaming between the plan and the read (kubelet rotates container
    logs so): the file now at the path is another, so no cut is made in it and the
    pieces of two files are never mixed; the read is that of the file found there."""
    path = tmp_path / "0.log"
    generate(path, 400_000, seed=8)
    cut = _line_starts(path)[800]
    split = _at(path, cut)
    old = path.read_bytes()
    path.rename(tmp_path / "0.log.20261207-030000")
    other = tmp_path / "other.log"
    generate(other, 400_000, seed=9)
    # the new file even has a line ending at the cut (the same first lines): only its
    # identity tells it from the planned one
    path.write_bytes(old[:cut] + other.read_bytes())
    inputs = [InputFile("0.log", path)]
    config = IngestConfig()
    got = _cut(inputs, config, split)
    assert isinstance(got, Decoded) and _same(got, _sequential(inputs, config))


def test_a_file_rotated_while_its_first_piece_is_read_is_not_mixed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotated after the first piece opened its file but before the second piece does:
    the second piece, opening the path, finds another file and refuses; the set is left
    to the per-event path rather than made of two files."""
    path = tmp_path / "0.log"
    generate(path, 400_000, seed=8)
    split = _at(path, _line_starts(path)[800])
    original = decode_mod._ColumnReader._clean_at_cut

    def rotate_then_check(self: decode_mod._ColumnReader) -> bool:
        if not (tmp_path / "old.log").exists():
            path.rename(tmp_path / "old.log")
            generate(path, 300_000, seed=9)
        return original(self)

    monkeypatch.setattr(decode_mod._ColumnReader, "_clean_at_cut", rotate_then_check)
    got = _cut([InputFile("0.log", path)], IngestConfig(), split)
    assert isinstance(got, NotDecoded) and "not the one its first piece read" in got.reason


def test_a_helper_that_cannot_start_leaves_one_process(
        pino_pair: list[InputFile], monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked: the interpreter the helper would run (``sys.executable``), gone as in an
    embedded Python. The set is decoded here, the same as ever."""
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_mod, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(split_mod.sys, "executable", "/nonexistent/python3")
    config = IngestConfig()
    got = decode_inputs(pino_pair, config)
    assert isinstance(got, Decoded) and got.processes == 1
    assert _same(got, _sequential(pino_pair, config))


def test_a_cgroup_cpu_quota_caps_the_processes(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Real files in a temporary tree stand for /sys/fs/cgroup (v2, then v1)."""
    monkeypatch.delenv(split_mod.ENV_PROCESSES, raising=False)
    cores = split_mod.processes_allowed(str(tmp_path / "none"))
    assert cores >= 1
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("100000 100000\n")  # one CPU
    assert split_mod.processes_allowed(str(v2)) == 1
    (v2 / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: two may run
    assert split_mod.processes_allowed(str(v2)) == min(2, cores)
    (v2 / "cpu.max").write_text("max 100000\n")
    assert split_mod.processes_allowed(str(v2)) == cores
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert split_mod.processes_allowed(str(v1)) == cores
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    assert split_mod.processes_allowed(str(v1)) == 1
    monkeypatch.setenv(split_mod.ENV_PROCESSES, "2")
    assert split_mod.processes_allowed(str(v1)) == 2  # the operator's word wins
