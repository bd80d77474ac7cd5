"""Inputs, sniffing, config, stdin and the time merge.

Real files and directories in tmp_path, a real subprocess pipe for stdin, the real
Kubernetes captures copied into tests/ingest_cases/kube/ (see SOURCES.md there).
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from probes.events import EventKind, LogEvent
from probes.ingest import (
    IngestConfig,
    InputFile,
    LogReader,
    discover,
    merge_by_time,
    read_all,
    sniff,
)
from probes.ingest.sources import ReplayStream, peek_stdin

CASES = Path(__file__).parent / "ingest_cases"
PINO = '{"level":30,"time":%d,"pid":1,"hostname":"h","msg":"run started","runId":"r%d"}\n'


# ---------------------------------------------------------------- discover

def test_discover_walks_directories_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "logs" / "b").mkdir(parents=True)
    (tmp_path / "logs" / ".git").mkdir()
    (tmp_path / "logs" / "b" / "z.log").write_text("x\n")
    (tmp_path / "logs" / "a.log").write_text("x\n")
    (tmp_path / "logs" / ".git" / "HEAD").write_text("ref\n")
    (tmp_path / "empty").mkdir()
    given = str(tmp_path / "logs")
    found = discover([given, "-", str(tmp_path / "missing.log"), str(tmp_path / "empty")])
    names = [(f.name, f.error) for f in found]
    assert names == [
        (os.path.join(given, "a.log"), None),
        (os.path.join(given, "b", "z.log"), None),
        ("-", None),
        (str(tmp_path / "missing.log"), "no such file"),
        (str(tmp_path / "empty"), "is a directory with no files"),
    ]
    assert found[2].path is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_discover_reports_permission_denied(tmp_path: Path) -> None:
    p = tmp_path / "secret.log"
    p.write_text("x\n")
    p.chmod(0)
    (f,) = discover([str(p)])
    assert f.error == "permission denied"


def test_discover_reports_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "link.log").symlink_to(tmp_path / "gone.log")
    (f,) = discover([str(tmp_path / "link.log")])
    assert f.error == "broken symlink"


# ---------------------------------------------------------------- sniff

@pytest.mark.parametrize(("name", "kind", "fmt"), [
    ("kube/pod-oomkilled-137-restarts101-is-healthy.yaml", "kube", "kubectl-yaml"),
    ("kube/pod-oomkilled-137-restarts101-is-healthy.converted.json", "kube", "kubectl-json"),
    ("kube/describe-pod-oomkilled-137-crashloop-busybox-holmesgpt.txt", "kube",
     "kubectl-describe"),
    ("kube/events-startup-probe-failed-mysql-k8s-issue-98780.txt", "kube", "kubectl-events"),
    ("otlp.jsonl", "trace", "otlp-json"),
    ("otlp-tempo.json", "trace", "otlp-json"),
    ("cri-pino.log", "log", "cri+pino"),
    ("stern.log", "log", "stern+pino"),
])
def test_sniff_golden(name: str, kind: str, fmt: str) -> None:
    s = sniff(InputFile(name, CASES / name))
    assert (s.kind, s.format) == (kind, fmt), s.reason


def test_sniff_kube_text_shapes(tmp_path: Path) -> None:
    """Events table with a header, describe's Events section, a bare object, a node row."""
    shapes = {
        "ev.txt": "LAST SEEN   TYPE      REASON      OBJECT        MESSAGE\n"
                  "58m         Normal    Scheduled   Pod/web-1     Successfully assigned\n",
        "sect.txt": "Events:\n  Type     Reason     Age   From     Message\n"
                    "  ----     ------     ----  ----     -------\n",
        "bare.json": '{\n  "metadata": {\n    "name": "vsystem-867f4b77cc-pqcns"\n  }\n}\n',
        "node.txt": "  MemoryPressure   True    Tue, 01 Feb 2022 09:44:34 +0100   "
                    "KubeletHasInsufficientMemory   kubelet has insufficient memory\n",
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text)
        assert sniff(InputFile(name, tmp_path / name)).kind == "kube", name
    # and a log that merely mentions events is still a log
    (tmp_path / "app.log").write_text("2024-05-01T10:00:00Z INFO Name: planner created\n"
                                      "2024-05-01T10:00:01Z INFO run started\n")
    assert sniff(InputFile("app.log", tmp_path / "app.log")).kind == "log"


