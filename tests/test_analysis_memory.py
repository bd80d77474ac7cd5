"""Memory follows traffic (runs, requests, instances), not the number of lines."""

from __future__ import annotations

import itertools
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


def traffic(runs: int) -> Iterator[LogEvent]:
    """``runs`` requests of one run each on four processes, as a pino service logs them: run
    started, run finished (a few failed), request completed, each line ~300 characters of
    JSON with its ids, made on the fly so the test keeps none."""
    for i in range(runs):
        host, pid = f"agent-api-7cfd7bf68f-p{i % 4}", str(1000 + i % 4)
        req, run, sess = f"{host}/{pid}/req-{i}", f"run-{i % 4}-{i}", f"sess-{i % 5000:05d}"
        inst = f"inst-{i % 4}-{i % 3}"
        t = T0 + i * 3_000_000
        failed = i % 25 == 0
        for n, (msg, kind) in enumerate((("run started", EventKind.RUN_START),
                                         ("run failed" if failed else "run finished",
                                          EventKind.RUN_END),
                                         ("request completed", EventKind.REQUEST_END))):
            text = (f'{{"level":{50 if failed and n else 30},"time":{(t + n) // 1_000_000},'
                    f'"pid":{pid},"hostname":"{host}","reqId":"req-{i}","sessionId":"{sess}",'
                    f'"runId":"{run}","agent":{{"name":"planner","instanceId":"{inst}"}},'
                    f'"res":{{"statusCode":{500 if failed else 200}}},"responseTime":1502,'
                    f'"msg":"{msg}"}}')
            yield LogEvent(
                time_ns=t + n * 1_000_000, source="app.log", line=3 * i + n + 1,
                level=50 if failed and n else 30, message=msg, kind=kind, host=host, pid=pid,
                instance=inst, session=sess, request=req, run=run,
                error="Team is already running a task" if failed and n == 1 else None,
                status=(500 if failed else 200) if n == 2 else None,
                duration_ms=1502.0 if n == 2 else None, text=text)


def retained_per_run(runs: int) -> float:
    analysis = LogAnalysis(max_examples=8)
    events = traffic(runs)
    for ev in itertools.islice(events, 3_000):  # warm up: caches, first dict sizes
        analysis.feed(ev)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for ev in events:
            analysis.feed(ev)
        del ev
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(analysis.runs.runs) == runs
    return (after - before) / (runs - 1_000)


def tracker_retained_per_run(runs: int) -> float:
    """Bytes a ``RunTracker`` keeps per closed run of ``traffic``."""
    from probes.analysis.runs import RunTracker

    tracker = RunTracker()
    events = (ev for ev in traffic(runs) if ev.kind is not EventKind.REQUEST_END)
    for ev in itertools.islice(events, 2_000):
        (tracker.start if ev.kind is EventKind.RUN_START else tracker.end)(ev)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for ev in events:
            (tracker.start if ev.kind is EventKind.RUN_START else tracker.end)(ev)
        del ev
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(tracker.runs) == runs and all(r.closed for r in tracker.runs)
    return (after - before) / (runs - 1_000)


RUN_TRACKER_PER_RUN = 1_000
"""A closed run keeps its ids, times and where its two lines are: ~720 bytes measured, of
which ~400 are the id strings and times this test makes per run. Keeping its two
``LogEvent``s (their raw lines and every id) cost ~1,710."""
RETAINED_PER_RUN = 1_600
"""The whole analysis, per run of this traffic (one request and one run each, three lines
of ~300 characters; the ids and times the test makes included): ~1,310 measured. With each
run's ``LogEvent``s and an eager excerpt per failed request and per new session: ~2,350."""


def test_run_tracker_keeps_no_line_per_run() -> None:
    per_run = tracker_retained_per_run(20_000)
    assert per_run < RUN_TRACKER_PER_RUN, per_run


def test_memory_per_run_does_not_keep_line_text() -> None:
    per_run = retained_per_run(10_000)
    assert per_run < RETAINED_PER_RUN, per_run


def test_excerpts_of_kept_lines_are_those_of_the_events() -> None:
    """The runs' and requests' excerpts, rebuilt from the compact store, equal the ones the
    events themselves give, for short lines, long lines (with a lead) and lines without
    text."""
    from probes.analysis.runs import LEAD_VISIBLE, excerpt

    events = list(traffic(300))
    for i, ev in enumerate(events):
        if i % 3 == 0:  # long: a stack before the message, so the lead shows the ids
            ev.text = ev.text[:-1] + ',"stack":"' + "at x (/app/a.js:1:2) " * 30 + '"}'
            ev.fields = {"tool": "search"}
        elif i % 7 == 0:
            ev.text = ""
    assert any(len(ev.text) > LEAD_VISIBLE for ev in events)
    analysis = LogAnalysis(max_examples=8)
    for ev in events:
        analysis.feed(ev)
    by_line = {ev.line: ev for ev in events}
    for run in analysis.runs.runs:
        assert run.start_at is not None and run.end_at is not None
        assert run.start_at == excerpt(by_line[run.start_at.line])
        assert run.end_at == excerpt(by_line[run.end_at.line])
    failed = [r for r in analysis.requests.requests if r.failed]
    assert failed
    for r in failed:
        assert r.end_at is not None and r.end_at == excerpt(by_line[r.end_at.line])
