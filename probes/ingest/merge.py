"""``merge_by_time``: one time-ordered stream from many per-source streams.

A k-way ``heapq.merge`` over (sort time, source index, sequence, event) tuples, so
events never get compared and ties keep source order. Each source is assumed to be
roughly in time order already (a log file is); the merge is lazy and holds one event
per source.

Lines without a time are placed like lnav does: they inherit the time of the
previous event of the same source for ordering (a stack trace stays under its error
line). Their ``time_ns`` stays None: the inherited time is only a sort key. Leading
untimed lines of a source take the first time that source shows, looked ahead over at
most ``LOOKAHEAD`` events; a source with no time at all sorts first, in its own order.

The merge drives the whole ingest loop, so it runs with the cyclic garbage collector
paused (``gcpause``), with a young-generation collection every ``GC_YOUNG_EVERY`` events.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterator, Sequence
from itertools import count

from probes.events import LogEvent
from probes.ingest.gcpause import gc_paused

LOOKAHEAD = 10_000
_NO_TIME = -1
GC_YOUNG_EVERY = 1 << 18


def _keyed(stream: Iterator[LogEvent], index: int) -> Iterator[tuple[int, int, int, LogEvent]]:
    seq = count()
    last: int | None = None
    held: list[LogEvent] = []
    for ev in stream:
        t = ev.time_ns
        if last is None:
            if t is None:
                if len(held) < LOOKAHEAD:
                    held.append(ev)
                    continue
                for h in held:  # no time within the lookahead: keep them first
                    yield _NO_TIME, index, next(seq), h
                held.clear()
                yield _NO_TIME, index, next(seq), ev
                continue
            for h in held:
                yield t, index, next(seq), h
            held.clear()
        if t is None:
            t = last
        else:
            last = t
        yield (t if t is not None else _NO_TIME), index, next(seq), ev
    for h in held:
        yield _NO_TIME, index, next(seq), h


def merge_by_time(streams: Sequence[Iterator[LogEvent]]) -> Iterator[LogEvent]:
    """Merge per-source event streams into one, ordered by time (see module doc).

    One stream comes out in its own order whatever its times (the merge only
    interleaves sources), so it is passed through without keys."""
    if len(streams) == 1:
        merged: Iterator[LogEvent] = iter(streams[0])
    else:
        keyed = [_keyed(iter(s), i) for i, s in enumerate(streams)]
        merged = (ev for _t, _i, _seq, ev in heapq.merge(*keyed))
    with gc_paused():
        for n, ev in enumerate(merged, 1):
            yield ev
            if not n & (GC_YOUNG_EVERY - 1):
                gc.collect(1)
