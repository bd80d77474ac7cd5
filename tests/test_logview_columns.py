"""The Logs view's index filled from columns (``LogIndex.add_columns``) equals the one
filled event by event (``add``), on every lab, corpus and golden case, whole and in two
chunks (untimed rows take their source's previous clock across the cut), with texts kept
in memory and read back by offset."""

from __future__ import annotations

from typing import Any

import pytest

from probes.columnar import columns_from_events
from probes.events import LogEvent
from probes.pipeline import iter_events
from tests import score
from tui.app.logview import LogIndex

CASES = list(score.discover())


def _state(ix: LogIndex) -> dict[str, Any]:
    ix.finish()
    return {
        "arrays": [list(a) for a in (ix.time_ns, ix.source, ix.line, ix.level, ix.instance,
                                     ix.session, ix.request, ix.host, ix.run, ix.order)],
        "interned": [[ix_.get(i) for i in range(len(ix_._values))]
                     for ix_ in (ix.instances, ix.sessions, ix.requests, ix.hosts, ix.runs)],
        "sources": [(s.name, s.path) for s in ix.sources],
        "texts": [ix.text(r) for r in range(len(ix))],
    }


def _by_events(events: list[LogEvent], keep_text: bool) -> dict[str, Any]:
    ix = LogIndex(keep_text=keep_text)
    for ev in events:
        ix.add(ev)
    return _state(ix)


@pytest.mark.parametrize("keep_text", [False, True], ids=["offsets", "kept"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_columns_fill_the_index_as_events_do(case: score.Case, keep_text: bool) -> None:
    events = [ev for ev in iter_events(case.inputs)
              if not (ev.text.startswith("span ") and " trace=" in ev.text)]
    want = _by_events(events, keep_text)
    whole = LogIndex(keep_text=keep_text)
    whole.add_columns(columns_from_events(events))
    assert _state(whole) == want
    cut = len(events) // 2
    chunked = LogIndex(keep_text=keep_text)
    chunked.add_columns(columns_from_events(events[:cut]))
    chunked.add_columns(columns_from_events(events[cut:]))
    assert _state(chunked) == want


def test_untimed_rows_take_the_previous_clock_of_their_own_source() -> None:
    evs = [LogEvent(None, "a", 1), LogEvent(5, "a", 2), LogEvent(None, "b", 1),
           LogEvent(None, "a", 3), LogEvent(9, "b", 2), LogEvent(None, "b", 3)]
    ix = LogIndex(keep_text=True)
    ix.add_columns(columns_from_events(evs))
    assert list(ix.time_ns) == [-(2**63), 5, -(2**63), 5, 9, 9]
