"""Runs: pairing start and end events, and the sweep that finds overlapping runs.

A run is one agent.run / team.run / crew.kickoff (or a run span). Logs rarely carry a
run id, so starts and ends are paired by the most specific key both events share: the
run id, else (instance, request), else (process, request), else the request, the
instance or the process alone. A start is registered under every key it has, so an end
that carries fewer ids still finds it.

When several open runs share a key, the end closes the NEWEST one if the key holds a
request (runs nested in one request end inside-out) and the OLDEST one otherwise (a
timer's runs end in the order they started, if they end at all).

Overlaps are found with a sort-and-sweep per group (O(n log n) plus the pairs found),
never by comparing every pair. ``summarize`` counts them without listing them, in numpy:
a run overlaps the earlier runs of its group still in flight at its start, a count that
one sort of every start and end gives for all runs of all groups at once.
"""

from __future__ import annotations

import heapq
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np
import numpy.typing as npt

from probes.events import LogEvent
from probes.evidence import MAX_EXAMPLE_TEXT, Example, example, iso_ns
from probes.redact import redact_text

NS_PER_MS = 1_000_000


LEAD_VALUE_CHARS = 120
"""Each value in an excerpt's lead is cut to this; the raw line after it holds the rest."""
LEAD_VISIBLE = MAX_EXAMPLE_TEXT - 1
"""A value within the excerpt of the raw line is seen without a lead."""


def _lead_value(v: object) -> str:
    s = redact_text(str(v)).replace("\n", " ")  # redact first, cut after (issue 12)
    if len(s) > LEAD_VALUE_CHARS:
        s = s[: LEAD_VALUE_CHARS - 1] + "…"
    return f'"{s}"' if (" " in s or "=" in s or not s) else s


def lead(ev: LogEvent) -> str:
    """The fields that prove a claim, as ``key=value`` in a fixed order: message, error,
    instance, session, request, run, status, duration, tool; "" when the raw line shows
    them all within its excerpt anyway.

    Why: a JSON line puts ``level``, ``time``, ``hostname`` and a request object first, so
    the first characters of a long raw line often stop before the message or the status
    that the claim rests on. When one of them would be cut off, all of them lead, in this
    order, and the raw line follows. A short line is its own best excerpt: nothing is
    repeated, and the excerpt is the line as written."""
    text = ev.text or ""
    if len(text) <= LEAD_VISIBLE:
        # the whole line fits in the excerpt: what it says is there; what it does not say
        # (ids normalised by the readers) would only repeat the note
        return ""
    front = text[:LEAD_VISIBLE]
    fields = ev.fields
    tool = fields.get("tool") if fields else None
    parts: list[str] = []
    hidden = False
    for label, v in (("msg", ev.message), ("error", ev.error), ("instance", ev.instance),
                     ("session", ev.session), ("request", ev.request), ("run", ev.run),
                     ("status", ev.status), ("duration_ms", ev.duration_ms), ("tool", tool)):
        if v is None or v == "" or (label == "error" and v == ev.message):
            continue
        raw = f"{v:g}" if isinstance(v, float) else str(v)
        if raw not in front:
            hidden = hidden or len(raw) < LEAD_VISIBLE  # a huge value is cut either way
        parts.append(f"{label}={_lead_value(raw)}")
    return " ".join(parts) if hidden else ""


RAW_HEAD = 120
"""When the proving fields are lifted out of a long line, this much of its start is kept
before them, so the excerpt still opens with the line as written (tests/test_golden.py
checks every excerpt against its file:line by its first 80 characters)."""


def excerpt(ev: LogEvent, note: str = "") -> Example:
    """An Example pointing at one event's line.

    A line that shows its message, ids and status within the excerpt is the excerpt. A
    longer one (a stack trace or a request object before ``msg``) keeps its start and then
    the proving fields (``lead``) as ``key=value``, instead of 400 characters of stack."""
    raw = ev.text or ev.message
    head = lead(ev)
    if head and len(raw) > RAW_HEAD:
        raw = redact_text(raw)  # redact first, cut after: a secret across the cut is whole
        raw = raw[: RAW_HEAD - 1] + "…"
    return example(ev.source, ev.line, ev.time_ns, f"{raw} | {head}" if head else raw, note)


def when(ns: int | None) -> str:
    return iso_ns(ns) if ns is not None else "unknown time"


NO_TIME = -(1 << 63)
"""``LineStore``'s stand-in for an unknown time (the arrays hold only integers)."""
STORE_CHUNK = 64 * 1024
"""Bytes of line text gathered before they are compressed together (zlib, level 1)."""


