"""``bulk_analysis`` against the per-event feed on the same events (printed, not asserted).

Run: ``python3 -m pytest -m benchmark -s tests/bench_columnar_bulk.py`` (a generated ~60 MB
pino log) or ``python3 -m tests.bench_columnar_bulk PATH...`` (e.g. /tmp/sd/bench300.log).

For each log: the columns are built once with the reference builder (``columns_from_events``
over ``iter_events``, slow, not timed), then timed on the same columns:

* ``bulk_analysis(cols)``, then ``finish()`` on its analysis, and
  ``bulk_analysis(cols, feedable=False)`` (for a caller that only finishes);
* the per-event loop ``for ev in events_from_columns(cols): a.feed(ev)``, minus the time
  of building those events alone (measured by the same loop without ``feed``), then
  ``finish()`` on its analysis.

CPU time (``process_time``) is printed beside wall time: the machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from probes.analysis.log_analysis import LogAnalysis
from probes.columnar import columns_from_events, events_from_columns
from probes.columnar.bulk import Declined, bulk_analysis
from probes.columnar.columns import EventColumns
from probes.pipeline import iter_events
from tests.bench_ingest import generate

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds)."""
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def finish_time(a: LogAnalysis, label: str) -> None:
    try:
        _, w, c = timed(a.finish)
    except Exception as e:  # noqa: BLE001 - a figure, not a verdict: say what happened
        print(f"  finish ({label}) raised {type(e).__name__}: {e}")
        return
    print(f"  finish ({label}){' ' * (10 - len(label))}{w:7.3f} s wall {c:7.3f} s CPU")


def per_event(cols: EventColumns) -> LogAnalysis:
    a = LogAnalysis()
    feed = a.feed
    for ev in events_from_columns(cols):
        feed(ev)
    return a


def events_only(cols: EventColumns) -> int:
    n = 0
    for _ in events_from_columns(cols):
        n += 1
    return n


def measure(path: str) -> None:
    cols, build_s, _ = timed(lambda: columns_from_events(iter_events([path])))
    n = len(cols)
    print(f"{path}: {n:,} rows, {os.path.getsize(path) / 1e6:.0f} MB "
          f"(columns built in {build_s:.1f} s, not counted; load {os.getloadavg()[0]:.1f})")
    got, bw, bc = timed(lambda: bulk_analysis(cols))
    if isinstance(got, Declined):
        print(f"  bulk_analysis declined: {got.reason}")
        return
    print(f"  bulk_analysis     {bw:7.3f} s wall {bc:7.3f} s CPU = {bc / n * 1e6:.3f} µs/row")
    finish_time(got, "bulk")
    del got
    _, ow, oc = timed(lambda: bulk_analysis(cols, feedable=False))
    print(f"  bulk, finish-only {ow:7.3f} s wall {oc:7.3f} s CPU = {oc / n * 1e6:.3f} µs/row "
          "(feedable=False: no first-source maps)")
    _, ew, ec = timed(lambda: events_only(cols))
    ref, pw, pc = timed(lambda: per_event(cols))
    print(f"  per-event feed    {pw - ew:7.3f} s wall {pc - ec:7.3f} s CPU = "
          f"{(pc - ec) / n * 1e6:.3f} µs/row (events built: {ec:.3f} s CPU, subtracted)")
    finish_time(ref, "per-event")
    print(f"  bulk / feed:      {bc / max(pc - ec, 1e-9):.3f} of the per-event CPU time")


@pytest.mark.benchmark
def test_bulk_analysis_speed() -> None:
    """A generated ~60 MB pino log (four replicas, runs, requests, errors)."""
    with tempfile.TemporaryDirectory(prefix="bench_bulk_") as tmp:
        path = Path(tmp) / "pino.log"
        generate(path, 60_000_000)
        measure(str(path))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    for p in ap.parse_args().paths:
        measure(p)
