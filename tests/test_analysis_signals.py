"""Requests, errors, state, history and contamination signals from hand-built events."""

from __future__ import annotations

from typing import Any

from test_analysis_support import analyse, answer, ev, run, sig

from probes.analysis.concurrency import (
    Request,
    bucket_label,
    concurrency_table,
    find_ceiling,
    in_flight_at_start,
)
from probes.events import EventKind, LogEvent
from probes.evidence import Answer

K = EventKind


def request_end(t_ms: float, dur: float, *, status: int = 200, req: str, **kw: Any
                ) -> LogEvent:
    err = "Error: Cannot run while another task is active" if status >= 500 else None
    return ev(t_ms, K.REQUEST_END, request=req, status=status, duration_ms=dur, error=err,
              message="request completed", **kw)


def test_bucket_labels_double() -> None:
    assert [bucket_label(c) for c in (1, 2, 3, 4, 5, 8, 9, 16, 17)] == \
        ["1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "9-16", "17-32"]


def test_in_flight_counts_itself_and_requests_still_running() -> None:
    reqs = [Request(0, 100, False, 100), Request(50, 80, False, 30), Request(100, 200, False, 100)]
    assert in_flight_at_start(reqs) == [1, 2, 1]  # touching ends do not count


def test_errors_rise_with_concurrency_while_single_requests_pass() -> None:
    events = []
    t = 0.0
    for i in range(8):  # alone, all pass
        events.append(request_end(t + 100, 100, req=f"solo{i}"))
        t += 1000
    for b in range(4):  # bursts of 4: the later three fail
        for j in range(4):
            events.append(request_end(t + 300 + j, 300, req=f"b{b}-{j}",
                                      status=500 if j else 200))
        t += 1000
    evidence = analyse(events)
    s = sig(evidence, "errors.rise_with_concurrency")
    assert s.answer is Answer.YES, s.detail
    assert "0% when alone" in s.detail
    levels = {r["level"]: r for r in evidence.data["concurrency"]}
    assert levels["1"]["errors"] == 0 and levels["1"]["requests"] == 12
    assert all(e.note == "" or e.line for e in s.examples)


def test_flat_error_rate_is_no_and_too_few_requests_is_unknown() -> None:
    events = []
    t = 0.0
    for b in range(6):
        events.append(request_end(t + 100, 100, req=f"solo{b}"))
        for j in range(3):
            events.append(request_end(t + 2000 + j, 300, req=f"b{b}-{j}"))
        t += 5000
    assert answer(analyse(events), "errors.rise_with_concurrency") is Answer.NO
    few = analyse([request_end(100, 100, req="a"), request_end(300, 100, req="b")])
    s = sig(few, "errors.rise_with_concurrency")
    assert s.answer is Answer.UNKNOWN and "only 2 requests" in s.reason


def test_request_start_end_pairs_and_runs_stand_in_for_requests() -> None:
    events = []
    for i in range(12):
        events.append(ev(i * 1000, K.REQUEST_START, request=f"r{i}"))
        events.append(ev(i * 1000 + 200, K.REQUEST_END, request=f"r{i}", status=200))
    evidence = analyse(events)
    assert sum(r["requests"] for r in evidence.data["concurrency"]) == 12
    runs_only = analyse([e for i in range(12) for e in run(i * 1000, i * 1000 + 10,
                                                            instance="x")])
    assert sum(r["requests"] for r in runs_only.data["concurrency"]) == 12


def test_latency_ceiling_from_failures_ending_at_one_duration() -> None:
    events = [request_end(i * 1000 + 10_000, 10_000 + (i % 3) * 20, req=f"r{i}", status=504)
              for i in range(6)]
    events += [request_end(i * 1000 + 500, 300 + i * 37, req=f"ok{i}") for i in range(20)]
    s = sig(analyse(events), "latency.ceiling")
    assert s.answer is Answer.YES
    assert "~10020 ms" in s.detail or "~10000 ms" in s.detail or "~10040 ms" in s.detail


def test_no_ceiling_when_failures_are_spread() -> None:
    reqs = [Request(0, int(d * 1e6), True, d) for d in (300, 900, 1500, 2600, 4000, 7000)]
    assert find_ceiling(reqs, 5) is None
    table = concurrency_table(reqs)
    assert table.total == 6


def test_platform_timeout_text_alone_is_a_ceiling() -> None:
    evidence = analyse([ev(0, K.ERROR, error="Task timed out after 30.03 seconds", level=50)])
    assert answer(evidence, "latency.ceiling") is Answer.YES
    assert answer(evidence, "errors.timeout") is Answer.NO


def test_error_families_count_and_unclassified_are_kept() -> None:
    events = [ev(i, K.ERROR, level=50, error="Error: 429 Rate limit reached for gpt-4o")
              for i in range(4)]
    events.append(ev(10, K.ERROR, level=50, error="Error: something odd"))
    evidence = analyse(events)
    s = sig(evidence, "errors.rate_limit")
    assert s.answer is Answer.YES and s.value == 4 and s.strength == 1.0
    assert evidence.data["errors"] == {"total": 5, "unclassified": 1,
                                       "families": {"rate_limit": 4}, "handled": {}}
    single = analyse([ev(0, K.ERROR, level=50, error="Error: read ECONNRESET")])
    assert sig(single, "errors.socket_exhaustion").strength < 1.0


def test_fanout_counts_calls_in_flight_within_one_request() -> None:
    wide = [ev(i, K.TOOL_CALL, request="r1", message="tool call started") for i in range(10)]
    wide += [ev(2000 + i, K.TOOL_CALL, request="r1", duration_ms=1900.0) for i in range(10)]
    s = sig(analyse(wide), "fanout.concurrent_calls")
    assert s.answer is Answer.YES and s.value == 10
    narrow = [ev(i * 500, K.TOOL_CALL, request="r2", duration_ms=200.0) for i in range(10)]
    s2 = sig(analyse(narrow), "fanout.concurrent_calls")
    assert s2.answer is Answer.NO and s2.value == 1


def test_fanout_from_end_lines_only() -> None:
    ends = [ev(3000 + i, K.TOOL_CALL, request="r1", duration_ms=2500.0) for i in range(9)]
    assert answer(analyse(ends), "fanout.concurrent_calls") is Answer.YES


def test_session_on_several_processes_and_stale_read() -> None:
    events = [
        ev(0, K.STATE_READ, session="wf-1", process="pod-a/1", fields={"version": 0}),
        ev(10, K.STATE_WRITE, session="wf-1", process="pod-a/1", fields={"version": 1}),
        ev(500, K.STATE_READ, session="wf-1", process="pod-b/1", fields={"version": 0}),
        ev(510, K.STATE_WRITE, session="wf-1", process="pod-b/1", fields={"version": 1}),
    ]
    evidence = analyse(events)
    assert answer(evidence, "state.session_multi_process") is Answer.YES
    stale = sig(evidence, "state.stale_read")
    assert stale.answer is Answer.YES
    assert "pod-b/1 read wf-1 version 0" in stale.examples[0].note
    # pod-b read AFTER pod-a's write: that is staleness, not a lost-update race
    assert answer(evidence, "state.lost_update") is Answer.NO


def test_lost_update_when_both_read_before_either_wrote() -> None:
    events = [
        ev(0, K.STATE_READ, session="wf-1", process="pod-a/1", request="r1",
           fields={"key": "wf-1", "version": 5}),
        ev(5, K.STATE_READ, session="wf-1", process="pod-b/1", request="r2",
           fields={"key": "wf-1", "version": 5}),
        ev(40, K.STATE_WRITE, session="wf-1", process="pod-a/1", request="r1",
           fields={"key": "wf-1", "version": 6}),
        ev(45, K.STATE_WRITE, session="wf-1", process="pod-b/1", request="r2",
           fields={"key": "wf-1", "version": 6}),
    ]
    evidence = analyse(events)
    s = sig(evidence, "state.lost_update")
    assert s.answer is Answer.YES and s.value == 1
    assert answer(evidence, "state.stale_read") is Answer.NO


def test_state_without_versions_is_unknown() -> None:
    evidence = analyse([ev(0, K.STATE_READ, session="s", process="a/1")])
    assert answer(evidence, "state.stale_read") is Answer.UNKNOWN
    assert answer(evidence, "state.lost_update") is Answer.UNKNOWN


def test_repeated_write_within_one_request_is_a_duplicate() -> None:
    events = [
        ev(0, K.TOOL_CALL, request="r1", fields={"tool": "createClaim", "key": "claim:p-1"}),
        ev(900, K.TOOL_CALL, request="r1", fields={"tool": "createClaim", "key": "claim:p-1"}),
        ev(5, K.TOOL_CALL, request="r2", fields={"tool": "createClaim", "key": "claim:p-2"}),
    ]
    s = sig(analyse(events), "errors.duplicate_write")
    assert s.answer is Answer.YES and s.value == 1
    assert s.examples[0].line == events[1].line


def test_context_forgotten_when_history_restarts_or_never_grows() -> None:
    reset = [ev(i * 100, K.HISTORY, session="s1", request=f"r{i}",
                fields={"history_len": n}) for i, n in enumerate([1, 3, 5, 1])]
    s = sig(analyse(reset), "context.forgotten")
    assert s.answer is Answer.YES and "back to 1 after 5" in s.examples[0].note
    flat = [ev(i * 100, K.HISTORY, session="s2", fields={"history_len": 1}) for i in range(4)]
    assert answer(analyse(flat), "context.forgotten") is Answer.YES
    growing = [ev(i * 100, K.HISTORY, session="s3", fields={"history_len": 2 * i + 1})
               for i in range(4)]
    assert answer(analyse(growing), "context.forgotten") is Answer.NO


def test_history_carried_across_sessions_on_one_process() -> None:
    shared = [ev(i * 100, K.HISTORY, session=f"s{i}", process="web/1",
                 fields={"history_len": 2 * i + 2}) for i in range(6)]
    s = sig(analyse(shared), "history.cross_session")
    assert s.answer is Answer.YES and s.value == 5
    per_session = []
    for turn in range(3):
        for sid in range(4):
            per_session.append(ev(turn * 1000 + sid * 10, K.HISTORY, session=f"s{sid}",
                                  process="web/1", fields={"history_len": 2 * turn + 1}))
    assert answer(analyse(per_session), "history.cross_session") is Answer.NO


def test_contamination_from_expected_value_mismatch_and_foreign_request_ids() -> None:
    mismatch = [ev(0, K.TOOL_CALL, request="r1",
                   fields={"tool": "lookupCustomer", "expected": "cust-1", "value": "cust-2"})]
    s = sig(analyse(mismatch), "requests.contamination")
    assert s.answer is Answer.YES and "expected cust-1 but read cust-2" in s.examples[0].note
    a, b = "req-4f1c2a9e77b1", "req-9d0e5b3c21aa"
    ids = [ev(0, K.REQUEST_START, request=a), ev(1, K.REQUEST_START, request=b),
           ev(5, K.OTHER, request=a, text=f"processing claim for {b}"),
           ev(9, K.REQUEST_END, request=a, status=200), ev(9, K.REQUEST_END, request=b,
                                                              status=200)]
    assert answer(analyse(ids), "requests.contamination") is Answer.YES
    clean = [ev(0, K.REQUEST_START, request=a), ev(1, K.REQUEST_START, request=b),
             ev(5, K.OTHER, request=a, text=f"processing claim for {a}"),
             ev(6, K.STATE_WRITE, request=a, session="s",
                fields={"expected": 3, "value": "x", "version": 4})]
    assert answer(analyse(clean), "requests.contamination") is Answer.NO


def test_handled_errors_are_weaker_than_failures() -> None:
    warned = [ev(i, K.ERROR, level=40, error="httpx.ReadTimeout: timed out") for i in range(5)]
    s = sig(analyse(warned), "errors.timeout")
    assert s.answer is Answer.YES and s.strength == 0.3 and s.data["handled"] == 5
    failed = [ev(i, K.ERROR, level=50, error="httpx.ReadTimeout: timed out") for i in range(5)]
    assert sig(analyse(failed), "errors.timeout").strength == 1.0


def test_logs_that_cannot_show_failures_leave_error_signals_unknown() -> None:
    plain = [ev(i, K.OTHER, message=f"GET /static/{i}.js") for i in range(20)]
    evidence = analyse(plain)
    for key in ("errors.timeout", "errors.rate_limit", "latency.ceiling"):
        s = sig(evidence, key)
        assert s.answer is Answer.UNKNOWN, key
    assert "cannot be told apart" in sig(evidence, "errors.timeout").reason


def test_same_version_written_twice_with_no_reads_logged_is_a_lost_update() -> None:
    events = [ev(0, K.STATE_WRITE, session="wf", process="a/1", fields={"version": 3}),
              ev(9, K.STATE_WRITE, session="wf", process="b/1", fields={"version": 3}),
              ev(20, K.STATE_WRITE, session="wf", process="a/1", fields={"version": 4})]
    s = sig(analyse(events), "state.lost_update")
    assert s.answer is Answer.YES and s.value == 1


def test_one_request_seeing_two_users_is_contamination() -> None:
    events = [ev(0, K.OTHER, request="r1", fields={"user": "alice"}),
              ev(5, K.TOOL_CALL, request="r1", fields={"user": "bob"}),
              ev(6, K.OTHER, request="r2", fields={"user": "bob"})]
    s = sig(analyse(events), "requests.contamination")
    assert s.answer is Answer.YES and "user=alice" in s.examples[0].note


def test_an_instance_reused_on_untimed_lines_cites_its_runs_or_says_unknown() -> None:
    """Found by the columnar bulk tests: two untimed run starts of one instance for two
    requests made ``instance.many_sessions`` a yes with no line to cite, and ``finish``
    raised (a yes must carry evidence): the whole analysis stopped."""
    from probes.analysis import LogAnalysis
    from probes.events import EventKind, LogEvent

    def many_sessions(kind: EventKind) -> Any:
        a = LogAnalysis()
        for line, req in ((1, "a1"), (2, "b2")):
            a.feed(LogEvent(None, "a.log", line, message="run started", kind=kind,
                            instance="b2", request=req, text=f"run started {req}"))
        return {s.key: s for s in a.finish().signals}["instance.many_sessions"]

    runs = many_sessions(EventKind.RUN_START)
    assert runs.answer.value == "yes"
    assert [(e.line, e.note) for e in runs.examples] == [
        (1, "instance b2 runs for request a1"), (2, "instance b2 runs for request b2")]
    other = many_sessions(EventKind.OTHER)
    assert other.answer.value == "unknown" and not other.examples
