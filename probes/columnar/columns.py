"""``EventColumns``: every event of an input set as typed columns, in analysis order.

One row per ``LogEvent`` the per-event path would feed, in the order it would feed them
(``merge_by_time``'s). Text values (ids, messages, errors, hosts, pids) are codes into one
string table, so an id seen on 10,000 lines is one string and 10,000 four-byte codes;
integers that may be absent use ``NO_INT``, strings ``NO_CODE``. The raw line of a row is
asked for through ``texts`` (a list in tests, file offsets in the decoder) because only
the few lines a report cites are ever read.

``columns_from_events`` and ``events_from_columns`` are exact inverses: every field of
every event comes back equal (``tests/test_columnar_columns.py`` checks it on every lab,
corpus and golden case). That makes the per-event path the oracle for every columnar
stage: build columns from the reader's events, run the stage, compare with feeding the
same events one at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from probes.events import EventKind, LogEvent

KINDS: tuple[EventKind, ...] = tuple(EventKind)
"""A row's ``kind`` is an index into this tuple."""
KIND_CODE: dict[EventKind, int] = {k: i for i, k in enumerate(KINDS)}
NO_INT = int(np.iinfo(np.int64).min)
"""An absent integer (time, level, status): no real value is this small."""
NO_CODE = -1
"""An absent string (host, pid, ids, error)."""

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


class Texts(Protocol):
    """Where a row's raw text comes from (``LogEvent.text``)."""

    def text(self, row: int) -> str: ...

    def rows_containing(self, rows: I64, needles: tuple[bytes, ...]) -> I64 | None:
        """Of ``rows``, those whose text may hold one of the ASCII ``needles`` (every row
        that does, perhaps a few more); None when only reading each text could tell."""
        ...


@dataclass(slots=True)
class ListTexts:
    """Texts held in memory, one per row (the reference builder's; tests)."""

    items: list[str] = field(default_factory=list)

    def text(self, row: int) -> str:
        return self.items[row]

    def rows_containing(self, rows: I64, needles: tuple[bytes, ...]) -> I64 | None:
        items = self.items
        words = [n.decode() for n in needles]
        return np.asarray([r for r in rows.tolist() if any(w in items[r] for w in words)],
                          dtype=np.int64)


@dataclass(eq=False, slots=True)
class EventColumns:
    """The events of an input set, one row each, in the order the analysis sees them."""

    sources: list[str]
    strings: list[str]
    src: I32
    line: I64
    time_ns: I64
    level: I64
    kind: U8
    message: I32  # never NO_CODE: a message is "" at least
    host: I32
    pid: I32
    instance: I32
    session: I32
    request: I32
    run: I32
    error: I32
    status: I64
    duration_ms: F64
    has_duration: Bools  # duration_ms holds a value (NaN is a value some inputs give)
    fields: dict[int, dict[str, Any]]  # row -> the event's fields, for the rows that had any
    texts: Texts

    def __len__(self) -> int:
        return len(self.line)

    def string(self, code: int) -> str | None:
        return None if code == NO_CODE else self.strings[code]

    def event(self, row: int) -> LogEvent:
        """Row ``row`` as the ``LogEvent`` it was (or would have been)."""
        s = self.strings
        t = int(self.time_ns[row])
        lv = int(self.level[row])
        st = int(self.status[row])

        def code(col: I32) -> str | None:
            c = int(col[row])
            return None if c == NO_CODE else s[c]

        return LogEvent(
            None if t == NO_INT else t, self.sources[int(self.src[row])], int(self.line[row]),
            None if lv == NO_INT else lv, s[int(self.message[row])], KINDS[int(self.kind[row])],
            code(self.host), code(self.pid), code(self.instance), code(self.session),
            code(self.request), code(self.run), code(self.error),
            None if st == NO_INT else st,
            float(self.duration_ms[row]) if self.has_duration[row] else None,
            self.fields.get(row), self.texts.text(row))


