"""``LogAnalysis``: every log/trace-owned signal from one stream of ``LogEvent``s.

The pipeline calls ``feed`` once per event (in time order across sources, untimed
events anywhere) and ``finish`` once. State is per run, request, session, instance,
process and key, plus a bounded number of examples; nothing is kept per line, so a
multi-gigabyte log costs memory in proportion to its traffic, not its size.

Every key owned by the "logs" or "traces" probe in ``probes.signals.SIGNALS`` gets
exactly one Signal: YES with examples, NO with what was looked at, or UNKNOWN with the
reason it could not be checked (no run events, no instance ids, too few requests...).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import compress
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from probes.analysis.concurrency import (
    FANOUT_MIN_CALLS,
    MIN_REQUESTS,
    ConcurrencyTable,
    FanoutTracker,
    Request,
    RequestTracker,
    Spans,
    any_failed,
    bucket_label,
    concurrency_table,
    event_failed,
    event_failed_status,
    find_ceiling,
    in_flight_at_start,
    judge_rise,
    request_idents,
)
from probes.analysis.error_families import (
    ERROR_FAMILIES,
    FAMILY_BY_NAME,
    classify,
    error_text,
    is_error_event,
)
from probes.analysis.instances import LONG_LIVED_NS, InstanceTracker
from probes.analysis.runs import (
    I64,
    Overlap,
    OverlapSummary,
    Run,
    RunColumns,
    RunTracker,
    excerpt,
    int64s,
    start_gaps_cv,
    summarize,
    summarize_codes,
    sweep,
)
from probes.analysis.runtime import RuntimeTracker, failed_run_end
from probes.analysis.state import (
    ContaminationTracker,
    HistoryTracker,
    StateTracker,
    counter_write,
)
from probes.events import ERROR as ERROR_LEVEL
from probes.events import EventKind, LogEvent
from probes.evidence import Answer, Evidence, Example, Signal, no, now_utc, unknown, yes
from probes.ingest.gcpause import gc_paused
from probes.signals import SIGNALS

PROBE = "logs"

LOG_KEYS: tuple[str, ...] = tuple(
    k for k, spec in SIGNALS.items() if "logs" in spec.probes or "traces" in spec.probes)
"""The keys this analysis answers, every one of them, every time."""

PARALLEL_START_GAP_NS = 100_000_000
"""Runs of one request started within 100 ms were started together (Promise.all,
asyncio.gather); a run started later inside another came from a callback (re-entry)."""
NESTED_MIN_GAP_NS = 30_000_000
"""A run of one request on one instance that started 30 ms or more into another and ended
inside it was started from that run's own work (a reply callback runs after a model reply).
Measured in the lab: re-entry 39-55 ms in; runs started together by Promise.all under a
25-request ramp at most 20 ms apart (the event loop is busy)."""
PERIODIC_MIN_RUNS = 4
PERIODIC_MAX_CV = 0.25
"""Gaps between starts varying by at most 25% of their mean: a timer, not traffic."""
PER_REQUEST_SHARE = 0.8
"""A new instance for at least 80% of the requests that reach an agent: per request."""
FEW_ERRORS = 3
"""Fewer failing matches than this make a weaker signal (strength 0.6): one line can be
noise."""
HANDLED_STRENGTH = 0.3
"""Matches only on warning/info lines (a retried timeout, a logged-and-handled 429): the
service coped, so they barely point at a fault."""
MAX_RUNS_IN_DATA = 2000
MAX_ERROR_TIMES = 50_000
"""'Already running' failures whose time is kept to look up the concurrency then."""
MAX_ALIASES = 4096
FAILED_SHARE = 0.01
"""requests.failed: at least FEW_ERRORS failures and this share of requests (or runs)."""
SYMPTOM_STRENGTH = 0.6
"""As ``probes.diagnose.SYMPTOM_STRENGTH``: a YES this strong is a symptom."""
_PLATFORM_TIMEOUT_TEXT = re.compile(
    r"(?<![\d.])504(?![\d.]|\s*ms)|Gateway Time-?out|timed out|TIMEOUT|timeout", re.IGNORECASE)
"""Within the platform family: the lines that say the platform gave up waiting (504, Lambda,
Vercel, nginx, Envoy), as opposed to a 502 (the upstream refused or died): only those are
the platform-timeout smoking gun."""
_LOOP_WORDING = re.compile(r"event loop (?:is )?(?:already )?running|"
                           r"another loop is running|cannot be called from a running event "
                           r"loop", re.IGNORECASE)
"""asyncio's words for a loop entered twice (base_events._check_running, asyncio.run)."""
NEVER_HANDLED = frozenset({"session_missing"})
"""Families whose lines are failures at any level: a gateway logs "Session not found" at
WARN because the client erred, yet the session's caller got no answer."""
TIMEOUT_KILL_STRENGTH = 0.6
"""Workers killed after gunicorn's WORKER TIMEOUT: still a symptom (>= the symptom bar),
but at this strength the death alone no longer names an OOM kill."""
OWN_TIMEOUT_SHARE = 0.5
OWN_TIMEOUT_STRENGTH = 0.5
"""A ceiling of requests the service failed itself, as many timeout errors as cut requests
(at least this share) and no proxy or platform line: its own call's limit (tool-timeout),
kept as weak platform evidence."""

_IMPORT_ONLY = re.compile(r"^(?:(?!is not a function|not initialized|has no attribute|"
                          r"ResolutionImpossible|ERESOLVE|incompatible|conflict|"
                          r"class derived from|separate declarations).)*$",
                          re.IGNORECASE | re.DOTALL)
"""A version-mismatch line that says only that an import failed ("cannot import name", "No
module named", "Cannot find module"), nothing about two versions disagreeing."""
IMPORT_ONLY_STRENGTH = 0.35
BAD_GATEWAY_STRENGTH = 0.3
"""502s alone: the gateway could not reach the service. A hint at a platform limit at most;
something (a crash, an OOM kill, a refused connection) must explain them."""
MAX_PROCESS_NAMES = 4096


def _with_note(ex: Example, note: str) -> Example:
    return Example(ex.source, ex.line, ex.time_ns, ex.text, note)


_INSTANCE = attrgetter("instance")


def _instance_and_request(r: Run) -> str | None:
    return f"instance {r.instance}, request {r.request}" if r.instance and r.request else None


def _session_and_request(r: Run) -> str | None:
    return f"session {r.session}, request {r.request}" if r.session and r.request else None


_LABEL_JOINT = ", request "
"""What joins the two ids in the fine groups' names (``_instance_and_request``,
``_session_and_request``). While no id holds it, two names are equal exactly when both
ids are: the groups can be found on the ids' codes."""


def _pair_hashes(cols: RunColumns, first: str, second: str) -> I64:
    """One hash per (first, second) pair of ids: equal pairs, equal hashes. The instance
    is taken by its code (built for the overlap summary already), the rest by hash."""
    head = cols.codes(first)[0] if first == "instance" else cols.hashes(first)
    return head * np.int64(1_000_003) ^ cols.hashes(second)


def _holds(cols: RunColumns, name: str, text: str) -> bool:
    """Does any value of the field contain ``text``? (joined once: a C-speed search; the
    distinct values only when the field is coded already)"""
    values = cols.distinct(name)
    return text in "\n".join(filter(None, values))


def _repeated(keys: I64) -> npt.NDArray[np.bool_]:
    """Where a key occurs more than once (a sort, then the few repeated keys looked up)."""
    ordered = np.sort(keys)
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    return np.isin(keys, again) if len(again) else np.zeros(len(keys), dtype=bool)


def _sharing(cols: RunColumns, where: npt.NDArray[np.bool_], extra: list[Run],
             extra_at: list[int], first: str) -> list[Run]:
    """The runs ``where`` selects, then ``extra`` (copies of the runs at ``extra_at``), that
    share their (``first``, request) pair with another of them: the only runs a sweep of
    the fine groups named by that pair can pair. The sweep's input, cut from every run to
    these (in the same order, so ties sort alike), costs it no name per run.

    Two different pairs name one group only when a ``first`` id holds the names' joint
    (``_LABEL_JOINT``: the longer one is the shorter, the joint, and more; a request id
    cannot make it): then every run goes to the sweep, which groups by the names."""
    picked = np.flatnonzero(where)
    if _holds(cols, first, _LABEL_JOINT):
        return [*cols.pick(where), *extra]
    at = np.concatenate((picked, np.array(extra_at, dtype=np.int64)))
    both = cols.truthy(first)[at] & cols.truthy("request")[at]
    # pairs of equal hashes: every shared pair, and on a collision a few more that the
    # sweep then finds alone in their group
    pair = _pair_hashes(cols, first, "request")[at]
    keep = np.zeros(len(at), dtype=bool)
    keep[np.flatnonzero(both)[_repeated(pair[both])]] = True
    n = len(picked)
    runs = cols.runs
    return [runs[i] for i in picked[keep[:n]].tolist()] + \
        [extra[k] for k in np.flatnonzero(keep[n:]).tolist()]


