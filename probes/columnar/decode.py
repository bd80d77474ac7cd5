"""``decode_inputs``: JSON-lines inputs decoded in batches straight into ``EventColumns``.

Why: the per-event reader spends 5-8 µs of Python per line (a ``readline``, a ``str``,
one msgspec call, ``assemble`` and a ``LogEvent``). Here a file is read in blocks, line
boundaries and the per-line checks are found with numpy, each line is decoded with the
*same* typed msgspec decoder the reader builds for that file, role values are pulled out
a column at a time (few-valued roles as one tuple per row), and every converter of
``assemble`` runs once per *distinct* value (a level, a message, a host, an ``err``
text) instead of once per line. What is left per line is msgspec's decode and a few
dict operations per id; see ``tests/bench_columnar_decode.py`` for the figures.

Exactness is the contract: for every input set it accepts, the rows are exactly the
events ``merge_by_time([LogReader(i, config).events() for i in inputs])`` yields, in that
order, and each report equals the reader's ``report()``. It is kept by construction:

* the reader itself runs: ``_ColumnReader`` is a ``LogReader`` whose line loop
  (``_lines``) is replaced, so opening, sniffing, format detection, the ``LineParser``,
  the ``BlockJoiner``, skip counting and ``report()`` are the reader's own code;
* a line goes the fast way only when it is provably the plain case: it starts with
  ``{``, fits the line cap, has no NUL byte, is valid UTF-8, has too few brackets to be
  too deep, no traceback block or held line is open, and the reader's typed decoder
  accepts it. Every other line (text, stacks, blank, cut, malformed, split records) goes
  through the reader's per-line steps and its events are appended as they come;
* anything the columns cannot hold or that would depend on state outside one input
  (see ``_risky``) declines the whole set with a reason (``NotDecoded``): the caller then
  uses the per-event path, so declining is always safe.

Text and logfmt inputs (and JSON without a typed layout) are read entirely the per-line
way, 10-20% slower than the reader (its events still become columns), so that a set
mixing them with JSON logs stays columns, with their texts on disk.

Container-wrapped inputs (CRI, Docker json-file, kubectl ``--timestamps``/``--prefix``,
stern: every pod log) are unwrapped line by line by the reader's own code
(``LogReader._unwrap_line``: its ``Unwrapper`` and its joining of CRI ``P``/``F`` and
Docker partial records), so a wrapped line cannot be unwrapped any other way than the
reader unwraps it. The inner JSON lines then take the batch decode, each row's wrapper
time and host standing in where the line gives none, as ``assemble`` does; the rest go
the per-line way. The unwrap stays per line (a timestamp parse each): a
kubectl-timestamps pino line costs ~6 µs here against ~10 on the reader, where a bare one
costs ~4.5 against ~8.5 (``tests/bench_columnar_decode.py``).

What is declined: stdin and gzip inputs (texts are read back by file offset), traces,
cancellation, read errors, values beyond 64 bits.

Texts are not kept: each row keeps its line's byte offset and ``FileTexts`` reads the
line back (cut at the cap, invalid UTF-8 replaced, as the reader does) when asked; for a
wrapped input it unwraps that line again (``Unwrapper`` is a function of the line
alone), so inner texts cost no memory but one unwrap per text read (~1-2 µs). Only
events whose text is not their own line (split records, a block's cut first line, a
record joined from partial lines) keep their text in memory.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, BinaryIO, cast

import msgspec
import numpy as np

from probes.columnar.columns import (
    I32,
    I64,
    KIND_CODE,
    NO_CODE,
    NO_INT,
    EventColumns,
    StringTable,
    columns_from_events,
)
from probes.columnar.split import FileIdentity, Helper, Piece, Split, identity_of, plan_split
from probes.events import EventKind, LogEvent
from probes.evidence import InputReport
from probes.ingest import roles as R
from probes.ingest.blocks import BlockJoiner
from probes.ingest.config import IngestConfig
from probes.ingest.gcpause import gc_paused
from probes.ingest.kinds import classify, end_failed, kind_of_text
from probes.ingest.limits import DEEP_REASON, MAX_DEPTH, text_too_deep
from probes.ingest.lineformats import ABSENT_KEY, JsonLayout, LineParser
from probes.ingest.merge import LOOKAHEAD
from probes.ingest.reader import LogReader, _Pending
from probes.ingest.sources import GZIP_MAGIC, GunzipReader, InputFile, LineCounter, capped_lines
from probes.ingest.textshapes import ShapeState, mark_structured, marks_of
from probes.ingest.wrappers import Unwrapper

BLOCK_BYTES = 256 << 10
"""Bytes read and decoded at once: large enough that numpy's per-call cost vanishes,
small enough that the block's decoded objects stay in the CPU caches while each column
pass walks them (pino benchmark: 256 KiB 3.8 µs/line, 2 MiB 4.3, 8 MiB 5.3)."""
_SCAN_BYTES = 4 << 20
"""Block size of ``FileTexts.rows_containing``'s scan."""
PROGRESS_BYTES = 4 << 20
"""Progress is told at most once per this many bytes read (a TUI bar, not a log)."""

PENDING_EVENTS = 4096
"""Events of the per-line path held before they are turned into columns."""

_OTHER = EventKind.OTHER
_END_KINDS = frozenset({EventKind.RUN_END, EventKind.REQUEST_END})
_SAFE_KEY_TYPES = frozenset({str, int, type(None)})
"""Value types that can be dict keys without two different values meeting (1, 1.0 and
True are equal keys; "1" and 1 are not): only columns of these types are converted once
per distinct value, others value by value."""
_B = [np.uint8(i) for i in range(256)]
"""Byte constants as numpy scalars: a Python int operand makes numpy 2 take a slower
path (measured: 10x on a block's bracket scan)."""
_STR_NONE = frozenset({str, type(None)})
_NO_TIME = -1  # merge_by_time's sort key for a source with no time yet


class _Decline(Exception):
    """The fast path cannot prove this input identical: the reason says why."""


class _Unsplit(Exception):
    """A piece that starts inside its file (``_ColumnReader``'s ``piece``) is not a
    plain log read line by line: only the whole file can be read."""


@dataclass(frozen=True, slots=True)
class NotDecoded:
    """The input set is left to the per-event path, for this reason."""

    reason: str


@dataclass(slots=True)
class Decoded:
    """Every event of the input set as columns, and each input's final report."""

    columns: EventColumns
    reports: list[InputReport]
    processes: int = 1
    """2 when a helper process decoded part of the set (``split``)."""


# --------------------------------------------------------------------------- texts


