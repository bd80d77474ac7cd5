"""``EventColumns`` holds events exactly: ``columns_from_events`` then
``events_from_columns`` gives back every event equal, field for field, on every lab,
corpus and golden case (real captures and public material) and on hostile values. This
is what lets every columnar stage be checked against the per-event path on the same
events."""

from __future__ import annotations

import math

import pytest

from probes.columnar import columns_from_events, events_from_columns
from probes.events import EventKind, LogEvent
from probes.pipeline import iter_events
from tests import score

CASES = list(score.discover())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_every_event_of_every_case_comes_back_equal(case: score.Case) -> None:
    events = list(iter_events(case.inputs))
    cols = columns_from_events(events)
    assert len(cols) == len(events)
    back = list(events_from_columns(cols))
    assert back == events
    # one string per distinct value: ids repeat across lines
    assert len(cols.strings) == len(set(cols.strings))


def test_absent_values_and_edge_values_stay_distinct() -> None:
    evs = [
        LogEvent(None, "a", 1),  # everything absent
        LogEvent(0, "b", 2, level=0, message="", status=0, duration_ms=0.0, fields={}),
        LogEvent(-5, "a", 3, message="x", duration_ms=math.inf, kind=EventKind.RUN_END,
                 host="", pid="", instance="", session="", request="", run="", error=""),
        LogEvent(2**62, "a", 4, fields={"k": [1, {"n": None}]}, text="t\x00\udcff"),
    ]
    back = list(events_from_columns(columns_from_events(evs)))
    assert back == evs
    assert back[0].fields is None and back[1].fields == {}
    assert back[0].duration_ms is None and back[1].duration_ms == 0.0
    assert back[2].host == "" and back[0].host is None


def test_nan_duration_comes_back_as_nan_not_absent() -> None:
    back = next(events_from_columns(columns_from_events(
        [LogEvent(1, "a", 1, duration_ms=math.nan)])))
    assert back.duration_ms is not None and math.isnan(back.duration_ms)


def test_a_value_no_column_holds_is_refused_not_changed() -> None:
    with pytest.raises(ValueError, match="64-bit"):
        columns_from_events([LogEvent(2**70, "a", 1)])