_ONE_OBSERVATION = frozenset({EventKind.RUN_START, EventKind.RUN_END, EventKind.REQUEST_START,
                              EventKind.REQUEST_END})
"""Events that describe one real thing however many sources report it."""
_STATE_KINDS = frozenset({EventKind.STATE_READ, EventKind.STATE_WRITE, EventKind.TOOL_CALL})
_OTHER, _RUN_START, _RUN_END = EventKind.OTHER, EventKind.RUN_START, EventKind.RUN_END
_REQUEST_START, _REQUEST_END = EventKind.REQUEST_START, EventKind.REQUEST_END
_TOOL_CALL = EventKind.TOOL_CALL
_ERROR = EventKind.ERROR
_VERSION_MISMATCH = FAMILY_BY_NAME["version_mismatch"]


class LogAnalysis:
    """Turns normalised log and trace events into signals (see the module docstring)."""

    def __init__(self, *, max_examples: int = 8) -> None:
        self.max_examples = max_examples
        self.sources: set[str] = set()
        self.events = 0
        self.runs = RunTracker()
        self.requests = RequestTracker()
        self.fanout = FanoutTracker()
        self.instances = InstanceTracker(max_examples=max_examples)
        self.state = StateTracker(max_examples=max_examples)
        self.history = HistoryTracker(max_examples=max_examples)
        self.contamination = ContaminationTracker(max_examples=max_examples)
        self.family_counts: dict[str, int] = {f.name: 0 for f in ERROR_FAMILIES}
        self.family_examples: dict[str, list[Example]] = {f.name: [] for f in ERROR_FAMILIES}
        self.family_handled: dict[str, int] = {f.name: 0 for f in ERROR_FAMILIES}
        self.errors_total = 0
        self.unclassified = 0
        self.unclassified_examples: list[Example] = []
        self.request_event_seen = False
        self.duplicates = 0  # run/request events already seen in another source
        # kind -> id -> the first source that reported it
        self._first_source: dict[EventKind, dict[str, str]] = {k: {} for k in _ONE_OBSERVATION}
        self.failure_visible = False  # some line could have said it failed
        self._process_names: dict[tuple[str, str], str] = {}
        self.runtime = RuntimeTracker(max_examples=max_examples)
        # Outcomes, for requests.failed: request ends seen and how many failed; error
        # events the service logged at error level (tracebacks, failures) and not handled.
        self.request_ends = 0
        # (source, access-log flavour) -> lines: morgan says express, uvicorn says Python
        self.access_flavours: Counter[tuple[str, str]] = Counter()
        self.request_failures = 0
        self.request_failure_examples: list[Example] = []
        self.failing_errors = 0
        self.failing_error_examples: list[Example] = []
        # "already running" failures: when they happened, to see the concurrency then.
        self.already_running_times: list[tuple[int, int, str | None]] = []
        self.already_running_untimed = 0
        # A run seen under another request/instance id in a second source: its ids there
        # are aliases of the first source's (one object, two names).
        self._first_run_request: dict[str, str] = {}
        self._first_instance_of_request: dict[str, str] = {}
        self.instance_alias: dict[str, str] = {}
        self.renamed_run_ends = 0  # run_error / agent.error ... taken as failed run ends
        self.bad_gateway_only = 0  # platform-family lines that say 502, not a timeout
        self.loop_wording = 0  # failing already-running errors in asyncio's own words
        self.import_only_mismatch = 0  # version-mismatch lines that are import errors only
        self.counter_writes = 0  # lines reporting a counter's new value (see counter_write)

    # ------------------------------------------------------------------ feeding
    def feed(self, ev: LogEvent) -> None:
        """One event into every tracker that can use it.

        The hot path of ``scaledoc analyze`` (once per log line). Trackers whose input an
        event cannot carry are skipped here rather than asked: history and state values
        live in ``ev.fields``, and a line without fields or a request id gives the
        contamination check nothing to compare. The process identity is built once.
        """
        self.events += 1
        self.sources.add(ev.source)
        kind = ev.kind
        if (kind is _ERROR or kind is _OTHER) and failed_run_end(ev):
            # "run_error", "agent.error": a run end under another name. A failed run still
            # ended; left open, it would never count in the overlap sweep.
            self.renamed_run_ends += 1
            ev = replace(ev, kind=_RUN_END, error=ev.error or ev.message)
            kind = _RUN_END
        if kind in _ONE_OBSERVATION:
            # A second observation of a run/request already read from another source
            # (the service's log and its trace export both describe the same run)?
            # Keyed by the explicit run or request id; the first source to report an
            # id owns it. Memory grows with runs and requests, as elsewhere.
            is_run = kind is _RUN_START or kind is _RUN_END
            ident = ev.run if is_run else ev.request
            if ident and self._first_source[kind].setdefault(ident, ev.source) != ev.source:
                self.duplicates += 1
                return
            if is_run and self._second_name(ev, kind):
                self.duplicates += 1
                return
        if self.instance_alias and ev.instance in self.instance_alias:
            ev = replace(ev, instance=self.instance_alias[ev.instance])
        host, pid = ev.host, ev.pid
        if host and pid:
            # One string per process, not one per line: runs and sessions keep it.
            proc = self._process_names.get((host, pid))
            if proc is None:
                proc = f"{host}/{pid}"
                if len(self._process_names) < MAX_PROCESS_NAMES:
                    self._process_names[(host, pid)] = proc
        else:
            proc = host or pid
        if kind is _OTHER:
            pass
        elif kind is _RUN_START:
            self.runs.start(ev, proc)
        elif kind is _RUN_END:
            self.runs.end(ev, proc)
        elif kind is _REQUEST_START:
            self.request_event_seen = True
            self.requests.start(ev)
            self.contamination.request_start(ev)
        elif kind is _REQUEST_END:
            self.request_event_seen = True
            self.requests.end(ev)
            self.request_ends += 1
            if ev.fields and len(self.access_flavours) < 64:
                flavour = ev.fields.get("access")
                if isinstance(flavour, str):
                    self.access_flavours[(ev.source, flavour)] += 1
            if event_failed(ev):
                self.request_failures += 1
                if len(self.request_failure_examples) < self.max_examples:
                    self.request_failure_examples.append(excerpt(
                        ev, "request failed" + (f" with status {ev.status}"
                                                if ev.status is not None else "")))
        elif kind is _TOOL_CALL:
            self.fanout.feed(ev)
        if kind in _STATE_KINDS:
            self.state.feed(ev, proc)
        elif kind is _OTHER and ev.text and ('"new' in ev.text or "new=" in ev.text):
            cw = counter_write(ev)
            if cw is not None:
                # a counter's new value reported by the service: a versioned write
                self.counter_writes += 1
                self.state.feed(replace(ev, kind=EventKind.STATE_WRITE,
                                        fields={**(ev.fields or {}), "key": cw[0] or "counter",
                                                "version": cw[1]}), proc)
        session = ev.session
        if session and proc:
            # the common case inline: this session was already seen on this process
            procs = self.state.processes_by_session.get(session)
            if procs is None or proc not in procs:
                self.state.session_process(ev, proc)
        self.instances.feed(ev, proc)
        fields = ev.fields
        if fields:
            self.history.feed(ev)
        if fields or kind is _TOOL_CALL or (ev.request and len(self.contamination.active) > 1):
            self.contamination.feed(ev)
        if kind is _REQUEST_END and (self.contamination.active or self.contamination.identities):
            self.contamination.request_end(ev)
        if not self.failure_visible and (ev.level is not None or ev.status is not None
                                         or ev.error or kind is EventKind.ERROR):
            self.failure_visible = True
        self.runtime.feed(ev)
        if is_error_event(ev):
            self._count_error(ev)

    def _second_name(self, ev: LogEvent, kind: EventKind) -> bool:
        """A run event whose run id this source never gave before, for a request whose
        runs another source reported first: the same run under a second set of ids (a
        span's own id and instance attribute beside the log's). Its instance id becomes
        an alias of the first source's, so the object counts once."""
        req = ev.request
        if not req:
            return False
        first = self._first_run_request.setdefault(req, ev.source)
        if first == ev.source:
            if ev.instance and kind is _RUN_START:
                self._first_instance_of_request.setdefault(req, ev.instance)
            return False
        other = self._first_instance_of_request.get(req)
        if ev.instance and other and ev.instance != other \
                and len(self.instance_alias) < MAX_ALIASES:
            self.instance_alias.setdefault(ev.instance, other)
        return True

    def _count_error(self, ev: LogEvent) -> None:
        self.errors_total += 1
        # Ingestion calls any line with error text an ERROR event; the level says whether
        # the service treated it as a failure or logged it and carried on (a retry). An
        # access line's level says nothing (every line is INFO): its status is the outcome.
        handled = (ev.level is not None and ev.level < ERROR_LEVEL
                   and not event_failed_status(ev) and ev.status != 409)
        if not handled and ev.kind is _ERROR:
            self.failing_errors += 1
            if len(self.failing_error_examples) < self.max_examples:
                self.failing_error_examples.append(excerpt(ev, "error logged" + self._who(ev)))
        text = error_text(ev)
        families = classify(text)
        if ev.fields and "resolver" in ev.fields and _VERSION_MISMATCH not in families:
            # a line of a resolver's report (pip's "The conflict is caused by:", npm's
            # "peer ... from ..."), tagged by the reader: the report is a version mismatch
            families = (*families, _VERSION_MISMATCH)
        if not families:
            self.unclassified += 1
            if len(self.unclassified_examples) < self.max_examples:
                self.unclassified_examples.append(excerpt(ev, "error of no known family"))
            return
        for f in families:
            self.family_counts[f.name] += 1
            if handled and f.name in NEVER_HANDLED:
                handled = False  # the caller got no answer, whatever level the line had
            if handled:
                self.family_handled[f.name] += 1
            elif f.name == "already_running":
                self._note_collision(ev)
                if _LOOP_WORDING.search(text):
                    self.loop_wording += 1
            if f.name == "version_mismatch" and _IMPORT_ONLY.search(text) \
                    and not (ev.fields and "resolver" in ev.fields):
                self.import_only_mismatch += 1
            if f.name == "platform_timeout" and not _PLATFORM_TIMEOUT_TEXT.search(text):
                self.bad_gateway_only += 1
            exs = self.family_examples[f.name]
            if len(exs) < self.max_examples:
                exs.append(excerpt(ev, f"error family {f.name}" + self._who(ev)
                                   + (" (logged below error level: handled)" if handled else "")))

    def _note_collision(self, ev: LogEvent) -> None:
        """When an 'already running' failure happened: the span of the failed request or run
        (end minus duration, or the run's own start) up to the error line."""
        t = ev.time_ns
        if t is None:
            self.already_running_untimed += 1
            return
        if len(self.already_running_times) >= MAX_ERROR_TIMES:
            return
        start = t
        if ev.duration_ms is not None:
            start = t - int(ev.duration_ms * 1_000_000)
        elif ev.kind is _RUN_END:
            run = self.runs.last_closed
            if run is not None and run.start_ns is not None:
                start = min(run.start_ns, t)
        self.already_running_times.append((start, t, ev.request))

    @staticmethod
    def _who(ev: LogEvent) -> str:
        parts = [f"{label} {v}" for label, v in (("request", ev.request), ("session", ev.session),
                                                  ("instance", ev.instance),
                                                  ("process", ev.process)) if v]
        return (": " + ", ".join(parts)) if parts else ""

    # ------------------------------------------------------------------ finishing
    def finish(self) -> Evidence:
        """Every signal from the state gathered (the collector paused: see gcpause)."""
        with gc_paused():
            return self._finish()

    def _finish(self) -> Evidence:
        """The signals, from the trackers' state, which stays as it was: ``finish`` may be
        called mid-stream (the early look) and feeding goes on.

        The runs are read once into columns (``RunColumns``) that every signal shares;
        the requests' spans once into sorted arrays (``Spans``)."""
        runs = self.runs.runs
        cols = RunColumns(runs)
        open_runs = cols.pick(cols.open)
        signals: dict[str, Signal] = {}

        def put(s: Signal) -> None:
            signals[s.key] = s

        by_instance = self._by_instance(cols)
        self._run_signals(put, cols, open_runs, by_instance)
        self._instance_signals(put, cols, by_instance)
        self._error_signals(put)
        request_list = self._request_list(cols)
        spans = Spans.of(request_list) if request_list else None
        table = concurrency_table(request_list, spans) if request_list else None
        self._concurrency_signals(put, request_list, table, spans, cols)
        self._runtime_signals(put)
        self._guard_already_running(put, signals, request_list, spans)
        self._fanout_signal(put)
        self._state_signals(put)
        self._history_signals(put)
        self._coarse_instances(put, signals)
        self._requests_failed(put, signals, cols)
        self._reconcile(put, signals)
        for key in LOG_KEYS:  # the contract: every key answered
            if key not in signals:
                put(unknown(key, PROBE, "not measured from logs"))
        overlap_count = by_instance.per_group
        peaks = by_instance.peak
        instances = []
        for st in sorted(self.instances.stats.values(), key=lambda s: s.id):
            doc = st.to_json()
            doc["overlapping_pairs"] = overlap_count.get(st.id, 0)
            doc["max_concurrency"] = peaks.get(st.id, 0)
            reuse = self.instances.reuse_count(st)
            doc["reuse"] = ("single" if reuse <= 1 else
                            "concurrent" if overlap_count.get(st.id) else "sequential")
            instances.append(doc)
        data: dict[str, Any] = {
            "runs": [r.to_json() for r in runs[:MAX_RUNS_IN_DATA]],
            "runs_total": len(runs),
            "runs_open": len(open_runs),
            "runs_orphan_ends": self.runs.orphan_ends,
            "runs_untimed_events": self.runs.untimed,
            "instances": instances,
            "concurrency": list(table.rows) if table else [],
            "errors": {
                "total": self.errors_total,
                "unclassified": self.unclassified,
                "families": {k: v for k, v in self.family_counts.items() if v},
                "handled": {k: v for k, v in self.family_handled.items() if v},
            },
            "events": self.events,
            "duplicate_observations": self.duplicates,
            "outcomes": {"request_ends": self.request_ends,
                         "request_failures": self.request_failures,
                         "failing_error_lines": self.failing_errors,
                         "renamed_run_ends": self.renamed_run_ends},
            "runtime": {"out_of_memory": self.runtime.oom.to_json(),
                        "worker_deaths": self.runtime.workers.to_json(),
                        "gateway_failures": self.runtime.gateway.to_json(),
                        "proxy_requests": self.runtime.proxy_requests,
                        "proxies": sorted(self.runtime.proxies)},
            "instance_aliases": dict(sorted(self.instance_alias.items())[:50]),
            "access_flavours": [{"source": src, "flavour": fl, "lines": n}
                                for (src, fl), n in sorted(self.access_flavours.items())],
        }
        n = len(self.sources)
        return Evidence(probe=PROBE, target=f"{n} source{'s' if n != 1 else ''}",
                        signals=tuple(signals[k] for k in LOG_KEYS), collected_at=now_utc(),
                        data=data)

    def _by_instance(self, cols: RunColumns) -> OverlapSummary:
        """``summarize`` of the closed runs by instance, on the columns already built."""
        times = cols.closed_times()
        if times is None:  # beyond int64: the pure-Python sweep
            return summarize(cols.closed_runs, _INSTANCE, self.max_examples)
        codes, code_of = cols.codes("instance")
        return summarize_codes(cols.runs, np.flatnonzero(cols.closed), codes[cols.closed],
                               code_of, *times, self.max_examples)

    def _open_in_request(self, cols: RunColumns, with_inst: npt.NDArray[np.bool_]
                         ) -> tuple[list[Run], list[int]]:
        """Runs that never ended, held open to the last end of their own request on their
        instance: a run re-entered from its own callback fails, and the outer run's end
        is never logged, yet the inner one started inside it. With them, their indices
        in ``cols.runs``. ``with_inst``: the closed runs whose ends count.

        Only the open runs' own (instance, request) pairs are looked up among the closed
        runs, so a log whose runs all ended costs one mask."""
        start_ns = cols.values("start_ns")
        held = cols.open & ~cols.unstarted & cols.truthy("instance") & cols.truthy("request")
        if not held.any():
            return [], []
        pair = _pair_hashes(cols, "instance", "request")
        wanted = np.isin(pair, pair[held])  # and some more, on a collision: the dict sifts
        instance, request = cols.values("instance"), cols.values("request")
        end_ns = cols.values("end_ns")
        last: dict[tuple[str, str], int] = {}
        for i in np.flatnonzero(with_inst & wanted & cols.truthy("request")).tolist():
            k = (instance[i], request[i])
            if end_ns[i] > last.get(k, -1):
                last[k] = end_ns[i]
        out: list[Run] = []
        where: list[int] = []
        for i in np.flatnonzero(held).tolist():
            end = last.get((instance[i], request[i]))
            if end is not None and end > start_ns[i]:
                out.append(replace(cols.runs[i], end_ns=end + 1))  # past it: touching is no overlap
                where.append(i)
        return out, where

    def _overlap_examples(self, overlaps: list[Overlap]) -> list[Example]:
        out: list[Example] = []
        for o in overlaps:
            if len(out) >= self.max_examples:
                break
            out.extend(o.examples())
        return out[: self.max_examples]

    def _run_signals(self, put: Callable[[Signal], None], cols: RunColumns,
                     open_runs: list[Run], by_instance: OverlapSummary) -> None:
        runs = cols.runs
        keys = ("runs.overlap_instance", "runs.parallel_same_session",
                "runs.nested_same_request", "runs.periodic_overlap")
        if not runs:
            for k in keys:
                put(unknown(k, PROBE, "no run start/end events in the logs"))
            return
        if not cols.n_closed:
            why = (f"{len(runs)} runs seen but their lines carry no time "
                   f"({self.runs.untimed} untimed run lines)" if self.runs.untimed else
                   f"{len(runs)} runs started but none has a known end")
            for k in keys:
                put(unknown(k, PROBE, why))
            return
        open_note = (f"; {len(open_runs)} runs never ended in the logs" if open_runs else "")
        # runs.overlap_instance
        inst_mask = cols.closed & cols.truthy("instance")
        n_inst = int(inst_mask.sum())
        if not n_inst:
            put(unknown("runs.overlap_instance", PROBE, "no instance ids on the runs"))
            put(unknown("runs.nested_same_request", PROBE, "no instance ids on the runs"))
        else:
            peak = max(by_instance.peak.values(), default=0)
            if by_instance.pairs:
                groups = sorted(by_instance.per_group)
                put(yes("runs.overlap_instance", PROBE,
                        f"{by_instance.pairs} overlapping run pairs on {len(groups)} instance(s),"
                        f" up to {peak} runs at once; e.g. {by_instance.sample[0].story()}"
                        f"{open_note}",
                        self._overlap_examples(by_instance.sample), value=by_instance.pairs,
                        data={"pairs": by_instance.pairs, "max_concurrency": peak,
                              "instances": groups[:20]}))
            else:
                put(no("runs.overlap_instance", PROBE,
                       f"{n_inst} runs on {len(by_instance.peak)} instance(s); no two "
                       f"overlap{open_note}", value=0))
            # Fine groups (one instance, one request): few pairs, so every pair is looked at.
            held, held_at = self._open_in_request(cols, inst_mask)
            nested = [o for o in sweep(_sharing(cols, inst_mask, held, held_at, "instance"),
                                       _instance_and_request)
                      if o.nested and o.start_gap_ns >= NESTED_MIN_GAP_NS]
            if nested:
                put(yes("runs.nested_same_request", PROBE,
                        f"{len(nested)} runs started inside another run of the same request on "
                        f"the same instance; e.g. {nested[0].story()}",
                        self._overlap_examples(nested), value=len(nested)))
            elif not (inst_mask & cols.truthy("request")).any():
                put(unknown("runs.nested_same_request", PROBE, "no request ids on the runs"))
            else:
                put(no("runs.nested_same_request", PROBE,
                       "no run starts inside another run of its own request", value=0))
        # runs.parallel_same_session
        sess_mask = cols.closed & cols.truthy("session") & cols.truthy("request")
        n_sess = int(sess_mask.sum())
        if not n_sess:
            put(unknown("runs.parallel_same_session", PROBE,
                        "no runs carry both a session id and a request id"))
        else:
            par = [o for o in sweep(_sharing(cols, sess_mask, [], [], "session"),
                                    _session_and_request)
                   if not o.nested or o.start_gap_ns <= PARALLEL_START_GAP_NS]
            if par:
                put(yes("runs.parallel_same_session", PROBE,
                        f"{len(par)} pairs of runs of one session started together by one request;"
                        f" e.g. {par[0].story()}", self._overlap_examples(par), value=len(par)))
            else:
                put(no("runs.parallel_same_session", PROBE,
                       f"{n_sess} runs with session and request ids; none started in "
                       "parallel within one session", value=0))
        # only runs without a request id can be periodic (both groupings below say so)
        self._periodic_signal(put, cols.pick(cols.closed & ~cols.truthy("request")))

    def _periodic_signal(self, put: Callable[[Signal], None], closed: list[Run]) -> None:
        def by_instance(r: Run) -> str | None:
            if r.request:
                return None
            return r.instance or r.process or "(no instance)"

        def by_process(r: Run) -> str | None:
            # A timer lives in a process, whatever agent each tick builds: a job that makes
            # a fresh agent still overlaps the previous tick's job on the same work.
            if r.request or not r.process or not r.instance:
                return None
            return f"process {r.process}"

        hits: list[tuple[str, float, float, OverlapSummary]] = []
        checked = 0
        seen_any = False
        for group in (by_instance, by_process):
            groups: dict[str, list[Run]] = {}
            for r in closed:
                g = group(r)
                if g is not None:
                    groups.setdefault(g, []).append(r)
            seen_any = seen_any or bool(groups)
            for g, members in groups.items():
                if len(members) < PERIODIC_MIN_RUNS:
                    continue
                checked += 1
                stats = start_gaps_cv([r.start_ns for r in members if r.start_ns is not None])
                if stats is None or stats[1] > PERIODIC_MAX_CV:
                    continue
                found = summarize(members, group, self.max_examples)
                if found.pairs:
                    hits.append((g, stats[0], stats[1], found))
            if hits:
                break
        if not seen_any:
            put(no("runs.periodic_overlap", PROBE, "every run carries a request id", value=0))
            return
        if hits:
            g, mean, cv, best = max(hits, key=lambda h: h[3].pairs)
            pairs = best.sample
            total = sum(h[3].pairs for h in hits)
            put(yes("runs.periodic_overlap", PROBE,
                    f"runs with no request start every {mean / 1e9:.1f} s (gap variation "
                    f"{cv:.0%}) on {g} and {total} pairs overlap; e.g. {pairs[0].story()}",
                    self._overlap_examples(pairs), value=total,
                    data={"period_s": round(mean / 1e9, 3), "cv": round(cv, 3)}))
        elif checked == 0:
            put(no("runs.periodic_overlap", PROBE,
                   f"fewer than {PERIODIC_MIN_RUNS} runs without a request id per instance "
                   "or process",
                   value=0))
        else:
            put(no("runs.periodic_overlap", PROBE,
                   "runs without a request id are not periodic or do not overlap", value=0))

    def _instance_run_examples(self, instance: str) -> list[Example]:
        """The start lines of an instance's runs for its first two requests (or runs):
        the lines that show one object serving several requests when its lines carry
        no clock (``InstanceStats.first_at`` needs one)."""
        out: list[Example] = []
        seen: set[str | None] = set()
        for r in self.runs.runs:
            if r.instance != instance or r.request in seen:
                continue
            seen.add(r.request)
            ex = r.start_at
            if ex is not None:
                out.append(_with_note(ex, f"instance {instance} runs for request "
                                          f"{r.request or '?'}"))
            if len(out) >= 2:
                break
        return out

    def _instance_signals(self, put: Callable[[Signal], None], cols: RunColumns,
                          by_instance: OverlapSummary) -> None:
        it = self.instances
        stats = list(it.stats.values())
        # instance.many_sessions
        if not stats:
            put(unknown("instance.many_sessions", PROBE, "no instance ids in the logs"))
        else:
            reused = [s for s in stats if it.reuse_count(s) >= 2]
            if reused:
                worst = max(reused, key=it.reuse_count)
                overlapping = set(by_instance.per_group)
                mode = ("concurrently" if worst.id in overlapping else "one after another")
                exs = [e for s in sorted(reused, key=lambda s: -it.reuse_count(s))
                       for e in s.session_examples][: self.max_examples]
                if not exs and worst.first_at:
                    exs = [worst.first_at]
                if not exs:  # untimed lines: the instance's runs still cite theirs
                    exs = self._instance_run_examples(worst.id)
                what = "sessions" if worst.sessions else "requests"
                if exs:
                    put(yes("instance.many_sessions", PROBE,
                            f"{len(reused)} instance(s) serve several sessions/requests; "
                            f"{worst.id} served {it.reuse_count(worst)} {what} ({mode})",
                            exs, value=it.reuse_count(worst),
                            data={"instances": len(reused), "concurrent": bool(overlapping)}))
                else:  # nothing to cite: a yes without its line would be a claim on faith
                    put(unknown("instance.many_sessions", PROBE,
                                f"{worst.id} is named with {it.reuse_count(worst)} {what}, "
                                "but only on lines without a clock and without runs to cite"))
            else:
                put(no("instance.many_sessions", PROBE,
                       f"{len(stats)} instance(s), each with one session or request", value=1))
        # instance.per_request
        agent_reqs = len(it.agent_requests)
        if it.created == 0:
            self._per_request_from_runs(put, cols)
        elif it.created_requests and agent_reqs >= 3:
            ratio = len(it.created_requests) / agent_reqs
            self._per_request(put, ratio, f"{len(it.created_requests)} of {agent_reqs} requests "
                                          "created a new instance")
        elif agent_reqs >= 3:
            ratio = it.created / agent_reqs
            self._per_request(put, ratio, f"{it.created} instances created for {agent_reqs} "
                                          "requests")
        else:
            put(unknown("instance.per_request", PROBE,
                        f"only {agent_reqs} requests reach an agent (need 3)"))
        # instance.long_lived
        if it.hint is None:
            put(unknown("instance.long_lived", PROBE,
                        "no serverless or hot-reload hint in the logs (the signal only means "
                        "something there)"))
        elif not stats:
            put(unknown("instance.long_lived", PROBE, "no instance ids in the logs"))
        else:
            long_lived: list[Example] = []
            worst_desc = ""
            for s in stats:
                span = (s.last_ns - s.first_ns) if s.first_ns is not None and \
                    s.last_ns is not None else 0
                if span >= LONG_LIVED_NS and len(s.requests) >= 2 and s.first_at and s.last_at:
                    long_lived += [s.first_at, s.last_at]
                    worst_desc = worst_desc or f"{s.id} seen {span / 3.6e12:.1f} h apart"
                if len(s.users) >= 2:
                    long_lived += list(s.users.values())[:3]
                    worst_desc = worst_desc or f"{s.id} served {len(s.users)} users"
            if long_lived:
                put(yes("instance.long_lived", PROBE,
                        f"module state outlives invocations: {worst_desc} (platform hint: "
                        f"{it.hint.where})", [it.hint, *long_lived][: self.max_examples]))
            else:
                put(no("instance.long_lived", PROBE,
                       "no instance seen an hour apart or with two users"))

    def _per_request_from_runs(self, put: Callable[[Signal], None], cols: RunColumns
                               ) -> None:
        """No creation lines: infer from instance ids on runs. A request whose runs use
        instances no other request used got its own instance. Weaker (strength 0.8).

        On columns: an instance one request alone used is one whose runs' request hashes
        are all equal, checked on the ids themselves (hashes may collide). With none, no
        request is fresh and only the distinct requests are counted; else requests get
        exact codes, and a request is fresh when no run of it is on a shared instance."""
        with_request = cols.truthy("request")
        both = cols.truthy("instance") & with_request
        at = np.flatnonzero(both)
        request = cols.values("request")
        if (both == with_request).all():  # every run with a request has an instance
            distinct = set(request)
            n_reqs = len(distinct) - (None in distinct) - ("" in distinct)
        else:
            n_reqs = len(set(compress(request, both.tolist())))
        if n_reqs < 3:
            put(unknown("instance.per_request", PROBE,
                        "no instance creation events, and too few runs with both an instance "
                        "and a request id"))
            return
        n = len(cols.runs)
        inst = cols.codes("instance")[0][at]
        hashes = cols.hashes("request")[at]
        low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        high = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(low, inst, hashes)
        np.maximum.at(high, inst, hashes)
        own = low == high  # instances whose runs hash one request (absent ones: never)
        if own.any():
            first: dict[int, str] = {}
            on_one = np.flatnonzero(own[inst])
            for i, c in zip(at[on_one].tolist(), inst[on_one].tolist(), strict=True):
                if first.setdefault(c, request[i]) != request[i]:
                    own[c] = False  # two requests under one hash: shared after all
        # Instances one request alone used; with none, no request can be fresh.
        fresh_first: list[int] = []
        if own.any():
            reqs = cols.codes("request")[0][at]
            shared = np.bincount(reqs[~own[inst]], minlength=n) > 0
            seen: set[int] = set()
            for i, r in zip(at.tolist(), reqs.tolist(), strict=True):
                if not shared[r] and r not in seen:
                    seen.add(r)
                    fresh_first.append(i)  # each fresh request's first run, in order
        ratio = len(fresh_first) / n_reqs
        what = (f"no creation lines; {len(fresh_first)} of {n_reqs} requests ran on an "
                "instance no other request used")
        if ratio >= PER_REQUEST_SHARE:
            exs = [ex for i in fresh_first[: self.max_examples]
                   if (ex := cols.runs[i].start_at) is not None]
            put(yes("instance.per_request", PROBE, f"{what} ({ratio:.0%})", exs,
                    value=round(ratio, 3), strength=0.8))
        else:
            put(no("instance.per_request", PROBE, f"{what} ({ratio:.0%})", value=round(ratio, 3)))

    def _per_request(self, put: Callable[[Signal], None], ratio: float, what: str) -> None:
        if ratio >= PER_REQUEST_SHARE:
            put(yes("instance.per_request", PROBE, f"{what} ({ratio:.0%})",
                    self.instances.created_examples, value=round(ratio, 3)))
        else:
            put(no("instance.per_request", PROBE, f"{what} ({ratio:.0%})", value=round(ratio, 3)))

    def _error_signals(self, put: Callable[[Signal], None]) -> None:
        if not self.events or not self.failure_visible:
            why = ("no log events to look at" if not self.events else
                   "no line carries a level, status or error field, so errors cannot be "
                   "told apart")
            for f in ERROR_FAMILIES:
                if f.signal != "latency.ceiling":
                    put(unknown(f.signal, PROBE, why))
        else:
            self._family_signals(put)
        repeats = self.state.repeated_writes
        if repeats:
            prev = self.family_counts["duplicate_write"]
            exs = [e for e, _ in repeats] + self.family_examples["duplicate_write"]
            put(yes("errors.duplicate_write", PROBE,
                    f"{self.state.repeated_count} write(s) repeated within one request"
                    + (f" and {prev} duplicate-key error line(s)" if prev else ""),
                    exs[: self.max_examples], value=self.state.repeated_count + prev))

    def _family_signals(self, put: Callable[[Signal], None]) -> None:
        for f in ERROR_FAMILIES:
            if f.signal == "latency.ceiling":
                continue  # joined with the duration clusters in _concurrency_signals
            n = self.family_counts[f.name]
            handled = self.family_handled[f.name]
            failing = n - handled
            if n:
                # Failures are the fault showing; a few is weaker, handled ones weaker still.
                strength = (1.0 if failing >= FEW_ERRORS else 0.6 if failing else
                            HANDLED_STRENGTH)
                note = f" ({handled} logged below error level: handled/retried)" if handled else ""
                if f.name == "version_mismatch" and self.import_only_mismatch >= n:
                    # An import error alone (no resolver report, no "is not a function")
                    # may as well be a missing package or a file shadowing the module.
                    strength = min(strength, IMPORT_ONLY_STRENGTH)
                    note += ("; import errors only, no resolver report or API mismatch: a "
                             "missing package or a shadowing file would say the same")
                put(yes(f.signal, PROBE, f"{n} error line(s) of family {f.name}{note}",
                        self.family_examples[f.name], value=n, strength=strength,
                        data={"failing": failing, "handled": handled}))
            else:
                put(no(f.signal, PROBE, f"no {f.name} errors among {self.errors_total} error "
                                        "lines", value=0))

    def _request_list(self, cols: RunColumns) -> Sequence[Request]:
        """Requests with a start and an end; else the runs stand in for them. Request lines
        without a duration (uvicorn's access line has none) give no interval: the runs
        then do, as long as they show at least the failures the request lines show (a
        table built from runs that hide failures would say "no rise" beside failing
        requests)."""
        if self.requests.requests:
            return self.requests.requests
        if self.request_event_seen and \
                int((cols.closed & cols.failed()).sum()) < self.request_failures:
            return []
        out = []
        for r in cols.closed_runs:
            assert r.start_ns is not None and r.end_ns is not None
            out.append(Request(r.start_ns, r.end_ns, r.failed, (r.end_ns - r.start_ns) / 1e6,
                               r.lines, r.end_ref if r.failed else -1, r.request))
        return out

    def _concurrency_signals(self, put: Callable[[Signal], None], reqs: Sequence[Request],
                             table: ConcurrencyTable | None, spans: Spans | None,
                             cols: RunColumns) -> None:
        seen = max(self.request_ends, len(reqs))
        if table is not None and seen >= MIN_REQUESTS and not self._any_failure(reqs, cols):
            # Nothing failed at all, so no error rate can rise with concurrency, even where
            # too few requests ran alone for the table's own judgement. (Without any
            # interval, the concurrency was never seen: that stays unknown.)
            shape = " (" + ", ".join(f"{r['level']}: 0/{r['requests']}" for r in table.rows) + ")"
            put(no("errors.rise_with_concurrency", PROBE,
                   f"none of {seen} requests failed (and no error line), so no error rate "
                   f"rises with concurrency{shape}", data={"levels": list(table.rows)}))
        elif table is None:
            put(unknown("errors.rise_with_concurrency", PROBE,
                        "no requests or runs with a known start and end"))
        else:
            rise = judge_rise(table)
            if rise.answer == "yes":
                levels = in_flight_at_start(reqs, spans)
                # the failed requests only, in order (a request is made per example, not
                # per request: ``reqs`` may be columns)
                failed_at = (np.flatnonzero(spans.failed).tolist() if spans is not None
                             else [i for i, r in enumerate(reqs) if r.failed])
                failing: list[Example] = []
                for i in failed_at:
                    if len(failing) >= self.max_examples:
                        break
                    c = levels[i]
                    if bucket_label(c) != rise.worst_level:
                        continue
                    r = reqs[i]
                    if r.end_at is not None:
                        failing.append(_with_note(r.end_at, f"failed with {c} requests in "
                                                            "flight"))
                if failing:
                    worst = table.by_label().get(rise.worst_level or "", {})
                    put(yes("errors.rise_with_concurrency", PROBE, rise.detail, failing,
                            value=worst.get("error_rate"),
                            data={"levels": list(table.rows)}))
                else:
                    put(unknown("errors.rise_with_concurrency", PROBE,
                                "failing requests have no line to point at"))
            elif rise.answer == "no":
                put(no("errors.rise_with_concurrency", PROBE, rise.detail,
                       data={"levels": list(table.rows)}))
            else:
                put(unknown("errors.rise_with_concurrency", PROBE, rise.detail))
        # latency.ceiling: duration cluster of failures (the proxy's own requests first: a
        # proxy_read_timeout cuts them at one duration while the app's lines go on), or
        # platform timeout errors
        platform = self.family_counts["platform_timeout"]
        # the family's lines, or the proxy's own timeout lines and pages (any level), the
        # larger: they tell of the same timeouts
        timeouts = max(platform - self.bad_gateway_only, self.runtime.gateway_timeouts)
        proxy_reqs = self.runtime.proxy_requests_list
        ceiling = find_ceiling(proxy_reqs, self.max_examples) if proxy_reqs else None
        who = f"at the proxy ({', '.join(sorted(self.runtime.proxies))})" if ceiling else ""
        if ceiling is None and reqs:
            ceiling = find_ceiling(reqs, self.max_examples, spans)
        parts: list[str] = []
        exs: list[Example] = []
        if ceiling:
            parts.append(f"{ceiling.count} of {ceiling.failures} failing requests"
                         f"{' ' + who if who else ''} ended at ~{ceiling.duration_ms:.0f} ms")
            exs += list(ceiling.examples)
        if timeouts > 0:
            parts.append(f"{timeouts} gateway/platform timeout line(s) (504, 'upstream timed "
                         "out', FUNCTION_INVOCATION_TIMEOUT, 'Task timed out after')")
        if self.bad_gateway_only:
            parts.append(f"{self.bad_gateway_only} 502 Bad Gateway line(s) (the gateway could "
                         "not reach the service: not a timeout)")
        if platform:
            exs += self.family_examples["platform_timeout"]
        if self.runtime.gateway_timeouts:
            exs += self.runtime.gateway.examples
        own = (ceiling is not None and not who and timeouts == 0
               and not self.runtime.gateway_failures
               and self.family_counts["timeout"] - self.family_handled["timeout"]
               >= OWN_TIMEOUT_SHARE * ceiling.count)
        if own and ceiling is not None:
            # The service answered these failures itself, each with its own timeout error
            # (an AbortSignal, httpx's ReadTimeout): the limit is its outbound call's, not a
            # platform's. Weak evidence of a platform limit; the timeouts name the cause.
            parts.append("and the service's own timeout errors say its call gave up at that "
                         "limit (no proxy or platform timeout in the input)")
        if parts and exs:
            strong = (bool(ceiling) or timeouts > 0) and not own
            put(yes("latency.ceiling", PROBE, "; ".join(parts), exs[: self.max_examples],
                    value=round(ceiling.duration_ms, 1) if ceiling else platform,
                    strength=(OWN_TIMEOUT_STRENGTH if own else
                              1.0 if strong else BAD_GATEWAY_STRENGTH),
                    data={"timeouts": timeouts, "bad_gateway": self.bad_gateway_only,
                          "ceiling_ms": round(ceiling.duration_ms, 1) if ceiling else None,
                          "own_timeout": own}))
        elif reqs:
            nfail = int(spans.failed.sum()) if spans is not None else \
                sum(r.failed for r in reqs)
            put(no("latency.ceiling", PROBE,
                   f"{nfail} failing requests, no common duration; no platform timeouts"))
        elif self.failure_visible:
            put(no("latency.ceiling", PROBE,
                   f"no platform timeouts among {self.errors_total} error lines"))
        else:
            put(unknown("latency.ceiling", PROBE, "no request durations and no line that "
                                                  "could show an error"))

    def _any_failure(self, reqs: Sequence[Request], cols: RunColumns) -> bool:
        """Did anything visible fail: a request, a run, an error-level line, the proxy?"""
        return bool(self.request_failures or self.failing_errors
                    or self.runtime.gateway_failures or any_failed(reqs)
                    or bool(cols.failed().any()))

    def _runtime_signals(self, put: Callable[[Signal], None]) -> None:
        """runtime.out_of_memory, process.worker_died, proxy.gateway_errors."""
        rt = self.runtime
        if not self.events:
            for k in ("runtime.out_of_memory", "process.worker_died", "proxy.gateway_errors"):
                put(unknown(k, PROBE, "no log events to look at"))
            return
        oom = rt.oom
        if oom.count:
            kinds = ", ".join(f"{n} x{c}" for n, c in sorted(oom.names.items()))
            put(yes("runtime.out_of_memory", PROBE,
                    f"{oom.count} out-of-memory line(s) ({kinds})", oom.examples,
                    value=oom.count, data=oom.to_json()))
        else:
            put(no("runtime.out_of_memory", PROBE,
                   f"no out-of-memory message in {self.events} lines (a runtime prints it on "
                   "stderr; the previous container's log holds it after a restart)", value=0))
        w = rt.workers
        if w.count:
            pids = sorted(w.pids)
            # gunicorn's arbiter killing a worker that outlived --timeout says
            # "WORKER TIMEOUT" first: the server's own time limit, not memory, so the death
            # stays a symptom but is weak evidence of an OOM kill
            timed_out = sum(c for n, c in w.names.items() if "timeout" in n)
            by_timeout = timed_out > 0 and timed_out * 2 >= w.distinct
            put(yes("process.worker_died", PROBE,
                    f"{w.distinct} worker death(s) in {w.count} line(s)"
                    + (f", pid(s) {', '.join(pids[:8])}{'…' if len(pids) > 8 else ''}"
                       if pids else "")
                    + f" ({', '.join(f'{n} x{c}' for n, c in sorted(w.names.items()))})"
                    + ("; killed after a WORKER TIMEOUT: the server's own request time "
                       "limit, not memory" if by_timeout else ""),
                    w.examples, value=w.distinct,
                    strength=TIMEOUT_KILL_STRENGTH if by_timeout else 1.0,
                    data={**w.to_json(), "timeout_kills": timed_out}))
        else:
            starts = rt.process_starts
            put(no("process.worker_died", PROBE,
                   (f"{starts} process start line(s) and no worker death in {self.events} "
                    "lines: the server's own lifecycle is in the input" if starts else
                    f"no worker death line in {self.events} lines (the server's own log, "
                    "gunicorn/uvicorn master or Node cluster primary, would show one)"),
                   value=0, data={"process_starts": starts}))
        g = rt.gateway
        n = rt.gateway_failures
        if n:
            timeouts = rt.gateway_timeouts
            strength = 1.0 if n >= FEW_ERRORS else 0.6
            proxies = ", ".join(sorted(rt.proxies)) or "a proxy"
            put(yes("proxy.gateway_errors", PROBE,
                    f"{n} gateway failure(s) at {proxies}: {timeouts} timeout(s) (504, "
                    f"'upstream timed out'), {n - timeouts} other (502, upstream closed "
                    f"or refused); {rt.gateway_access} access line(s), {rt.gateway_lines} "
                    "error line(s)", g.examples, value=n, strength=strength,
                    data={**g.to_json(), "failures": n, "timeouts": timeouts,
                          "proxy_requests": rt.proxy_requests}))
        elif rt.proxy_requests:
            put(no("proxy.gateway_errors", PROBE,
                   f"{rt.proxy_requests} requests through {', '.join(sorted(rt.proxies))}, "
                   "none answered 502/504", value=0))
        else:
            put(unknown("proxy.gateway_errors", PROBE,
                        "no proxy access or error log among the inputs (nginx, Envoy, "
                        "Traefik...)"))

    def _guard_already_running(self, put: Callable[[Signal], None], signals: dict[str, Signal],
                               reqs: Sequence[Request], spans: Spans | None) -> None:
        """'Already running' is two requests colliding only when it happens with others in
        flight. At concurrency 1 (a nested ``run_until_complete``, a re-used event loop, a
        run called twice by one request) it is a bug, not a shared instance: the signal
        stays YES, weak, and says so; the failures stay a symptom via requests.failed.

        asyncio's own wording ("This event loop is already running") is a loop re-entered
        by one caller far more often than a collision between requests (requests share one
        loop without that error): with no timing that shows others in flight, it is weak
        too. A framework's wording (AutoGen's "The team is already running") keeps its
        strength where the timing cannot be seen."""
        sig = signals.get("errors.already_running")
        if sig is None or sig.answer is not Answer.YES:
            return
        # Whose attempt failed? With no request id, and one run in flight, it may be that
        # run's own nested call or a second request whose attempt logged nothing else.
        windows = [w for w in self.already_running_times if w[2]] if reqs else []
        known = len(windows)
        alone = peak = 0
        if windows:
            # requests overlapping [a, b]: started by b and not ended before a, plus the
            # failing request itself when its own start/end lines are not among them
            idents = request_idents(reqs)
            own = np.fromiter((req not in idents for _, _, req in windows), np.int64, known)
            a = int64s([w[0] for w in windows])
            b = int64s([w[1] for w in windows])
            if spans is not None and a is not None and b is not None:
                n = (np.searchsorted(spans.sorted_starts, b, "right")
                     - np.searchsorted(spans.sorted_ends, a, "left") + own)
                peak = max(0, int(n.max()))
                alone = int((n <= 1).sum())
            else:  # times beyond int64: the same count on Python integers
                starts = sorted(r.start_ns for r in reqs)
                ends = sorted(r.end_ns for r in reqs)
                for (lo, hi, _), mine in zip(windows, own.tolist(), strict=True):
                    c = bisect.bisect_right(starts, hi) - bisect.bisect_left(ends, lo) + mine
                    peak = max(peak, c)
                    alone += c <= 1
        failing = self.family_counts["already_running"] - self.family_handled["already_running"]
        loop_only = failing > 0 and self.loop_wording >= failing
        data = {**sig.data, "timed": known, "alone": alone, "max_in_flight": peak,
                "event_loop_wording": self.loop_wording}
        weak = min(sig.strength, HANDLED_STRENGTH)
        if known and alone * 2 >= known:
            put(replace(sig, strength=weak,
                        detail=f"{sig.detail}; {alone} of {known} happened with no other "
                               "request in flight: not requests colliding on a shared "
                               "instance but a run started inside a running one (a nested "
                               "run_until_complete, a re-used event loop): a bug that fails "
                               "at concurrency 1", data=data))
        elif known:
            put(replace(sig, detail=f"{sig.detail}; {known - alone} of {known} with other "
                                    f"requests in flight (up to {peak})", data=data))
        elif loop_only:
            put(replace(sig, strength=weak,
                        detail=f"{sig.detail}; all in asyncio's own words ('event loop is "
                               "already running'), and no request timing shows others in "
                               "flight: a loop re-entered by one caller (nested "
                               "run_until_complete, asyncio.run inside a running loop) until "
                               "failures are seen to rise with concurrency", data=data))

    def _requests_failed(self, put: Callable[[Signal], None], signals: dict[str, Signal],
                         cols: RunColumns) -> None:
        """Do requests or runs fail in more than a noise share? The symptom that some
        cause must explain before a verdict can be healthy. Each view (request ends, run
        ends, error lines, the proxy's failures) counts the same failures its own way, so
        the largest count is taken, never their sum."""
        key = "requests.failed"
        failed_runs = cols.pick(cols.closed & cols.failed())
        views = {
            "requests": (self.request_failures, self.request_ends),
            "runs": (len(failed_runs), cols.n_closed),
            "error lines": (self.failing_errors, 0),
            "proxy failures": (self.runtime.gateway_failures, self.runtime.proxy_requests),
        }
        failed = max(f for f, _ in views.values())
        total = max(max(t for _, t in views.values()), failed)
        exs = (self.request_failure_examples
               + [r.end_at for r in failed_runs[: self.max_examples] if r.end_at is not None]
               + self.runtime.gateway.examples + self.failing_error_examples)
        counts = "; ".join(f"{name}: {f} failed of {t}" if t else f"{name}: {f}"
                           for name, (f, t) in views.items() if f or t)
        outcomes_seen = bool(self.request_ends or cols.n_closed or self.runtime.proxy_requests)
        # a strong signal that itself says requests failed (cut at a ceiling, 502/504 at the
        # proxy, errors rising with load) must not sit beside "requests do not fail"
        saying = [k for k in ("latency.ceiling", "proxy.gateway_errors",
                              "errors.rise_with_concurrency")
                  if (s := signals.get(k)) is not None and s.answer is Answer.YES
                  and s.strength >= SYMPTOM_STRENGTH]
        if not outcomes_seen:
            if failed >= FEW_ERRORS and exs:
                put(yes(key, PROBE, f"{failed} failures logged at error level ({counts}); no "
                                    "request or run outcomes to compare them with",
                        exs[: self.max_examples], value=failed, strength=0.6,
                        data={"failed": failed, "total": None}))
            else:
                put(unknown(key, PROBE, "no request or run outcome is visible (no request "
                                        "end, run end or proxy access lines)"
                                        + (f"; {counts}" if counts else "")))
            return
        share = failed / total if total else 0.0
        data = {"failed": failed, "total": total, "share": round(share, 4)}
        if failed >= FEW_ERRORS and share >= FAILED_SHARE and exs:
            put(yes(key, PROBE, f"{failed} of {total} failed ({share:.1%}; {counts})",
                    exs[: self.max_examples], value=failed, data=data))
        elif saying and exs:
            put(yes(key, PROBE, f"{failed} of {total} failed ({share:.1%}; {counts}), and "
                                f"{', '.join(saying)} says requests fail",
                    exs[: self.max_examples], value=failed, strength=SYMPTOM_STRENGTH,
                    data=data))
        else:
            put(no(key, PROBE, f"{failed} of {total} failed ({share:.1%}; {counts}): at most "
                               f"noise (YES needs {FEW_ERRORS}+ and {FAILED_SHARE:.0%})",
                   value=failed, data=data))

    def _coarse_instances(self, put: Callable[[Signal], None],
                          signals: dict[str, Signal]) -> None:
        """Instance ids that name a process, not an agent (see ``coarse_ids``): what was
        said about "one instance" is unknown, with that reason."""
        it = self.instances
        if it.coarse_ids():
            why = (f"{it.created} agents were created under only {len(it.created_ids)} "
                   f"instance id(s) ({', '.join(sorted(it.created_ids)[:3])}): the id names "
                   "the process or service instance, not one agent object")
        elif it.unproven_names():
            why = (f"the spans name the agent ({', '.join(sorted(it.inferred_ids)[:3])}) but "
                   "carry no object id and no creation was seen: whether one object or one "
                   "per request served these runs is not known")
        else:
            return
        for key in ("instance.many_sessions", "runs.overlap_instance",
                    "runs.nested_same_request"):
            s = signals.get(key)
            if s is not None and s.answer is not Answer.UNKNOWN:
                put(unknown(key, PROBE, why))

    def _reconcile(self, put: Callable[[Signal], None], signals: dict[str, Signal]) -> None:
        """No report may contradict itself. Where two answers cannot both hold, the one
        that rests on what could *not* be seen becomes UNKNOWN with that reason:

        * failing 'already running' errors say runs collided; if the overlap sweep found
          no overlap, the run lines do not show the collision (runs that fail at start
          log no start, ids missing), so "no two runs overlap" is not known;
        * the same errors need concurrency above one: a flat error rate across levels is
          then not a finding either, but a table too coarse to show it.
        """
        ar = signals.get("errors.already_running")
        if ar is None or ar.answer is not Answer.YES or ar.strength < SYMPTOM_STRENGTH:
            return
        n = ar.value
        said = f"{n} failing 'already running' error(s) say runs collided"
        overlap = signals.get("runs.overlap_instance")
        if overlap is not None and overlap.answer is Answer.NO:
            put(unknown("runs.overlap_instance", PROBE,
                        f"{said}, but the run lines do not show the overlap ({overlap.detail});"
                        " runs that fail at start may log no start, or lack instance ids"))
        if overlap is None or overlap.answer is not Answer.YES:
            par = signals.get("runs.parallel_same_session")
            if par is not None and par.answer is Answer.NO:
                put(unknown("runs.parallel_same_session", PROBE,
                            f"{said}, but the sweep could not see the colliding runs "
                            f"({par.detail})"))
        rise = signals.get("errors.rise_with_concurrency")
        if rise is not None and rise.answer is Answer.NO:
            put(unknown("errors.rise_with_concurrency", PROBE,
                        f"{said}, which needs concurrency above one, but the error rate by "
                        f"requests in flight does not show a rise ({rise.detail}): the "
                        "request lines do not show when the collisions happened"))

    def _fanout_signal(self, put: Callable[[Signal], None]) -> None:
        fo = self.fanout
        if not fo.calls:
            put(unknown("fanout.concurrent_calls", PROBE,
                        "no tool/model call events with a request id"))
            return
        peaks = fo.peaks()
        worst = max(peaks.items(), key=lambda kv: kv[1], default=("", 0))
        wide = sorted((r for r, n in peaks.items() if n >= FANOUT_MIN_CALLS),
                      key=lambda r: -peaks[r])
        exs = [e for e in (fo.example_for(r) for r in wide) if e is not None]
        if wide and exs:
            put(yes("fanout.concurrent_calls", PROBE,
                    f"{len(wide)} request(s) had {FANOUT_MIN_CALLS}+ calls in flight at once; "
                    f"request {worst[0]} peaked at {worst[1]}", exs[: self.max_examples],
                    value=worst[1]))
        else:
            put(no("fanout.concurrent_calls", PROBE,
                   f"at most {worst[1]} calls in flight in one request ({fo.calls} call events)",
                   value=worst[1]))

    def _state_signals(self, put: Callable[[Signal], None]) -> None:
        st = self.state
        multi = {s: p for s, p in st.processes_by_session.items() if len(p) >= 2}
        if not st.processes_by_session:
            put(unknown("state.session_multi_process", PROBE,
                        "no lines carry both a session id and a process identity"))
        elif multi:
            exs = [e for s in list(multi)[: self.max_examples]
                   for e in st.session_examples(s)][: self.max_examples]
            worst = max(multi, key=lambda s: len(multi[s]))
            put(yes("state.session_multi_process", PROBE,
                    f"{len(multi)} of {len(st.processes_by_session)} sessions served by several "
                    f"processes; {worst} by {len(multi[worst])}: "
                    f"{', '.join(sorted(multi[worst])[:4])}", exs, value=len(multi)))
        else:
            put(no("state.session_multi_process", PROBE,
                   f"each of {len(st.processes_by_session)} sessions stays on one process",
                   value=0))
        h = self.history
        if h.stale_count and not st.stale:
            put(yes("state.stale_read", PROBE,
                    f"{h.stale_count} time(s) a session's history on one process was shorter "
                    "than another process already held: each process keeps its own copy",
                    [e for pair in h.stale for e in pair][: self.max_examples],
                    value=h.stale_count, data={"from": "history_len by process"}))
        elif not st.versioned_reads and h.multi_process_sessions:
            # the history itself is the state: followed across the hop, it never went back
            put(no("state.stale_read", PROBE,
                   f"{h.multi_process_sessions} session(s) moved between processes and no "
                   "process ever held fewer turns than another already had", value=0,
                   data={"from": "history_len by process"}))
        elif not st.versioned_reads:
            put(unknown("state.stale_read", PROBE, "no state reads with a version in the logs"))
        elif st.stale:
            put(yes("state.stale_read", PROBE,
                    f"{st.stale_count} read(s) returned a version older than another process's "
                    "write", [e for pair in st.stale for e in pair][: self.max_examples],
                    value=st.stale_count))
        elif st.state_events_with_process == 0:
            put(unknown("state.stale_read", PROBE, "state events carry no process identity"))
        else:
            put(no("state.stale_read", PROBE,
                   f"{st.versioned_reads} versioned reads, none behind another process", value=0))
        if not st.versioned_writes:
            put(unknown("state.lost_update", PROBE, "no state writes with a version in the logs"))
        elif st.lost:
            put(yes("state.lost_update", PROBE,
                    f"{st.lost_count} version(s) written twice by writers that read the same "
                    "old version", [e for pair in st.lost for e in pair][: self.max_examples],
                    value=st.lost_count))
        else:
            put(no("state.lost_update", PROBE,
                   f"{st.versioned_writes} versioned writes, no version written twice", value=0))

    def _history_signals(self, put: Callable[[Signal], None]) -> None:
        h = self.history
        if not h.events:
            put(unknown("context.forgotten", PROBE, "no history size (history_len) in the logs"))
            put(unknown("history.cross_session", PROBE,
                        "no history size (history_len) in the logs"))
        else:
            exs, n = h.forgotten()
            if exs:
                put(yes("context.forgotten", PROBE,
                        f"{n} session(s) lose their earlier turns", exs[: self.max_examples],
                        value=n))
            else:
                put(no("context.forgotten", PROBE,
                       f"history of {len(h.sessions)} sessions keeps its earlier turns", value=0))
            cross, m = h.cross_session()
            if cross:
                put(yes("history.cross_session", PROBE,
                        f"{m} new sessions start with the history the previous session left",
                        cross[: self.max_examples], value=m))
            elif not h.holders:
                put(unknown("history.cross_session", PROBE,
                            "history lines carry no session with a process or instance"))
            else:
                put(no("history.cross_session", PROBE,
                       "history does not carry over between sessions", value=0))
        c = self.contamination
        if c.found:
            put(yes("requests.contamination", PROBE,
                    f"{c.count} line(s) carry another request's ids or values", c.found,
                    value=c.count))
        elif c.looked or self.request_event_seen:
            put(no("requests.contamination", PROBE,
                   "no line carries another in-flight request's ids or values", value=0))
        else:
            put(unknown("requests.contamination", PROBE,
                        "no request ids or per-request values to compare"))