class LineStore:
    """The lines a report may cite for a run, kept compactly until one is asked for.

    Why: every run's start and end line can become an excerpt (``Run.start_at``,
    ``end_at``), but a report shows a few. Keeping each line's ``LogEvent`` alive cost
    about a kilobyte per run (the raw text, every id string, the event itself): memory
    grew with the text of the log, not with its traffic. Here a line costs an entry in
    four integer arrays (source, line number, time, text offset), its text compressed
    with the neighbouring lines' (run lines repeat their keys and ids, so zlib keeps
    about a fifteenth), and, for a line too long to show whole, the few fields its
    excerpt's lead names (``lead``). ``event(ref)`` rebuilds a ``LogEvent`` with exactly
    what ``excerpt`` reads, so an excerpt is the one the original event would give."""

    __slots__ = ("_sources", "_source_ix", "_src", "_line", "_time", "_start", "_leads",
                 "_chunks", "_chunk_start", "_buf", "_buf_start", "_cache")

    def __init__(self) -> None:
        self._sources: list[str] = []
        self._source_ix: dict[str, int] = {}
        self._src = array("I")
        self._line = array("q")
        self._time = array("q")
        self._start = array("Q")  # each entry's first byte in the stream of all texts
        self._leads: dict[int, tuple[Any, ...]] = {}
        self._chunks: list[bytes] = []  # compressed; chunk i holds whole entries
        self._chunk_start = array("Q")  # stream offset of each chunk's first byte
        self._buf = bytearray()  # the texts not compressed yet
        self._buf_start = 0  # stream offset of ``_buf[0]``
        self._cache: tuple[int, bytes] | None = None  # the chunk read last

    def __len__(self) -> int:
        return len(self._line)

    def put(self, ev: LogEvent) -> int:
        """Keep what ``excerpt(ev)`` needs; returns the reference for ``event``."""
        ix = self._source_ix.get(ev.source)
        if ix is None:
            ix = self._source_ix[ev.source] = len(self._sources)
            self._sources.append(ev.source)
        ref = len(self._line)
        self._src.append(ix)
        self._line.append(ev.line)
        self._time.append(NO_TIME if ev.time_ns is None else ev.time_ns)
        buf = self._buf
        self._start.append(self._buf_start + len(buf))
        text = ev.text
        if len(text) > LEAD_VISIBLE:  # the only lines whose excerpt has a lead
            fields = ev.fields
            self._leads[ref] = (ev.message, ev.error, ev.instance, ev.session, ev.request,
                                ev.run, ev.status, ev.duration_ms,
                                fields.get("tool") if fields else None)
        # ``excerpt`` shows the message when the line has no text, and then no lead
        buf += (text or ev.message).encode("utf-8", "surrogatepass")
        if len(buf) >= STORE_CHUNK:
            self._seal()
        return ref

    def _seal(self) -> None:
        self._chunk_start.append(self._buf_start)
        self._chunks.append(zlib.compress(self._buf, 1))
        self._buf_start += len(self._buf)
        self._buf = bytearray()

    def _text(self, ref: int) -> str:
        a = self._start[ref]
        b = self._start[ref + 1] if ref + 1 < len(self._start) else self._buf_start + len(
            self._buf)
        if a >= self._buf_start:
            raw = bytes(self._buf[a - self._buf_start: b - self._buf_start])
        else:
            i = bisect_right(self._chunk_start, a) - 1
            cached = self._cache
            if cached is None or cached[0] != i:
                cached = self._cache = (i, zlib.decompress(self._chunks[i]))
            base = self._chunk_start[i]
            raw = cached[1][a - base: b - base]
        return raw.decode("utf-8", "surrogatepass")

    def event(self, ref: int) -> LogEvent:
        """The line as ``excerpt`` sees it: source, line, time, text and the lead's fields
        (the other fields of the event are not kept)."""
        t = self._time[ref]
        text = self._text(ref)
        lead_of = self._leads.get(ref)
        source, line = self._sources[self._src[ref]], self._line[ref]
        time_ns = None if t == NO_TIME else t
        if lead_of is None:
            # a short line is its own excerpt; a long one with no lead is the message of
            # a line that had no text (``put``): either way the excerpt has no lead
            if len(text) <= LEAD_VISIBLE:
                return LogEvent(time_ns, source, line, message=text, text=text)
            return LogEvent(time_ns, source, line, message=text)
        msg, error, instance, session, request, run, status, duration_ms, tool = lead_of
        return LogEvent(time_ns, source, line, message=msg, instance=instance,
                        session=session, request=request, run=run, error=error,
                        status=status, duration_ms=duration_ms,
                        fields=None if tool is None else {"tool": tool}, text=text)

    def where(self, ref: int) -> str:
        return f"{self._sources[self._src[ref]]}:{self._line[ref]}"


