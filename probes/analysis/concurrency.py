"""Requests in flight: error rate by concurrency, the latency ceiling, tool-call fan-out.

The seeds' first debug step is "run one request at a time, then 10, 25, 50: if the
error only appears under load, suspect shared state or downstream saturation". Logs of
real traffic already hold that experiment: for every request we count how many were
in flight when it started and compare error rates per level.
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from probes.analysis.runs import I64, NS_PER_MS, LineStore, excerpt
from probes.events import LogEvent
from probes.evidence import Example

MIN_BUCKET_SAMPLES = 5
"""Fewer requests than this at a concurrency level say nothing about its error rate."""
MIN_REQUESTS = 10
SINGLE_PASS_MAX_RATE = 0.10
"""Requests alone in flight must mostly pass: at most this error rate."""
RISE_MIN_DELTA = 0.20
"""A higher level must fail at least this much more often than single requests."""

CEILING_MIN_FAILURES = 5
CEILING_SHARE = 0.60
CEILING_TOLERANCE = 0.02
""">= 60% of failures within +-2% of one duration: a limit, not a distribution."""
CEILING_MAX_OK_SHARE = 0.25
"""A cut-off ends failures only: successful requests seldom end in the same window."""

FANOUT_MIN_CALLS = 8


@dataclass(slots=True)
class Request:
    """One request's interval and outcome. A failed request keeps where its end line is
    (``end_ref`` in ``lines``); its excerpt, ``end_at``, is built when a report asks."""

    start_ns: int
    end_ns: int
    failed: bool
    duration_ms: float | None
    lines: LineStore | None = None
    end_ref: int = -1
    ident: str | None = None  # the request id (or, for a run standing in, its request/run)

    @property
    def end_at(self) -> Example | None:
        if self.end_ref < 0 or self.lines is None:
            return None
        return excerpt(self.lines.event(self.end_ref))


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


class RequestLog(Sequence[Request]):
    """A tracker's requests, kept as columns; a ``Request`` is made when one is asked for.

    Why: a log holds a request per line or two (405,000 on the 300 MB benchmark), and a
    ``Request`` object with its boxed times and duration costs about 180 bytes, where
    the columns cost 42 (34 of arrays and a reference to its id). ``finish`` reads the
    columns as arrays (``starts``, ``failed``, ...) and makes objects only for the
    examples it shows. A time beyond 64 bits (hostile input) turns the log into a plain
    list of objects, which every reader still takes. All requests of a log share one
    ``LineStore`` (their tracker's)."""

    __slots__ = ("_dur", "_end", "_end_ref", "_failed", "_has_dur", "_ident", "_objects",
                 "_start", "lines")

    def __init__(self, lines: LineStore | None = None) -> None:
        self.lines = lines
        self._start = array("q")
        self._end = array("q")
        self._failed = bytearray()
        self._dur = array("d")
        self._has_dur = bytearray()
        self._end_ref = array("q")
        self._ident: list[str | None] = []
        self._objects: list[Request] | None = None

    @classmethod
    def of_columns(cls, lines: LineStore | None, start: I64, end: I64,
                   failed: npt.NDArray[np.bool_], duration_ms: npt.NDArray[np.float64],
                   end_ref: I64, ident: list[str | None]) -> RequestLog:
        """Requests given as arrays (every duration known)."""
        log = cls(lines)
        log._start.frombytes(np.ascontiguousarray(start, dtype=np.int64).tobytes())
        log._end.frombytes(np.ascontiguousarray(end, dtype=np.int64).tobytes())
        log._failed = bytearray(np.ascontiguousarray(failed, dtype=np.bool_).tobytes())
        log._dur.frombytes(np.ascontiguousarray(duration_ms, dtype=np.float64).tobytes())
        log._has_dur = bytearray(b"\x01") * len(ident)
        log._end_ref.frombytes(np.ascontiguousarray(end_ref, dtype=np.int64).tobytes())
        log._ident = ident
        return log

    @property
    def columnar(self) -> bool:
        """Whether the arrays below hold every request (no time beyond 64 bits)."""
        return self._objects is None

    def append(self, start: int, end: int, failed: bool, duration_ms: float | None,
               lines: LineStore | None, end_ref: int, ident: str | None) -> None:
        if self.lines is None:
            self.lines = lines
        if self._objects is None and (
                lines is not self.lines or not (_I64_MIN <= start <= _I64_MAX)
                or not (_I64_MIN <= end <= _I64_MAX)
                or not (duration_ms is None or type(duration_ms) is float)):
            self._objects = list(self)
        if self._objects is not None:
            self._objects.append(Request(start, end, failed, duration_ms, lines, end_ref,
                                         ident))
            return
        self._start.append(start)
        self._end.append(end)
        self._failed.append(failed)
        self._dur.append(math.nan if duration_ms is None else duration_ms)
        self._has_dur.append(duration_ms is not None)
        self._end_ref.append(end_ref)
        self._ident.append(ident)

    def __len__(self) -> int:
        return len(self._objects) if self._objects is not None else len(self._ident)

    @overload
    def __getitem__(self, i: int) -> Request: ...

    @overload
    def __getitem__(self, i: slice) -> list[Request]: ...

    def __getitem__(self, i: int | slice) -> Request | list[Request]:
        if self._objects is not None:
            return self._objects[i]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self._ident)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("request index out of range")
        return Request(self._start[i], self._end[i], bool(self._failed[i]),
                       self._dur[i] if self._has_dur[i] else None, self.lines,
                       self._end_ref[i], self._ident[i])

    def __iter__(self) -> Iterator[Request]:
        if self._objects is not None:
            yield from self._objects
            return
        lines = self.lines
        for s, e, f, d, h, r, ident in zip(self._start, self._end, self._failed, self._dur,
                                           self._has_dur, self._end_ref, self._ident,
                                           strict=True):
            yield Request(s, e, bool(f), d if h else None, lines, r, ident)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other,
                                                                      strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RequestLog({len(self)} requests)"

    # ---------------------------------------------------------------- as arrays
    def starts(self) -> I64:
        assert self._objects is None
        return np.frombuffer(self._start, dtype=np.int64).copy()

    def ends(self) -> I64:
        assert self._objects is None
        return np.frombuffer(self._end, dtype=np.int64).copy()

    def failed(self) -> npt.NDArray[np.bool_]:
        assert self._objects is None
        return np.frombuffer(self._failed, dtype=np.bool_).copy()

    def durations(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Each request's duration (NaN where none) and where one is known."""
        assert self._objects is None
        return (np.frombuffer(self._dur, dtype=np.float64).copy(),
                np.frombuffer(self._has_dur, dtype=np.bool_).copy())

    def idents(self) -> list[str | None]:
        return list(self._ident) if self._objects is None else [r.ident for r in self]


def _columnar(requests: Sequence[Request]) -> RequestLog | None:
    return requests if isinstance(requests, RequestLog) and requests.columnar else None


def any_failed(requests: Sequence[Request]) -> bool:
    log = _columnar(requests)
    if log is not None:
        return bool(log.failed().any())
    return any(r.failed for r in requests)


def request_idents(requests: Sequence[Request]) -> set[str | None]:
    log = _columnar(requests)
    return set(log.idents()) if log is not None else {r.ident for r in requests}


def bucket_label(concurrency: int) -> str:
    """1, 2, 3-4, 5-8, 9-16, ...: doubling buckets so each level has enough samples."""
    if concurrency <= 2:
        return str(max(concurrency, 1))
    hi = 1 << (concurrency - 1).bit_length()
    return f"{hi // 2 + 1}-{hi}"


def bucket_floor(label: str) -> int:
    return int(label.split("-")[0])


def event_failed_status(ev: LogEvent) -> bool:
    """An HTTP status that says the request or call failed (>= 500)."""
    return ev.status is not None and ev.status >= 500


def event_failed(ev: LogEvent) -> bool:
    return bool(ev.error) or (ev.status is not None and ev.status >= 500) or (
        ev.level is not None and ev.level >= 50)


@dataclass
class RequestTracker:
    """Request intervals from REQUEST_START/END pairs or REQUEST_END with a duration."""

    open: dict[str, int] = field(default_factory=dict)
    requests: RequestLog = field(default_factory=RequestLog)
    unmatched_ends: int = 0
    lines: LineStore = field(default_factory=LineStore)  # failed requests' end lines

    def start(self, ev: LogEvent) -> None:
        if ev.request and ev.time_ns is not None:
            self.open[ev.request] = ev.time_ns

    def end(self, ev: LogEvent) -> None:
        if ev.time_ns is None:
            self.unmatched_ends += 1
            return
        start = self.open.pop(ev.request, None) if ev.request else None
        if ev.duration_ms is not None:
            start = ev.time_ns - int(ev.duration_ms * NS_PER_MS)
        if start is None:
            self.unmatched_ends += 1
            return
        dur = ev.duration_ms if ev.duration_ms is not None else (ev.time_ns - start) / NS_PER_MS
        failed = event_failed(ev)
        self.requests.append(start, ev.time_ns, failed, dur, self.lines,
                             self.lines.put(ev) if failed else -1, ev.request)


@dataclass(frozen=True, slots=True)
class ConcurrencyTable:
    """Error rate per in-flight bucket."""

    rows: tuple[dict[str, Any], ...]
    total: int

    def by_label(self) -> dict[str, dict[str, Any]]:
        return {r["level"]: r for r in self.rows}


@dataclass(frozen=True, slots=True)
class Spans:
    """The requests' starts and ends as int64 arrays, sorted, and each request's count of
    requests in flight at its start.

    Why: the table, the examples of its worst level and the 'already running' guard all
    count requests in flight by binary search in the sorted starts and ends; built once
    per ``finish``, 100k requests cost one pass over the objects per field and two sorts
    (stable: timsort, near linear on a log's nearly sorted times), and the in-flight
    counts search the starts in sorted order (each search starts where the last ended)."""

    sorted_starts: I64
    sorted_ends: I64
    levels: I64
    """Per request: started by its start, minus ended by its start (itself counted,
    touching ends not: ``side="right"`` takes an end at the instant as ended)."""
    failed: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, requests: Sequence[Request]) -> Spans | None:
        """None when a time does not fit in int64: callers then count in pure Python."""
        log = _columnar(requests)
        if log is not None:
            starts, ends = log.starts(), log.ends()
        else:
            try:  # straight from the objects: no list in between
                starts = np.fromiter((r.start_ns for r in requests), np.int64, len(requests))
                ends = np.fromiter((r.end_ns for r in requests), np.int64, len(requests))
            except OverflowError:
                return None
        order = np.argsort(starts, kind="stable")
        sorted_starts = starts[order]
        sorted_ends = np.sort(ends, kind="stable")
        levels = np.empty(len(starts), dtype=np.int64)
        levels[order] = (np.searchsorted(sorted_starts, sorted_starts, "right")
                         - np.searchsorted(sorted_ends, sorted_starts, "right"))
        return cls(sorted_starts, sorted_ends, levels, _failed(requests))