@pytest.mark.parametrize("fname", ["app.py", "server.ts", "ui.tsx", "x.mjs", "x.cjs", "a.js",
                                   "package.json", "package-lock.json", "yarn.lock",
                                   "pnpm-lock.yaml", "requirements-dev.txt", "pyproject.toml",
                                   "poetry.lock", "uv.lock"])
def test_sniff_code_by_name(tmp_path: Path, fname: str) -> None:
    p = tmp_path / fname
    p.write_text("import x\n")
    assert sniff(InputFile(fname, p)).kind == "code"


def test_sniff_bundle_plain_and_gzipped(tmp_path: Path) -> None:
    member = tmp_path / "pods.json"
    member.write_text('{"apiVersion":"v1","kind":"List","items":[]}')
    with tarfile.open(tmp_path / "b.tar", "w") as tar:
        tar.add(member, arcname="cluster/pods.json")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as tar:
        tar.add(member, arcname="cluster/pods.json")
    for name in ("b.tar", "b.tar.gz"):
        s = sniff(InputFile(name, tmp_path / name))
        assert s.kind == "bundle", (name, s)


def test_sniff_reads_a_bounded_sample(tmp_path: Path) -> None:
    """A 20 MB log is sniffed from its head only: kube/trace text late in it is ignored."""
    p = tmp_path / "big.log"
    with open(p, "w") as f:
        for i in range(80_000):
            f.write(PINO % (1714557600000 + i, i))
    s = sniff(InputFile("big.log", p))
    assert (s.kind, s.format) == ("log", "pino")


def test_sniff_stdin_replays_the_sample() -> None:
    data = "".join(PINO % (1714557600000 + i, i) for i in range(3000)).encode()
    s = sniff(InputFile("-", None), io.BytesIO(data))
    assert (s.kind, s.format) == ("log", "pino")
    assert isinstance(s.stdin, ReplayStream)
    events, rep = read_all(InputFile("-", None), stdin=s.stdin)
    assert len(events) == 3000 and [e.run for e in events[:2]] == ["r0", "r1"]
    assert rep.bytes_read == len(data)


def test_sniff_then_reader_on_the_same_raw_stdin_loses_nothing() -> None:
    """A caller may pass the raw stream to both sniff and LogReader (not Sniffed.stdin)."""
    data = "".join(PINO % (1714557600000 + i, i) for i in range(3000)).encode()
    raw = io.BytesIO(data)
    assert sniff(InputFile("-", None), raw).format == "pino"
    events, _ = read_all(InputFile("-", None), stdin=raw)
    assert len(events) == 3000 and events[0].run == "r0"


def test_peek_replays_exact_bytes() -> None:
    data = bytes(range(256)) * 1000
    stream = peek_stdin(io.BytesIO(data), size=1000)
    assert stream.read() == data


def test_sniff_gzip_stdin(tmp_path: Path) -> None:
    raw = "".join(PINO % (1714557600000 + i, i) for i in range(100)).encode()
    s = sniff(InputFile("-", None), io.BytesIO(gzip.compress(raw)))
    assert (s.kind, s.format) == ("log", "pino") and "(gzip)" in s.reason
    events, _ = read_all(InputFile("-", None), stdin=s.stdin)
    assert len(events) == 100


def test_sniff_unreadable_input() -> None:
    s = sniff(InputFile("x", None, "no such file"))
    assert s.error == "no such file"


# ---------------------------------------------------------------- stdin through a real pipe

