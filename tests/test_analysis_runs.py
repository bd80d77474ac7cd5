"""Runs, overlaps and instances: pairing, the sweep, and the signals built on them."""

from __future__ import annotations

from test_analysis_support import analyse, answer, ev, run, sig

from probes.analysis import LOG_KEYS
from probes.analysis.runs import RunTracker, sweep
from probes.events import EventKind
from probes.evidence import Answer
from probes.signals import SIGNALS

K = EventKind


def test_every_log_and_trace_key_is_answered_once_and_empty_input_is_all_unknown() -> None:
    evidence = analyse([])
    keys = [s.key for s in evidence.signals]
    assert sorted(keys) == sorted(LOG_KEYS)
    assert {k for k, s in SIGNALS.items() if "logs" in s.probes or "traces" in s.probes} \
        == set(keys)
    for s in evidence.signals:
        assert s.answer is Answer.UNKNOWN, s.key
        assert s.reason, s.key
    assert evidence.probe == "logs"
    assert evidence.target == "0 sources"
    assert set(evidence.data) >= {"runs", "instances", "concurrency", "errors"}


def test_shared_instance_overlap_is_found_with_the_start_start_end_story() -> None:
    events = [
        *run(0, 1000, instance="agent-1", session="s1", request="r1", process="web-a/7"),
        *run(400, 1500, instance="agent-1", session="s2", request="r2", process="web-a/7",
             error="Error: Cannot run while another task is active"),
        *run(2000, 2500, instance="agent-1", session="s3", request="r3", process="web-a/7"),
    ]
    evidence = analyse(events)
    s = sig(evidence, "runs.overlap_instance")
    assert s.answer is Answer.YES
    assert s.value == 1
    assert "start r1" not in s.detail  # runs are named by id, not by request
    assert "agent-1" in s.detail and "end" in s.detail
    assert [e.line for e in s.examples] == [events[0].line, events[2].line]
    many = sig(evidence, "instance.many_sessions")
    assert many.answer is Answer.YES and many.value == 3 and "concurrently" in many.detail
    assert answer(evidence, "errors.already_running") is Answer.YES
    inst = evidence.data["instances"][0]
    assert inst["reuse"] == "concurrent" and inst["max_concurrency"] == 2
    assert answer(evidence, "runs.nested_same_request") is Answer.NO
    assert answer(evidence, "runs.parallel_same_session") is Answer.NO


def test_sequential_reuse_is_reuse_without_overlap() -> None:
    events = [e for i in range(4)
              for e in run(i * 1000, i * 1000 + 900, instance="agent-1", session=f"s{i}",
                           request=f"r{i}")]
    evidence = analyse(events)
    assert answer(evidence, "runs.overlap_instance") is Answer.NO
    many = sig(evidence, "instance.many_sessions")
    assert many.answer is Answer.YES and "one after another" in many.detail
    assert evidence.data["instances"][0]["reuse"] == "sequential"


def test_instance_per_session_is_not_reuse() -> None:
    events = [e for i in range(3)
              for e in run(i * 1000, i * 1000 + 900, instance="agent-s1", session="s1",
                           request=f"r{i}")]
    assert answer(analyse(events), "instance.many_sessions") is Answer.NO


def test_parallel_runs_of_one_session_started_together() -> None:
    events = [
        *run(0, 800, instance="agent-9", session="s1", request="r1"),
        *run(3, 1200, instance="agent-9", session="s1", request="r1"),
    ]
    evidence = analyse(events)
    assert answer(evidence, "runs.parallel_same_session") is Answer.YES
    assert answer(evidence, "runs.nested_same_request") is Answer.NO  # started together


