"""``LogAnalysis.finish`` on numpy gives what the pure-Python finish gave, on any input.

The finish side was rewritten for speed (issue "Speed: a columnar hot path"): overlap
counts as one sort of every start and end instead of a heap per group, in-flight counts by
``searchsorted``, groups by codes instead of dict loops. The pure-Python code it replaced
is kept verbatim as the reference (``tests/finish_reference.py``). Hypothesis generates
runs and requests where the vectorised shortcuts could slip (ties, zero-length and
backward spans, touching spans, untimed and open runs, nested runs, one group or
thousands, an empty-string group, ids that make two groups' names equal), and every result
must be the reference's, down to the order of the examples. Then whole analyses, fed
generated events, must give the same Evidence as ``RefAnalysis`` (the finish-side methods
as they were, on the same trackers), mid-stream and at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from finish_reference import (
    RefAnalysis,
    ref_concurrency_table,
    ref_in_flight_at_start,
    ref_summarize,
    ref_sweep,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.analysis import LogAnalysis
from probes.analysis import runs as runs_mod
from probes.analysis.concurrency import Request, concurrency_table, in_flight_at_start
from probes.analysis.runs import Overlap, OverlapSummary, Run, summarize, sweep
from probes.events import EventKind, LogEvent
from probes.evidence import iso_ns

EXACT = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ generated runs
# Few distinct times so that ties, touching and zero-length spans are common; a wide
# range now and then for backward spans and large gaps.
_TIME = st.one_of(st.integers(0, 12), st.integers(-3, 40), st.integers(-(2 ** 62), 2 ** 62))
_ID = st.sampled_from(["a", "b", "c", "", "a, request b", "b, request c", "z"])
_OPT_ID = st.one_of(st.none(), _ID)


@st.composite
def _runs(draw: st.DrawFn, max_size: int = 40) -> list[Run]:
    out = []
    for i in range(draw(st.integers(0, max_size))):
        start = draw(st.one_of(st.none(), _TIME)) if draw(st.integers(0, 9)) == 0 else \
            draw(_TIME)
        kind = draw(st.integers(0, 9))
        if kind == 0:
            end = None  # open
        elif kind == 1 and start is not None:
            end = start  # zero-length
        elif kind == 2 and start is not None:
            end = start - draw(st.integers(1, 5))  # backward: two sources' clocks
        elif start is not None and kind < 8:
            end = start + draw(st.integers(0, 15))
        else:
            end = draw(_TIME)
        out.append(Run(id=f"r{i}", instance=draw(_OPT_ID), session=draw(_OPT_ID),
                       request=draw(_OPT_ID), process=draw(_OPT_ID), start_ns=start,
                       end_ns=end))
    return out


def _pairs(overlaps: Iterable[Overlap]) -> list[tuple[str, str, str]]:
    return [(o.group, o.first.id, o.second.id) for o in overlaps]


def _summary(s: OverlapSummary) -> tuple[object, ...]:
    return (s.pairs, list(s.per_group.items()), list(s.peak.items()), _pairs(s.sample))


_GROUPINGS: list[Callable[[Run], str | None]] = [
    attrgetter("instance"),
    lambda r: r.session,
    lambda r: f"instance {r.instance}, request {r.request}" if r.instance and r.request
    else None,
    lambda r: "all",
    lambda r: r.id,  # every run its own group
    lambda r: None if r.request else (r.instance or r.process or "(no instance)"),
]


@EXACT
@given(runs=_runs(), keep=st.integers(0, 10))
def test_summarize_is_the_heap_sweep(runs: list[Run], keep: int) -> None:
    for group_of in _GROUPINGS:
        assert _summary(summarize(runs, group_of, keep)) == \
            _summary(ref_summarize(runs, group_of, keep))
        assert _summary(runs_mod.summarize_by_heap(runs, group_of, keep)) == \
            _summary(ref_summarize(runs, group_of, keep))


@EXACT
@given(runs=_runs())
def test_sweep_lists_the_same_pairs_in_the_same_order(runs: list[Run]) -> None:
    for group_of in _GROUPINGS:
        assert _pairs(sweep(runs, group_of)) == _pairs(ref_sweep(runs, group_of))


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(runs=_runs(max_size=400), keep=st.integers(0, 10))
def test_summarize_on_many_runs(runs: list[Run], keep: int) -> None:
    for group_of in _GROUPINGS[:4]:
        assert _summary(summarize(runs, group_of, keep)) == \
            _summary(ref_summarize(runs, group_of, keep))


def test_summarize_counts_nested_and_touching_runs_like_the_heap() -> None:
    """A hand-made case the shortcuts must get right: a long run holding a nested one and
    a zero-length one, a run touching its end, two identical zero-length runs."""
    spans = [(0, 100), (10, 20), (50, 50), (100, 120), (130, 130), (130, 130), (125, 140)]
    runs = [Run(id=f"r{i}", instance="i", start_ns=s, end_ns=e)
            for i, (s, e) in enumerate(spans)]
    got = summarize(runs, attrgetter("instance"), 8)
    assert _summary(got) == _summary(ref_summarize(runs, attrgetter("instance"), 8))
    # r1 and r2 inside r0; r4, r5 (at 130) inside r6 (125-140), r5 not inside r4
    assert got.pairs == 4 and got.peak == {"i": 2}
    assert _pairs(got.sample) == [("i", "r0", "r1"), ("i", "r0", "r2"), ("i", "r6", "r4"),
                                  ("i", "r6", "r5")]


def test_times_beyond_int64_take_the_pure_python_path() -> None:
    big = 2 ** 70
    runs = [Run(id="a", instance="i", start_ns=big, end_ns=big + 10),
            Run(id="b", instance="i", start_ns=big + 5, end_ns=big + 6)]
    got = summarize(runs, attrgetter("instance"), 8)
    assert _summary(got) == _summary(ref_summarize(runs, attrgetter("instance"), 8))
    assert got.pairs == 1


# ------------------------------------------------------------------ requests in flight
_REQUESTS = st.lists(st.tuples(_TIME, st.integers(-3, 20), st.booleans()), max_size=60)


@EXACT
@given(spans=_REQUESTS)
def test_in_flight_and_the_table_are_the_bisect_sweep(spans: list[tuple[int, int, bool]]
                                                      ) -> None:
    reqs = [Request(s, s + d, f, float(d)) for s, d, f in spans]
    assert in_flight_at_start(reqs) == ref_in_flight_at_start(reqs)
    if reqs:
        table = concurrency_table(reqs)
        assert table == ref_concurrency_table(reqs)


@EXACT
@given(ns=st.one_of(st.integers(-(10 ** 18), 10 ** 18), st.integers(0, 3 * 10 ** 9),
                    st.integers(1_700_000_000 * 10 ** 9, 1_800_000_000 * 10 ** 9)))
def test_run_times_print_as_iso_ns(ns: int) -> None:
    assert runs_mod._iso(ns) == iso_ns(ns)
    assert runs_mod._iso(ns) == iso_ns(ns)  # the memoised second


# ------------------------------------------------------------------ whole analyses
T0 = 1_763_000_000_000_000_000
K = EventKind


def _event(line: int, t: int | None, kind: EventKind, source: str = "app.log",
           **kw: Any) -> LogEvent:
    text = f"{kind.value} {line} " + " ".join(f"{k}={v}" for k, v in kw.items())
    return LogEvent(time_ns=None if t is None else T0 + t * 1_000_000, source=source,
                    line=line, kind=kind, message=str(kind.value), text=text, **kw)


_IDS = st.sampled_from([None, "", "a", "a", "a", "b", "b", "c", "a, request b"])
_REQS = st.sampled_from([None, "", "q1", "q1", "q2", "q2", "q3", "c", "b, request c"])


@st.composite
def _events(draw: st.DrawFn) -> list[LogEvent]:
    """Run starts and ends (with and without run ids, some failing, some untimed, some
    only an end with a duration), request starts and ends with durations and statuses,
    'already running' errors with and without a request, over few ids and few instants;
    and, drawn or not, the shapes that make the signals say yes: a timer's overlapping
    runs, runs started inside a run of their own request, bursts of failing requests."""
    times = st.one_of(st.none(), st.integers(0, 400)) if draw(st.booleans()) else \
        st.integers(0, 60)
    out: list[LogEvent] = []
    for _ in range(draw(st.integers(0, 40))):
        t = draw(times)
        kind = draw(st.sampled_from([K.RUN_START, K.RUN_START, K.RUN_END, K.RUN_END,
                                     K.REQUEST_END, K.ERROR, K.REQUEST_START]))
        kw: dict[str, Any] = {
            "instance": draw(_IDS), "session": draw(_IDS), "request": draw(_REQS),
            "run": draw(st.sampled_from([None, None, "r1", "r2", "r3"])),
            "host": draw(st.sampled_from([None, "h1", "h2"])),
            "pid": draw(st.sampled_from([None, "1", "2"])),
        }
        if kind in (K.RUN_END, K.REQUEST_END, K.ERROR):
            kw["duration_ms"] = draw(st.one_of(st.none(), st.integers(0, 80).map(float)))
            kw["status"] = draw(st.sampled_from([None, 200, 500, 503]))
            if draw(st.integers(0, 3)) == 0 or kind is K.ERROR:
                kw["error"] = draw(st.sampled_from(["team is already running", "boom",
                                                    "This event loop is already running"]))
                kw["level"] = draw(st.sampled_from([None, 30, 50]))
        out.append(_event(len(out) + 1, t, kind, draw(st.sampled_from(
            ["app.log", "app.log", "b.log"])), **kw))
    if draw(st.booleans()):  # a timer: runs with no request every `period`, overlapping
        period, length = draw(st.integers(5, 20)), draw(st.integers(1, 40))
        inst = draw(_IDS)
        for i in range(draw(st.integers(3, 8))):
            out.append(_event(len(out) + 1, 500 + i * period, K.RUN_START, instance=inst,
                              host="h1", pid="1"))
            out.append(_event(len(out) + 1, 500 + i * period + length, K.RUN_END,
                              instance=inst, host="h1", pid="1"))
    if draw(st.booleans()):  # runs of one request, the later ones inside the first
        req, inst, sess = draw(_REQS), draw(_IDS), draw(_IDS)
        for i in range(draw(st.integers(2, 4))):
            start = 700 + draw(st.sampled_from([0, 10, 35, 50, 120]))
            out.append(_event(len(out) + 1, start, K.RUN_START, instance=inst, session=sess,
                              request=req, run=f"n{i}"))
            out.append(_event(len(out) + 1, start + draw(st.integers(0, 200)), K.RUN_END,
                              instance=inst, session=sess, request=req, run=f"n{i}"))
    if draw(st.booleans()):  # requests alone pass, bursts fail
        for i in range(draw(st.integers(5, 12))):
            out.append(_event(len(out) + 1, 1000 + i * 100, K.REQUEST_END, request=f"s{i}",
                              duration_ms=10.0, status=200))
        for b in range(draw(st.integers(1, 4))):
            for j in range(4):
                out.append(_event(len(out) + 1, 3000 + b * 200 + j, K.REQUEST_END,
                                  request=f"b{b}-{j}", duration_ms=draw(st.sampled_from(
                                      [50.0, 300.0])),
                                  status=500 if j else 200))
    return out


def _json(evidence: Any) -> str:
    text = json.dumps(evidence.to_json(), sort_keys=True, default=str)
    return re.sub(r'"collected_at": "[^"]*"', "", text)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(events=_events(), keep=st.sampled_from([1, 2, 8]))
def test_finish_gives_the_evidence_the_pure_python_finish_gave(events: list[LogEvent],
                                                               keep: int) -> None:
    new, ref = LogAnalysis(max_examples=keep), RefAnalysis(max_examples=keep)
    for n, e in enumerate(events):
        new.feed(e)
        ref.feed(e)
        if n % 7 == 3:  # mid-stream too: runs still open, requests half seen
            assert _json(new.finish()) == _json(ref.finish())
    assert _json(new.finish()) == _json(ref.finish())


def test_two_id_pairs_with_one_group_name_are_swept_as_one_group() -> None:
    """Instance "a, request b" with request "c", and instance "a" with request "b, request
    c": both name the group "instance a, request b, request c", so the sweep of the fine
    groups pairs them (as it always did). The numpy prefilter groups by ids, and must see
    that these ids can share a name; the session's fine groups likewise."""
    events = []
    for n, (inst, req, t0, t1) in enumerate([("a, request b", "c", 0, 100),
                                             ("a", "b, request c", 40, 60)]):
        kw = {"instance": inst, "session": inst, "request": req, "run": f"r{n}"}
        events += [_event(2 * n + 1, t0, K.RUN_START, **kw),
                   _event(2 * n + 2, t1, K.RUN_END, **kw)]
    new, ref = LogAnalysis(), RefAnalysis()
    for e in events:
        new.feed(e)
        ref.feed(e)
    got, want = new.finish(), ref.finish()
    assert _json(got) == _json(want)
    signals = {s.key: s for s in got.signals}
    assert signals["runs.nested_same_request"].answer.value == "yes"
    assert signals["runs.parallel_same_session"].answer.value == "yes"