@dataclass(slots=True, eq=False)
class Run:
    """One run: who ran it, when, how it ended, and where its start/end lines are."""

    id: str
    instance: str | None = None
    session: str | None = None
    request: str | None = None
    process: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    outcome: str | None = None  # "ok", the error text, or None while open
    lines: LineStore | None = None  # where the start and end lines are kept
    start_ref: int = -1  # the line that started it in ``lines`` (its excerpt: start_at)
    end_ref: int = -1
    keys: tuple[tuple[str, ...], ...] = ()
    synthesized_start: bool = False  # start computed as end - duration
    has_id: bool = True  # False when the logs gave no run id and ``id`` is a counter

    @property
    def label(self) -> str:
        """How a story names the run: its id, else the request it ran for."""
        if self.has_id or not self.request:
            return self.id
        short = self.request if len(self.request) <= 13 else self.request[:12] + "…"
        return f"{self.id}(req {short})"

    @property
    def start_at(self) -> Example | None:
        """The start line's excerpt, built when asked: runs are many, examples few (an
        excerpt costs a redaction pass and its lead)."""
        if self.start_ref < 0 or self.lines is None:
            return None
        return excerpt(self.lines.event(self.start_ref),
                       "start computed as end minus duration" if self.synthesized_start
                       else "")

    @property
    def end_at(self) -> Example | None:
        if self.end_ref < 0 or self.lines is None:
            return None
        return excerpt(self.lines.event(self.end_ref))

    @property
    def closed(self) -> bool:
        return self.end_ns is not None and self.start_ns is not None

    @property
    def failed(self) -> bool:
        return self.outcome is not None and self.outcome != "ok"

    def who(self) -> str:
        parts = [f"run {self.id}"]
        if self.instance:
            parts.append(f"on instance {self.instance}")
        if self.session:
            parts.append(f"session {self.session}")
        if self.request:
            parts.append(f"request {self.request}")
        if self.process:
            parts.append(f"process {self.process}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "instance": self.instance, "session": self.session,
            "request": self.request, "process": self.process,
            "start": _iso(self.start_ns) if self.start_ns is not None else None,
            "end": _iso(self.end_ns) if self.end_ns is not None else None,
            "outcome": self.outcome,
            "start_at": self._where(self.start_ref),
            "end_at": self._where(self.end_ref),
        }

    def _where(self, ref: int) -> str | None:
        return self.lines.where(ref) if ref >= 0 and self.lines is not None else None


_SECONDS: dict[int, str] = {}
"""``iso_ns``'s text up to the second, per second: ``finish`` writes 2,000 runs' start and
end times, and ``strftime`` was most of ``Run.to_json`` (runs of a log share seconds)."""


def _iso(ns: int) -> str:
    """``iso_ns(ns)``, the same text, with the part up to the second memoised."""
    sec, frac = divmod(ns, 1_000_000_000)
    head = _SECONDS.get(sec)
    if head is None:
        head = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if len(_SECONDS) >= 65_536:
            _SECONDS.clear()
        _SECONDS[sec] = head
    return f"{head}.{frac // 1000:06d}Z"


def pairing_keys(ev: LogEvent, proc: str | None = None) -> tuple[tuple[str, ...], ...]:
    """Every key a run event can be paired by, most specific first. ``proc`` is the
    event's process identity when the caller has it already (``ev.process``)."""
    if proc is None:
        proc = ev.process
    run, request, instance = ev.run, ev.request, ev.instance
    keys: list[tuple[str, ...]] = []
    if run:
        keys.append(("run", run))
    if request:
        if instance:
            keys.append(("instance+request", instance, request))
        if proc:
            keys.append(("process+request", proc, request))
        keys.append(("request", request))
    if instance:
        keys.append(("instance", instance))
    if proc:
        keys.append(("process", proc))
    return tuple(keys)


_NEWEST_FIRST = frozenset({"instance+request", "process+request", "request"})
"""Pairing keys that hold a request: nested runs of one request end inside-out."""