def test_a_run_started_later_inside_another_of_its_request_is_nested() -> None:
    events = [
        ev(0, K.RUN_START, instance="team-1", session="s1", request="r1", run="A"),
        ev(700, K.RUN_START, instance="team-1", session="s1", request="r1", run="B"),
        ev(705, K.RUN_END, instance="team-1", request="r1", run="B",
           error="RuntimeError: The team is already running, it cannot run again until it "
                 "is stopped."),
        ev(1500, K.RUN_END, instance="team-1", request="r1", run="A"),
    ]
    evidence = analyse(events)
    nested = sig(evidence, "runs.nested_same_request")
    assert nested.answer is Answer.YES
    assert "start A" in nested.detail and "start B" in nested.detail
    assert answer(evidence, "runs.parallel_same_session") is Answer.NO


def test_pairing_without_run_ids_closes_the_newest_run_of_a_request() -> None:
    tracker = RunTracker()
    outer = ev(0, K.RUN_START, instance="t", request="r")
    inner = ev(100, K.RUN_START, instance="t", request="r")
    tracker.start(outer)
    tracker.start(inner)
    tracker.end(ev(200, K.RUN_END, instance="t", request="r"))
    tracker.end(ev(900, K.RUN_END, instance="t", request="r"))
    a, b = tracker.runs
    assert a.start_at is not None and a.start_at.line == outer.line
    assert (b.end_ns or 0) - (b.start_ns or 0) == 100_000_000
    assert (a.end_ns or 0) - (a.start_ns or 0) == 900_000_000
    assert not tracker.open_by_key


def test_timer_runs_without_requests_close_oldest_first_and_ends_find_starts_by_fewer_ids(
) -> None:
    tracker = RunTracker()
    tracker.start(ev(0, K.RUN_START, instance="poller", run="p1"))
    tracker.start(ev(10, K.RUN_START, instance="poller"))
    tracker.end(ev(50, K.RUN_END, instance="poller"))  # no run id: oldest on the instance
    assert tracker.runs[0].end_ns is not None and tracker.runs[1].end_ns is None


def test_end_with_duration_and_no_start_is_a_run_and_bare_ends_are_counted() -> None:
    tracker = RunTracker()
    tracker.end(ev(5000, K.RUN_END, run="span-1", duration_ms=1200.0))
    tracker.end(ev(6000, K.RUN_END, run="span-2"))
    assert len(tracker.runs) == 1 and tracker.runs[0].synthesized_start
    assert tracker.orphan_ends == 1


def test_open_runs_are_counted_and_left_out_of_the_sweep() -> None:
    events = [ev(0, K.RUN_START, instance="a", request="r1"),
              *run(100, 200, instance="a", request="r2")]
    evidence = analyse(events)
    s = sig(evidence, "runs.overlap_instance")
    assert s.answer is Answer.NO and "1 runs never ended" in s.detail
    assert evidence.data["runs_open"] == 1


def test_only_open_runs_is_unknown_and_no_runs_is_unknown() -> None:
    only_open = analyse([ev(0, K.RUN_START, instance="a")])
    assert "none has a known end" in sig(only_open, "runs.overlap_instance").reason
    untimed = analyse(run(None, None, instance="a", request="r"))  # type: ignore[arg-type]
    assert "carry no time" in sig(untimed, "runs.overlap_instance").reason
    nothing = analyse([ev(0, K.OTHER, message="hello")])
    assert "no run start/end" in sig(nothing, "runs.overlap_instance").reason


def test_runs_without_instance_ids_leave_instance_overlap_unknown() -> None:
    evidence = analyse([*run(0, 100, request="r1"), *run(50, 150, request="r2")])
    assert "no instance ids" in sig(evidence, "runs.overlap_instance").reason


def test_periodic_runs_that_overlap_are_a_timer_problem() -> None:
    events = [e for i in range(6)
              for e in run(i * 1000 + (7 if i % 2 else 0), i * 1000 + 1600,
                           instance="inbox-poller", process="worker/3")]
    evidence = analyse(events)
    s = sig(evidence, "runs.periodic_overlap")
    assert s.answer is Answer.YES
    assert abs(s.data["period_s"] - 1.0) < 0.01
    assert "inbox-poller" in s.detail