def _failed(requests: Sequence[Request]) -> npt.NDArray[np.bool_]:
    log = _columnar(requests)
    if log is not None:
        return log.failed()
    return np.fromiter((r.failed for r in requests), bool, len(requests))


def in_flight_at_start(requests: Sequence[Request], spans: Spans | None = None) -> list[int]:
    """For each request, how many requests (itself included) were in flight at its start.

    Sweep with two sorted lists: started-by(s) minus ended-by(s), O(n log n).
    """
    if spans is None:
        spans = Spans.of(requests)
    if spans is None:
        return _in_flight_by_bisect(requests)
    return list(spans.levels.tolist())


def _in_flight_by_bisect(requests: Sequence[Request]) -> list[int]:
    """``in_flight_at_start`` on Python integers, for times beyond int64."""
    starts = sorted(r.start_ns for r in requests)
    ends = sorted(r.end_ns for r in requests)
    return [bisect.bisect_right(starts, r.start_ns) - bisect.bisect_right(ends, r.start_ns)
            for r in requests]


def concurrency_table(requests: Sequence[Request], spans: Spans | None = None
                      ) -> ConcurrencyTable:
    """Requests and errors per bucket of requests in flight at their start.

    Counted per level by ``bincount``, then levels merged into their buckets: a bucket's
    levels are consecutive, so ascending levels give the rows in ascending bucket order
    (a level below 1, a request that ended before it started, is in bucket "1")."""
    if spans is None:
        spans = Spans.of(requests)
    if spans is None:
        levels = np.maximum(np.array(_in_flight_by_bisect(requests), dtype=np.int64), 1)
    else:
        levels = np.maximum(spans.levels, 1)
    failed = _failed(requests) if spans is None else spans.failed
    per_level = np.bincount(levels)
    errors_per_level = np.bincount(levels[failed], minlength=len(per_level))
    counts: dict[str, list[int]] = {}
    for c in np.flatnonzero(per_level).tolist():
        row = counts.setdefault(bucket_label(c), [0, 0])
        row[0] += int(per_level[c])
        row[1] += int(errors_per_level[c])
    rows = tuple(
        {"level": label, "requests": n, "errors": e, "error_rate": round(e / n, 3)}
        for label, (n, e) in sorted(counts.items(), key=lambda kv: bucket_floor(kv[0])))
    return ConcurrencyTable(rows, len(requests))


