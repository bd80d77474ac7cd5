"""``bulk_analysis``: a ``LogAnalysis`` built from ``EventColumns`` in bulk, not a line at a time.

Why: ``LogAnalysis.feed`` costs 6-8 µs of Python per line across its trackers; a million
line log spends most of ``scaledoc analyze`` there. Most of that state is a function of
groups of rows (the first source of each id, the runs paired by run id, the distinct
sessions of each instance, how many error lines each family has), which numpy computes by
sorting and grouping the columns. What stays Python is per distinct value (a message or
error text classified once, one ``Run`` per run, one ``Request`` per request) or per rare
row (the few lines that become examples, the lines a runtime table matches).

The contract: when ``bulk_analysis`` returns a ``LogAnalysis``, its state is what feeding
``events_from_columns(cols)`` one at a time gives, so ``finish()`` gives the same Evidence
(``tests/test_columnar_bulk.py`` checks it on every case, on generated benchmark logs and
on generated event sequences). Whatever the bulk path does not reproduce exactly makes it
return ``Declined`` with the reason, and the caller feeds events one at a time: declining
is always safe, guessing never is.

Built from the columns: first sources and duplicates, ``failed_run_end`` renames, process
names, runs whose every end closes the oldest open start of its run id (one ``Run`` per
start, ``map`` over columns), requests (open starts popped by their ends, durations),
contamination's in-flight set and per-request entries, instances (events, sessions,
requests, processes, first and last line), sessions by process, the serverless hint,
access flavours, error families (classified once per distinct error/message/status), the
'already running' collision times, and runs another source reported first under other ids
(``_second_name``: dropped, their instance ids made aliases from that line on).

Fed one by one to the tracker itself, in order, because they are few or their tracker
reads nothing the others write: run lines the run id alone does not pair (the key cascade,
up to ``_MAX_REPLAYED``), state reads/writes, tool calls and counter writes
(``StateTracker``, ``FanoutTracker``), history lines (``HistoryTracker``), the lines naming
a user, runtime-table matches (OOM, worker deaths, proxy errors and a proxy's 502/504),
lines searched for another in-flight request's id, and, when lines carry values it
compares within a request (identities, expected/read values, what a tool was asked for),
every line contamination looks at (up to ``_MAX_SCANNED``).

Declined (the caller feeds events): an empty id (falsy yet present); a duration ``int()``
refuses (NaN, inf) or times beyond int64-safe arithmetic; more lines than the replay and
read-back limits above (the per-event path's cost again, so not worth pretending).

Not reproduced, on purpose: memo caches (the hint and runtime-table caches, which only
remember answers the same function gives again) and the iteration order of
``RunTracker.open_by_key`` (the same keys and the same open runs per key; nothing reads
the dict in order).

Memory: the run, request and session lines a report may cite are not copied into
``LineStore`` chunks; ``ColumnLines`` rebuilds a line's excerpt from the columns when a
report asks, so the columns (their texts: a list, or file offsets) stay alive with the
analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from probes.analysis.concurrency import RequestLog, RequestTracker
from probes.analysis.error_families import _STATUS_WORDS as STATUS_WORDS
from probes.analysis.error_families import classify, error_text
from probes.analysis.fields import FIELD_ALIASES, IDENTITY_FIELDS, field_value
from probes.analysis.instances import (
    HINT_RAW_LINES,
    SERVERLESS_FIELD_KEYS,
    SERVERLESS_HINT,
    InstanceStats,
)
from probes.analysis.log_analysis import (
    _IMPORT_ONLY,
    _LOOP_WORDING,
    _PLATFORM_TIMEOUT_TEXT,
    _VERSION_MISMATCH,
    MAX_ALIASES,
    MAX_ERROR_TIMES,
    MAX_PROCESS_NAMES,
    NEVER_HANDLED,
    LogAnalysis,
)
from probes.analysis.runs import LineStore, Run, RunTracker, excerpt, pairing_keys
from probes.analysis.runtime import (
    OOM_TAGS,
    PROXY_NAMES,
    WORKER_DEATH_TAGS,
    failed_run_end,
    match_runtime,
)
from probes.analysis.state import _ID_TOKEN, MIN_ID_LEN, counter_write
from probes.columnar.columns import KIND_CODE, NO_CODE, NO_INT, EventColumns, ListTexts
from probes.events import ERROR as ERROR_LEVEL
from probes.events import EventKind, LogEvent
from probes.ingest.gcpause import gc_paused

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Objs = npt.NDArray[np.object_]

_K = KIND_CODE
_STATUS_WORDS = tuple(STATUS_WORDS)
"""The statuses ``error_text`` puts into words, in a fixed order (a row's status word)."""
_IDENTITY_FIELDS = frozenset({
    *(a for name in ("expected", "value") for a in FIELD_ALIASES[name]), *IDENTITY_FIELDS})
"""Fields contamination compares line by line within a request (identities, an expected
and a read value): their presence makes contamination replayed in order."""
_USER_FIELDS = frozenset(FIELD_ALIASES["user"])
_HISTORY_FIELDS = frozenset(FIELD_ALIASES["history_len"])
_HINT_WORDS = ("lambda", "vercel", "netl", "cloud", "cold", "warm", "hot", "hmr", "refre",
               "next", "nodemon", "watchf", "reload")
"""A piece of every word ``SERVERLESS_HINT`` matches, lower case, free of the letters
(s, k, i) that case-insensitive matching also finds as other characters ('ſ', 'K', 'ı'):
a text lowered without any of them cannot match, so 5,000 raw lines cost one search."""
_MAX_SCANNED = 50_000
"""Lines searched for another in-flight request's id, replayed one by one: beyond this
many the bulk path declines (it would be the per-event path's cost again)."""
_MAX_REPLAYED_CALLS = 50_000
"""Tool-call lines fed one by one to ``FanoutTracker`` (and history lines to
``HistoryTracker``)."""
_MAX_TEXT_READS = 100_000
"""OTHER lines whose raw text is read back one by one (texts not in memory)."""
_MAX_REPLAYED = 20_000
"""Run lines fed one by one to a ``RunTracker`` when they need its key cascade."""
_SAFE_NS = 1 << 62
"""Times and durations (ns) beyond this could overflow int64 arithmetic: declined."""


@dataclass(frozen=True, slots=True)
class Declined:
    """The columns hold something the bulk path does not reproduce exactly: feed events."""

    reason: str


class _Decline(Exception):
    pass


class _Rewritten:
    """A row as the event the trackers see: ``feed`` renames "run_error"-like lines to
    failed run ends and gives aliased instance ids their first name. Kept by the
    ``ColumnLines`` of the analysis (what they need, not the whole build)."""

    __slots__ = ("cols", "renamed", "instance", "aliased")

    def __init__(self, cols: EventColumns) -> None:
        self.cols = cols
        self.renamed: Bools | None = None
        self.instance = cols.instance  # after aliases
        self.aliased: Bools | None = None

    def __call__(self, row: int) -> LogEvent:
        ev = self.cols.event(row)
        if self.renamed is not None and self.renamed[row]:
            ev = replace(ev, kind=EventKind.RUN_END, error=ev.error or ev.message)
        if self.aliased is not None and self.aliased[row]:
            ev = replace(ev, instance=self.cols.strings[int(self.instance[row])])
        return ev


class ColumnLines(LineStore):
    """A ``LineStore`` whose first entries are rows of the columns, read when asked.

    Why: every run's start and end line goes into a ``LineStore`` (its excerpt may be
    cited). Copying a million lines' text into compressed chunks would cost per-line
    Python; here an entry is a row number, and ``event(ref)`` puts the row's event into
    a one-entry ``LineStore`` and reads it back, so the excerpt is exactly the one the
    per-event path's store gives. Lines ``put`` afterwards (feeding continues after the
    bulk build) go into the ordinary store behind the rows."""

    __slots__ = ("_event_at", "_rows", "_row_src", "_row_line", "_names")

    def __init__(self, event_at: Callable[[int], LogEvent], cols: EventColumns,
                 rows: I64) -> None:
        super().__init__()
        self._event_at = event_at
        self._rows = rows
        self._row_src = cols.src
        self._row_line = cols.line
        self._names = cols.sources

    def __len__(self) -> int:
        return len(self._rows) + super().__len__()

    def put(self, ev: LogEvent) -> int:
        return len(self._rows) + super().put(ev)

    def event(self, ref: int) -> LogEvent:
        n = len(self._rows)
        if ref >= n:
            return super().event(ref - n)
        one = LineStore()
        one.put(self._event_at(int(self._rows[ref])))
        return one.event(0)

    def where(self, ref: int) -> str:
        n = len(self._rows)
        if ref >= n:
            return super().where(ref - n)
        row = int(self._rows[ref])
        return f"{self._names[int(self._row_src[row])]}:{int(self._row_line[row])}"


def bulk_analysis(cols: EventColumns, *, max_examples: int = 8,
                  feedable: bool = True) -> LogAnalysis | Declined:
    """The ``LogAnalysis`` that feeding every row of ``cols`` in order would give, built
    from the columns; or ``Declined(reason)`` when the columns hold a shape this path does
    not reproduce exactly (see the module docstring).

    ``feedable=False`` is for a caller that will only ``finish()`` the analysis: the maps
    that only ``feed`` reads (the first source of each run and request id, the first
    source and instance of each request's runs) are left empty, about a fifth of the
    build on a log with one run per request. ``finish()`` gives the same Evidence; feeding
    more events afterwards would not see those ids as already reported."""
    try:
        with gc_paused():  # a build allocates a Python object per run and per request
            return _Builder(cols, max_examples, feedable).build()
    except _Decline as d:
        return Declined(str(d))


def _first_order(keys: I64, span_limit: int = 0) -> tuple[I64, I64, I64]:
    """(distinct keys, the row of each one's first occurrence, each row's group), with
    the groups numbered in order of first occurrence (dicts and sets are filled in that
    order by the per-event path).

    Keys are codes, mostly within a small range: then the first occurrence of each is one
    ``minimum.at`` pass (linear) instead of the sort ``np.unique`` does (a range up to
    ``span_limit``, or twice the keys, is taken as small)."""
    n = len(keys)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    lo, hi = int(keys.min()), int(keys.max())
    if lo >= 0 and hi < max(2 * n + _DENSE_SPAN, span_limit):
        first = np.full(hi + 1, n, dtype=np.int64)
        np.minimum.at(first, keys, np.arange(n, dtype=np.int64))
        present = np.flatnonzero(first < n)
        fo = first[present]
        order = np.argsort(fo, kind="stable")
        rank = np.empty(hi + 1, dtype=np.int64)
        rank[present[order]] = np.arange(len(order), dtype=np.int64)
        return present[order].astype(np.int64), fo[order], rank[keys]
    uniq, first_ix, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first_ix, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(len(order))
    return (uniq[order], first_ix[order].astype(np.int64),
            ranks[inverse.reshape(-1)].astype(np.int64))


_DENSE_SPAN = 1 << 16
"""Keys spanning up to 2 x rows + this are grouped through arrays over the span."""


def _pair_order(a: I64, b: I64) -> tuple[I64, I64, I64, I64]:
    """``_first_order`` of pairs (a, b) of non-negative codes: (a of each distinct pair,
    its b, the row of its first occurrence, each row's pair). Each side is made dense
    first, so the pair's span is (distinct a) x (distinct b), not the string table's
    square."""
    av, _, ai = _first_order(a)
    bv, _, bi = _first_order(b)
    nb = max(len(bv), 1)
    uniq, first, group = _first_order(ai * nb + bi, _PAIR_SPAN)
    return av[uniq // nb], bv[uniq % nb], first, group


_PAIR_SPAN = 1 << 22
"""Pairs of dense codes spanning up to this go through arrays too (32 MB at most)."""


def _rank_in_group(groups: I64) -> I64:
    """For rows already in order, each row's 0-based position among its group's rows."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    sg = groups[order]
    starts = np.r_[0, np.flatnonzero(sg[1:] != sg[:-1]) + 1]
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    out = np.empty(n, dtype=np.int64)
    out[order] = pos
    return out


class _Builder:
    """One bulk build: the columns, the derived per-row arrays, the analysis being filled."""

    def __init__(self, cols: EventColumns, max_examples: int, feedable: bool = True) -> None:
        self.cols = cols
        self.feedable = feedable
        self.a = LogAnalysis(max_examples=max_examples)
        self.keep_n = max_examples
        self.S: Objs = np.array([*cols.strings, None], dtype=object)  # code -1 -> None
        self.source_names: Objs = np.array(cols.sources, dtype=object)
        self.events = _Rewritten(cols)
        self.access_rows: list[int] = []  # REQUEST_END rows whose fields name "access"
        self.proxy_rows: list[tuple[int, str]] = []  # ... whose access names a proxy

    # ------------------------------------------------------------------ helpers
    def ev(self, row: int) -> LogEvent:
        """Row ``row`` as the event the trackers see after ``feed``'s own rewrites."""
        return self.events(row)

    def strs(self, codes: Any) -> list[Any]:
        """Codes as their strings (None for NO_CODE)."""
        return list(self.S[codes].tolist())

    def by_source(self, keys: list[str], rows: I64) -> dict[str, str]:
        """{key: the source of its row}; one source (the usual single file) fills the dict
        without pairing values one by one."""
        if len(self.cols.sources) == 1:
            return dict.fromkeys(keys, self.cols.sources[0])
        return dict(zip(keys, self.sources(rows), strict=True))

    def sources(self, rows: I64) -> list[str]:
        """The source name of each row."""
        return list(self.source_names[self.cols.src[rows]].tolist())

    @staticmethod
    def ints(values: I64) -> list[int | None]:
        out: Objs = values.astype(object)
        out[values == NO_INT] = None
        return list(out.tolist())

    def text(self, row: int) -> str:
        t = self.cols.texts
        return t.items[row] if isinstance(t, ListTexts) else t.text(row)

    # ------------------------------------------------------------------ the build
    def build(self) -> LogAnalysis:
        cols, a = self.cols, self.a
        n = len(cols)
        a.events = n
        if n == 0:
            return a
        self._check_shape()
        src_order = _first_order(cols.src.astype(np.int64))[0]
        a.sources = {cols.sources[int(s)] for s in src_order}
        kind, error = self._renames()
        keep = self._dedupe(kind)
        rows = np.flatnonzero(keep).astype(np.int64)
        self.rows = rows
        if len(rows) == n:  # nothing dropped (the common case): the columns themselves,
            # read only, not five row-long copies (48 MB on the 300 MB benchmark)
            self.kind, self.error = kind, error
            self.time, self.level, self.status = cols.time_ns, cols.level, cols.status
        else:
            self.kind = kind[rows]
            self.error = error[rows]
            self.time = cols.time_ns[rows]
            self.level = cols.level[rows]
            self.status = cols.status[rows]
        self.proc = self._processes()
        a.failure_visible = bool(np.any((self.level != NO_INT) | (self.status != NO_INT)
                                        | (self.error != NO_CODE)
                                        | (self.kind == _K[EventKind.ERROR])))
        # the instances first: their grouping's temporaries (row-long arrays, member
        # lists) then sit on the columns alone, not on every run and request object too
        # (300 MB pino: the build's traced peak 538 -> 432 MB above the columns; RSS
        # gains less, 835 -> 800-818 MB, as the small objects' arenas stay); no other
        # step reads or writes what they build
        self._instances()
        self._runs()
        self._requests()
        self._state()
        self._sessions()
        self._users()
        self._runtime()
        self._errors()
        self._contaminations()
        self._history()
        self._calls()
        return a

    def rows_with(self, names: frozenset[str]) -> I64:
        """Positions (among kept rows) of the rows whose fields hold one of ``names``."""
        hit = [r for r, f in self.cols.fields.items() if f and not names.isdisjoint(f)]
        if not hit:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.isin(self.rows, np.asarray(hit, dtype=np.int64)))

    def _state(self) -> None:
        """``StateTracker.feed``: state reads/writes, tool calls and counter writes, fed to
        it in order (its versions race across processes line by line); it reads nothing
        the other trackers write, and its lines are few next to a log's traffic."""
        kind = self.kind
        fed = np.flatnonzero((kind == _K[EventKind.STATE_READ])
                             | (kind == _K[EventKind.STATE_WRITE])
                             | (kind == _K[EventKind.TOOL_CALL]))
        if len(fed) > _MAX_REPLAYED_CALLS:
            raise _Decline(f"{len(fed)} state and tool-call lines (fed one by one up to "
                           f"{_MAX_REPLAYED_CALLS})")
        writes = self._counter_writes()
        order = sorted([(p, None) for p in fed.tolist()] + writes, key=lambda t: t[0])
        st = self.a.state
        for p, ev in order:
            proc = self.procs(self.proc[[p]])[0]
            st.feed(self.ev(int(self.rows[p])) if ev is None else ev, proc)

    def _users(self) -> None:
        """``InstanceStats.users``: the users each instance served (the first 256, each
        with its first line), from the lines that name a user, in order."""
        stats = self.a.instances.stats
        for p in self.rows_with(_USER_FIELDS).tolist():
            ev = self.ev(int(self.rows[p]))
            st = stats.get(ev.instance) if ev.instance else None
            if st is None:
                continue
            user = field_value(ev, "user")
            if user is not None and str(user) not in st.users and len(st.users) < 256:
                st.users[str(user)] = excerpt(ev, f"instance {ev.instance} serves user {user}")

    def _contaminations(self) -> None:
        """``ContaminationTracker``: built from the columns (in-flight set, per-request
        entries, the replayed id search) unless lines carry values it compares within a
        request (identities, expected/read values) or a tool call logs what it was asked
        for; then every line it would look at is fed to it in order."""
        calls = np.flatnonzero(self.kind == _K[EventKind.TOOL_CALL])
        asked = any('"requested' in self.text(int(r)) for r in self.rows[calls])
        if not asked and len(self.rows_with(_IDENTITY_FIELDS)) == 0:
            self._in_flight()
            self._contamination()
            return
        kind = self.kind
        visit = np.union1d(
            np.flatnonzero((kind == _K[EventKind.REQUEST_START])
                           | (kind == _K[EventKind.REQUEST_END])
                           | (kind == _K[EventKind.TOOL_CALL])),
            np.union1d(self.rows_with(frozenset(self._field_names())),
                       self._busy()))
        if len(visit) > _MAX_SCANNED:
            raise _Decline(f"{len(visit)} lines for contamination's checks, fed one by one")
        c = self.a.contamination
        for p in visit.tolist():
            ev = self.ev(int(self.rows[p]))
            k = ev.kind
            if k is EventKind.REQUEST_START:
                c.request_start(ev)
            if ev.fields or k is EventKind.TOOL_CALL or (ev.request and len(c.active) > 1):
                c.feed(ev)
            if k is EventKind.REQUEST_END and (c.active or c.identities):
                c.request_end(ev)

    def _field_names(self) -> set[str]:
        return {k for f in self.cols.fields.values() if f for k in f}

    def _busy(self) -> I64:
        """Positions of lines with a request id while two or more long request ids are in
        flight (contamination searches their text)."""
        flight = self._flight()
        if flight is None:
            return np.zeros(0, dtype=np.int64)
        present = self.cols.request[self.rows] != NO_CODE
        return np.flatnonzero(present & (flight[1] > 1))

    def _calls(self) -> None:
        """Tool/model calls: ``FanoutTracker`` keeps per-request windows of calls in flight,
        so call lines (a few per request) are fed to it in order."""
        calls = np.flatnonzero(self.kind == _K[EventKind.TOOL_CALL])
        if len(calls) == 0:
            return
        if len(calls) > _MAX_REPLAYED_CALLS:
            raise _Decline(f"{len(calls)} tool calls (fed one by one up to "
                           f"{_MAX_REPLAYED_CALLS})")
        for r in self.rows[calls].tolist():
            self.a.fanout.feed(self.ev(r))

    def _history(self) -> None:
        """History lengths: ``HistoryTracker`` reads only the event (its session, process,
        instance and source), so its lines are fed to it alone, in order."""
        hist = [r for r, f in self.cols.fields.items() if f and not _HISTORY_FIELDS.isdisjoint(f)]
        if not hist:
            return
        rows = self.rows[np.isin(self.rows, np.asarray(hist, dtype=np.int64))]
        if len(rows) > _MAX_REPLAYED_CALLS:
            raise _Decline(f"{len(rows)} history lines (fed one by one up to "
                           f"{_MAX_REPLAYED_CALLS})")
        for row in rows.tolist():
            self.a.history.feed(self.ev(row))

    def _contamination(self) -> None:
        """``ContaminationTracker``: with no identity fields and no in-flight set, what
        remains is ``identities``: an empty entry per request with a fields line after its
        last request end (a request end pops its entry), in order of that line."""
        cols, rows = self.cols, self.rows
        req = cols.request[rows].astype(np.int64)
        has_req = req != NO_CODE
        f = self.has_fields(rows) & has_req
        if not np.any(f):
            return
        is_end = (self.kind == _K[EventKind.REQUEST_END]) & has_req
        last_end = np.full(len(cols.strings), -1, dtype=np.int64)
        ep = np.flatnonzero(is_end)
        np.maximum.at(last_end, req[ep], ep)  # the last end of each request
        fp = np.flatnonzero(f & ~is_end)
        live = fp[fp > last_end[req[fp]]]
        if len(live) == 0:
            return
        codes, _, _ = _first_order(req[live])
        self.a.contamination.identities = {r: {} for r in self.strs(codes)}

    def _check_shape(self) -> None:
        cols = self.cols
        try:
            empty = cols.strings.index("")
        except ValueError:
            return
        for name in ("host", "pid", "instance", "session", "request", "run", "error"):
            if np.any(getattr(cols, name) == empty):
                raise _Decline(f"an empty {name} (falsy but not absent)")

    def has_fields(self, rows: I64) -> Bools:
        """Which of these rows carry non-empty fields."""
        f = self.cols.fields
        if not f:
            return np.zeros(len(rows), dtype=np.bool_)
        with_fields = np.asarray([r for r, d in f.items() if d], dtype=np.int64)
        return np.isin(rows, with_fields)

    def _renames(self) -> tuple[I64, I64]:
        """``failed_run_end``: "run_error", "agent.error"... lines become failed run ends;
        decided once per distinct message."""
        cols = self.cols
        kind = cols.kind.astype(np.int64)
        error = cols.error.astype(np.int64)
        cand = (kind == _K[EventKind.ERROR]) | (kind == _K[EventKind.OTHER])
        msgs = np.unique(cols.message[cand])
        hit = [int(m) for m in msgs
               if failed_run_end(LogEvent(None, "", 0, message=self.cols.strings[int(m)]))]
        if hit:
            renamed = cand & np.isin(cols.message, np.asarray(hit, dtype=np.int32))
            self.events.renamed = renamed
            kind[renamed] = _K[EventKind.RUN_END]
            fill = renamed & (error == NO_CODE)
            error[fill] = cols.message[fill]
            self.a.renamed_run_ends = int(renamed.sum())
        return kind, error

    def _dedupe(self, kind: I64) -> Bools:
        """Run/request events another source reported first are dropped (and counted).
        With one source nothing is a duplicate: only the first-source maps are filled
        (and only when the analysis may be fed further, ``feedable``)."""
        cols, a = self.cols, self.a
        n = len(cols)
        one_source = len(cols.sources) == 1
        is_run = (kind == _K[EventKind.RUN_START]) | (kind == _K[EventKind.RUN_END])
        dup = np.zeros(n, dtype=np.bool_)
        if one_source and not self.feedable:
            return ~dup
        is_req = (kind == _K[EventKind.REQUEST_END]) | (kind == _K[EventKind.REQUEST_START])
        ident = np.where(is_run, cols.run, np.where(is_req, cols.request, NO_CODE)
                         ).astype(np.int64)
        kinds = (EventKind.RUN_START, EventKind.RUN_END, EventKind.REQUEST_START,
                 EventKind.REQUEST_END)
        if one_source:
            for k in kinds:
                has = np.flatnonzero((kind == _K[k]) & (ident != NO_CODE))
                _, first, _ = _first_order(ident[has])
                a._first_source[k] = self.by_source(self.strs(ident[has[first]]), has[first])
        else:
            has = np.flatnonzero(ident != NO_CODE)
            if len(has):
                kinds_of, _, first, group = _pair_order(kind[has], ident[has])
                first_rows = has[first]
                dup[has] = cols.src[has] != cols.src[first_rows][group]
                for k in kinds if self.feedable else ():
                    fr = first_rows[kinds_of == _K[k]]
                    a._first_source[k] = self.by_source(self.strs(ident[fr]), fr)
        # _second_name: a run event of a request whose runs another source reported first
        runs = np.flatnonzero(is_run & ~dup & (cols.request != NO_CODE))
        if len(runs):
            _, first, group = _first_order(cols.request[runs].astype(np.int64))
            first_rows = runs[first]
            own = cols.src[runs] == cols.src[first_rows][group]
            starts = runs[own & (kind[runs] == _K[EventKind.RUN_START])
                          & (cols.instance[runs] != NO_CODE)]
            if not np.all(own):
                self._aliases(runs[~own], starts)
                dup[runs[~own]] = True
            if self.feedable:
                a._first_run_request = self.by_source(self.strs(cols.request[first_rows]),
                                                      first_rows)
            if self.feedable and len(starts):
                _, first, _ = _first_order(cols.request[starts].astype(np.int64))
                fr = starts[first]
                a._first_instance_of_request = dict(zip(
                    self.strs(cols.request[fr]), self.strs(cols.instance[fr]), strict=True))
        a.duplicates = int(dup.sum())
        return ~dup

    def _aliases(self, second: I64, starts: I64) -> None:
        """``_second_name``: run lines of a request whose runs another source reported
        first are dropped; the first time such a line names an instance other than the
        first one that source's starts named for the request (by then), its instance
        becomes an alias of that one for every later line (first alias wins, at most
        ``MAX_ALIASES``)."""
        cols = self.cols
        n, nstr = len(cols), len(cols.strings)
        req = cols.request.astype(np.int64)
        fi_row = np.full(nstr, n, dtype=np.int64)
        np.minimum.at(fi_row, req[starts], starts)
        x = second[cols.instance[second] != NO_CODE]
        seen = fi_row[req[x]]
        x = x[seen < x]  # the first source's instance was known by then
        if len(x) == 0:
            return
        other = cols.instance[fi_row[req[x]]]
        x, other = x[cols.instance[x] != other], other[cols.instance[x] != other]
        if len(x) == 0:
            return
        names, first, _ = _first_order(cols.instance[x].astype(np.int64))
        names, first = names[:MAX_ALIASES], first[:MAX_ALIASES]
        targets = other[first]
        self.a.instance_alias = dict(zip(self.strs(names), self.strs(targets), strict=True))
        alias_row = np.full(nstr, n, dtype=np.int64)
        alias_row[names] = x[first]
        alias_to = np.arange(nstr, dtype=np.int64)
        alias_to[names] = targets
        inst = cols.instance.astype(np.int64)
        has = np.flatnonzero(inst != NO_CODE)
        moved = has[has > alias_row[inst[has]]]
        instance = cols.instance.copy()
        instance[moved] = alias_to[inst[moved]]
        aliased = np.zeros(n, dtype=np.bool_)
        aliased[moved] = True
        self.events.instance, self.events.aliased = instance, aliased

    def _processes(self) -> I64:
        """Each kept row's process name as an index into ``self.proc_names`` (-1: none):
        "host/pid" when both are known, else whichever is."""
        cols, rows = self.cols, self.rows
        hc, pc, _, group = _pair_order(cols.host[rows].astype(np.int64) + 1,
                                       cols.pid[rows].astype(np.int64) + 1)
        hosts, pids = self.strs(hc - 1), self.strs(pc - 1)
        names: dict[str, int] = {}
        combo_proc = np.empty(len(hc), dtype=np.int64)
        cache = self.a._process_names
        for i, (h, p) in enumerate(zip(hosts, pids, strict=True)):
            if h and p:
                proc = f"{h}/{p}"
                if len(cache) < MAX_PROCESS_NAMES:
                    cache[(h, p)] = proc
            else:
                proc = h or p
            combo_proc[i] = -1 if proc is None else names.setdefault(proc, len(names))
        self.proc_names: Objs = np.array([*names, None], dtype=object)
        return combo_proc[group]

    def grouped(self, groups: I64, codes: I64) -> list[tuple[int, list[str]]]:
        """(group, its codes' strings in the given order) for each group present."""
        order = np.argsort(groups, kind="stable")
        g = groups[order]
        cuts = np.flatnonzero(g[1:] != g[:-1]) + 1
        names = self.S[codes[order]]
        return [(int(g[lo]), list(part.tolist()))
                for lo, part in zip(np.r_[0, cuts].tolist(), np.split(names, cuts),
                                    strict=True)]

    def procs(self, ix: I64) -> list[Any]:
        return list(self.proc_names[ix].tolist())

    # ------------------------------------------------------------------ runs
    def _runs(self) -> None:
        """``RunTracker``: built from the columns when every run end closes the oldest open
        start of its run id; otherwise, for a few thousand run lines at most, the run lines
        alone are fed to a ``RunTracker`` in order (the key cascade, synthesized starts and
        orphan ends are then its own); beyond that, declined."""
        kind = self.kind
        is_run = (kind == _K[EventKind.RUN_START]) | (kind == _K[EventKind.RUN_END])
        rpos = np.flatnonzero(is_run)  # positions among kept rows
        self.run_end_start = np.full(len(self.rows), NO_INT, dtype=np.int64)
        if len(rpos) == 0:
            return
        try:
            self._paired_runs(rpos)
        except _Decline:
            if len(rpos) > _MAX_REPLAYED:
                raise
            self._replay_runs(rpos)

    def _replay_runs(self, rpos: I64) -> None:
        rt = self.a.runs = RunTracker()
        for pos, proc in zip(rpos.tolist(), self.procs(self.proc[rpos]), strict=True):
            ev = self.ev(int(self.rows[pos]))
            if ev.kind is EventKind.RUN_START:
                rt.start(ev, proc)
                continue
            rt.end(ev, proc)
            run = rt.last_closed
            if run is not None and run.start_ns is not None:
                self.run_end_start[pos] = run.start_ns

    def _paired_runs(self, rpos: I64) -> None:
        cols, a, rows, kind = self.cols, self.a, self.rows, self.kind
        rt = a.runs
        rrows = rows[rpos]
        rkind = kind[rpos]
        rt.untimed = int(np.sum(self.time[rpos] == NO_INT))
        is_start = rkind == _K[EventKind.RUN_START]
        s_i = np.flatnonzero(is_start)  # indices into the run rows (= LineStore refs)
        e_i = np.flatnonzero(~is_start)
        run_code = cols.run[rrows].astype(np.int64)
        if np.any(run_code[e_i] == NO_CODE):
            raise _Decline("a run end with no run id (paired by the key cascade)")
        # FIFO per run id: the k-th end of an id closes its k-th start, which must come first
        sid = s_i[run_code[s_i] != NO_CODE]
        s_ord = sid[np.argsort(run_code[sid], kind="stable")]
        e_ord = e_i[np.argsort(run_code[e_i], kind="stable")]
        s_codes, e_codes = run_code[s_ord], run_code[e_ord]
        e_rank = np.arange(len(e_ord)) - np.searchsorted(e_codes, e_codes, side="left")
        s_lo = np.searchsorted(s_codes, e_codes, side="left")
        s_hi = np.searchsorted(s_codes, e_codes, side="right")
        if np.any(e_rank >= s_hi - s_lo):
            raise _Decline("a run end with no open start of its run id")
        paired_s = s_ord[s_lo + e_rank]
        if np.any(paired_s >= e_ord):
            raise _Decline("a run end before the start of its run id")
        # runs: one per start, in order; end index (into the run rows) or -1
        start_no = np.full(len(rrows), -1, dtype=np.int64)
        start_no[s_i] = np.arange(len(s_i))
        end_of = np.full(len(s_i), -1, dtype=np.int64)
        end_of[start_no[paired_s]] = e_ord
        closed = end_of >= 0
        srow, erow = rrows[s_i], np.where(closed, rrows[np.maximum(end_of, 0)], -1)

        def merged(col: Any) -> I64:
            v = col[srow].astype(np.int64)
            alt = col[erow].astype(np.int64)
            return np.where((v == NO_CODE) & closed, alt, v)

        spos, epos = rpos[s_i], rpos[np.maximum(end_of, 0)]
        proc = self.proc[spos]
        proc = np.where((proc < 0) & closed, self.proc[epos], proc)
        run_ids = self.strs(run_code[s_i])
        for i in np.flatnonzero(run_code[s_i] == NO_CODE).tolist():
            run_ids[i] = f"#{i + 1}"
        start_ns = self.ints(self.time[spos])
        end_ns: list[int | None] = [None] * len(s_i)
        outcome: list[str | None] = [None] * len(s_i)
        ci = np.flatnonzero(closed)
        if len(ci):
            te = self.time[epos]
            end_obj: Objs = te.astype(object)
            end_obj[(te == NO_INT) | ~closed] = None
            end_ns = list(end_obj.tolist())
            # outcome: the error text, else "status N" from 500 up, else "ok"
            err, st = self.error[epos], self.status[epos]
            out: Objs = np.full(len(s_i), "ok", dtype=object)
            bad = st >= 500
            if np.any(bad):
                codes, inv = np.unique(st[bad], return_inverse=True)
                out[bad] = np.array([f"status {c}" for c in codes.tolist()],
                                    dtype=object)[inv.reshape(-1)]
            has_err = err != NO_CODE
            out[has_err] = self.S[err[has_err]]
            out[~closed] = None
            outcome = list(out.tolist())
        lines = ColumnLines(self.events, cols, rrows)
        keys: list[tuple[tuple[str, ...], ...]] = [()] * len(s_i)
        open_i = np.flatnonzero(~closed).tolist()
        insts, sess, reqs, procs = (self.strs(merged(self.events.instance)), self.strs(merged(
            cols.session)), self.strs(merged(cols.request)), self.procs(proc))
        for i in open_i:
            keys[i] = pairing_keys(LogEvent(None, "", 0, instance=insts[i], request=reqs[i],
                                            run=run_ids[i] if run_code[s_i[i]] != NO_CODE
                                            else None), procs[i])
        has_id = (run_code[s_i] != NO_CODE).tolist()
        rt.runs = list(map(Run, run_ids, insts, sess, reqs, procs, start_ns, end_ns, outcome,
                           repeat(lines), s_i.tolist(), np.where(closed, end_of, -1).tolist(),
                           keys, repeat(False), has_id))
        rt.lines = lines
        rt._seq = len(s_i)
        for i in open_i:
            run = rt.runs[i]
            for k in run.keys:
                rt.open_by_key.setdefault(k, []).append(run)
        if len(e_i):
            # the latest end closed its run last (every end closes one here)
            j = int(np.flatnonzero(e_ord == e_i[-1])[0])
            rt.last_closed = rt.runs[int(start_no[paired_s[j]])]
        # for _note_collision: each run end row's run start (its last_closed)
        self.run_end_start[epos[ci]] = self.time[spos[ci]]

    # ------------------------------------------------------------------ requests
    def _requests(self) -> None:
        cols, a, rows = self.cols, self.a, self.rows
        a.request_event_seen = bool(np.any((self.kind == _K[EventKind.REQUEST_END])
                                           | (self.kind == _K[EventKind.REQUEST_START])))
        popped = self._open_requests()
        q = np.flatnonzero(self.kind == _K[EventKind.REQUEST_END])
        if len(q) == 0:
            return
        a.request_ends = len(q)
        qrows = rows[q]
        flavours: dict[tuple[str, str], int] = {}
        for row in qrows[self.has_fields(qrows)].tolist():
            fields = cols.fields[row]
            if "access" in fields:
                self.access_rows.append(row)
            flavour = fields.get("access")
            if isinstance(flavour, str):
                low = flavour.lower()
                proxy = next((p for p in PROXY_NAMES if p in low), None) if flavour else None
                if proxy is not None:
                    self.proxy_rows.append((row, proxy))
                key = (cols.sources[int(cols.src[row])], flavour)
                flavours[key] = flavours.get(key, 0) + 1
        if len(flavours) >= 64:
            raise _Decline("64 or more access-log flavours (the per-event count stops there)")
        a.access_flavours.update(flavours)
        failed = ((self.error[q] != NO_CODE) | (self.status[q] >= 500)
                  | (self.level[q] >= ERROR_LEVEL))
        a.request_failures = int(failed.sum())
        for row in qrows[failed][: self.keep_n].tolist():
            ev = self.ev(row)
            a.request_failure_examples.append(excerpt(
                ev, "request failed" + (f" with status {ev.status}"
                                        if ev.status is not None else "")))
        self._fill(a.requests, q, popped, failed)

    def _fill(self, tracker: RequestTracker, q: I64, popped: I64, failed: Bools) -> None:
        """``RequestTracker.end`` for the REQUEST_END rows at positions ``q`` (in order),
        given the start each pops from the open dict (NO_INT: none) and whether it failed:
        the requests with a start and an end, their count of unmatched ends, and the end
        lines of the failed ones."""
        cols = self.cols
        qrows = self.rows[q]
        t = self.time[q]
        has_dur = cols.has_duration[qrows]
        made = (t != NO_INT) & (has_dur | (popped != NO_INT))
        tracker.unmatched_ends = int(len(q) - made.sum())
        mi = np.flatnonzero(made)
        if len(mi) == 0:
            return
        tm, dm = t[mi], has_dur[mi]
        start = popped[mi].copy()
        durs = np.empty(len(mi), dtype=np.float64)
        if np.any(dm):
            d = cols.duration_ms[qrows[mi[dm]]]
            start[dm] = tm[dm] - self._span_ns(d, tm[dm])
            durs[dm] = d
        if not np.all(dm):
            gap = tm[~dm] - start[~dm]
            if np.any(np.abs(gap) >= 1 << 53):
                raise _Decline("a request longer than float64 holds in exact nanoseconds")
            durs[~dm] = gap / 1_000_000  # exact ints: as Python's int / int
        fails = failed[mi]
        ref = np.full(len(mi), -1, dtype=np.int64)
        ref[fails] = np.arange(int(fails.sum()))
        lines = ColumnLines(self.events, cols, qrows[mi][fails])
        tracker.lines = lines
        tracker.requests = RequestLog.of_columns(
            lines, start, tm, fails, durs, ref, self.strs(cols.request[qrows[mi]]))

    def _open_requests(self) -> I64:
        """``RequestTracker.start``/``end``'s open dict: for each REQUEST_END row (in
        order), the start time it pops (NO_INT: none); ``open`` is left as the per-event
        path leaves it. Per request, timed starts and timed ends in row order: an end pops
        the latest start after the previous end."""
        cols, a = self.cols, self.a
        kind, t = self.kind, self.time
        req = cols.request[self.rows].astype(np.int64)
        q = np.flatnonzero(kind == _K[EventKind.REQUEST_END])
        popped = np.full(len(q), NO_INT, dtype=np.int64)
        is_s = (kind == _K[EventKind.REQUEST_START]) & (req != NO_CODE) & (t != NO_INT)
        if not np.any(is_s):
            return popped
        is_e = (kind == _K[EventKind.REQUEST_END]) & (req != NO_CODE) & (t != NO_INT)
        p = np.flatnonzero(is_s | is_e)
        order = np.argsort(req[p], kind="stable")
        ps, rs, starts = p[order], req[p][order], is_s[p][order]
        idx = np.arange(len(ps))
        group_lo = np.searchsorted(rs, rs, side="left")
        last_s = np.maximum.accumulate(np.where(starts, idx, -1))
        last_e = np.maximum.accumulate(np.where(~starts, idx, -1))
        prev_e = np.r_[-1, last_e[:-1]]
        # an end pops the latest start of its request after the previous end of it
        ends = ~starts
        hit = ends & (last_s >= group_lo) & (last_s > prev_e)
        got = np.full(len(ps), NO_INT, dtype=np.int64)
        got[hit] = t[ps[last_s[hit]]]
        popped[np.searchsorted(q, ps[ends])] = got[ends]
        # what stays open: a start after the last end of its request; dict order is the
        # first such start (a later start only replaces the value)
        group_hi = np.searchsorted(rs, rs, side="right") - 1
        last = np.flatnonzero(idx == group_hi)
        le = np.where(last_e[last] >= group_lo[last], last_e[last], -1)
        stay = last_s[last] > le
        if np.any(stay):
            first_after = np.empty(int(stay.sum()), dtype=np.int64)
            for j, (lo, e) in enumerate(zip(group_lo[last[stay]].tolist(),
                                            le[stay].tolist(), strict=True)):
                first_after[j] = max(lo, e + 1)
            order2 = np.argsort(ps[first_after], kind="stable")
            vals = t[ps[last_s[last[stay]]]]
            a.requests.open = dict(zip(self.strs(rs[last[stay]][order2]),
                                       vals[order2].tolist(), strict=True))
        return popped

    def _flight(self) -> tuple[Bools, I64, I64] | None:
        """(rows that move a request in or out of the in-flight set, the set's size when
        each row is looked at, the positions of the starts still in flight at the end in
        order), or None when no request start has a long id."""
        cols, kind = self.cols, self.kind
        starts_k = kind == _K[EventKind.REQUEST_START]
        if not np.any(starts_k):
            return None
        req = cols.request[self.rows].astype(np.int64)
        present = req != NO_CODE
        long_ids = np.asarray([len(x) >= MIN_ID_LEN for x in cols.strings] + [False])
        tracked = present & long_ids[req] & (starts_k | (kind == _K[EventKind.REQUEST_END]))
        p = np.flatnonzero(tracked)
        if len(p) == 0:
            return None
        order = np.argsort(req[p], kind="stable")
        ps, rs, is_s = p[order], req[p][order], starts_k[p][order]
        first = np.r_[True, rs[1:] != rs[:-1]]
        prev_s = np.r_[False, is_s[:-1]] & ~first
        delta = np.zeros(len(self.rows), dtype=np.int64)
        delta[ps[is_s & ~prev_s]] = 1  # a start enters unless its request is in already
        delta[ps[~is_s & prev_s]] = -1  # an end leaves when its request was in
        size = np.cumsum(delta)
        size_at_feed = size - np.where(delta < 0, delta, 0)  # an end is fed before it leaves
        last = np.r_[~first[1:], False] == False  # noqa: E712 - the last event per request
        inside = np.sort(ps[np.flatnonzero(last & is_s)])
        return tracked, size_at_feed, inside

    def _in_flight(self) -> None:
        """Contamination's in-flight set: requests (ids of 8+ characters) between their
        start and end lines. While two or more are in flight, every line with a request id
        has its text searched for another in-flight id; those lines (rare in bulk logs, or
        declined when many) are replayed in order."""
        cols, a, kind = self.cols, self.a, self.kind
        c = a.contamination
        flight = self._flight()
        if flight is None:
            return
        tracked, size_at_feed, inside = flight
        req = cols.request[self.rows].astype(np.int64)
        present = req != NO_CODE
        c.active = set(self.strs(req[inside]))
        ps = np.flatnonzero(tracked)
        scan = np.flatnonzero(present & (size_at_feed > 1))
        if len(scan) == 0:
            return
        if len(scan) > _MAX_SCANNED:
            raise _Decline(f"{len(scan)} lines while two or more long request ids are in "
                           "flight (each line's text is searched for another's id)")
        active: set[str] = set()
        events = np.union1d(scan, ps)
        kinds = kind[events]
        names = self.strs(req[events])
        for pos, k, r in zip(events.tolist(), kinds.tolist(), names, strict=True):
            if k == _K[EventKind.REQUEST_START] and tracked[pos]:
                active.add(r)
            if len(active) > 1 and r:
                row = int(self.rows[pos])
                text = self.text(row)
                if text:
                    for tok in _ID_TOKEN.findall(text):
                        if tok != r and tok in active:
                            c._hit(self.ev(row), f"request {r}'s line names request {tok}, "
                                                 "in flight at the same time")
                            break
            if k == _K[EventKind.REQUEST_END] and tracked[pos]:
                active.discard(r)

    @staticmethod
    def _span_ns(dur: Any, t: I64) -> I64:
        """``int(duration_ms * NS_PER_MS)`` for each row, or decline where Python's ``int``
        would raise (NaN, inf) or int64 could overflow."""
        ns = dur * 1_000_000
        if not np.all(np.isfinite(ns)) or np.any(np.abs(ns) >= _SAFE_NS) \
                or np.any(np.abs(t) >= _SAFE_NS):
            raise _Decline("a duration or time beyond int64-safe arithmetic (or NaN)")
        return np.trunc(ns).astype(np.int64)

    # ------------------------------------------------------------------ state
    def _counter_writes(self) -> list[tuple[int, LogEvent | None]]:
        """OTHER lines whose text reports a counter's new value, as the versioned writes
        ``StateTracker`` is fed (with their positions). The guard is a substring test on
        each OTHER line's raw text: cheap on texts held in memory; texts read back from
        files cost a read each, so beyond ``_MAX_TEXT_READS`` such lines it declines."""
        a = self.a
        other = np.flatnonzero(self.kind == _K[EventKind.OTHER])
        found = self.cols.texts.rows_containing(self.rows[other], (b'"new', b"new="))
        if found is not None:
            # the texts name the few lines that may hold one (a file scan, or the list)
            may = other[np.isin(self.rows[other], found)].tolist()
            hit = [p for p in may
                   if '"new' in (t := self.text(int(self.rows[p]))) or "new=" in t]
        elif len(other) > _MAX_TEXT_READS:
            raise _Decline(f"{len(other)} lines of no known kind, each read back from its "
                           "file to look for a counter write")
        else:
            hit = [p for p in other.tolist()
                   if '"new' in (t := self.text(int(self.rows[p]))) or "new=" in t]
        out: list[tuple[int, LogEvent | None]] = []
        for p in hit:
            ev = self.ev(int(self.rows[p]))
            cw = counter_write(ev)
            if cw is None:
                continue
            a.counter_writes += 1
            out.append((p, replace(ev, kind=EventKind.STATE_WRITE,
                                   fields={**(ev.fields or {}), "key": cw[0] or "counter",
                                           "version": cw[1]})))
        return out

    def _sessions(self) -> None:
        """``StateTracker.session_process``: the processes of each session, and the line of
        its first appearance on each of its first three."""
        cols, a = self.cols, self.a
        sess = cols.session[self.rows].astype(np.int64)
        p = np.flatnonzero((sess != NO_CODE) & (self.proc >= 0))
        if len(p) == 0:
            return
        s_codes, procs, first, _ = _pair_order(sess[p], self.proc[p])
        rank = _rank_in_group(s_codes)
        names, pnames = self.strs(s_codes), self.procs(procs)
        st = a.state
        for s, pr in zip(names, pnames, strict=True):
            got = st.processes_by_session.get(s)
            if got is None:
                st.processes_by_session[s] = {pr}
            else:
                got.add(pr)
        put = np.flatnonzero(rank < 3)
        st.lines = ColumnLines(self.events, cols, self.rows[p[first[put]]])
        for ref, i in enumerate(put.tolist()):
            st.session_lines.setdefault(names[i], []).append((ref, pnames[i]))

    # ------------------------------------------------------------------ instances
    def _instances(self) -> None:
        cols, a, rows, kind = self.cols, self.a, self.rows, self.kind
        it = a.instances
        self._hint()
        inst = self.events.instance[rows].astype(np.int64)
        req = cols.request[rows].astype(np.int64)
        agentish = ((kind == _K[EventKind.CREATED]) | (kind == _K[EventKind.RUN_START])
                    | (kind == _K[EventKind.RUN_END]))
        ar = np.flatnonzero((req != NO_CODE) & ((inst != NO_CODE) | agentish))
        if len(ar):
            it.agent_requests = set(self.strs(_first_order(req[ar])[0]))
        created = np.flatnonzero(kind == _K[EventKind.CREATED])
        if len(created):
            it.created = len(created)
            ci = created[inst[created] != NO_CODE]
            if len(ci):
                it.created_ids = set(self.strs(_first_order(inst[ci])[0][:4096]))
            cr = created[req[created] != NO_CODE]
            if len(cr):
                it.created_requests = set(self.strs(_first_order(req[cr])[0]))
            for row in rows[created][: self.keep_n].tolist():
                ev = self.ev(row)
                it.created_examples.append(excerpt(
                    ev, f"instance {ev.instance or '?'} created"
                        + (f" for request {ev.request}" if ev.request else "")))
        ip = np.flatnonzero(inst != NO_CODE)
        if len(ip) == 0:
            return
        named = [r for r, f in cols.fields.items() if f and "instance_from" in f]
        if named:
            fp = ip[np.isin(rows[ip], np.asarray(named, dtype=np.int64))]
            it.inferred_ids = set(self.strs(_first_order(inst[fp])[0][:4096]))
        icodes, _, group = _first_order(inst[ip])
        names = self.strs(icodes)
        stats = [InstanceStats(nm) for nm in names]
        it.stats = dict(zip(names, stats, strict=True))
        for st, c in zip(stats, np.bincount(group, minlength=len(names)).tolist(), strict=True):
            st.events = c
        # sessions, in order of first appearance; the first four new ones are examples
        sess = cols.session[rows[ip]].astype(np.int64)
        sp = np.flatnonzero(sess != NO_CODE)
        if len(sp):
            g, s, first, _ = _pair_order(group[sp], sess[sp])
            snames = self.strs(s)
            for gi, members in self.grouped(g, s):
                stats[gi].sessions = set(members)
            rank = _rank_in_group(g)
            for j in np.flatnonzero(rank < 4).tolist():
                st = stats[int(g[j])]
                ev = self.ev(int(rows[ip[sp[first[j]]]]))
                st.session_examples.append(excerpt(
                    ev, f"instance {st.id} serves session {snames[j]} ({int(rank[j]) + 1} so far)"))
        # requests, and the last one each instance saw
        rq = req[ip]
        rp = np.flatnonzero(rq != NO_CODE)
        if len(rp):
            g, r, _, _ = _pair_order(group[rp], rq[rp])
            for gi, members in self.grouped(g, r):
                stats[gi].requests = set(members)
            last = np.full(len(names), -1, dtype=np.int64)
            np.maximum.at(last, group[rp], rp)  # each instance's last row with a request
            for gi in np.flatnonzero(last >= 0).tolist():
                stats[gi].last_request = self.S[int(rq[last[gi]])]
        # processes: the first 64 per instance
        pr = self.proc[ip]
        pp = np.flatnonzero(pr >= 0)
        if len(pp):
            g, pcodes, _, _ = _pair_order(group[pp], pr[pp])
            keep = _rank_in_group(g) < 64
            for gi, pn in zip(g[keep].tolist(), self.procs(pcodes[keep]), strict=True):
                stats[gi].processes.add(pn)
        # first and last time: the earliest row holding the minimum / maximum
        t = self.time[ip]
        tp = np.flatnonzero(t != NO_INT)
        if len(tp):
            g, tt = group[tp], t[tp]
            ng = len(names)
            for last_side in (False, True):
                # the extreme time per instance, then the earliest row holding it
                best = np.full(ng, NO_INT if last_side else np.iinfo(np.int64).max,
                               dtype=np.int64)
                (np.maximum if last_side else np.minimum).at(best, g, tt)
                hold = np.flatnonzero(tt == best[g])
                at = np.full(ng, len(tp), dtype=np.int64)
                np.minimum.at(at, g[hold], hold)
                for gi in np.flatnonzero(at < len(tp)).tolist():
                    k = int(at[gi])
                    st = stats[gi]
                    ev = self.ev(int(rows[ip[tp[k]]]))
                    if last_side:
                        st.last_ns, st.last_ev = int(tt[k]), ev
                    else:
                        st.first_ns, st.first_ev = int(tt[k]), ev

    def _hint(self) -> None:
        """``InstanceTracker``'s serverless hint: a line with a serverless platform's
        fields, else the raw text of the first ``HINT_RAW_LINES`` lines, then messages (each
        distinct message searched once); whichever line comes first."""
        cols, it, rows = self.cols, self.a.instances, self.rows
        flagged = [r for r, f in cols.fields.items()
                   if f and not SERVERLESS_FIELD_KEYS.isdisjoint(f)]
        stop = len(rows)  # the first line with platform fields, if any
        if flagged:
            at = np.flatnonzero(np.isin(rows, np.asarray(flagged, dtype=np.int64)))
            if len(at):
                stop = int(at[0])
        found = self._hint_by_words(stop)
        if found is not None:
            j, note = found
            it.hint_looked = j + 1
            it.hint = excerpt(self.ev(int(rows[j])), note)
        elif stop < len(rows):
            it.hint_looked = stop + 1
            it.hint = excerpt(self.ev(int(rows[stop])), "serverless platform fields on this line")
        else:
            it.hint_looked = len(rows)

    def _hint_by_words(self, stop: int) -> tuple[int, str] | None:
        """The first position before ``stop`` whose raw text (first lines) or message
        (later lines) names a serverless platform or a reloader, with the note."""
        cols, rows = self.cols, self.rows
        head = min(HINT_RAW_LINES, stop)
        texts = [self.text(int(r)) or cols.strings[int(cols.message[r])] for r in rows[:head]]
        low = "\n".join(texts).lower()
        for j in range(head) if any(w in low for w in _HINT_WORDS) else ():
            text = texts[j]
            m = SERVERLESS_HINT.search(text) if text else None
            if m:
                return j, f"serverless / hot-reload hint: {m.group(0)!r}"
        if head >= stop:
            return None
        msg = cols.message[rows[head:stop]]
        codes = np.unique(msg)
        hits = [int(c) for c in codes.tolist()
                if cols.strings[c] and SERVERLESS_HINT.search(cols.strings[c])]
        if not hits:
            return None
        j = head + int(np.flatnonzero(np.isin(msg, np.asarray(hits, dtype=np.int32)))[0])
        m = SERVERLESS_HINT.search(cols.strings[int(cols.message[rows[j]])])
        assert m is not None
        return j, f"serverless / hot-reload hint: {m.group(0)!r}"

    # ------------------------------------------------------------------ runtime
    def _runtime(self) -> None:
        """``RuntimeTracker``: the tables are matched once per distinct error and message;
        the (rare) matching lines go through the tracker itself, in order."""
        cols, a, rows = self.cols, self.a, self.rows
        rt = a.runtime
        rt.process_starts = int(np.sum(self.kind == _K[EventKind.PROCESS_START]))
        cache = rt._cache
        err, msg = self.error, cols.message[rows]

        def hits(codes: Any) -> Bools:
            uniq = np.unique(codes[codes != NO_CODE])
            good = [c for c in uniq.tolist()
                    if cols.strings[c] and match_runtime(cols.strings[c], cache)]
            return np.isin(codes, np.asarray(good, dtype=np.int64))

        err_hit = hits(err)
        msg_hit = hits(msg.astype(np.int64))
        empty_msg = np.zeros(len(rows), dtype=np.bool_)
        if "" in cols.strings:
            empty_msg = msg == cols.strings.index("")
        fatal = np.zeros(len(rows), dtype=np.bool_)
        try:
            tagged = [r for r, f in cols.fields.items() if f and (
                f.get("fatal") in OOM_TAGS or f.get("fatal") in WORKER_DEATH_TAGS)]
        except TypeError as e:  # an unhashable tag: the per-event path raises there too
            raise _Decline("a fatal tag that is not a string") from e
        if tagged:
            fatal = np.isin(rows, np.asarray(tagged, dtype=np.int64))
        proxy_of: dict[int, str] = {}
        if self.proxy_rows:
            proxy_of = dict(self.proxy_rows)
            prow = np.asarray(list(proxy_of), dtype=np.int64)
            ppos = np.flatnonzero(np.isin(rows, prow))
            rt.proxy_requests = len(ppos)
            rt.proxies = set(dict.fromkeys(proxy_of.values()))
            pst = self.status[ppos]
            rt.gateway_access = int(np.isin(pst, (502, 504)).sum())
            rt.gateway_access_timeouts = int((pst == 504).sum())
            self._fill(rt.proxy_reqs, ppos, np.full(len(ppos), NO_INT, dtype=np.int64),
                       (self.error[ppos] != NO_CODE) | (pst >= 500)
                       | (self.level[ppos] >= ERROR_LEVEL))
            fatal[ppos[np.isin(pst, (502, 504))]] = True  # their gateway sightings, in order
        if not isinstance(cols.texts, ListTexts) and int(empty_msg.sum()) > _MAX_TEXT_READS:
            raise _Decline(f"{int(empty_msg.sum())} lines with no message, each read back "
                           "from its file for the runtime tables")
        cand = np.flatnonzero(err_hit | msg_hit | empty_msg | fatal)
        for p in cand.tolist():
            row = int(rows[p])
            ev = self.ev(row)
            proxy = proxy_of.get(row)
            if proxy is not None and ev.status in (502, 504):
                rt.gateway.add(ev, str(ev.status), None,
                               f"{proxy} answered {ev.status}"
                               + (f" after {ev.duration_ms:.0f} ms"
                                  if ev.duration_ms is not None else ""), self.keep_n)
            rt.sight(ev)

    # ------------------------------------------------------------------ errors
    def _errors(self) -> None:
        """``is_error_event`` / ``_count_error``: classified once per distinct (error,
        message, status word, handled); counted with bincount; the first few lines of
        each outcome become examples."""
        cols, a, rows, kind = self.cols, self.a, self.rows, self.kind
        lv, st, err = self.level, self.status, self.error
        is_err = ((err != NO_CODE) | (kind == _K[EventKind.ERROR]) | (lv >= ERROR_LEVEL)
                  | (st >= 500) | np.isin(st, _STATUS_WORDS))
        ep = np.flatnonzero(is_err)
        a.errors_total = len(ep)
        if len(ep) == 0:
            return
        handled = ((lv[ep] != NO_INT) & (lv[ep] < ERROR_LEVEL) & ~(st[ep] >= 500)
                   & (st[ep] != 409))
        failing = ~handled & (kind[ep] == _K[EventKind.ERROR])
        a.failing_errors = int(failing.sum())
        for row in rows[ep[failing]][: self.keep_n].tolist():
            ev = self.ev(row)
            a.failing_error_examples.append(excerpt(ev, "error logged" + a._who(ev)))
        sw = np.zeros(len(ep), dtype=np.int64)
        for i, s in enumerate(_STATUS_WORDS):
            sw[st[ep] == s] = i + 1
        nstr = len(cols.strings) + 1
        msg = cols.message[rows[ep]].astype(np.int64)
        access = np.isin(rows[ep], np.asarray(self.access_rows, dtype=np.int64))
        resolver = np.isin(rows[ep], np.asarray(
            [r for r, f in cols.fields.items() if f and "resolver" in f], dtype=np.int64))
        key = (((((err[ep] + 1) * nstr + msg) * 6 + sw) * 2 + access) * 2 + resolver) * 2 \
            + handled
        uniq, _, combo = _first_order(key)
        counts = np.bincount(combo, minlength=len(uniq))
        combos: list[list[tuple[str, bool]]] = []  # per combo: (family, handled there)
        collide = np.zeros(len(uniq), dtype=np.bool_)
        for ci, (k, c) in enumerate(zip(uniq.tolist(), counts.tolist(), strict=True)):
            h = bool(k % 2)
            k //= 2
            res = bool(k % 2)
            k //= 2
            acc = bool(k % 2)
            k //= 2
            w = k % 6
            k //= 6
            e, m = k // nstr - 1, k % nstr
            probe = LogEvent(None, "", 0, message=cols.strings[m],
                             error=None if e < 0 else cols.strings[e],
                             status=None if w == 0 else _STATUS_WORDS[w - 1],
                             kind=EventKind.REQUEST_END if acc else EventKind.OTHER,
                             fields={"access": None} if acc else None)
            text = error_text(probe)
            fams = classify(text)
            if res and _VERSION_MISMATCH not in fams:
                fams = (*fams, _VERSION_MISMATCH)
            out: list[tuple[str, bool]] = []
            if not fams:
                a.unclassified += c
            for f in fams:
                a.family_counts[f.name] += c
                if h and f.name in NEVER_HANDLED:
                    h = False
                if h:
                    a.family_handled[f.name] += c
                elif f.name == "already_running":
                    collide[ci] = True
                    if _LOOP_WORDING.search(text):
                        a.loop_wording += c
                if f.name == "version_mismatch" and _IMPORT_ONLY.search(text) and not res:
                    a.import_only_mismatch += c
                if f.name == "platform_timeout" and not _PLATFORM_TIMEOUT_TEXT.search(text):
                    a.bad_gateway_only += c
                out.append((f.name, h))
            combos.append(out)
        # examples: the first lines of each family, in order, and of the unclassified
        none = np.asarray([not fs for fs in combos], dtype=np.bool_)
        for row in rows[ep[none[combo]]][: self.keep_n].tolist():
            a.unclassified_examples.append(excerpt(self.ev(row), "error of no known family"))
        fam_names = sorted({f for fs in combos for f, _ in fs})
        for fam in fam_names:
            has = np.asarray([any(f == fam for f, _ in fs) for fs in combos], dtype=np.bool_)
            for p in np.flatnonzero(has[combo])[: self.keep_n].tolist():
                ev = self.ev(int(rows[ep[p]]))
                hd = next(h for f, h in combos[int(combo[p])] if f == fam)
                a.family_examples[fam].append(excerpt(
                    ev, f"error family {fam}" + a._who(ev)
                    + (" (logged below error level: handled)" if hd else "")))
        self._collisions(ep[collide[combo]])

    def _collisions(self, pos: I64) -> None:
        """``_note_collision``: when each failing 'already running' line's run or request
        began (end minus duration, or its run's start) up to the line."""
        cols, a = self.cols, self.a
        if len(pos) == 0:
            return
        t = self.time[pos]
        timed = t != NO_INT
        a.already_running_untimed = int((~timed).sum())
        pos, t = pos[timed][:MAX_ERROR_TIMES], t[timed][:MAX_ERROR_TIMES]
        if len(pos) == 0:
            return
        rows = self.rows[pos]
        start = t.copy()
        dur = cols.has_duration[rows]
        if np.any(dur):
            start[dur] = t[dur] - self._span_ns(cols.duration_ms[rows[dur]], t[dur])
        rs = self.run_end_start[pos]
        use = ~dur & (self.kind[pos] == _K[EventKind.RUN_END]) & (rs != NO_INT)
        start[use] = np.minimum(rs[use], t[use])
        a.already_running_times = list(zip(start.tolist(), t.tolist(),
                                           self.strs(cols.request[rows]), strict=True))