@dataclass(eq=False)
class FileTexts:
    """A row's raw text read back from its file by byte offset, exactly as the reader
    gave it (cut at the line cap, CRLF dropped, invalid UTF-8 replaced); rows whose text
    is not a whole line of their file are held in ``held``. Files are opened on demand
    and kept open (call ``close``); the texts are right while the files are unchanged
    (a log appended to is fine, one rotated or truncated is not)."""

    paths: list[Path | None]
    cap: int
    src: I32
    offset: I64
    held: dict[int, str] = field(default_factory=dict)
    unwrap: list[Unwrapper | None] = field(default_factory=list)
    """Per source, its container wrappers: a wrapped line's text is its inner line, the
    reader's ``Unwrapper`` applied again to the line read back (it is a function of the
    line alone), so unwrapped texts cost no memory; only records joined from partial
    lines are held."""
    _files: dict[int, BinaryIO] = field(default_factory=dict)

    def text(self, row: int) -> str:
        t = self.held.get(row)
        if t is not None:
            return t
        s = int(self.src[row])
        f = self._files.get(s)
        if f is None:
            path = self.paths[s]
            if path is None:  # never: sources without a file keep their texts in held
                raise KeyError(row)
            f = self._files[s] = open(path, "rb")  # noqa: SIM115 - closed by close()
        f.seek(int(self.offset[row]))
        b = next(capped_lines(f, self.cap, LineCounter()), b"")
        try:
            t = b.decode()
        except UnicodeDecodeError:
            t = b.decode(errors="replace")
        unwrap = self.unwrap[s] if s < len(self.unwrap) else None
        return t if unwrap is None else unwrap(t).text

    def rows_containing(self, rows: I64, needles: tuple[bytes, ...]) -> I64 | None:
        """Of ``rows``, those whose text may hold one of the ASCII ``needles``: every row
        whose text holds one is among them (a few more may be: the caller checks each).

        Why: a check on every line's text (``counter_write``'s guard) would read each line
        back on its own; one scan of each file finds the needles at C speed instead. It
        holds because a row's text is its line's first bytes, decoded: cutting, dropping
        the CR and replacing invalid UTF-8 never make an ASCII needle appear. A hit maps
        to the nearest row starting at or before it, which is its own line's row when that
        row is asked for. None when a source is wrapped (unwrapping unescapes, so a text
        can hold what its line does not): the caller reads the texts then."""
        if len(rows) == 0:
            return rows
        srcs = self.src[rows]
        for s in np.unique(srcs).tolist():
            if (s < len(self.unwrap) and self.unwrap[s] is not None) or self.paths[s] is None:
                return None
        overlap = max(len(n) for n in needles) - 1
        keep = np.zeros(len(rows), dtype=np.bool_)
        held = self.held
        for i, r in enumerate(rows.tolist()):
            t = held.get(r)
            if t is not None:
                keep[i] = any(n.decode() in t for n in needles)
        for s in np.unique(srcs).tolist():
            at = np.flatnonzero(srcs == s)
            at = at[[int(r) not in held for r in rows[at].tolist()]] if held else at
            if len(at) == 0:
                continue
            order = np.argsort(self.offset[rows[at]], kind="stable")
            starts = self.offset[rows[at]][order]
            hits: list[int] = []
            path = self.paths[s]
            assert path is not None
            with open(path, "rb") as f:
                base, tail = 0, b""
                while chunk := f.read(_SCAN_BYTES):
                    buf = tail + chunk
                    start = base - len(tail)
                    for needle in needles:  # bytes.find: a C scan, where re was 8x slower
                        i = buf.find(needle)
                        while i >= 0:
                            hits.append(start + i)
                            i = buf.find(needle, i + 1)
                    tail = buf[-overlap:] if overlap else b""
                    base += len(chunk)
            if not hits:
                continue
            owner = np.searchsorted(starts, np.unique(np.asarray(hits, dtype=np.int64)),
                                    side="right") - 1
            keep[at[order[np.unique(owner[owner >= 0])]]] = True
        return rows[keep]

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __del__(self) -> None:
        self.close()


# --------------------------------------------------------------------------- strings


def _factor(raw: Sequence[Any]) -> tuple[list[Any], I32]:
    """The distinct values of a column and, per row, the index of its value. Values of
    other types than ``_SAFE_KEY_TYPES`` are each their own value (converted row by
    row), so no two values that merely compare equal are ever merged; None, the usual
    filler of such a column (an ``err`` object on a few lines), is one value."""
    n = len(raw)
    try:
        uniq = list(dict.fromkeys(raw))
    except TypeError:  # unhashable values (objects, lists)
        return _each_its_own(raw)
    # str and None are never equal to a value of another type, so when only they are
    # left no value was merged; else the whole column's types are checked
    if set(map(type, uniq)) <= _STR_NONE or set(map(type, raw)) <= _SAFE_KEY_TYPES:
        if len(uniq) == 1:
            return uniq, np.zeros(n, dtype=np.int32)
        pos = dict(zip(uniq, range(len(uniq)), strict=True))
        return uniq, np.fromiter(map(pos.__getitem__, raw), dtype=np.int32, count=n)
    return _each_its_own(raw)


def _each_its_own(raw: Sequence[Any]) -> tuple[list[Any], I32]:
    """Every value but None its own distinct value; None (index 0) shared."""
    given = np.fromiter((v is not None for v in raw), dtype=np.bool_, count=len(raw))
    inv = np.cumsum(given, dtype=np.int32)
    inv[~given] = 0
    return [None, *(v for v in raw if v is not None)], inv


_I64_MAX = int(np.iinfo(np.int64).max)


def _fit(v: int | None, what: str) -> int:
    if v is None:
        return NO_INT
    if not (NO_INT < v <= _I64_MAX):
        raise _Decline(f"a {what} beyond 64 bits")
    return v


def _ints(values: Sequence[int | None], what: str) -> I64:
    return np.fromiter((_fit(v, what) for v in values), dtype=np.int64, count=len(values))


