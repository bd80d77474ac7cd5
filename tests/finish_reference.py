"""``LogAnalysis.finish`` as it was before numpy (commit f5c32b8), kept as the oracle.

``RefAnalysis`` is a ``LogAnalysis`` whose finish-side methods are the pure-Python ones
the numpy finish replaced, copied verbatim; only the algorithm functions they call are
renamed to the verbatim copies below (``ref_summarize``, ``ref_sweep``...). Used by
``tests/test_finish_equivalence.py``: both analyses are fed the same events, and their
Evidence must be equal. Not a test module itself.
"""

# ruff: noqa: E501
from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from probes.analysis.concurrency import (
    CEILING_MAX_OK_SHARE,
    CEILING_MIN_FAILURES,
    CEILING_SHARE,
    CEILING_TOLERANCE,
    MIN_REQUESTS,
    Ceiling,
    ConcurrencyTable,
    Request,
    bucket_floor,
    bucket_label,
    judge_rise,
)
from probes.analysis.instances import LONG_LIVED_NS
from probes.analysis.log_analysis import (
    BAD_GATEWAY_STRENGTH,
    FAILED_SHARE,
    FEW_ERRORS,
    HANDLED_STRENGTH,
    LOG_KEYS,
    MAX_RUNS_IN_DATA,
    NESTED_MIN_GAP_NS,
    OWN_TIMEOUT_SHARE,
    OWN_TIMEOUT_STRENGTH,
    PARALLEL_START_GAP_NS,
    PER_REQUEST_SHARE,
    PROBE,
    SYMPTOM_STRENGTH,
    LogAnalysis,
    _instance_and_request,
    _session_and_request,
    _with_note,
)
from probes.analysis.runs import Overlap, OverlapSummary, Run
from probes.evidence import (
    Answer,
    Evidence,
    Example,
    Signal,
    iso_ns,
    no,
    now_utc,
    unknown,
    yes,
)


# ------------------------------------------------------------------ runs.py, as it was
def _span(r: Run) -> tuple[int | None, int | None]:
    return r.start_ns, r.end_ns


def ref_grouped(runs: Iterable[Run], group_of: Callable[[Run], str | None]
                ) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for r in runs:
        if r.end_ns is None or r.start_ns is None:  # not closed
            continue
        g = group_of(r)
        if g is not None:
            members = groups.get(g)
            if members is None:
                groups[g] = [r]
            else:
                members.append(r)
    return groups


def ref_sweep(runs: Iterable[Run], group_of: Callable[[Run], str | None]
              ) -> Iterator[Overlap]:
    groups = ref_grouped(runs, group_of)
    for g in sorted(g for g, members in groups.items() if len(members) > 1):
        members = sorted(groups[g], key=_span)
        active: list[tuple[int, int, Run]] = []
        for i, r in enumerate(members):
            assert r.start_ns is not None and r.end_ns is not None
            while active and active[0][0] <= r.start_ns:
                heapq.heappop(active)
            for _, _, a in sorted(active, key=lambda t: t[1]):
                yield Overlap(g, a, r)
            heapq.heappush(active, (r.end_ns, i, r))


def ref_summarize(runs: Iterable[Run], group_of: Callable[[Run], str | None], keep: int
                  ) -> OverlapSummary:
    out = OverlapSummary()
    groups = ref_grouped(runs, group_of)
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


def ref_run_json(r: Run) -> dict[str, Any]:
    """``Run.to_json`` as it was (``iso_ns`` for every time)."""
    return {
        "id": r.id, "instance": r.instance, "session": r.session,
        "request": r.request, "process": r.process,
        "start": iso_ns(r.start_ns) if r.start_ns is not None else None,
        "end": iso_ns(r.end_ns) if r.end_ns is not None else None,
        "outcome": r.outcome,
        "start_at": r._where(r.start_ref),
        "end_at": r._where(r.end_ref),
    }


# ------------------------------------------------------------------ concurrency.py, as it was
def ref_in_flight_at_start(requests: list[Request]) -> list[int]:
    starts = sorted(r.start_ns for r in requests)
    ends = sorted(r.end_ns for r in requests)
    return [bisect.bisect_right(starts, r.start_ns) - bisect.bisect_right(ends, r.start_ns)
            for r in requests]


