"""The columnar path gives the same analysis as the per-event path (issue "Speed: a
columnar hot path": verdicts identical before and after, on the lab, the corpus and the
goldens). Every case is analysed both ways through ``analyze_paths``; the verdict, every
piece of evidence and every input report must be equal, and the columnar path must have
been taken for a good share of them (so the comparison is not vacuous)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from probes import pipeline
from probes.pipeline import LAST_PATH, ColumnarPath, analyze_paths
from tests import score
from tests.bench_ingest import generate
from tui.app.logview import LogIndex

CASES = list(score.discover())
TAKEN: Counter[str] = Counter()


def _doc(a: pipeline.Analysis) -> str:
    doc = {"verdict": repr(a.verdict),  # a frozen dataclass: every field, causes and path
           "evidence": [e.to_json() for e in a.case.evidence],
           "inputs": [repr(r) for r in a.inputs]}
    return re.sub(r'"collected_at": "[^"]*"', "", json.dumps(doc, sort_keys=True, default=str))


def _both(paths: list[str], monkeypatch: pytest.MonkeyPatch, **kw: object
          ) -> tuple[str, str, ColumnarPath]:
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "0")
    per_event = _doc(analyze_paths(paths, **kw))  # type: ignore[arg-type]
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "1")
    columnar = _doc(analyze_paths(paths, **kw))  # type: ignore[arg-type]
    return per_event, columnar, LAST_PATH[0] if LAST_PATH else ColumnarPath(False, "no logs")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_every_case_gets_the_same_analysis_both_ways(case: score.Case,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    LAST_PATH.clear()
    per_event, columnar, path = _both(case.inputs, monkeypatch)
    assert columnar == per_event
    TAKEN["bulk" if path.bulk else "columns" if path.used else "per-event"] += 1


def test_the_columnar_path_was_taken_for_many_cases() -> None:
    """Runs after the parametrized test above (file order): the comparison is not empty."""
    if sum(TAKEN.values()) < len(CASES):
        pytest.skip("run with the whole file")
    # 108 of the 122 cases with logs when written; the other 14 hold trace exports
    assert TAKEN["bulk"] + TAKEN["columns"] >= 100, TAKEN
    assert TAKEN["bulk"] >= 100, TAKEN


def test_a_big_pino_log_is_built_in_bulk_with_the_same_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 2_000_000, seed=11)
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert path == ColumnarPath(True, bulk=True)
    assert columnar == per_event


def test_the_logs_view_index_is_the_same_both_ways(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 300_000, seed=5)
    indexes = []
    for flag in ("0", "1"):
        monkeypatch.setenv("SCALEDOC_COLUMNAR", flag)
        ix = LogIndex()
        analyze_paths([str(log)], sink=ix)
        ix.finish()
        indexes.append(([list(a) for a in (ix.time_ns, ix.source, ix.line, ix.level,
                                            ix.instance, ix.run, ix.order)],
                        [ix.text(r) for r in range(0, len(ix), 97)]))
    assert LAST_PATH[0].used
    assert indexes[0] == indexes[1]


def test_a_machine_short_of_memory_streams_per_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked: the memory available (``psutil.virtual_memory``, through
    ``pipeline._memory_available``), as a busy laptop would report it. Too little for the
    columns: the per-event path, with the figures in the reason, and the same analysis."""
    log = tmp_path / "pino.log"
    generate(log, 2_000_000)
    size = log.stat().st_size
    monkeypatch.setattr(pipeline, "_memory_available", lambda: 4 * size)
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert not path.used and "of memory and" in path.reason, path
    assert f"{(4 * size) >> 20} MiB are available" in path.reason
    assert columnar == per_event
    monkeypatch.setattr(pipeline, "_memory_available", lambda: 6 * size)
    _both([str(log)], monkeypatch)
    assert LAST_PATH[0].used  # 3 x size fits in 60% of 6 x size
    monkeypatch.setattr(pipeline, "_memory_available", lambda: None)
    _both([str(log)], monkeypatch)
    assert LAST_PATH[0].used  # unknown: the size cap alone decides