def test_stdin_from_a_subprocess_pipe() -> None:
    """`producer | scaledoc`: a real child process writes CRI lines into a pipe."""
    script = (
        "import sys\n"
        "for i in range(2000):\n"
        "    sys.stdout.write('2024-05-01T10:00:00.%09dZ stdout F {\"level\":30,\"time\":%d,"
        "\"msg\":\"run started\",\"runId\":\"r%d\"}\\n' % (i, 1714557600000 + i, i))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    s = sniff(InputFile("-", None), cast(BinaryIO, proc.stdout))
    assert s.format == "cri+pino"
    events, rep = read_all(InputFile("-", None), stdin=s.stdin)
    proc.wait(timeout=30)
    assert len(events) == rep.lines_read == 2000
    assert events[-1].run == "r1999" and events[-1].time_ns == (1714557600000 + 1999) * 10**6


# ---------------------------------------------------------------- config

def test_config_file_and_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "scaledoc.toml"
    cfg.write_text('[fields]\ninstance = "ctx.bot"\nsession = "conv"\n'
                   "[ingest]\nmax_line_bytes = 4096\n")
    c = IngestConfig.load(str(cfg), ["session=meta.chat", "run = job"])
    assert c.field_overrides == {"instance": "ctx.bot", "session": "meta.chat", "run": "job"}
    assert c.max_line_bytes == 4096


@pytest.mark.parametrize(("overrides", "message"), [
    (["instance"], "expected role=key"),
    (["colour=x"], "unknown role 'colour'"),
    (["instance="], "non-empty dotted path"),
    (["instance=a..b"], "non-empty dotted path"),
])
def test_bad_overrides_say_what_is_wrong(overrides: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IngestConfig.load(None, overrides)


def test_bad_config_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        IngestConfig.load(str(tmp_path / "none.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[fields\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        IngestConfig.load(str(bad))
    bad.write_text('[fields]\nfoo = "x"\n')
    with pytest.raises(ValueError, match="unknown role 'foo'"):
        IngestConfig.load(str(bad))


def test_field_override_is_used(tmp_path: Path) -> None:
    p = tmp_path / "custom.log"
    p.write_text('{"level":30,"msg":"run started","ctx":{"bot":"b-1","conv":"c-9"}}\n'
                 '{"level":30,"msg":"run started","ctx":{"bot":"b-2","conv":"c-9"}}\n')
    plain, _ = read_all(InputFile("c", p))
    assert [e.instance for e in plain] == [None, None]
    cfg = IngestConfig.load(None, ["instance=ctx.bot", "session=ctx.conv"])
    events, _ = read_all(InputFile("c", p), cfg)
    assert [(e.instance, e.session) for e in events] == [("b-1", "c-9"), ("b-2", "c-9")]


# ---------------------------------------------------------------- merge_by_time

def ev(source: str, line: int, t: int | None) -> LogEvent:
    return LogEvent(time_ns=t, source=source, line=line)


def test_merge_orders_by_time_and_keeps_untimed_lines_after_their_line() -> None:
    a = [ev("a", 1, 10), ev("a", 2, None), ev("a", 3, 30)]  # a stack line after line 1
    b = [ev("b", 1, 5), ev("b", 2, 20), ev("b", 3, 40)]
    merged = [(e.source, e.line) for e in merge_by_time([iter(a), iter(b)])]
    assert merged == [("b", 1), ("a", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3)]
    assert a[1].time_ns is None  # inheritance is for ordering only


def test_merge_leading_untimed_lines_take_the_first_time_seen() -> None:
    a = [ev("a", 1, None), ev("a", 2, 50)]
    b = [ev("b", 1, 10), ev("b", 2, 60)]
    merged = [(e.source, e.line) for e in merge_by_time([iter(a), iter(b)])]
    assert merged == [("b", 1), ("a", 1), ("a", 2), ("b", 2)]


def test_merge_source_without_any_time_comes_first_in_order() -> None:
    a = [ev("a", i, None) for i in range(1, 4)]
    b = [ev("b", 1, 1)]
    merged = [(e.source, e.line) for e in merge_by_time([iter(a), iter(b)])]
    assert merged == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]


def test_merge_real_readers(tmp_path: Path) -> None:
    """Two replica files read lazily and merged: a stable global time order."""
    for r in range(2):
        with open(tmp_path / f"replica-{r}.log", "w") as f:
            for i in range(500):
                f.write(PINO % (1714557600000 + 2 * i + r, i))
    readers = [LogReader(inp, IngestConfig()) for inp in discover([str(tmp_path)])]
    merged = list(merge_by_time([r.events() for r in readers]))
    times = [e.time_ns or 0 for e in merged]
    assert len(merged) == 1000 and times == sorted(times) and min(times) > 0
    assert all(e.kind is EventKind.RUN_START for e in merged)
    assert [r.report().events for r in readers] == [500, 500]


def test_pod_named_inputs_give_the_host(tmp_path: Path) -> None:
    """Bundle logs are named pod/NAME/CONTAINER: lines without a hostname get the pod."""
    p = tmp_path / "000001.log"
    p.write_text('{"level":30,"msg":"run started","runId":"r1"}\n'
                 '{"level":30,"hostname":"own-host","msg":"run started","runId":"r2"}\n')
    events, _ = read_all(InputFile("pod/web-7cfd7bf68f-nk5kr/app (previous)", p))
    assert [e.host for e in events] == ["web-7cfd7bf68f-nk5kr", "own-host"]
    events, _ = read_all(InputFile("logs/app.log", p))
    assert events[0].host is None
