"""Memory follows traffic (runs, requests, instances), not the number of lines."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from probes.analysis import LogAnalysis
from probes.events import EventKind, LogEvent

T0 = 1_763_000_000_000_000_000


def chatter(n: int) -> Iterator[LogEvent]:
    """``n`` lines of ten long-lived requests: debug lines, errors, history and tool calls
    (no new runs, requests or instances), made on the fly so the test keeps none."""
    kinds = (EventKind.OTHER, EventKind.ERROR, EventKind.HISTORY, EventKind.TOOL_CALL)
    for i in range(n):
        kind = kinds[i % 4]
        req = f"req-{i % 10:012d}"
        yield LogEvent(
            time_ns=T0 + i * 1_000_000, source="app.log", line=i + 1, level=50 if
            kind is EventKind.ERROR else 30, message="step", kind=kind, host="pod-a", pid="1",
            instance="agent-1", session=f"s{i % 10}", request=req,
            error="Error: read ECONNRESET" if kind is EventKind.ERROR else None,
            duration_ms=12.0 if kind is EventKind.TOOL_CALL else None,
            fields={"history_len": 3} if kind is EventKind.HISTORY else None,
            text=f'{{"msg":"step","reqId":"{req}","n":{i}}}')


def traced_after(n: int) -> int:
    analysis = LogAnalysis(max_examples=8)
    tracemalloc.start()
    try:
        for ev in chatter(n):
            analysis.feed(ev)
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert analysis.events == n
    return current


def test_memory_does_not_grow_with_lines() -> None:
    small = traced_after(2_000)
    large = traced_after(20_000)
    # Ten times the lines: allow a little slack for dict resizing, nowhere near 10x.
    assert large - small < 64 * 1024, (small, large)


def test_finish_counts_every_line_and_keeps_examples_bounded() -> None:
    analysis = LogAnalysis(max_examples=3)
    for ev in chatter(4_000):
        analysis.feed(ev)
    evidence = analysis.finish()
    assert evidence.data["errors"]["total"] == 1_000
    assert all(len(s.examples) <= 3 for s in evidence.signals)