def test_the_memory_available_is_read_from_the_machine(tmp_path: Path) -> None:
    free = pipeline._memory_available()
    assert free is not None and free > 0
    proc, cg = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    (proc / "meminfo").write_text("MemTotal:  16000000 kB\nMemFree:  1000 kB\n"
                                  "MemAvailable:  8000000 kB\n")
    assert pipeline._memory_available(str(proc), str(cg)) == 8_000_000 * 1024
    cg.mkdir()  # cgroup v2: 2 GiB limit, 1.5 GiB used: 512 MiB left for scaledoc
    (cg / "memory.max").write_text(f"{2 << 30}\n")
    (cg / "memory.current").write_text(f"{3 << 29}\n")
    assert pipeline._memory_available(str(proc), str(cg)) == 512 << 20
    (cg / "memory.max").write_text("max\n")  # no limit: the machine's figure
    assert pipeline._memory_available(str(proc), str(cg)) == 8_000_000 * 1024
    for f in ("memory.max", "memory.current"):
        (cg / f).unlink()
    (cg / "memory").mkdir()  # cgroup v1, and its "no limit" (a huge number)
    (cg / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (cg / "memory" / "memory.usage_in_bytes").write_text("123\n")
    assert pipeline._memory_available(str(proc), str(cg)) == 8_000_000 * 1024
    (cg / "memory" / "memory.limit_in_bytes").write_text(f"{1 << 30}\n")
    assert pipeline._memory_available(str(proc), str(cg)) == (1 << 30) - 123
    assert pipeline._memory_available(str(tmp_path / "none"), str(cg)) is None


def test_big_inputs_and_unknown_sizes_stream_per_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 200_000)
    monkeypatch.setattr(pipeline, "COLUMNAR_MAX_BYTES", 100_000)
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert not path.used and "streamed per event" in path.reason
    assert columnar == per_event
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "1")
    with open(log, "rb") as fh:
        analyze_paths(["-"], stdin=fh)
    assert LAST_PATH[0] == ColumnarPath(False, "stdin or a compressed input: size unknown")


def test_the_columnar_path_reports_progress_in_bytes(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 10_000_000)
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "1")
    seen: list[tuple[int, int]] = []
    analyze_paths([str(log)], progress=lambda stage, d, t: seen.append((d, t))
                  if stage == "reading logs" else None)
    assert LAST_PATH[0].used
    size = log.stat().st_size
    assert len(seen) >= 3 and all(t == size and 0 < d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == size


def test_a_cancel_while_decoding_analyses_and_reports_what_was_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C on the columnar path: the analysis is of the lines read before it, and the
    input report says how many and that the read was cancelled (as per event)."""
    import threading

    log = tmp_path / "pino.log"
    generate(log, 12_000_000)
    with log.open("rb") as fh:
        total = sum(1 for _ in fh)
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "1")
    cancel = threading.Event()
    a = analyze_paths([str(log)], cancel=cancel,
                      progress=lambda stage, d, t: cancel.set() if d else None)
    assert LAST_PATH[0].used and a.cancelled
    rep = next(r for r in a.inputs if r.name == str(log))
    assert rep.error == "cancelled" and 0 < rep.lines_read < total
    logs = next(e for e in a.case.evidence if e.probe == "logs")
    assert 0 < (logs.data or {})["events"] <= rep.lines_read


def test_a_log_of_few_runs_and_some_counter_writes_is_built_in_bulk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """150,000 lines of no known kind used to make the bulk build decline (each line's
    text read back to look for a counter write) and the rows were fed one by one; one
    scan of the file now names the few lines to look at."""
    import random

    rnd = random.Random(3)
    log = tmp_path / "cache.log"
    with log.open("w") as fh:
        for i in range(150_000):
            extra = (f',"key":"hits","old":{i // 1000},"new":{i // 1000 + 1}'
                     if i % 1000 == 0 else "")
            fh.write(f'{{"level":30,"time":{1_714_557_600_000 + i},"pid":{1000 + rnd.randrange(2)},'
                     f'"hostname":"api-{rnd.randrange(2)}","msg":"cache refreshed",'
                     f'"items":{rnd.randrange(100)}{extra}}}\n')
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert path == ColumnarPath(True, bulk=True)
    assert columnar == per_event
    from probes.columnar.bulk import bulk_analysis
    from probes.columnar.decode import Decoded, decode_inputs
    from probes.ingest import IngestConfig, InputFile

    decoded = decode_inputs([InputFile(str(log), log)], IngestConfig())
    assert isinstance(decoded, Decoded)
    built = bulk_analysis(decoded.columns, feedable=False)
    assert getattr(built, "counter_writes", None) == 150  # every one of them found


def test_a_fault_in_the_columnar_path_falls_back_to_reading_per_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newer path must not cost the operator the analysis: a bug raising inside it
    (simulated here) leaves the per-event path to read the inputs, with the same result."""
    from probes.columnar import bulk

    log = tmp_path / "pino.log"
    generate(log, 300_000, seed=2)

    def broken(*_a: object, **_k: object) -> object:
        raise IndexError("simulated fault")

    monkeypatch.setattr(bulk, "bulk_analysis", broken)
    per_event, columnar, path = _both([str(log)], monkeypatch)
    assert columnar == per_event
    assert not path.used and "failed (IndexError: simulated fault)" in path.reason
