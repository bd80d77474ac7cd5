"""Builders for LogEvents shared by the analysis unit tests (no tests here; ingestion is
tested on its own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from probes.analysis import LogAnalysis
from probes.events import EventKind, LogEvent
from probes.evidence import Answer, Evidence, Signal

T0 = 1_763_000_000_000_000_000  # 2025-11-13T02:13:20Z in ns
_line = 0


def ev(t_ms: float | None, kind: EventKind = EventKind.OTHER, *, source: str = "app.log",
       **kw: Any) -> LogEvent:
    """One event ``t_ms`` milliseconds after T0 (None: no clock); line numbers count up."""
    global _line
    _line += 1
    t = None if t_ms is None else T0 + int(t_ms * 1_000_000)
    text = kw.pop("text", None) or f"{kind.value} {kw}"
    if "process" in kw:  # "host/pid" as LogEvent.process spells it
        kw["host"], _, kw["pid"] = kw.pop("process").partition("/")
    return LogEvent(time_ns=t, source=source, line=_line, kind=kind, text=text, **kw)


def run(start_ms: float, end_ms: float, **kw: Any) -> list[LogEvent]:
    """A RUN_START and a RUN_END sharing ids."""
    err = kw.pop("error", None)
    return [ev(start_ms, EventKind.RUN_START, **kw),
            ev(end_ms, EventKind.RUN_END, error=err, **kw)]


def analyse(events: Iterable[LogEvent], max_examples: int = 8) -> Evidence:
    """Feed events in time order (untimed ones last) and finish."""
    a = LogAnalysis(max_examples=max_examples)
    for e in sorted(events, key=lambda e: (e.time_ns is None, e.time_ns or 0, e.line)):
        a.feed(e)
    return a.finish()


def sig(evidence: Evidence, key: str) -> Signal:
    found = [s for s in evidence.signals if s.key == key]
    assert len(found) == 1, f"{key}: {len(found)} signals"
    return found[0]


def answer(evidence: Evidence, key: str) -> Answer:
    return sig(evidence, key).answer