def ref_concurrency_table(requests: list[Request]) -> ConcurrencyTable:
    levels = ref_in_flight_at_start(requests)
    counts: dict[str, list[int]] = {}
    for r, c in zip(requests, levels, strict=True):
        row = counts.setdefault(bucket_label(c), [0, 0])
        row[0] += 1
        row[1] += int(r.failed)
    rows = tuple(
        {"level": label, "requests": n, "errors": e, "error_rate": round(e / n, 3)}
        for label, (n, e) in sorted(counts.items(), key=lambda kv: bucket_floor(kv[0])))
    return ConcurrencyTable(rows, len(requests))


def ref_find_ceiling(requests: list[Request], max_examples: int) -> Ceiling | None:
    failed = sorted((r for r in requests if r.failed and r.duration_ms is not None),
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


# ------------------------------------------------------------------ log_analysis.py, as it was
class RefAnalysis(LogAnalysis):
    """``LogAnalysis`` with the pure-Python finish (the methods below, verbatim)."""

    def _finish(self) -> Evidence:
        runs = self.runs.runs
        closed = [r for r in runs if r.closed]
        signals: dict[str, Signal] = {}

        def put(s: Signal) -> None:
            signals[s.key] = s

        by_instance = ref_summarize(closed, lambda r: r.instance, self.max_examples)
        self._run_signals(put, runs, closed, by_instance)
        self._instance_signals(put, runs, by_instance)
        self._error_signals(put)
        request_list = self._request_list(closed)
        table = ref_concurrency_table(request_list) if request_list else None
        self._concurrency_signals(put, request_list, table)
        self._runtime_signals(put)
        self._guard_already_running(put, signals, request_list)
        self._fanout_signal(put)
        self._state_signals(put)
        self._history_signals(put)
        self._coarse_instances(put, signals)
        self._requests_failed(put, signals, runs, closed)
        self._reconcile(put, signals, runs, closed)
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
            "runs": [ref_run_json(r) for r in runs[:MAX_RUNS_IN_DATA]],
            "runs_total": len(runs),
            "runs_open": len(self.runs.open_runs),
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

    def _open_in_request(self, closed: list[Run]) -> list[Run]:
        """Runs that never ended, held open to the last end of their own request on their
        instance: a run re-entered from its own callback fails, and the outer run's end
        is never logged, yet the inner one started inside it."""
        last: dict[tuple[str, str], int] = {}
        for r in closed:
            if r.instance and r.request and r.end_ns is not None:
                k = (r.instance, r.request)
                if r.end_ns > last.get(k, -1):
                    last[k] = r.end_ns
        out: list[Run] = []
        for r in self.runs.open_runs:
            if r.instance and r.request and r.start_ns is not None:
                end = last.get((r.instance, r.request))
                if end is not None and end > r.start_ns:
                    out.append(replace(r, end_ns=end + 1))  # past it: touching is no overlap
        return out

    def _run_signals(self, put: Callable[[Signal], None], runs: list[Run], closed: list[Run],
                     by_instance: OverlapSummary) -> None:
        keys = ("runs.overlap_instance", "runs.parallel_same_session",
                "runs.nested_same_request", "runs.periodic_overlap")
        if not runs:
            for k in keys:
                put(unknown(k, PROBE, "no run start/end events in the logs"))
            return
        if not closed:
            why = (f"{len(runs)} runs seen but their lines carry no time "
                   f"({self.runs.untimed} untimed run lines)" if self.runs.untimed else
                   f"{len(runs)} runs started but none has a known end")
            for k in keys:
                put(unknown(k, PROBE, why))
            return
        open_note = (f"; {len(self.runs.open_runs)} runs never ended in the logs"
                     if self.runs.open_runs else "")
        # runs.overlap_instance
        with_inst = [r for r in closed if r.instance]
        if not with_inst:
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
                       f"{len(with_inst)} runs on {len(by_instance.peak)} instance(s); no two "
                       f"overlap{open_note}", value=0))
            # Fine groups (one instance, one request): few pairs, so every pair is looked at.
            nested = [o for o in ref_sweep(with_inst + self._open_in_request(with_inst),
                                       _instance_and_request)
                      if o.nested and o.start_gap_ns >= NESTED_MIN_GAP_NS]
            if nested:
                put(yes("runs.nested_same_request", PROBE,
                        f"{len(nested)} runs started inside another run of the same request on "
                        f"the same instance; e.g. {nested[0].story()}",
                        self._overlap_examples(nested), value=len(nested)))
            elif not any(r.request for r in with_inst):
                put(unknown("runs.nested_same_request", PROBE, "no request ids on the runs"))
            else:
                put(no("runs.nested_same_request", PROBE,
                       "no run starts inside another run of its own request", value=0))
        # runs.parallel_same_session
        sess_req = [r for r in closed if r.session and r.request]
        if not sess_req:
            put(unknown("runs.parallel_same_session", PROBE,
                        "no runs carry both a session id and a request id"))
        else:
            par = [o for o in ref_sweep(sess_req, _session_and_request)
                   if not o.nested or o.start_gap_ns <= PARALLEL_START_GAP_NS]
            if par:
                put(yes("runs.parallel_same_session", PROBE,
                        f"{len(par)} pairs of runs of one session started together by one request;"
                        f" e.g. {par[0].story()}", self._overlap_examples(par), value=len(par)))
            else:
                put(no("runs.parallel_same_session", PROBE,
                       f"{len(sess_req)} runs with session and request ids; none started in "
                       "parallel within one session", value=0))
        self._periodic_signal(put, closed)

    def _instance_signals(self, put: Callable[[Signal], None], runs: list[Run],
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
                if not exs:  # (fixed in both: untimed lines cite the instance's runs)
                    exs = self._instance_run_examples(worst.id)
                what = "sessions" if worst.sessions else "requests"
                if exs:
                    put(yes("instance.many_sessions", PROBE,
                            f"{len(reused)} instance(s) serve several sessions/requests; "
                            f"{worst.id} served {it.reuse_count(worst)} {what} ({mode})",
                            exs, value=it.reuse_count(worst),
                            data={"instances": len(reused), "concurrent": bool(overlapping)}))
                else:
                    put(unknown("instance.many_sessions", PROBE,
                                f"{worst.id} is named with {it.reuse_count(worst)} {what}, "
                                "but only on lines without a clock and without runs to cite"))
            else:
                put(no("instance.many_sessions", PROBE,
                       f"{len(stats)} instance(s), each with one session or request", value=1))
        # instance.per_request
        agent_reqs = len(it.agent_requests)
        if it.created == 0:
            self._per_request_from_runs(put, runs)
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

    def _per_request_from_runs(self, put: Callable[[Signal], None], runs: list[Run]) -> None:
        """No creation lines: infer from instance ids on runs. A request whose runs use
        instances no other request used got its own instance. Weaker (strength 0.8)."""
        requests_of: dict[str, set[str]] = {}
        runs_of: dict[str, list[Run]] = {}
        for r in runs:
            if r.instance and r.request:
                requests_of.setdefault(r.instance, set()).add(r.request)
                runs_of.setdefault(r.request, []).append(r)
        if len(runs_of) < 3:
            put(unknown("instance.per_request", PROBE,
                        "no instance creation events, and too few runs with both an instance "
                        "and a request id"))
            return
        # Instances one request alone used; with none, no request can be fresh.
        own = {inst for inst, reqs in requests_of.items() if len(reqs) == 1}
        fresh = [req for req, rs in runs_of.items()
                 if all(r.instance in own for r in rs)] if own else []
        ratio = len(fresh) / len(runs_of)
        what = (f"no creation lines; {len(fresh)} of {len(runs_of)} requests ran on an "
                "instance no other request used")
        if ratio >= PER_REQUEST_SHARE:
            exs = [r.start_at for req in fresh[: self.max_examples] for r in runs_of[req][:1]
                   if r.start_at is not None]
            put(yes("instance.per_request", PROBE, f"{what} ({ratio:.0%})", exs,
                    value=round(ratio, 3), strength=0.8))
        else:
            put(no("instance.per_request", PROBE, f"{what} ({ratio:.0%})", value=round(ratio, 3)))

    def _request_list(self, closed: list[Run]) -> list[Request]:
        """Requests with a start and an end; else the runs stand in for them. Request lines
        without a duration (uvicorn's access line has none) give no interval: the runs
        then do, as long as they show at least the failures the request lines show (a
        table built from runs that hide failures would say "no rise" beside failing
        requests)."""
        if self.requests.requests:
            return self.requests.requests
        if self.request_event_seen and sum(r.failed for r in closed) < self.request_failures:
            return []
        out = []
        for r in closed:
            assert r.start_ns is not None and r.end_ns is not None
            out.append(Request(r.start_ns, r.end_ns, r.failed, (r.end_ns - r.start_ns) / 1e6,
                               r.lines, r.end_ref if r.failed else -1, r.request))
        return out

    def _concurrency_signals(self, put: Callable[[Signal], None], reqs: list[Request],
                             table: ConcurrencyTable | None) -> None:
        seen = max(self.request_ends, len(reqs))
        if table is not None and seen >= MIN_REQUESTS and not self._any_failure(reqs):
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
                levels = ref_in_flight_at_start(reqs)
                failing = [_with_note(r.end_at, f"failed with {c} requests in flight")
                           for r, c in zip(reqs, levels, strict=True)
                           if r.failed and r.end_at is not None
                           and bucket_label(c) == rise.worst_level][: self.max_examples]
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
        ceiling = ref_find_ceiling(proxy_reqs, self.max_examples) if proxy_reqs else None
        who = f"at the proxy ({', '.join(sorted(self.runtime.proxies))})" if ceiling else ""
        if ceiling is None and reqs:
            ceiling = ref_find_ceiling(reqs, self.max_examples)
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
            nfail = sum(r.failed for r in reqs)
            put(no("latency.ceiling", PROBE,
                   f"{nfail} failing requests, no common duration; no platform timeouts"))
        elif self.failure_visible:
            put(no("latency.ceiling", PROBE,
                   f"no platform timeouts among {self.errors_total} error lines"))
        else:
            put(unknown("latency.ceiling", PROBE, "no request durations and no line that "
                                                  "could show an error"))

    def _any_failure(self, reqs: list[Request]) -> bool:
        """Did anything visible fail: a request, a run, an error-level line, the proxy?"""
        return bool(self.request_failures or self.failing_errors
                    or self.runtime.gateway_failures or any(r.failed for r in reqs)
                    or any(r.failed for r in self.runs.runs))

    def _guard_already_running(self, put: Callable[[Signal], None], signals: dict[str, Signal],
                               reqs: list[Request]) -> None:
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
        windows = self.already_running_times
        starts = sorted(r.start_ns for r in reqs)
        ends = sorted(r.end_ns for r in reqs)
        idents = {r.ident for r in reqs if r.ident}
        alone = known = peak = 0
        for a, b, req in windows if reqs else ():
            if not req:
                # Whose attempt failed? With one run in flight, it may be that run's own
                # nested call or a second request whose attempt logged nothing else.
                continue
            # requests overlapping [a, b]: started by b and not ended before a, plus the
            # failing request itself when its own start/end lines are not among them
            n = bisect.bisect_right(starts, b) - bisect.bisect_left(ends, a)
            if req not in idents:
                n += 1
            known += 1
            peak = max(peak, n)
            if n <= 1:
                alone += 1
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
                         runs: list[Run], closed: list[Run]) -> None:
        """Do requests or runs fail in more than a noise share? The symptom that some
        cause must explain before a verdict can be healthy. Each view (request ends, run
        ends, error lines, the proxy's failures) counts the same failures its own way, so
        the largest count is taken, never their sum."""
        key = "requests.failed"
        failed_runs = [r for r in closed if r.failed]
        views = {
            "requests": (self.request_failures, self.request_ends),
            "runs": (len(failed_runs), len(closed)),
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
        outcomes_seen = bool(self.request_ends or closed or self.runtime.proxy_requests)
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

    def _reconcile(self, put: Callable[[Signal], None], signals: dict[str, Signal],
                   runs: list[Run], closed: list[Run]) -> None:
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