def _combine(parts: Sequence[tuple[I32, int]]) -> tuple[I64, I64] | None:
    """Rows keyed by several factor indexes at once: (distinct combined keys, per row the
    index of its key), or None when the key space does not fit 63 bits."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    space = 1
    for inv, size in parts:
        size = max(size, 1)
        if space * size >= 1 << 62:
            return None
        key *= size
        key += inv
        space *= size
    if space <= 4 * len(key) + 1024:  # dense: mark the keys present instead of sorting
        seen = np.zeros(space, dtype=np.int64)
        seen[key] = 1
        uniq = np.flatnonzero(seen)
        seen[uniq] = np.arange(len(uniq))
        return uniq, seen[key]
    keys, where = np.unique(key, return_inverse=True)
    return keys, where.astype(np.int64)


_JOINT_ROLES = (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)
"""Roles (``ROLES`` indexes) whose columns may be factored together: all but time,
request and duration, which are converted apart anyway."""
_FEW = 32
"""A column whose first 256 rows hold at most this many values is taken as few-valued."""


_Joint = tuple[list[int], list[tuple[Any, ...]]]
"""Few-valued roles and, per row, the tuple of their values (one ``attrgetter`` call)."""


def _few_roles(columns: Sequence[Sequence[Any] | None], roles: Sequence[int]) -> list[int]:
    """The roles whose sample (the first 256 rows given) holds at most ``_FEW`` values."""
    few: list[int] = []
    for i in roles:
        c = columns[i]
        if c is None:
            continue
        try:
            if len(set(c[:256])) <= _FEW:
                few.append(i)
        except TypeError:  # unhashable values
            continue
    return few


def _joint_factors(raw: list[list[Any] | None], roles: Sequence[int], n: int,
                   given: _Joint | None = None) -> dict[int, tuple[list[Any], I32]]:
    """``_factor`` of the few-valued columns, done once for all of them on rows as
    tuples: one dict operation per row instead of one per column. A value that another
    of a different type equals (1 and True) would be merged inside a tuple, so a column
    holding such types is factored alone. A column given only as part of the tuples
    and not served here is put back into ``raw``."""
    if given is None:
        few = _few_roles(raw, roles)
        if len(few) < 2:
            return {}
        rows = list(zip(*(raw[i] for i in few), strict=True))
    else:
        few, rows = given
    uniq: list[tuple[Any, ...]] | None
    try:
        uniq = list(dict.fromkeys(rows))
    except TypeError:
        uniq = None
    if uniq is not None and len(uniq) * 4 > n:
        uniq = None  # not few after all: per column is as cheap
    inv = np.zeros(0, dtype=np.int32)
    if uniq is not None:
        pos = dict(zip(uniq, range(len(uniq)), strict=True))
        inv = np.fromiter(map(pos.__getitem__, rows), dtype=np.int32, count=n)
    out: dict[int, tuple[list[Any], I32]] = {}
    for j, i in enumerate(few):
        vals = [t[j] for t in uniq] if uniq is not None else []
        if uniq is not None and set(map(type, vals)) <= _STR_NONE:
            u, m = _factor(vals)
            out[i] = (u, m[inv])
            continue
        c = raw[i]
        if c is None:
            c = raw[i] = [t[j] for t in rows]
        if uniq is not None and set(map(type, c)) <= _SAFE_KEY_TYPES:
            u, m = _factor(vals)
            out[i] = (u, m[inv])
    return out


def _refactor(converted: list[Any], inv: I32) -> tuple[list[Any], I32]:
    """Converted distinct values (str, int, bool or None) merged where equal, with the
    row index remapped."""
    uniq, m = _factor(converted)
    return uniq, m[inv] if len(uniq) < len(converted) else inv


def _split_all(keys: I64, sizes: Sequence[int]) -> list[I64]:
    """Combined keys back into their factor indexes (``_combine``'s order)."""
    out: list[I64] = []
    for size in reversed(sizes):
        keys, r = np.divmod(keys, max(size, 1))
        out.append(r)
    return out[::-1]


# --------------------------------------------------------------------------- assemble,
# a column at a time. Each converter below is the expression ``assemble`` applies to one
# raw role value; ``tests/test_columnar_decode.py`` checks the result against it on
# every case and on hostile values.


def _time(tv: Any) -> int | None:
    if type(tv) is int and 100_000_000_000 <= tv < 100_000_000_000_000:
        return tv * 1_000_000
    return R.time_value(tv) if tv is not None else None


def _message(msg: Any) -> str:
    return msg if type(msg) is str else ("" if msg is None else str(msg))


def _event_name(evn: Any) -> str | None:
    return evn if type(evn) is str else None


def _pid(pidv: Any) -> str | None:
    return pidv if type(pidv) is str or pidv is None else (
        str(pidv) if type(pidv) is int else R.text_value(pidv))


def _host(hostv: Any) -> str | None:
    return hostv if type(hostv) is str else (R.text_value(hostv) if hostv is not None else None)


def _ident(v: Any) -> str | None:
    return v if type(v) is str or v is None else R.text_value(v)


def _session(v: Any) -> str | None:
    s = _ident(v)
    if s and s[0] in "MTA" and s.startswith(R.THREAD_NAMES):
        return None
    return s


def _request_text(reqv: Any) -> str | None:
    if reqv is None:
        return None
    return reqv if type(reqv) is str else R.text_value(reqv)


def _error(errv: Any) -> str | None:
    return R.error_value(errv) if errv is not None else None


def _status(stv: Any) -> int | None:
    return stv if type(stv) is int and 100 <= stv <= 599 else (
        R.status_value(stv) if stv is not None else None)


def _duration(durv: Any) -> float | None:
    return float(durv) if type(durv) is int or type(durv) is float else (
        R.number_value(durv) if durv is not None else None)


_Tail = tuple[EventKind, "str | None", "int | None", "str | None", "dict[str, Any] | None"]


def _tail(message: str, event_name: str | None, level: int | None, error: str | None,
          status: int | None, has_duration: bool, has_history: bool,
          pid: str | None) -> _Tail:
    """``assemble``'s last step for one line: kind, error, and the fatal marks of a warn+
    line (level, pid, fields tags). Returns (kind, error, level, pid, tags)."""
    kind = kind_of_text(message) if message else _OTHER
    if kind is _OTHER or error is not None or (level is not None and level >= 50):
        kind = classify(message, event_name, level, error, status,
                        0.0 if has_duration else None, has_history)
        if error is None and (kind is EventKind.ERROR or (
                kind in _END_KINDS and end_failed(kind, message, level, status, event_name))):
            error = message[: R.MAX_ERROR_TEXT] or event_name or (
                f"status {status}" if status is not None else None)
        if level is not None and level >= 40 and message:
            ev = LogEvent(None, "", 0, level, message, kind, None, pid, None, None, None, None,
                          error, status, None, None, "")
            mark_structured(ev)
            return ev.kind, ev.error, ev.level, ev.pid, ev.fields
        return kind, error, level, pid, None
    if error is None and kind in _END_KINDS and end_failed(kind, message, level, status,
                                                            event_name):
        error = message[: R.MAX_ERROR_TEXT] or event_name or (
            f"status {status}" if status is not None else None)
    return kind, error, level, pid, None


def _risky(message: str, level: int | None) -> bool:
    """Whether ``assemble`` gives this line a different event depending on whether its
    message is already in the process-wide kind cache: a warn line (40-49) whose message
    names a kind takes the cached branch, which skips the fatal marks, only once the
    message was seen (by any reader). Such a line cannot be decoded apart from the
    order the readers run in, so the set is declined."""
    if level is None or level < 40 or not message:
        return False
    got = marks_of(message)
    return got is not None and "fatal" in got[1] and kind_of_text(message) is not _OTHER


# --------------------------------------------------------------------------- one source


class _Rows:
    """One source's rows as they come, in file order: batches of typed columns."""

    def __init__(self, table: StringTable) -> None:
        self.table = table
        self.n = 0
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in _COLS}
        self.fields: dict[int, dict[str, Any]] = {}
        self.held: dict[int, str] = {}
        self._events: list[LogEvent] = []
        self._offsets: list[int] = []

    def add(self, cols: dict[str, np.ndarray], n: int) -> None:
        self.flush()
        for k in _COLS:
            self.parts[k].append(cols[k])
        self.n += n

    def pending(self, ev: LogEvent, offset: int) -> None:
        """An event of the per-line path; ``offset`` < 0 keeps its text in memory. A long
        run of such events (a JSON file that turns to text) becomes columns every
        ``PENDING_EVENTS``, so no more than that many events are held as objects."""
        self._events.append(ev)
        self._offsets.append(offset)
        if len(self._events) >= PENDING_EVENTS:
            self.flush()

    def flush(self) -> None:
        """Pending per-line events into columns, through the reference builder (its
        string codes mapped into the shared table)."""
        evs, offsets = self._events, self._offsets
        if not evs:
            return
        self._events, self._offsets = [], []
        try:
            sub = columns_from_events(evs)
        except ValueError as exc:
            raise _Decline(str(exc)) from None
        remap = np.array([self.table.code(s) for s in sub.strings] + [NO_CODE],
                         dtype=np.int32)
        cols: dict[str, np.ndarray] = {
            "line": sub.line, "time_ns": sub.time_ns, "level": sub.level, "kind": sub.kind,
            "status": sub.status, "duration_ms": sub.duration_ms,
            "has_duration": sub.has_duration,
            "offset": np.array(offsets, dtype=np.int64)}
        for k in _CODE_COLS:
            cols[k] = remap[getattr(sub, k)]  # NO_CODE (-1) picks the appended NO_CODE
        for i, ev in enumerate(evs):
            if ev.fields is not None:
                self.fields[self.n + i] = ev.fields
            if offsets[i] < 0:
                self.held[self.n + i] = ev.text
        for k in _COLS:
            self.parts[k].append(cols[k])
        self.n += len(evs)

    def take(self, k: str) -> np.ndarray:
        """Column ``k`` in one array; its batches are dropped, so building the columns
        holds one column twice at most, not all of them."""
        parts = self.parts[k]
        self.parts[k] = []
        if not parts:
            return np.empty(0, dtype=_DTYPES[k])
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


_CODE_COLS = ("message", "host", "pid", "instance", "session", "request", "run", "error")
_DTYPES: dict[str, Any] = {
    "line": np.int64, "time_ns": np.int64, "level": np.int64, "kind": np.uint8,
    "status": np.int64, "duration_ms": np.float64, "has_duration": np.bool_,
    "offset": np.int64, **dict.fromkeys(_CODE_COLS, np.int32)}
_COLS = tuple(_DTYPES)


@dataclass(frozen=True, slots=True)
class _Tally:
    """A reader's counts (``_ColumnReader.tally``), sent from the helper process."""

    lines: int
    bytes_read: int
    cut: int
    events: int
    skipped: dict[str, int]
    replaced: int
    joined: int
    unterminated: int
    error: str | None
    notes: tuple[str, ...]
    unparsed: int
    split_lines: int
    split_events: int
    too_long: int
    folded: int
    block_cut: int


_Wrap = tuple[Sequence["int | None"], Sequence["str | None"]]
"""Per row of a wrapped input's batch: the wrapper's time and host (``wrap_time``,
``wrap_host`` of ``LogReader._lines``)."""


def _wrap_times(time_ns: I64, times: Sequence[int | None]) -> None:
    """``assemble``'s rule: a line with no time of its own (none, or none it can read)
    takes its wrapper's. Only the rows that use it must fit 64 bits."""
    for r in np.flatnonzero(time_ns == NO_INT).tolist():
        t = times[r]
        if t is not None:
            time_ns[r] = _fit(t, "time")