@dataclass
class RunTracker:
    """Pairs RUN_START and RUN_END events into ``Run``s as they stream in."""

    runs: list[Run] = field(default_factory=list)
    open_by_key: dict[tuple[str, ...], list[Run]] = field(default_factory=dict)
    orphan_ends: int = 0  # ends with no start and no duration
    untimed: int = 0  # run events with no clock
    last_closed: Run | None = None  # the run the latest end closed (None: an orphan end)
    lines: LineStore = field(default_factory=LineStore)  # the runs' start and end lines
    _seq: int = 0

    def start(self, ev: LogEvent, proc: str | None = None) -> None:
        if proc is None:
            proc = ev.process
        keys = pairing_keys(ev, proc)
        self._seq += 1
        run = Run(id=ev.run or f"#{self._seq}", instance=ev.instance, session=ev.session,
                  request=ev.request, process=proc, start_ns=ev.time_ns,
                  lines=self.lines, start_ref=self.lines.put(ev), keys=keys,
                  has_id=bool(ev.run))
        if ev.time_ns is None:
            self.untimed += 1
        self.runs.append(run)
        open_by_key = self.open_by_key
        for k in keys:
            lst = open_by_key.get(k)
            if lst is None:
                open_by_key[k] = [run]
            else:
                lst.append(run)

    def end(self, ev: LogEvent, proc: str | None = None) -> None:
        if proc is None:
            proc = ev.process
        if ev.time_ns is None:
            self.untimed += 1
        run = self._take_open(ev, proc)
        self.last_closed = None
        ref = -1
        if run is None:
            if ev.duration_ms is None or ev.time_ns is None:
                self.orphan_ends += 1
                return
            self._seq += 1
            run = Run(id=ev.run or f"#{self._seq}", instance=ev.instance, session=ev.session,
                      request=ev.request, process=proc,
                      start_ns=ev.time_ns - int(ev.duration_ms * NS_PER_MS),
                      lines=self.lines, start_ref=(ref := self.lines.put(ev)),
                      synthesized_start=True, has_id=bool(ev.run))
            self.runs.append(run)
        # The end line may name what the start line did not.
        run.instance = run.instance or ev.instance
        run.session = run.session or ev.session
        run.request = run.request or ev.request
        run.process = run.process or proc
        run.end_ns = ev.time_ns
        run.end_ref = ref if ref >= 0 else self.lines.put(ev)  # a synthesized start is it
        run.outcome = ev.error if ev.error else (
            f"status {ev.status}" if ev.status is not None and ev.status >= 500 else "ok")
        # Closed runs are never paired again: their keys were only for that.
        run.keys = ()
        self.last_closed = run

    def _take_open(self, ev: LogEvent, proc: str | None = None) -> Run | None:
        open_by_key = self.open_by_key
        if not open_by_key:
            return None
        # The run id is the first key tried: most ends carry one, so look it up alone.
        candidates = open_by_key.get(("run", ev.run)) if ev.run else None
        if candidates:
            return self._unregister(candidates[0])
        for k in pairing_keys(ev, proc):
            candidates = open_by_key.get(k)
            if not candidates:
                continue
            return self._unregister(candidates[-1] if k[0] in _NEWEST_FIRST else candidates[0])
        return None

    def _unregister(self, run: Run) -> Run:
        open_by_key = self.open_by_key
        for rk in run.keys:
            lst = open_by_key.get(rk)
            if lst is not None:
                if len(lst) == 1 and lst[0] is run:
                    del open_by_key[rk]
                    continue
                lst.remove(run)
                if not lst:
                    del open_by_key[rk]
        return run

    @property
    def open_runs(self) -> list[Run]:
        return [r for r in self.runs if r.end_ns is None]


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two runs of one group in flight at once: ``first`` started before ``second``."""

    group: str
    first: Run
    second: Run

    @property
    def nested(self) -> bool:
        """The second run started and ended inside the first."""
        assert self.first.end_ns is not None and self.second.end_ns is not None
        return self.second.end_ns <= self.first.end_ns

    @property
    def start_gap_ns(self) -> int:
        assert self.first.start_ns is not None and self.second.start_ns is not None
        return self.second.start_ns - self.first.start_ns

    def story(self) -> str:
        """"start A, start B, end A" with times: the pattern the seeds tell you to look for."""
        a, b = self.first, self.second
        order = (f"start {a.label} {when(a.start_ns)}, start {b.label} {when(b.start_ns)}, "
                 f"end {a.label if not self.nested else b.label} "
                 f"{when(a.end_ns if not self.nested else b.end_ns)}")
        return f"{order} ({self.group})"

    def examples(self) -> list[Example]:
        a, b = self.first, self.second
        out: list[Example] = []
        if a.start_at:
            out.append(_renote(a.start_at, f"A: {a.who()} started; {self.story()}"))
        if b.start_at:
            out.append(_renote(b.start_at,
                               f"B: {b.who()} started while A ({a.label}) was running"))
        return out


def _renote(ex: Example, note: str) -> Example:
    return example(ex.source, ex.line, ex.time_ns, ex.text,
                   f"{ex.note}; {note}" if ex.note else note)


def _span(r: Run) -> tuple[int | None, int | None]:
    return r.start_ns, r.end_ns


I64 = npt.NDArray[np.int64]


def _closed(runs: Iterable[Run]) -> list[Run]:
    return [r for r in runs if r.end_ns is not None and r.start_ns is not None]


def factorize(values: Sequence[Hashable]) -> tuple[I64, dict[Any, int]]:
    """Each value's code, its rank among the distinct values in order of first
    appearance (equal values, equal codes), and the map from value to code.

    Why: one dict built and read at C speed groups 100k ids in a few milliseconds, where a
    Python loop of ``setdefault`` took ten times that; codes compare exactly (no hashes
    that might collide)."""
    distinct = dict.fromkeys(values)
    code_of = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter(map(code_of.__getitem__, values), np.int64, len(values)), code_of


def int64s(values: Sequence[int]) -> I64 | None:
    """The integers as an int64 array, or None when one does not fit (a time past 2262
    in nanoseconds): callers then take their pure-Python path, exact at any size."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return None


