"""Requests in flight: error rate by concurrency, the latency ceiling, tool-call fan-out.

The seeds' first debug step is "run one request at a time, then 10, 25, 50: if the
error only appears under load, suspect shared state or downstream saturation". Logs of
real traffic already hold that experiment: for every request we count how many were
in flight when it started and compare error rates per level.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

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
    requests: list[Request] = field(default_factory=list)
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
        self.requests.append(Request(start, ev.time_ns, failed, dur, self.lines,
                                     self.lines.put(ev) if failed else -1, ev.request))


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
    def of(cls, requests: list[Request]) -> Spans | None:
        """None when a time does not fit in int64: callers then count in pure Python."""
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


def _failed(requests: list[Request]) -> npt.NDArray[np.bool_]:
    return np.fromiter((r.failed for r in requests), bool, len(requests))


def in_flight_at_start(requests: list[Request], spans: Spans | None = None) -> list[int]:
    """For each request, how many requests (itself included) were in flight at its start.

    Sweep with two sorted lists: started-by(s) minus ended-by(s), O(n log n).
    """
    if spans is None:
        spans = Spans.of(requests)
    if spans is None:
        return _in_flight_by_bisect(requests)
    return list(spans.levels.tolist())


def _in_flight_by_bisect(requests: list[Request]) -> list[int]:
    """``in_flight_at_start`` on Python integers, for times beyond int64."""
    starts = sorted(r.start_ns for r in requests)
    ends = sorted(r.end_ns for r in requests)
    return [bisect.bisect_right(starts, r.start_ns) - bisect.bisect_right(ends, r.start_ns)
            for r in requests]


def concurrency_table(requests: list[Request], spans: Spans | None = None
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


def find_ceiling(requests: list[Request], max_examples: int, spans: Spans | None = None
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