class _ColumnReader(LogReader):
    """A ``LogReader`` whose line loop fills columns instead of yielding events.

    Everything before the line loop (open, sniff, format, wrappers, parser), the
    unwrapping of each line and the report are the reader's own; ``_lines`` below
    replaces the reader's loop and yields nothing."""

    def __init__(self, inp: InputFile, config: IngestConfig, rows: _Rows,
                 cancel: threading.Event | None,
                 progress: Callable[[int], None] | None = None,
                 piece: tuple[int, int | None] = (0, None),
                 identity: FileIdentity | None = None) -> None:
        super().__init__(inp, config, cancel=cancel)
        self.rows = rows
        self._start, self._end = piece
        self._identity = identity
        """The file a cut input was planned on (``split.Split.identity``): both pieces of
        a cut input must read that very file, not one put at its path since (a log
        rotated by renaming); None: any file at the path."""
        self._opened: FileIdentity | None = None
        """The bytes of the file this reader reads: from ``_start`` (0, or just after a
        line ending: the file is sniffed from its head all the same) up to ``_end``
        (None: its end). A reader that ends early (``_end``) stops there only when the
        cut is clean (``_clean_at_cut``), else it reads on to the end of the file."""
        self.at_cut = False
        """The reader stopped at ``_end`` with nothing held across it: the rest of the
        file, read by a fresh reader from there, gives what this one would have."""
        self._recent: dict[int, tuple[int, str]] = {}
        self.progress = progress
        """Called with this input's bytes read so far, every ``PROGRESS_BYTES``."""
        self.unwrap: Unwrapper | None = None
        """The input's container wrappers (None: its lines are not wrapped); kept for
        ``FileTexts``, which peels them off a row's line again when its text is read."""
        self._partials: dict[str, _Pending] = {}  # the reader's partial records
        self._run: list[tuple[str, int, int, int | None, str | None]] = []
        """Inner JSON lines of a wrapped input waiting for their batch decode: (text,
        line, offset, wrapper time, wrapper host)."""

    def read(self) -> None:
        """The whole input (or piece) into ``rows``; raises ``_Decline`` (a trace input,
        the one kind whose events the loop still yields) or ``_Unsplit``."""
        for _ev in self.events():
            raise _Decline("traces are read by the per-event path")

    # ------------------------------------------------------------------ the loop

    def _body(self, head: bytes, stream: BinaryIO, head_err: str | None) -> BinaryIO:
        """The whole file (the reader's replayed sample, then the rest), or, for a piece
        starting inside the file, the file from that byte on."""
        self._opened = identity_of(stream)
        if not self._start:
            return super()._body(head, stream, head_err)
        if head_err:
            raise _Unsplit(head_err)
        if self._identity is not None and self._opened != self._identity:
            raise _Unsplit("the file at its path is not the one its first piece read")
        stream.seek(self._start)
        return stream

    def _lines(self, body: BinaryIO, unwrap: Unwrapper,
               parser: LineParser | None) -> Iterator[LogEvent]:
        if parser is None:  # a file of blank lines: nothing is parsed
            if self._start:
                raise _Unsplit("no line format")
            self._end = None
            yield from super()._lines(body, unwrap, parser)
            return
        self.unwrap = unwrap if unwrap.names else None
        if isinstance(getattr(self._decoded, "raw", None), GunzipReader):
            raise _Decline("gzip input is read by the per-event path")
        self._parser = parser
        self._joiner = BlockJoiner(parser.parse, self.inp.name)
        layout = parser.layout
        # text, logfmt, or JSON without a typed layout: every line the per-line way
        # (slower than the reader, but the set stays columns and texts stay on disk)
        self._typed = layout is not None and parser.format not in ("text", "logfmt")
        if layout is not None and self._typed:
            self._typed_setup(layout)
        cap = self.config.max_line_bytes
        counter = self._counter
        carry = b""
        pos = self._start  # file offset of carry's first byte
        at = self._start  # file offset of the next byte read
        long: bytes | None = None  # the first cap + 1 bytes of a line longer than a block
        long_at = dropped = 0
        while True:
            if self._cancelled():
                # as the reader: stop at a line boundary, keep what was read (the report
                # says "cancelled"); the line in progress is not read
                carry, long = b"", None
                break
            want = BLOCK_BYTES
            if self._end is not None:
                want = min(want, self._end - at)
                if want <= 0:
                    if not carry and long is None and self._clean_at_cut():
                        self.at_cut = True
                        break
                    self._end, want = None, BLOCK_BYTES  # not clean: read on
            try:
                chunk = body.read(want)
            except OSError as exc:
                raise _Decline(f"read error: {exc}") from None
            if not chunk:
                break
            at += len(chunk)
            if long is not None:  # drop the rest of the long line up to its line ending
                i = chunk.find(b"\n")
                if i < 0:
                    dropped += len(chunk)
                    continue
                dropped += i
                self._long(long, long_at, dropped, True)
                pos = long_at + cap + 1 + dropped + 1
                long = None
                chunk = chunk[i + 1 :]
                if not chunk:
                    continue
            buf = carry + chunk if carry else chunk
            if self.progress is not None and pos // PROGRESS_BYTES != (
                    pos + len(buf)) // PROGRESS_BYTES:
                self.progress(pos + len(buf))
            last = buf.rfind(b"\n")
            if last >= 0:
                if self.unwrap is not None:
                    self._wrapped_block(buf, last + 1, pos)
                else:
                    self._block(buf, last + 1, pos)
                pos += last + 1
                carry = buf[last + 1 :]
            else:
                carry = buf
            if len(carry) > cap + 1:  # no line ending within the cap: cut it now
                long, long_at, dropped = carry[: cap + 1], pos, len(carry) - (cap + 1)
                carry = b""
        if long is not None:
            self._long(long, long_at, dropped, False)
        elif carry:  # the last line has no line ending
            counter.lines += 1
            counter.bytes_read += len(carry)
            self._slow(self._cut(carry, 0, len(carry), False), counter.lines, pos)
        self._flush_run()
        for text, first, wrap_time, wrap_host in self._unfinished(self._partials):
            # a partial record never finished: the reader feeds it to the joiner as is
            self._recent[first] = (-1, text)
            self._emit(self._joiner.feed(text, first, wrap_time, wrap_host), first)
        self._emit(self._joiner.close(), -1)
        self.rows.flush()
        self._finish()
        return
        yield  # a generator, as the reader's loop is

    def _clean_at_cut(self) -> bool:
        """Whether nothing read so far bears on the lines after this point: no traceback
        block or held line open, no partial record waiting, and the text shapes'
        memory (access-log flavour, a proxy's error page a line ago) as a fresh
        parser's. Then a fresh reader from here gives these lines' events exactly."""
        self._flush_run()
        if self._identity is None or self._opened != self._identity:
            return False  # not the file the cut was planned on: the helper's may not be it
        joiner, parser = self._joiner, self._parser
        if joiner is None or parser is None or joiner.active or self._partials:
            return False
        shapes, fresh = parser.shapes, ShapeState(parser.source)
        if (shapes.flavour, shapes.gunicorn_seen, shapes.apache_seen) != (
                fresh.flavour, fresh.gunicorn_seen, fresh.apache_seen):
            return False
        return self._counter.lines + 1 - parser._page_line > 3

    def tally(self) -> _Tally:
        """What this reader counted, for the reader of the same file's first piece to
        add (``absorb``): its report is then the whole file's."""
        c, p, j = self._counter, self._parser, self._joiner
        return _Tally(
            lines=c.lines, bytes_read=c.bytes_read, cut=c.cut, events=self._events,
            skipped=dict(self._skipped), replaced=self._replaced, joined=self._joined,
            unterminated=self._unterminated, error=self._error, notes=tuple(self._notes),
            unparsed=p.unparsed if p else 0, split_lines=p.split_lines if p else 0,
            split_events=p.split_events if p else 0,
            too_long=p.shapes.too_long if p else 0,
            folded=j.folded if j else 0, block_cut=j.cut if j else 0)

    def absorb(self, t: _Tally) -> None:
        """The counts of the piece after this reader's cut (see ``tally``)."""
        c, p, j = self._counter, self._parser, self._joiner
        assert p is not None and j is not None  # a cut is clean only with both
        c.lines += t.lines
        c.bytes_read += t.bytes_read
        c.cut += t.cut
        self._events += t.events
        self._skipped.update(t.skipped)
        self._replaced += t.replaced
        self._joined += t.joined
        self._unterminated += t.unterminated
        if self._error is None:
            self._error = t.error
        self._notes.extend(t.notes)
        p.unparsed += t.unparsed
        p.split_lines += t.split_lines
        p.split_events += t.split_events
        p.shapes.too_long += t.too_long
        j.folded += t.folded
        j.cut += t.block_cut

    def _wrapped_block(self, buf: bytes, end: int, base: int) -> None:
        """Lines ``buf[:end]`` of a wrapped input: each cut as the reader cuts it, then
        unwrapped line by line (``_wrapped``); the inner JSON lines are decoded in one
        batch at the end of the block."""
        counter = self._counter
        arr = np.frombuffer(buf, dtype=np.uint8, count=end)
        ends_a = np.flatnonzero(arr == _B[10])
        ends = ends_a.tolist()
        first = counter.lines + 1
        counter.lines += len(ends)
        counter.bytes_read += end
        blk = buf[:end] if end < len(buf) else buf
        texts: list[str] | None = None
        # the common block (no CR, no NUL, no line over the cap, valid UTF-8) is decoded
        # at once: each line's str is then what the reader's per-line steps give
        if (b"\r" not in blk and b"\x00" not in blk
                and int(np.diff(ends_a, prepend=-1).max()) - 1 <= self.config.max_line_bytes):
            try:
                texts = blk.decode().split("\n")
            except UnicodeDecodeError:
                texts = None
        start = 0
        if texts is None:
            slow = self._slow
            cut = self._cut
            for k, e in enumerate(ends):
                slow(cut(buf, start, e, True), first + k, base + start)
                start = e + 1
        else:
            skipped = self._skipped
            wrapped = self._wrapped
            for k, e in enumerate(ends):
                s = texts[k]
                # bytes.isspace is ASCII whitespace only: str.isspace alone would also
                # take "\x1c" or U+00A0 for a blank line
                if not s or (s.isspace() and s.encode().isspace()):
                    skipped["empty line"] += 1
                else:
                    wrapped(s, first + k, base + start)
                start = e + 1
        self._flush_run()

    def _typed_setup(self, layout: JsonLayout) -> None:
        """The reader's typed decoders for this file, and where each role sits in them."""
        self._level_key = layout.level_key
        dec = layout._fast or layout._full
        self._closed = layout._fast is not None
        self._dec = dec
        self._full = layout._full
        names = dec.struct.__struct_fields__
        absent = names[dec.struct.__struct_encode_fields__.index(ABSENT_KEY)]
        # the attribute path of each role's primary key, as the reader's getter reads it
        paths = cast(tuple[str, ...], dec.primary.__reduce__()[1])
        self._names = paths
        self._paths = [None if p == absent else attrgetter(p) for p in paths]
        self._by_column = dec.primaries_only

    def _cut(self, buf: bytes, start: int, end: int, newline: bool) -> bytes:
        """The line ``buf[start:end]`` (without its "\\n") as ``capped_lines`` gives it,
        counting a cut line."""
        cap = self.config.max_line_bytes
        n = end - start
        if n <= cap:
            if newline and n and buf[end - 1] == 13:
                return buf[start : end - 1]
            return buf[start:end]
        # readline(cap + 1) took cap + 1 bytes and the rest was dropped: not a cut when
        # the line was exactly cap bytes and "\\r\\n"
        if not (n == cap + 1 and buf[end - 1] == 13):
            self._counter.cut += 1
        return buf[start : start + cap]

    def _long(self, head: bytes, at: int, dropped: int, newline: bool) -> None:
        """A line longer than the cap whose end was not in the block that began it."""
        counter = self._counter
        counter.lines += 1
        counter.bytes_read += len(head) + dropped + (1 if newline else 0)
        if dropped > 0 or head[-1:] != b"\r":
            counter.cut += 1
        self._slow(head[: self.config.max_line_bytes], counter.lines, at)

    # ------------------------------------------------------------------ a block

    def _block(self, buf: bytes, end: int, base: int) -> None:
        """Lines ``buf[:end]`` (each ending in "\\n") starting at file offset ``base``."""
        counter = self._counter
        cap = self.config.max_line_bytes
        arr = np.frombuffer(buf, dtype=np.uint8, count=end)
        ends = np.flatnonzero(arr == _B[10])
        n = len(ends)
        starts = np.empty(n, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lens = ends - starts
        first = counter.lines + 1
        counter.lines += n
        counter.bytes_read += end
        nonempty = lens > 0
        cr = nonempty & (arr[np.maximum(ends - 1, 0)] == _B[13])
        cand = nonempty & (lens <= cap) & (arr[np.where(nonempty, starts, 0)] == _B[123])
        cand &= (lens - cr) > 0
        if not self._typed:
            cand[:] = False
        blk = buf[:end] if end < len(buf) else buf
        if b"\x00" in blk:
            cand[np.searchsorted(ends, np.flatnonzero(arr == _B[0]))] = False
        if not blk.isascii():
            try:
                blk.decode()
            except UnicodeDecodeError:
                cand[np.searchsorted(ends, np.flatnonzero(arr >= _B[128]))] = False
        # a line with more than MAX_DEPTH brackets may be too deep: the reader's check
        pos = np.flatnonzero((arr & _B[0xDF]) == _B[0x5B])  # "{" or "[" (they differ in bit 5 only)
        per_line = np.diff(np.searchsorted(pos, ends), prepend=0)
        cand &= per_line <= MAX_DEPTH
        slow_at = np.flatnonzero(~cand).tolist()
        slow_at.append(n)
        starts_l = starts.tolist()
        ends_l = (ends - cr).tolist()
        i = 0
        for j in slow_at:
            while i < j:
                if self._joiner is not None and self._joiner.active:
                    self._slow(buf[starts_l[i] : ends_l[i]], first + i, base + starts_l[i])
                    i += 1
                    continue
                self._fast(buf, starts_l, ends_l, i, j, first, base)
                i = j
            if j < n:
                raw_end = int(ends[j])
                line = self._cut(buf, starts_l[j], raw_end, True)
                self._slow(line, first + j, base + starts_l[j])
                i = j + 1

    # ------------------------------------------------------------------ per line

    def _slow(self, b: bytes, line_no: int, off: int) -> None:
        """One line through the reader's own steps (``LogReader._lines``); a wrapped
        line's inner text may still join the batch (``_wrapped``)."""
        skipped = self._skipped
        if not b or b.isspace():
            skipped["empty line"] += 1
            return
        if b"\x00" in b:
            skipped["line has NUL bytes"] += 1
            return
        try:
            s = b.decode()
        except UnicodeDecodeError:
            s = b.decode(errors="replace")
            self._replaced += 1
        if self.unwrap is None:
            self._feed(s, line_no, None, self._name_host, off)
        else:
            self._wrapped(s, line_no, off)

    def _wrapped(self, s: str, line_no: int, off: int) -> None:
        """A wrapped line, unwrapped and joined by the reader's own ``_unwrap_line``. An
        inner JSON line that would go straight to the parser (no block open, not too
        deep) and is one line of the file waits in ``_run`` for a batch decode; the
        rest (text, partial records joined from several lines) go the per-line way, the
        batch decoded first so that rows keep the reader's order. A joined record's
        text is no line of the file: it is held in memory (``off`` -1)."""
        unwrap = self.unwrap
        assert unwrap is not None and self._joiner is not None
        got = self._unwrap_line(s, line_no, unwrap, self._partials)
        if got is None:  # a partial, held for the next line of its stream
            return
        s, first, wrap_time, wrap_host = got
        if first != line_no:
            off = -1
        elif (self._typed and s[:1] == "{" and not self._joiner.active
              and not text_too_deep(s)):
            self._run.append((s, line_no, off, wrap_time, wrap_host))
            return
        self._flush_run()
        self._feed(s, first, wrap_time, wrap_host, off)

    def _flush_run(self) -> None:
        """The waiting inner JSON lines of a wrapped input, decoded as one batch."""
        run = self._run
        if not run:
            return
        self._run = []
        texts, lines, offs, times, hosts = zip(*run, strict=True)

        def slow(r: int) -> None:
            self._feed(texts[r], lines[r], times[r], hosts[r], offs[r])

        self._decode_run(texts, np.asarray(lines, dtype=np.int64),
                         np.asarray(offs, dtype=np.int64), (times, hosts), slow)

    def _feed(self, s: str, line_no: int, wrap_time: int | None, wrap_host: str | None,
              off: int) -> None:
        """One inner line from the reader's depth check on: to the parser or the block
        joiner, as ``LogReader._lines`` sends it; ``off`` -1 keeps its text in memory."""
        if "{" in s and text_too_deep(s):
            self._skipped[DEEP_REASON] += 1
            return
        joiner = self._joiner
        parser = self._parser
        assert joiner is not None and parser is not None
        if s[:1] != "{" or joiner.active:
            out = joiner.feed(s, line_no, wrap_time, wrap_host)
        else:
            out = [parser.parse(s, line_no, wrap_time, wrap_host)]
        if parser.extra:
            out.extend(parser.extra)
            parser.extra.clear()
        self._recent[line_no] = (off, s)
        self._emit(out, line_no)

    def _emit(self, out: list[LogEvent], line_no: int) -> None:
        """Events of the per-line path, in order; a row's text stays in memory only when
        it is not the whole text of the line it names."""
        if out:
            self._events += len(out)
            for ev in out:
                if _risky(ev.message, ev.level):
                    raise _Decline(f"line {ev.line}: a warn line whose fatal marks depend on "
                                   "the order inputs are read in")
                got = self._recent.get(ev.line)
                self.rows.pending(ev, got[0] if got is not None and got[1] == ev.text else -1)
        if self._joiner is None or not self._joiner.active:
            self._recent.clear()

    # ------------------------------------------------------------------ the fast way

    def _fast(self, buf: bytes, starts: list[int], ends: list[int], i: int, j: int,
              first: int, base: int) -> None:
        """Lines i..j-1 of a block, all plain JSON candidates, decoded in one pass; a
        line the typed decoders refuse splits the run and goes the per-line way."""
        lines = [buf[a:b] for a, b in zip(starts[i:j], ends[i:j], strict=True)]

        def slow(r: int) -> None:
            self._slow(lines[r], first + i + r, base + starts[i + r])

        self._decode_run(lines, np.arange(first + i, first + j, dtype=np.int64),
                         np.asarray(starts[i:j], dtype=np.int64) + base, None, slow)

    def _decode_run(self, lines: Sequence[bytes | str], line: I64, offset: I64,
                    wrap: _Wrap | None, slow: Callable[[int], None]) -> None:
        """Plain JSON candidates (a block's lines, or a wrapped input's inner lines with
        their wrapper times and hosts) decoded in one pass; when the typed decoders
        refuse one, the run goes line by line (``_mixed``) and ``slow(r)`` reads the
        refused line ``r`` the per-line way."""
        decode = self._dec.decoder.decode
        try:
            objs = list(map(decode, lines))
        except (msgspec.ValidationError, msgspec.DecodeError):
            self._mixed(lines, line, offset, wrap, slow)
            return
        joint: _Joint | None = None
        if self._by_column:
            # few-valued roles are read as one tuple per row (one C call), the others a
            # column at a time
            paths = self._paths
            head = objs[:128]
            few = _few_roles([None if g is None else list(map(g, head)) for g in paths],
                             _JOINT_ROLES)
            if len(few) >= 2:
                joint = (few, list(map(attrgetter(*[self._names[r] for r in few]), objs)))
            raw: list[list[Any] | None] = [
                None if g is None or (joint is not None and r in few) else list(map(g, objs))
                for r, g in enumerate(paths)]
        else:
            raw = [list(c) for c in zip(*map(self._dec.read, objs), strict=True)]
        # (``read`` gives every role, absent ones as None values)
        self._columns(raw, len(objs), line, offset, joint, wrap)

    def _mixed(self, lines: Sequence[bytes | str], line: I64, offset: I64,
               wrap: _Wrap | None, slow: Callable[[int], None]) -> None:
        """A run where some line does not fit the closed decoder: the reader's order
        (closed, then full, then the per-line parser) line by line."""
        dec = self._dec
        full = self._full
        vals: list[Sequence[Any]] = []
        rows: list[int] = []

        def flush() -> None:
            if vals:
                raw: list[list[Any] | None] = [list(c) for c in zip(*vals, strict=True)]
                k = np.asarray(rows, dtype=np.int64)
                sub = None if wrap is None else (
                    [wrap[0][r] for r in rows], [wrap[1][r] for r in rows])
                self._columns(raw, len(vals), line[k], offset[k], None, sub)
                vals.clear()
                rows.clear()

        for r, text in enumerate(lines):
            v: Sequence[Any] | None = None
            try:
                v = dec.read(dec.decoder.decode(text))
            except msgspec.ValidationError:
                if self._closed:
                    try:
                        v = full.read(full.decoder.decode(text))
                    except (msgspec.ValidationError, msgspec.DecodeError):
                        v = None
            except msgspec.DecodeError:
                v = None
            if v is not None:
                vals.append(v)
                rows.append(r)
                continue
            flush()
            slow(r)
        flush()

    def _columns(self, raw: list[list[Any] | None], n: int, line: I64, offset: I64,
                 joint: _Joint | None = None, wrap: _Wrap | None = None) -> None:
        """Role values (one list per role, ``ROLES`` order; None: absent in every line)
        into typed columns, as ``assemble`` makes each line's event. Each converter runs
        once per distinct raw value; rows get their results by numpy indexing. ``wrap``:
        each row's wrapper time and host (a wrapped input), which ``assemble`` takes
        when the line gives no time, no host."""
        rows = self.rows
        rows.flush()
        code = rows.table.code
        none = [None]

        factors = _joint_factors(raw, _JOINT_ROLES, n, joint)

        def factor(i: int) -> tuple[list[Any], I32]:
            got = factors.get(i)
            if got is not None:
                return got
            c = raw[i]
            return (none, np.zeros(n, dtype=np.int32)) if c is None else _factor(c)

        def codes(uniq: Sequence[str | None], inv: I32) -> I32:
            return rows.table.codes_of(uniq)[inv]

        time_ns = self._times(raw[0], n)
        if wrap is not None:
            _wrap_times(time_ns, wrap[0])
        key = self._level_key
        lv_u, lv_i = factor(1)
        level_u = [R.level_value(v, key) if v is not None else None for v in lv_u]
        msg_u, msg_i = factor(2)
        message_u = [_message(v) for v in msg_u]
        evn_u, evn_i = factor(3)
        event_u = [_event_name(v) for v in evn_u]
        pid_u, pid_i = factor(4)
        pid_conv = [_pid(v) for v in pid_u]
        host_u, host_i = factor(5)
        # "" or none: the wrapper's pod (kubectl --prefix, stern), else the input's
        wrap_host = self._name_host if wrap is None or not n else wrap[1][0]
        if wrap is not None and n and wrap[1].count(wrap_host) != n:
            # several pods (or lines with and without one) in the batch: row by row
            own = [_host(v) for v in host_u]
            host_conv, host_i = _factor([own[i] or h for i, h in
                                         zip(host_i.tolist(), wrap[1], strict=True)])
        else:
            host_conv = [_host(v) or wrap_host for v in host_u]
        inst_u, inst_i = factor(6)
        sess_u, sess_i = factor(7)
        run_u, run_i = factor(9)
        err_u, err_i = factor(10)
        error_u = [_error(v) for v in err_u]
        st_u, st_i = factor(11)
        status_u = [_status(v) for v in st_u]
        duration, has_dur = self._durations(raw[12], n)
        # extra roles -> fields, row by row (only rows that carry one)
        fields: dict[int, dict[str, Any]] = {}
        for role, c in zip(R.EXTRA_ROLES, raw[13:], strict=True):
            if c is None:
                continue
            for r, v in enumerate(c):
                if v is not None:
                    x = R.extra_value(role, v)
                    if x is not None:
                        fields.setdefault(r, {})[role] = x
        hist = np.zeros(n, dtype=np.int32)
        for r, f in fields.items():
            hist[r] = "history_len" in f
        # the tail (kind, error, fatal marks), once per distinct combination of its
        # inputs, keyed by converted values (raw values that differ, as err objects do
        # line by line, often convert to the same text)
        tail_in = [_refactor(message_u, msg_i), _refactor(event_u, evn_i),
                   _refactor(level_u, lv_i), _refactor(error_u, err_i),
                   _refactor(status_u, st_i), ([False, True], has_dur.astype(np.int32)),
                   ([False, True], hist), _refactor(pid_conv, pid_i)]
        sizes = [len(u) for u, _i in tail_in]
        got = _combine([(i, len(u)) for u, i in tail_in])
        if got is None:  # too many distinct values to combine: one key per row
            t_inv: Any = np.arange(n, dtype=np.int64)
            combos = [[int(i[r]) for _u, i in tail_in] for r in range(n)]
        else:
            t_keys, t_inv = got
            combos = [list(c) for c in zip(*(a.tolist() for a in _split_all(t_keys, sizes)),
                                           strict=True)]
        ins = [u for u, _i in tail_in]
        kinds: list[int] = []
        t_error: list[int] = []
        t_level: list[int] = []
        t_pid: list[int] = []
        t_tags: list[dict[str, Any] | None] = []
        for combo in combos:
            msg, evn, lvl, err, st, hd, hh, pid = (u[c] for u, c in zip(ins, combo, strict=True))
            if err is None and lvl is not None and lvl < 50 and _risky(msg, lvl):
                raise _Decline("a warn line whose fatal marks depend on the order inputs "
                               "are read in")
            k, er2, lv2, pid2, tags = _tail(msg, evn, lvl, err, st, hd, hh, pid)
            kinds.append(KIND_CODE[k])
            t_error.append(code(er2))
            t_level.append(NO_INT if lv2 is None else lv2)
            t_pid.append(code(pid2))
            t_tags.append(tags)
        if any(t is not None for t in t_tags):
            for r in range(n):
                t = t_tags[int(t_inv[r])]
                if t is not None:
                    f0 = fields.get(r)
                    fields[r] = {**f0, **t} if f0 else dict(t)
        base = rows.n
        for r, f in fields.items():
            rows.fields[base + r] = f
        host_c = codes(host_conv, host_i)
        request = self._requests(raw[8], (host_conv, host_i), (pid_conv, pid_i)) \
            if raw[8] is not None else np.full(n, NO_CODE, dtype=np.int32)
        rows.add({
            "line": line, "time_ns": time_ns,
            "level": np.array(t_level, dtype=np.int64)[t_inv],
            "kind": np.array(kinds, dtype=np.uint8)[t_inv],
            "status": _ints(status_u, "status")[st_i],
            "duration_ms": duration, "has_duration": has_dur,
            "offset": offset,
            "message": codes(message_u, msg_i), "host": host_c,
            "pid": np.array(t_pid, dtype=np.int32)[t_inv],
            "instance": codes([_ident(v) for v in inst_u], inst_i),
            "session": codes([_session(v) for v in sess_u], sess_i),
            "request": request,
            "run": codes([_ident(v) for v in run_u], run_i),
            "error": np.array(t_error, dtype=np.int32)[t_inv]}, n)
        self._events += n

    def _times(self, tv: list[Any] | None, n: int) -> I64:
        if tv is None:
            return np.full(n, NO_INT, dtype=np.int64)
        if set(map(type, tv)) == {int}:
            try:
                a = np.array(tv, dtype=np.int64)
            except OverflowError:
                a = None
            if a is not None:  # pino's epoch ms: the common case, vectorised
                ok = (a >= 100_000_000_000) & (a < 100_000_000_000_000)
                out = a * 1_000_000
                for r in np.flatnonzero(~ok).tolist():
                    out[r] = _fit(R.time_value(tv[r]), "time")
                return out
        uniq, inv = _factor(tv)
        return _ints([_time(v) for v in uniq], "time")[inv]

    def _durations(self, durv: list[Any] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        if durv is None:
            return np.full(n, math.nan), np.zeros(n, dtype=np.bool_)
        types = set(map(type, durv))
        if types == {float}:
            return np.array(durv, dtype=np.float64), np.ones(n, dtype=np.bool_)
        if types == {int}:
            try:  # an int64 becomes the double float() makes of it (both round to nearest)
                return (np.array(durv, dtype=np.int64).astype(np.float64),
                        np.ones(n, dtype=np.bool_))
            except OverflowError:
                pass
        uniq, inv = _factor(durv)
        try:
            conv = [_duration(v) for v in uniq]
        except OverflowError:
            raise _Decline("a duration no float holds") from None
        d = np.array([math.nan if v is None else v for v in conv], dtype=np.float64)[inv]
        has = np.array([v is not None for v in conv], dtype=np.bool_)[inv]
        return d, has

    def _requests(self, reqv: list[Any], host: tuple[list[str | None], I32],
                  pid: tuple[list[str | None], I32]) -> I32:
        """A per-process counter id (pino-http 1,2,3; fastify req-1) is made unique per
        process as ``host/pid/id``: ``assemble``'s rule, once per distinct triple."""
        table = self.rows.table
        uniq, inv = _factor(reqv)
        text = [_request_text(v) for v in uniq]
        counter = np.array([t is not None and t != "" and (type(v) is int or len(t) < 16)
                            for v, t in zip(uniq, text, strict=True)], dtype=np.bool_)
        (host_u, host_i), (pid_u, pid_i) = host, pid
        host_given = np.array([bool(h) for h in host_u], dtype=np.bool_)[host_i]
        pid_given = np.array([bool(p) for p in pid_u], dtype=np.bool_)[pid_i]
        made = counter[inv] & (host_given | pid_given)
        # ids kept as they are get their own code; only those are put in the table
        kept = np.zeros(len(uniq), dtype=np.bool_)
        kept[inv[~made]] = True
        plain = np.full(len(uniq), NO_CODE, dtype=np.int32)
        at = np.flatnonzero(kept)
        plain[at] = table.codes_of([text[i] for i in at.tolist()])
        out = plain[inv]
        rows = np.flatnonzero(made)
        if not len(rows):
            return out
        sizes = [len(host_u), len(pid_u), len(uniq)]
        got = _combine([(host_i[rows], sizes[0]), (pid_i[rows], sizes[1]), (inv[rows], sizes[2])])
        if got is None:
            raise _Decline("too many distinct request ids to combine")
        keys, k_inv = got
        hi, pi, ri = (a.tolist() for a in _split_all(keys, sizes))
        out[rows] = table.codes_of([f"{host_u[h] or '-'}/{pid_u[p] or '-'}/{text[r]}"
                                    for h, p, r in zip(hi, pi, ri, strict=True)])[k_inv]
        return out


# --------------------------------------------------------------------------- the set


def decode_inputs(inputs: Sequence[InputFile], config: IngestConfig,
                  cancel: threading.Event | None = None,
                  progress: Callable[[int], None] | None = None) -> Decoded | NotDecoded:
    """Every event of ``inputs`` as columns in ``merge_by_time`` order, with each input's
    report; or why the set is left to the per-event path (see the module docstring).
    ``progress(bytes)`` hears the bytes read so far over all inputs, now and then."""
    with gc_paused():  # as merge_by_time: per-batch work makes no reference cycles
        return _decode(inputs, config, cancel, progress)


@dataclass(slots=True)
class _PieceResult:
    """One piece decoded (by the helper, or here when it could not): its rows' columns
    with codes into ``_Pieces.strings``, and for a whole input its report, for a piece
    after a cut the counts to add to the first piece's reader."""

    index: int
    start: int
    n: int
    cols: dict[str, np.ndarray]
    fields: dict[int, dict[str, Any]]
    held: dict[int, str]
    report: InputReport | None
    tally: _Tally | None
    unwrap: Unwrapper | None
    why_not: str | None = None
    """Why the piece gave no rows: declined, or a piece after a cut that could not be
    read from there. It matters only if the piece is taken in (a piece after a cut that
    was not clean is dropped, and this side read those lines itself)."""


@dataclass(slots=True)
class _Pieces:
    strings: list[str]
    results: list[_PieceResult]


def _decode_pieces(inputs: Sequence[InputFile], config: IngestConfig,
                   pieces: Sequence[Piece], identities: Sequence[FileIdentity | None],
                   progress: Callable[[int], None] | None,
                   cancel: threading.Event | None = None) -> _Pieces:
    """``pieces`` (whole inputs, or an input from a cut on) decoded in order, each with
    its rows or why it has none. Runs in the helper process, or here when the helper
    could not (``progress`` then hears this side's bytes)."""
    with gc_paused():  # in the helper too: as ``decode_inputs`` (pauses nest)
        return _decode_pieces_now(inputs, config, pieces, identities, progress, cancel)


def _decode_pieces_now(inputs: Sequence[InputFile], config: IngestConfig,
                       pieces: Sequence[Piece], identities: Sequence[FileIdentity | None],
                       progress: Callable[[int], None] | None,
                       cancel: threading.Event | None) -> _Pieces:
    table = StringTable()
    out: list[_PieceResult] = []
    done = 0
    for i, start, _end in pieces:
        inp = inputs[i]
        part = _Rows(table)

        def told(now: int, start: int = start, before: int = done) -> None:
            if progress is not None:
                progress(before + now - start)

        reader = _ColumnReader(inp, config, part, cancel, told, (start, None),
                               identities[i] if i < len(identities) else None)
        why_not = None
        try:
            reader.read()
        except _Decline as why:
            why_not = f"{inp.name}: {why}"
        except _Unsplit as why:
            why_not = f"{inp.name}: cannot be read from its cut ({why})"
        if why_not is not None:
            out.append(_PieceResult(i, start, 0, {}, {}, {}, None, None, None, why_not))
            done += reader._counter.bytes_read
            continue
        part.flush()
        out.append(_PieceResult(
            i, start, part.n, {k: part.take(k) for k in _COLS}, part.fields, part.held,
            None if start else reader.report(), reader.tally() if start else None,
            reader.unwrap))
        done += reader._counter.bytes_read
    return _Pieces(table.table, out)


def _decode(inputs: Sequence[InputFile], config: IngestConfig,
            cancel: threading.Event | None,
            progress: Callable[[int], None] | None = None) -> Decoded | NotDecoded:
    for inp in inputs:
        if inp.path is None and not inp.error:
            return NotDecoded("stdin is read by the per-event path")
        if inp.path is not None and not inp.error and _is_gzip(inp.path):
            return NotDecoded(f"{inp.name}: gzip input is read by the per-event path")
    split = plan_split(inputs)
    helper = None
    if split is not None:
        try:
            helper = Helper(_decode_pieces, (list(inputs), config, split.theirs,
                                             split.identity))
        except (OSError, AttributeError, ValueError):
            # no interpreter to start (an embedded Python), or pipes this platform cannot
            # poll: one process
            split = None
    try:
        return _decode_split(inputs, config, cancel, progress, split, helper)
    finally:
        if helper is not None:
            helper.stop()


def _decode_split(inputs: Sequence[InputFile], config: IngestConfig,
                  cancel: threading.Event | None, progress: Callable[[int], None] | None,
                  split: Split | None, helper: Helper | None) -> Decoded | NotDecoded:
    """The pieces this side holds decoded here, the helper's taken in (or decoded here
    when it has none to give), then all merged as one sequential read would give them."""
    n = len(inputs)
    table = StringTable()
    rows: list[_Rows | None] = [None] * n
    readers: dict[int, _ColumnReader] = {}
    reports: dict[int, InputReport] = {}
    unwraps: list[Unwrapper | None] = [None] * n
    done = [0]  # bytes of this side's inputs read before the current one
    processes = 1

    def helper_bytes() -> int:
        return helper.bytes_done() if helper is not None else 0

    def told(now: int) -> None:
        if progress is not None:
            progress(done[0] + now + helper_bytes())

    mine = split.mine if split is not None else tuple((i, 0, None) for i in range(n))
    for i, start, end in mine:
        part = _Rows(table)
        reader = _ColumnReader(inputs[i], config, part, cancel, told, (start, end),
                               split.identity[i] if split is not None
                               and i < len(split.identity) else None)
        try:
            reader.read()
        except _Decline as why:
            return NotDecoded(f"{inputs[i].name}: {why}")
        rows[i], readers[i], unwraps[i] = part, reader, reader.unwrap
        done[0] += reader._counter.bytes_read
    if split is not None:
        # a cut that was not clean: this side read that input to its end
        theirs = [p for p in split.theirs if p[1] == 0 or readers[p[0]].at_cut]
        got: _Pieces | None = None
        if helper is not None:
            ok, answer = helper.result(
                lambda: cancel is not None and cancel.is_set(),
                lambda: progress(done[0] + helper_bytes()) if progress is not None else None)
            if ok and isinstance(answer, _Pieces) and not (cancel is not None
                                                           and cancel.is_set()):
                got, processes = answer, 2
        if got is None:
            # no helper, or it failed, died or was cancelled: its pieces are read here
            # (a cancelled read stops at once, as the sequential read's later inputs do)
            got = _decode_pieces(inputs, config, theirs, split.identity,
                                 None if progress is None else
                                 lambda b: progress(done[0] + b), cancel)
        keep = {(p[0], p[1]) for p in theirs}
        got.results = [r for r in got.results if (r.index, r.start) in keep]
        try:
            _take_in(got, table, rows, readers, reports, unwraps)
        except _Decline as why:
            return NotDecoded(str(why))
    for i, reader in readers.items():
        reports[i] = reader.report()
    parts = [r if r is not None else _Rows(table) for r in rows]
    try:
        return Decoded(_merged(parts, table, inputs, config, unwraps),
                       [reports[i] for i in range(n)], processes)
    except _Decline as why:
        return NotDecoded(str(why))


def _take_in(got: _Pieces, table: StringTable, rows: list[_Rows | None],
             readers: dict[int, _ColumnReader], reports: dict[int, InputReport],
             unwraps: list[Unwrapper | None]) -> None:
    """The helper's pieces into this side's rows: codes mapped into this side's string
    table, a cut input's line numbers shifted past its first piece's, and its reader
    given the second piece's counts."""
    remap = np.append(table.codes_of(got.strings), np.int32(NO_CODE))  # -1 -> NO_CODE
    for res in got.results:
        if res.why_not is not None:
            raise _Decline(res.why_not)
        i = res.index
        part = rows[i]
        shift = 0
        if res.start:  # the rest of a cut input
            reader = readers[i]
            assert part is not None and res.tally is not None
            shift = reader._counter.lines
            reader.absorb(res.tally)
        else:
            part = rows[i] = _Rows(table)
            assert res.report is not None
            reports[i] = res.report
            unwraps[i] = res.unwrap
        cols = res.cols
        for k in _CODE_COLS:
            cols[k] = remap[cols[k]]
        if shift:
            cols["line"] = cols["line"] + shift
        base = part.n
        for r, f in res.fields.items():
            part.fields[base + r] = f
        for r, t in res.held.items():
            part.held[base + r] = t
        part.add(cols, res.n)


def _is_gzip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError:
        return False  # the reader reports why it cannot read it


def _sort_keys(time_ns: I64) -> I64:
    """``merge_by_time``'s sort key per event of one source (``merge._keyed``): its time,
    else the time before it; leading untimed events take the first time within
    ``LOOKAHEAD`` events, else the no-time key."""
    n = len(time_ns)
    timed = time_ns != NO_INT
    idx = np.where(timed, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    keys = np.where(idx >= 0, time_ns[np.maximum(idx, 0)], _NO_TIME)
    f = int(np.argmax(timed)) if timed.any() else n
    # the leading untimed events: held LOOKAHEAD at a time, flushed untimed when full
    whole = (f // (LOOKAHEAD + 1)) * (LOOKAHEAD + 1)
    keys[:whole] = _NO_TIME
    keys[whole:f] = int(time_ns[f]) if f < n else _NO_TIME
    return keys.astype(np.int64)


def _merged(parts: list[_Rows], table: StringTable, inputs: Sequence[InputFile],
            config: IngestConfig, unwraps: list[Unwrapper | None]) -> EventColumns:
    cols: dict[str, np.ndarray] = {}
    for k in _COLS:
        arrays = [p.take(k) for p in parts]
        cols[k] = (np.concatenate(arrays) if len(arrays) > 1 else arrays[0]) if arrays \
            else np.empty(0, dtype=_DTYPES[k])
        del arrays
    sizes = [p.n for p in parts]
    src = np.repeat(np.arange(len(parts), dtype=np.int32), sizes)
    order: np.ndarray | None = None
    busy = [i for i, s in enumerate(sizes) if s]
    if len(parts) > 1 and len(busy) > 1:
        bounds = np.cumsum([0, *sizes])
        keys = [_sort_keys(cols["time_ns"][bounds[i] : bounds[i + 1]]) for i in
                range(len(parts))]
        if all(bool(np.all(k[1:] >= k[:-1])) for k in keys):
            order = np.argsort(np.concatenate(keys), kind="stable")
        else:  # a source out of time order: the very merge the reader's path runs
            streams = [zip(k.tolist(), repeat(i), range(int(bounds[i]), int(bounds[i + 1])),
                           strict=False) for i, k in enumerate(keys)]
            order = np.fromiter((row for _t, _i, row in heapq.merge(*streams)),
                                dtype=np.int64, count=int(bounds[-1]))
    fields: dict[int, dict[str, Any]] = {}
    held: dict[int, str] = {}
    start = 0
    for p in parts:
        for r, f in p.fields.items():
            fields[start + r] = f
        for r, t in p.held.items():
            held[start + r] = t
        start += p.n
    if order is not None:
        cols = {k: v[order] for k, v in cols.items()}
        src = src[order]
        new_of = np.empty(len(order), dtype=np.int64)
        new_of[order] = np.arange(len(order))
        fields = {int(new_of[r]): f for r, f in fields.items()}
        held = {int(new_of[r]): t for r, t in held.items()}
    texts = FileTexts([inp.path for inp in inputs], config.max_line_bytes, src,
                      cols["offset"], held, unwraps)
    return EventColumns(
        sources=[inp.name for inp in inputs], strings=table.table, src=src,
        line=cols["line"], time_ns=cols["time_ns"], level=cols["level"], kind=cols["kind"],
        message=cols["message"], host=cols["host"], pid=cols["pid"],
        instance=cols["instance"], session=cols["session"], request=cols["request"],
        run=cols["run"], error=cols["error"], status=cols["status"],
        duration_ms=cols["duration_ms"], has_duration=cols["has_duration"],
        fields=dict(sorted(fields.items())), texts=texts)


__all__ = ["Decoded", "FileTexts", "NotDecoded", "decode_inputs"]