class RunColumns:
    """One list of runs as columns for ``LogAnalysis.finish``: each field's values, codes,
    hashes and truthiness built on first use, once, and shared by every signal.

    Why: a finish over 100k runs spent most of its time reading the same attributes of
    the same objects in a dozen Python loops. Here each field is read once (at C speed,
    ``attrgetter``), then selections and groupings are array operations."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self._values: dict[str, list[Any]] = {}
        self._codes: dict[str, tuple[I64, dict[Any, int]]] = {}
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self.open = _nones(self.values("end_ns"))
        """No end yet (``RunTracker.open_runs``)."""
        self.unstarted = _nones(self.values("start_ns"))
        """No start time (an untimed start line)."""
        self.closed = ~(self.open | self.unstarted)
        """Both ends known (``Run.closed``)."""
        self.n_closed = int(self.closed.sum())
        self._closed_runs: list[Run] | None = None

    @property
    def closed_runs(self) -> list[Run]:
        if self._closed_runs is None:
            self._closed_runs = self.pick(self.closed)
        return self._closed_runs

    def values(self, name: str) -> list[Any]:
        got = self._values.get(name)
        if got is None:
            read = _READERS.get(name)
            got = self._values[name] = (read(self.runs) if read is not None
                                        else list(map(attrgetter(name), self.runs)))
        return got

    def codes(self, name: str) -> tuple[I64, dict[Any, int]]:
        """``factorize`` of the field's values: codes index ``self.runs``."""
        got = self._codes.get(name)
        if got is None:
            got = self._codes[name] = factorize(self.values(name))
        return got

    def distinct(self, name: str) -> Iterable[Any]:
        """The field's values, each once if its codes are built (else all of them)."""
        coded = self._codes.get(name)
        return coded[1] if coded is not None else self.values(name)

    def _array(self, key: str, build: Callable[[], npt.NDArray[Any]]) -> npt.NDArray[Any]:
        got = self._arrays.get(key)
        if got is None:
            got = self._arrays[key] = build()
        return got

    def truthy(self, name: str) -> npt.NDArray[np.bool_]:
        """Where the field holds a non-empty id (not None, not ""): from its codes when
        they are built, else one ``bool`` per value."""
        def build() -> npt.NDArray[np.bool_]:
            coded = self._codes.get(name)
            if coded is None:
                values = self.values(name)
                return np.fromiter(map(bool, values), bool, len(values))
            codes, code_of = coded
            out = np.ones(len(codes), dtype=bool)
            for falsy in (None, ""):
                c = code_of.get(falsy)
                if c is not None:
                    out &= codes != c
            return out
        if name in _HASHED:
            return self._array("truthy " + name, self._truthy_by_hash(name))
        return self._array("truthy " + name, build)

    def _truthy_by_hash(self, name: str) -> Callable[[], npt.NDArray[np.bool_]]:
        """``truthy`` from the hashes: None and "" have fixed hashes, so only the values
        with one of those hashes (the falsy ones, and an id colliding with them) are
        asked in Python."""
        def build() -> npt.NDArray[np.bool_]:
            values = self.values(name)
            h = self.hashes(name)
            out = (h != _NONE_HASH) & (h != _EMPTY_HASH)
            unsure = np.flatnonzero(~out)
            if len(unsure) * 4 > len(values):
                return np.fromiter(map(bool, values), bool, len(values))
            out[unsure] = [bool(values[i]) for i in unsure.tolist()]
            return out
        return build

    def hashes(self, name: str) -> I64:
        """Each value's ``hash``: equal values, equal hashes (ids' hashes are cached in
        the strings, so this is one pass at C speed). Groups found on hashes may join
        different ids, never split equal ones: a superset, for the exact code to sift."""
        values = self.values(name)
        return self._array("hash " + name,
                           lambda: np.fromiter(map(hash, values), np.int64, len(values)))

    def failed(self) -> npt.NDArray[np.bool_]:
        """``Run.failed`` of every run: an outcome that is not None nor "ok"."""
        def build() -> npt.NDArray[np.bool_]:
            outcomes = self.values("outcome")
            bad = {o: o is not None and o != "ok" for o in dict.fromkeys(outcomes)}
            if not any(bad.values()):
                return np.zeros(len(outcomes), dtype=bool)
            return np.fromiter(map(bad.__getitem__, outcomes), bool, len(outcomes))
        return self._array("failed", build)

    def closed_times(self) -> tuple[I64, I64] | None:
        """The closed runs' starts and ends as int64 (None when one does not fit)."""
        if "closed start" not in self._arrays:
            starts, ends = self.values("start_ns"), self.values("end_ns")
            unclosed = np.flatnonzero(~self.closed).tolist()
            if len(unclosed) * 8 < len(self.runs):  # a few open runs: blank them, then cut
                if unclosed:
                    starts, ends = starts.copy(), ends.copy()
                    for i in unclosed:
                        starts[i] = ends[i] = 0
                start, end = int64s(starts), int64s(ends)
                if start is None or end is None:
                    return None
                if unclosed:
                    start, end = start[self.closed], end[self.closed]
            else:
                where = self.closed.tolist()
                start = int64s(list(compress(starts, where)))
                end = int64s(list(compress(ends, where)))
            if start is None or end is None:
                return None
            self._arrays["closed start"], self._arrays["closed end"] = start, end
        return self._arrays["closed start"], self._arrays["closed end"]

    def pick(self, where: npt.NDArray[np.bool_]) -> list[Run]:
        """The runs ``where`` selects, in order (by index when they are few)."""
        at = np.flatnonzero(where)
        if len(at) * 8 < len(where):
            runs = self.runs
            return [runs[i] for i in at.tolist()]
        return list(compress(self.runs, where.tolist()))