def events_from_columns(cols: EventColumns) -> Iterator[LogEvent]:
    """Every row as a ``LogEvent``, in order (the per-event path over columns)."""
    for row in range(len(cols)):
        yield cols.event(row)


class StringTable:
    """The string table being built: one code per distinct string (``EventColumns.strings``
    is its ``table``), shared by the reference builder and the decoder."""

    __slots__ = ("codes", "table")

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.table: list[str] = []

    def code(self, s: str | None) -> int:
        if s is None:
            return NO_CODE
        c = self.codes.get(s)
        if c is None:
            c = self.codes[s] = len(self.table)
            self.table.append(s)
        return c

    def codes_of(self, values: Sequence[str | None]) -> I32:
        """``code`` of each value, as an array (one loop, no call per value)."""
        codes = self.codes
        table = self.table
        get = codes.get
        out: list[int] = []
        add = out.append
        for s in values:
            if s is None:
                add(NO_CODE)
                continue
            c = get(s)
            if c is None:
                c = codes[s] = len(table)
                table.append(s)
            add(c)
        return np.array(out, dtype=np.int32)


def _int(v: int | None, what: str) -> int:
    if v is None:
        return NO_INT
    if not (NO_INT < v <= np.iinfo(np.int64).max):
        raise ValueError(f"{what} {v} does not fit a 64-bit column")
    return v


def columns_from_events(events: Iterable[LogEvent]) -> EventColumns:
    """The reference builder: columns holding exactly these events (texts in memory).

    Raises ValueError for a value no column can hold (an integer beyond 64 bits), so a
    caller falls back to the per-event path rather than change an event."""
    strings = StringTable()
    sources: dict[str, int] = {}
    src: list[int] = []
    line: list[int] = []
    time_ns: list[int] = []
    level: list[int] = []
    kind: list[int] = []
    cols: dict[str, list[int]] = {k: [] for k in (
        "message", "host", "pid", "instance", "session", "request", "run", "error")}
    status: list[int] = []
    duration: list[float] = []
    has_duration: list[bool] = []
    fields: dict[int, dict[str, Any]] = {}
    texts = ListTexts()
    code = strings.code
    for row, ev in enumerate(events):
        s = sources.get(ev.source)
        if s is None:
            s = sources[ev.source] = len(sources)
        src.append(s)
        line.append(_int(ev.line, "line"))
        time_ns.append(_int(ev.time_ns, "time"))
        level.append(_int(ev.level, "level"))
        kind.append(KIND_CODE[ev.kind])
        cols["message"].append(code(ev.message))
        cols["host"].append(code(ev.host))
        cols["pid"].append(code(ev.pid))
        cols["instance"].append(code(ev.instance))
        cols["session"].append(code(ev.session))
        cols["request"].append(code(ev.request))
        cols["run"].append(code(ev.run))
        cols["error"].append(code(ev.error))
        status.append(_int(ev.status, "status"))
        d = ev.duration_ms
        has_duration.append(d is not None)
        duration.append(math.nan if d is None else d)
        if ev.fields is not None:
            fields[row] = ev.fields
        texts.items.append(ev.text)

    def i32(v: list[int]) -> I32:
        return np.asarray(v, dtype=np.int32)

    return EventColumns(
        sources=list(sources), strings=strings.table,
        src=i32(src), line=np.asarray(line, dtype=np.int64),
        time_ns=np.asarray(time_ns, dtype=np.int64), level=np.asarray(level, dtype=np.int64),
        kind=np.asarray(kind, dtype=np.uint8),
        message=i32(cols["message"]), host=i32(cols["host"]), pid=i32(cols["pid"]),
        instance=i32(cols["instance"]), session=i32(cols["session"]),
        request=i32(cols["request"]), run=i32(cols["run"]), error=i32(cols["error"]),
        status=np.asarray(status, dtype=np.int64),
        duration_ms=np.asarray(duration, dtype=np.float64),
        has_duration=np.asarray(has_duration, dtype=np.bool_),
        fields=fields, texts=texts)