def test_periodic_runs_that_finish_in_time_are_fine_and_irregular_overlaps_are_not_periodic(
) -> None:
    fine = [e for i in range(6) for e in run(i * 1000, i * 1000 + 300, instance="p")]
    assert answer(analyse(fine), "runs.periodic_overlap") is Answer.NO
    irregular = [e for i, t in enumerate([0, 100, 2500, 2600, 9000])
                 for e in run(t, t + 400, instance="p", run=f"x{i}")]
    assert answer(analyse(irregular), "runs.periodic_overlap") is Answer.NO


def test_sweep_is_linear_in_pairs_not_quadratic_in_runs() -> None:
    """20k sequential runs on one instance: the sweep yields nothing and stays fast."""
    tracker = RunTracker()
    for i in range(20_000):
        tracker.start(ev(i * 10, K.RUN_START, instance="a", request=f"r{i}"))
        tracker.end(ev(i * 10 + 5, K.RUN_END, instance="a", request=f"r{i}"))
    assert list(sweep(tracker.runs, lambda r: r.instance)) == []
    assert not tracker.open_by_key


def test_examples_stay_bounded_with_many_overlaps() -> None:
    events = [e for i in range(300) for e in run(i, i + 50, instance="a", request=f"r{i}")]
    evidence = analyse(events, max_examples=5)
    s = sig(evidence, "runs.overlap_instance")
    assert s.answer is Answer.YES
    assert len(s.examples) <= 5
    assert s.data["max_concurrency"] == 50
    # counted without listing pairs, and equal to the pairs the full sweep lists
    assert s.value == sum(min(i, 49) for i in range(300)) == 13_475
    tracker = RunTracker()
    for e in events:
        (tracker.start if e.kind is K.RUN_START else tracker.end)(e)
    assert len(list(sweep(tracker.runs, lambda r: r.instance))) == s.value


def test_instance_created_per_request() -> None:
    events = []
    for i in range(5):
        events.append(ev(i * 1000, K.CREATED, instance=f"agent-{i}", request=f"r{i}"))
        events.extend(run(i * 1000 + 1, i * 1000 + 500, instance=f"agent-{i}",
                          request=f"r{i}", session="s1"))
    s = sig(analyse(events), "instance.per_request")
    assert s.answer is Answer.YES and s.value == 1.0 and s.examples


def test_instance_created_once_per_process_is_not_per_request() -> None:
    events = [ev(0, K.CREATED, instance="agent-1")]
    for i in range(6):
        events.extend(run(i * 1000 + 10, i * 1000 + 500, instance="agent-1", request=f"r{i}"))
    s = sig(analyse(events), "instance.per_request")
    assert s.answer is Answer.NO


def test_long_lived_needs_a_serverless_hint() -> None:
    hour = 3_600_000
    base = [*run(0, 500, instance="mod-1", request="inv-1", fields={"user": "alice"}),
            *run(2 * hour, 2 * hour + 500, instance="mod-1", request="inv-2",
                 fields={"user": "bob"})]
    without = sig(analyse(base), "instance.long_lived")
    assert without.answer is Answer.UNKNOWN and "hint" in without.reason
    hinted = [ev(-10, K.OTHER, message="Cold start", text="INIT_START Runtime: nodejs20.x "
                                                         "cold start"), *base]
    s = sig(analyse(hinted), "instance.long_lived")
    assert s.answer is Answer.YES
    assert "2.0 h" in s.detail


def test_per_request_inferred_from_instance_ids_when_no_creation_lines() -> None:
    fresh = [e for i in range(4) for e in run(i * 1000, i * 1000 + 500, instance=f"agent-{i}",
                                              request=f"r{i}")]
    s = sig(analyse(fresh), "instance.per_request")
    assert s.answer is Answer.YES and s.strength < 1.0 and "no creation lines" in s.detail
    shared = [e for i in range(4) for e in run(i * 1000, i * 1000 + 500, instance="agent-x",
                                               request=f"r{i}")]
    assert answer(analyse(shared), "instance.per_request") is Answer.NO
    few = analyse(run(0, 10, instance="a", request="r"))
    assert answer(few, "instance.per_request") is Answer.UNKNOWN