_NONE_HASH, _EMPTY_HASH = hash(None), hash("")
_HASHED = frozenset({"request", "session"})
"""Fields whose hashes a finish needs anyway (to find the fine groups): their truthiness
is read off the hashes instead of a pass of its own."""


_READERS: dict[str, Callable[[list[Run]], list[Any]]] = {
    "start_ns": lambda runs: [r.start_ns for r in runs],
    "end_ns": lambda runs: [r.end_ns for r in runs],
    "instance": lambda runs: [r.instance for r in runs],
    "session": lambda runs: [r.session for r in runs],
    "request": lambda runs: [r.request for r in runs],
    "outcome": lambda runs: [r.outcome for r in runs],
}
"""A field read by name in a list comprehension: a third faster than ``attrgetter``."""


def _nones(values: list[Any]) -> npt.NDArray[np.bool_]:
    """Where the values are None, at C speed: found by ``list.index`` while they are few
    (one scan of the list), else by one ``is`` per value."""
    out = np.zeros(len(values), dtype=bool)
    i = -1
    for _ in range(max(16, len(values) // 64)):
        try:
            i = values.index(None, i + 1)
        except ValueError:
            return out
        out[i] = True
    return np.fromiter(map(is_, values, repeat(None)), bool, len(values))


def _grouped(runs: Iterable[Run], group_of: Callable[[Run], str | None], *,
             shared_only: bool = False) -> dict[str, list[Run]]:
    """Closed runs by group, in the order given; ``shared_only`` leaves out the groups
    of one run (a sweep pairs nothing there), found by counting codes, not in a loop."""
    closed = _closed(runs)
    keys = list(map(group_of, closed))
    if shared_only and closed:
        codes, _ = factorize(keys)
        keep = np.bincount(codes, minlength=len(keys))[codes] > 1
        picked = np.flatnonzero(keep).tolist()
        closed = [closed[i] for i in picked]
        keys = [keys[i] for i in picked]
    groups: dict[str, list[Run]] = {}
    for g, r in zip(keys, closed, strict=True):
        if g is not None:
            members = groups.get(g)
            if members is None:
                groups[g] = [r]
            else:
                members.append(r)
    return groups


def sweep(runs: Iterable[Run], group_of: Callable[[Run], str | None]) -> Iterator[Overlap]:
    """Every pair of closed runs in one group whose time spans overlap.

    Runs are sorted by start per group; a heap holds the runs still in flight, ordered
    by end. Touching spans (A ends exactly when B starts) do not overlap. Costs
    O(n log n + pairs): use it on fine groups (one request, one session) where pairs are
    few, and ``summarize`` on coarse ones.
    """
    # A run alone in its group overlaps nothing (fine groups are mostly such runs).
    groups = _grouped(runs, group_of, shared_only=True)
    for g in sorted(groups):
        members = sorted(groups[g], key=_span)
        active: list[tuple[int, int, Run]] = []
        for i, r in enumerate(members):
            assert r.start_ns is not None and r.end_ns is not None
            while active and active[0][0] <= r.start_ns:
                heapq.heappop(active)
            for _, _, a in sorted(active, key=lambda t: t[1]):
                yield Overlap(g, a, r)
            heapq.heappush(active, (r.end_ns, i, r))


@dataclass
class OverlapSummary:
    """Overlapping pairs counted per group, with only the first few kept as examples."""

    pairs: int = 0
    per_group: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    sample: list[Overlap] = field(default_factory=list)


def _heap_counts(starts: list[int], ends: list[int]) -> list[int]:
    """For runs sorted by (start, end): how many earlier ones are in flight at each start
    (end after it), by the heap sweep. Exact for any spans, ends before starts too."""
    active: list[int] = []
    out: list[int] = []
    for s, e in zip(starts, ends, strict=True):
        while active and active[0] <= s:
            heapq.heappop(active)
        out.append(len(active))
        heapq.heappush(active, e)
    return out


def _ended_by_start(group: I64, start: I64, end: I64) -> I64:
    """For runs sorted by group: how many runs of the groups up to its own ended by each
    run's start (an end at the instant counts: touching spans do not overlap).

    One key per time, group first: ``group * span + (time - earliest)``, when it fits in
    int64 (a log's times span hours, not centuries), so one sort of the ends and one
    binary search per start; else starts and ends sorted together by (group, time, end
    first)."""
    n = len(start)
    lo = min(int(start.min()), int(end.min()))
    span = max(int(start.max()), int(end.max())) - lo + 1
    if span * (int(group[-1]) + 1) < 1 << 62:
        # the ends nearly sorted already (a run ends soon after it starts): timsort; the
        # starts sorted: each search begins where the last one ended
        ends = np.sort(group * span + (end - lo), kind="stable")
        return np.searchsorted(ends, group * span + (start - lo), "right")
    times = np.concatenate((end, start))
    kinds = np.repeat(np.array([0, 1], dtype=np.int8), n)
    order = np.lexsort((kinds, times, np.concatenate((group, group))))
    ended = np.cumsum(order < n, dtype=np.int64)
    at = np.empty(n, dtype=np.int64)
    is_start = order >= n
    at[order[is_start] - n] = np.flatnonzero(is_start)
    return ended[at]


def in_flight_before(group: I64, start: I64, end: I64) -> I64:
    """For runs sorted by (group, start, end): how many earlier runs of the same group are
    still in flight at each one's start, i.e. end after it. A run overlaps exactly those.

    Why no heap: with every span forward (end >= start), the earlier runs still in flight
    are the earlier runs (its index k in the group) less the runs of the group that ended
    by its start (one sort of all starts and ends, ends first at a tie: touching spans do
    not overlap), plus the zero-length runs at that instant from it on, which that count
    took but are not earlier. A group holding a backward span (end < start, clocks of
    two sources) is counted by the heap sweep instead."""
    n = len(start)
    counts = np.zeros(n, dtype=np.int64)
    if n < 2:
        return counts
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(group[1:], group[:-1], out=new_group[1:])
    firsts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(firsts, n))
    offset = np.repeat(firsts, sizes)  # each run's group's first index
    ended_by_start = _ended_by_start(group, start, end) - offset
    # zero-length runs at one instant form one block of equal (group, start, end): the
    # block's runs from this one on ended "by" its start without being earlier
    new_block = new_group.copy()
    new_block[1:] |= (start[1:] != start[:-1]) | (end[1:] != end[:-1])
    blocks = np.flatnonzero(new_block)
    block_end = np.append(blocks[1:], n)[np.cumsum(new_block) - 1]
    index = np.arange(n, dtype=np.int64)
    later_zero = np.where(end == start, block_end - index, 0)
    counts = index - offset - ended_by_start + later_zero
    backward = np.flatnonzero(end < start)
    if len(backward):
        for g0 in np.unique(group[backward]).tolist():
            lo = int(np.searchsorted(group, g0, "left"))
            hi = int(np.searchsorted(group, g0, "right"))
            counts[lo:hi] = _heap_counts(start[lo:hi].tolist(), end[lo:hi].tolist())
    return counts


def summarize(runs: Iterable[Run], group_of: Callable[[Run], str | None], keep: int
              ) -> OverlapSummary:
    """Count overlapping pairs per group in O(n log n), whatever the number of pairs:
    each new run overlaps exactly the runs still in flight (``in_flight_before``).

    Groups are taken in name order and runs by (start, end), then as given; the sample
    is the first ``keep`` runs in that order that overlap an earlier one, each with the
    earliest of the runs it overlaps, as the heap sweep (``summarize_by_heap``) finds."""
    members = _closed(runs)
    start = int64s([r.start_ns or 0 for r in members])  # closed: never None
    end = int64s([r.end_ns or 0 for r in members])
    if start is None or end is None:
        return summarize_by_heap(members, group_of, keep)
    codes, code_of = factorize(list(map(group_of, members)))
    return summarize_codes(members, np.arange(len(members)), codes, code_of, start, end,
                           keep)


def summarize_codes(runs: Sequence[Run], at: I64, codes: I64, code_of: dict[Any, int],
                    start: I64, end: I64, keep: int) -> OverlapSummary:
    """``summarize`` of closed runs given as columns: ``runs[at[i]]`` is member i, in
    the group of code ``codes[i]`` (``code_of``: group name, or None for no group, to
    code; it may name codes no member has), from ``start[i]`` to ``end[i]``.
    ``LogAnalysis.finish`` has them all in its ``RunColumns``."""
    out = OverlapSummary()
    if not len(at):
        return out
    size = max(int(codes.max()), max(code_of.values())) + 1
    present = np.bincount(codes, minlength=size) > 0
    names: list[str] = sorted(g for g, c in code_of.items() if g is not None and present[c])
    if not names:
        return out
    rank_of_code = np.full(size, -1, dtype=np.int64)
    rank_of_code[np.fromiter(map(code_of.__getitem__, names), np.int64, len(names))] = \
        np.arange(len(names), dtype=np.int64)
    rank = rank_of_code[codes]
    picked = np.flatnonzero(rank >= 0)
    rank, start, end = rank[picked], start[picked], end[picked]
    order = np.lexsort((end, start, rank))  # stable: ties stay in the order given
    rank, start, end, picked = rank[order], start[order], end[order], picked[order]
    counts = in_flight_before(rank, start, end)
    firsts = np.flatnonzero(np.append(True, rank[1:] != rank[:-1]))
    peaks = (np.maximum.reduceat(counts, firsts) + 1).tolist()
    pairs = np.add.reduceat(counts, firsts).tolist()
    for r, peak, count in zip(rank[firsts].tolist(), peaks, pairs, strict=True):
        g = names[r]
        out.peak[g] = peak
        if count:
            out.per_group[g] = count
            out.pairs += count
    for i in np.flatnonzero(counts > 0)[:keep].tolist():
        lo = int(firsts[np.searchsorted(firsts, i, "right") - 1])
        j = lo + int(np.argmax(end[lo:i] > start[i]))
        out.sample.append(Overlap(names[int(rank[i])], runs[int(at[picked[j]])],
                                  runs[int(at[picked[i]])]))
    return out


def summarize_by_heap(runs: Iterable[Run], group_of: Callable[[Run], str | None],
                      keep: int) -> OverlapSummary:
    """``summarize`` by the heap sweep, one run at a time: for times beyond int64."""
    out = OverlapSummary()
    groups = _grouped(runs, group_of)
    for g in sorted(groups):
        members = groups[g]
        if len(members) == 1:
            out.peak[g] = 1
            continue
        members = sorted(members, key=_span)
        active: list[tuple[int, int, Run]] = []
        count = peak = 0
        for i, r in enumerate(members):
            assert r.start_ns is not None and r.end_ns is not None
            while active and active[0][0] <= r.start_ns:
                heapq.heappop(active)
            count += len(active)
            if active and len(out.sample) < keep:
                first = min(active, key=lambda t: t[1])[2]
                out.sample.append(Overlap(g, first, r))
            heapq.heappush(active, (r.end_ns, i, r))
            peak = max(peak, len(active))
        out.peak[g] = peak
        if count:
            out.per_group[g] = count
            out.pairs += count
    return out


def start_gaps_cv(starts: list[int]) -> tuple[float, float] | None:
    """Mean gap (ns) and coefficient of variation of the gaps between sorted starts."""
    if len(starts) < 3:
        return None
    s = sorted(starts)
    gaps = [b - a for a, b in zip(s, s[1:], strict=False)]
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        return None
    var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    return mean, (var ** 0.5) / mean