@dataclass(frozen=True, slots=True)
class RiseVerdict:
    answer: str  # "yes" | "no" | "unknown"
    detail: str
    worst_level: str | None = None


def judge_rise(table: ConcurrencyTable) -> RiseVerdict:
    """Does the error rate rise with concurrency while single requests pass?"""
    if table.total < MIN_REQUESTS:
        return RiseVerdict("unknown", f"only {table.total} requests with known start and end "
                                      f"(need {MIN_REQUESTS})")
    rows = table.by_label()
    single = rows.get("1")
    if single is None or single["requests"] < MIN_BUCKET_SAMPLES:
        n = single["requests"] if single else 0
        return RiseVerdict("unknown", f"only {n} requests ran alone (need {MIN_BUCKET_SAMPLES})")
    higher = [r for r in table.rows if r["level"] != "1" and r["requests"] >= MIN_BUCKET_SAMPLES]
    if not higher:
        return RiseVerdict("unknown", "no concurrency level above 1 has "
                                      f"{MIN_BUCKET_SAMPLES} or more requests")
    base = single["error_rate"]
    worst = max(higher, key=lambda r: r["error_rate"])
    summary = ", ".join(f"{r['level']}: {r['errors']}/{r['requests']}" for r in table.rows)
    if base <= SINGLE_PASS_MAX_RATE and worst["error_rate"] >= base + RISE_MIN_DELTA:
        return RiseVerdict("yes", f"errors {base:.0%} when alone, {worst['error_rate']:.0%} at "
                                  f"{worst['level']} in flight ({summary})", worst["level"])
    return RiseVerdict("no", f"error rate does not rise with concurrency ({summary})")


