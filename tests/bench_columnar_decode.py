"""The batch decoder's speed and memory against the per-event reader and lnav (printed).

Run: ``python3 tests/bench_columnar_decode.py [FILE ...]`` (default: ``/tmp/sd/bench60.log``,
the same lines as ``kubectl logs --timestamps`` prints them in ``/tmp/sd/bench60-kt.log``,
and ``/tmp/sd/bench300.log``, generated with ``tests.bench_ingest.generate`` and
``wrap_kubectl`` when missing) or ``python3 -m pytest -m benchmark -s
tests/bench_columnar_decode.py`` (the 60 MB file and its wrapped copy in a temp dir).

The wrapped file measures what pod logs cost: every line is unwrapped by the reader's
own ``Unwrapper`` on both paths (one timestamp parse per line), so the gap between the
two paths is narrower than on the bare file.

Each tool runs in its own child process, one after another on the same file, so each
peak RSS is its own (``ru_maxrss``; ``/usr/bin/time`` for lnav). Figures: wall and CPU
seconds, µs of CPU per line (the machine is shared: CPU time is the steadier figure), MB/s
of wall time, peak RSS, and the RSS of a child that only imports the same modules, so
the memory the work itself took can be read off. lnav runs with the pino format of
``tests/lnav`` and a count query, as ``tests/bench_engines.py`` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest

from tests.bench_ingest import generate

REPO = Path(__file__).resolve().parent.parent
LNAV_FORMAT = REPO / "tests" / "lnav" / "pino_log.json"
DEFAULT_FILES = [(Path("/tmp/sd/bench60.log"), 60_000_000),
                 (Path("/tmp/sd/bench60-kt.log"), 60_000_000),
                 (Path("/tmp/sd/bench300.log"), 300_000_000)]
"""A name ending in ``-kt.log`` is the same-sized generated file, wrapped (``wrap_kubectl``)."""
_T0_NS = 1_714_557_600_000_000_000

_PRELUDE = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from probes.columnar.decode import Decoded, decode_inputs
    from probes.ingest import IngestConfig, InputFile, LogReader
    path = Path(sys.argv[1])
    inp = InputFile(path.name, path)
    def done(rows, t0, c0):
        print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                          "rows": rows,
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    t0, c0 = time.perf_counter(), time.process_time()
""")
CHILDREN = {
    "imports only (baseline RSS)": _PRELUDE + "done(0, t0, c0)\n",
    "decode_inputs (columns)": _PRELUDE + textwrap.dedent("""
        got = decode_inputs([inp], IngestConfig())
        assert isinstance(got, Decoded), got
        done(len(got.columns), t0, c0)
    """),
    "list(LogReader.events())": _PRELUDE + textwrap.dedent("""
        events = list(LogReader(inp, IngestConfig()).events())
        done(len(events), t0, c0)
    """),
    "merge_by_time(LogReader), streamed": _PRELUDE + textwrap.dedent("""
        from probes.ingest.merge import merge_by_time
        n = 0
        for _ev in merge_by_time([LogReader(inp, IngestConfig()).events()]):
            n += 1
        done(n, t0, c0)
    """),
}
"""``list(...)`` keeps every event, as the brief's comparison asks; the streamed one is
what ``analyze`` pays to read (the collector paused, nothing kept)."""


def _child(code: str, path: Path) -> dict[str, Any] | str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, env=env, check=False)
    if out.returncode != 0:
        return f"failed: {(out.stderr.strip().splitlines() or ['?'])[-1][:160]}"
    doc: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return doc


def _lnav(path: Path) -> dict[str, Any] | str:
    if shutil.which("lnav") is None:
        return "not measured: lnav is not installed"
    gnu_time = "/usr/bin/time"
    home = Path(tempfile.mkdtemp(prefix="scaledoc-lnav-"))
    try:
        formats = home / ".lnav" / "formats" / "installed"
        formats.mkdir(parents=True)
        shutil.copy(LNAV_FORMAT, formats / LNAV_FORMAT.name)
        cmd = ["lnav", "-n", "-c", ";SELECT count(*) FROM pino_log", str(path)]
        if Path(gnu_time).exists():
            cmd = [gnu_time, "-f", "%M %U %S", *cmd]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=False,
                             env={**os.environ, "HOME": str(home)})
        wall = time.perf_counter() - t0
        doc: dict[str, Any] = {"wall_s": wall}
        last = out.stderr.strip().splitlines()[-1:] if out.stderr.strip() else []
        parts = last[0].split() if last else []
        if len(parts) == 3 and parts[0].isdigit():
            doc["rss_mb"] = int(parts[0]) / 1024
            doc["cpu_s"] = float(parts[1]) + float(parts[2])
        rows = [ln for ln in out.stdout.split() if ln.isdigit()]
        if rows:
            doc["rows"] = int(rows[-1])
        return doc
    finally:
        shutil.rmtree(home, ignore_errors=True)


def wrap_kubectl(src: Path, dst: Path) -> None:
    """``src`` with every line as ``kubectl logs --timestamps`` prints it: an RFC3339Nano
    time and a space. Go trims the fraction's trailing zeros, so its width varies (the
    lines are 1.234567 ms apart); the times run alongside the lines' own."""
    heads: dict[int, str] = {}
    with src.open("rb") as f, dst.open("wb") as out:
        buf: list[bytes] = []
        for i, line in enumerate(f):
            sec, frac = divmod(_T0_NS + i * 1_234_567, 1_000_000_000)
            head = heads.get(sec)
            if head is None:
                heads.clear()
                head = heads[sec] = datetime.fromtimestamp(sec, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S")
            digits = f"{frac:09d}".rstrip("0")
            buf.append(f"{head}{'.' + digits if digits else ''}Z ".encode() + line)
            if len(buf) >= 4096:
                out.write(b"".join(buf))
                buf.clear()
        out.write(b"".join(buf))


def _make(path: Path, nbytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.name.endswith("-kt.log"):
        generate(path, nbytes)
        return
    plain = path.with_name(path.name.removesuffix("-kt.log") + ".log")
    if not plain.exists():
        generate(plain, nbytes)
    wrap_kubectl(plain, path)


def measure(path: Path) -> dict[str, dict[str, Any] | str]:
    figures = {name: _child(code, path) for name, code in CHILDREN.items()}
    figures["lnav (pino format, count query)"] = (
        "not measured: the pino format does not read wrapped lines"
        if path.name.endswith("-kt.log") else _lnav(path))
    return figures


def report(path: Path, figures: dict[str, dict[str, Any] | str]) -> str:
    size_mb = path.stat().st_size / 1e6
    with path.open("rb") as f:
        lines = sum(1 for _ in f)
    base = figures.get("imports only (baseline RSS)")
    base_rss = base.get("rss_mb", 0.0) if isinstance(base, dict) else 0.0
    out = [f"{path}: {size_mb:.0f} MB, {lines:,} lines, load {os.getloadavg()[0]:.1f}",
           f"{'':<34} {'wall s':>7} {'cpu s':>7} {'µs/line':>8} {'MB/s':>7} {'RSS MB':>7} "
           f"{'+work':>7} {'rows':>10}"]
    for name, f in figures.items():
        if isinstance(f, str):
            out.append(f"{name:<34} {f}")
            continue
        wall = f["wall_s"]
        cpu = f.get("cpu_s")
        rss = f.get("rss_mb")
        per_line = "-" if cpu is None or name.startswith("imports") else f"{cpu * 1e6 / lines:.2f}"
        work = "-" if rss is None or name.startswith(("imports", "lnav")) else \
            f"{rss - base_rss:.0f}"
        rate = "-" if name.startswith("imports") else f"{size_mb / wall:.1f}"
        out.append(f"{name:<34} {wall:>7.2f} {'-' if cpu is None else f'{cpu:.2f}':>7} "
                   f"{per_line:>8} {rate:>7} "
                   f"{'-' if rss is None else f'{rss:.0f}':>7} {work:>7} "
                   f"{f.get('rows', '-'):>10}")
    dec = figures.get("decode_inputs (columns)")
    ref = figures.get("merge_by_time(LogReader), streamed")
    lnav = figures.get("lnav (pino format, count query)")
    if isinstance(dec, dict) and isinstance(ref, dict):
        out.append(f"decode_inputs vs streamed LogReader: {ref['cpu_s'] / dec['cpu_s']:.2f}x "
                   f"less CPU, {ref['wall_s'] / dec['wall_s']:.2f}x less wall time")
    if isinstance(dec, dict) and isinstance(lnav, dict):
        out.append(f"decode_inputs vs lnav: {lnav['wall_s'] / dec['wall_s']:.2f}x "
                   "(lnav wall / ours)")
    return "\n".join(out)


def run(files: list[tuple[Path, int]]) -> str:
    out = []
    for path, nbytes in files:
        if not path.exists():
            _make(path, nbytes)
        out.append(report(path, measure(path)))
    return "\n\n".join(out)


@pytest.mark.benchmark
def test_decode_speed(tmp_path: Path) -> None:
    print("\n" + run([(tmp_path / "bench60.log", 60_000_000),
                      (tmp_path / "bench60-kt.log", 60_000_000)]))


if __name__ == "__main__":
    given = [(Path(a), 60_000_000) for a in sys.argv[1:]]
    print(run(given or DEFAULT_FILES))