@dataclass(frozen=True, slots=True)
class Ceiling:
    duration_ms: float
    count: int
    failures: int
    examples: tuple[Example, ...]


def find_ceiling(requests: Sequence[Request], max_examples: int, spans: Spans | None = None
                 ) -> Ceiling | None:
    """The densest cluster of failing durations, when >= 60% of failures fall in it.
    ``spans``, when given, names the failed requests without a pass over all of them."""
    failing = (requests if spans is None else
               [requests[i] for i in np.flatnonzero(spans.failed).tolist()])
    failed = sorted((r for r in failing if r.failed and r.duration_ms is not None),
                    key=lambda r: r.duration_ms or 0.0)
    if len(failed) < CEILING_MIN_FAILURES:
        return None
    durs = [r.duration_ms or 0.0 for r in failed]
    ratio = (1 + CEILING_TOLERANCE) / (1 - CEILING_TOLERANCE)
    best_i, best_n, j = 0, 0, 0
    for i, d in enumerate(durs):
        j = max(j, i)
        while j + 1 < len(durs) and durs[j + 1] <= d * ratio:
            j += 1
        if j - i + 1 > best_n:
            best_i, best_n = i, j - i + 1
    if best_n < CEILING_SHARE * len(durs) or best_n < CEILING_MIN_FAILURES:
        return None
    cluster = failed[best_i: best_i + best_n]
    lo, hi = durs[best_i], durs[best_i + best_n - 1]
    log = _columnar(requests)
    if log is not None:
        dur, known = log.durations()
        ok_inside = int(np.count_nonzero(~log.failed() & known & (dur >= lo) & (dur <= hi)))
    else:
        ok_inside = sum(1 for r in requests if not r.failed and r.duration_ms is not None
                        and lo <= r.duration_ms <= hi)
    if ok_inside > CEILING_MAX_OK_SHARE * best_n:
        return None  # successes end there too: a typical duration, not a cut-off
    center = cluster[len(cluster) // 2].duration_ms or 0.0
    return Ceiling(center, best_n, len(durs),
                   tuple(r.end_at for r in cluster[:max_examples] if r.end_at is not None))


CALL_WINDOW = 64
"""Calls of one request remembered for the duration sweep: enough to see 8+ at once."""


@dataclass(slots=True)
class _CallWindow:
    """The last ``CALL_WINDOW`` call intervals of one request, each with the number of
    calls known to cover its start. Ends arrive in time order but starts are back-dated
    (end minus duration), so each new interval both gets a count and adds to the counts
    of the earlier intervals whose start it covers. The largest count is the peak."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    cover: list[int] = field(default_factory=list)
    peak: int = 0

    def add(self, start: int, end: int) -> int:
        mine = 1
        for i, (s, e) in enumerate(zip(self.starts, self.ends, strict=True)):
            if s <= start < e:
                mine += 1
            if start <= s < end:
                self.cover[i] += 1
                self.peak = max(self.peak, self.cover[i])
        self.starts.append(start)
        self.ends.append(end)
        self.cover.append(mine)
        self.peak = max(self.peak, mine)
        if len(self.starts) > CALL_WINDOW:
            del self.starts[0], self.ends[0], self.cover[0]
        return self.peak


_CALL_END = re.compile(r"\b(?:finished|done|completed?|ended|failed|errored|returned|"
                       r"succeeded|responded|received)\b", re.IGNORECASE)
_CALL_START = re.compile(r"\b(?:start(?:ed|ing)?|begin|began|calling|sending|invoking|"
                         r"dispatch(?:ed|ing)?)\b", re.IGNORECASE)
_phase_cache: dict[str, str | None] = {}


def _call_phase(message: str) -> str | None:
    """A call line's own word for its phase: a line that says the call finished is its end
    even with no duration on it (counting it as another start doubled the fan-out)."""
    got = _phase_cache.get(message, "?")
    if got != "?":
        return got
    phase = "end" if _CALL_END.search(message) else "start" if _CALL_START.search(message) \
        else None
    if len(_phase_cache) < 4096:
        _phase_cache[message] = phase
    return phase


@dataclass
class FanoutTracker:
    """Outbound tool/model calls in flight per request.

    A TOOL_CALL whose ``phase`` field says "start"/"end" (trace spans) is taken at its
    word; otherwise one with a duration, status or error is the call's end (its start
    is end minus duration when known) and one without is its start. Start/end counting
    and the duration sweep both run and the larger peak is kept, so logs with only
    start lines or only end lines both work. State is per request, bounded.
    """

    in_flight: dict[str, int] = field(default_factory=dict)
    peak_counter: dict[str, int] = field(default_factory=dict)
    windows: dict[str, _CallWindow] = field(default_factory=dict)
    first_call: dict[str, Example] = field(default_factory=dict)  # where 8+ was first seen
    calls: int = 0

    def feed(self, ev: LogEvent) -> None:
        if not ev.request:
            return
        self.calls += 1
        req = ev.request
        phase = ev.fields.get("phase") if ev.fields else None  # spans say it outright
        if phase is None and ev.message:
            phase = _call_phase(ev.message)  # "model call started" / "... finished"
        is_end = phase == "end" or (phase != "start" and (
            ev.duration_ms is not None or ev.status is not None or bool(ev.error)))
        if is_end:
            self.in_flight[req] = max(0, self.in_flight.get(req, 0) - 1)
            if ev.duration_ms is not None and ev.time_ns is not None:
                window = self.windows.get(req)
                if window is None:
                    window = self.windows[req] = _CallWindow()
                peak = window.add(ev.time_ns - int(ev.duration_ms * NS_PER_MS), ev.time_ns)
                if peak >= FANOUT_MIN_CALLS and req not in self.first_call:
                    self.first_call[req] = excerpt(
                        ev, f"{peak} calls of request {req} overlapped in time")
        else:
            n = self.in_flight.get(req, 0) + 1
            self.in_flight[req] = n
            if n > self.peak_counter.get(req, 0):
                self.peak_counter[req] = n
                if n >= FANOUT_MIN_CALLS and req not in self.first_call:
                    self.first_call[req] = excerpt(ev, f"call {n} in flight for request {req}")

    def peaks(self) -> dict[str, int]:
        out = dict(self.peak_counter)
        for req, window in self.windows.items():
            out[req] = max(out.get(req, 0), window.peak)
        return out

    def example_for(self, req: str) -> Example | None:
        return self.first_call.get(req)
