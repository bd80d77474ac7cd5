"""Fleet signals computed in Prometheus: the same questions the tree asks of logs and
pods, answered for every replica over a time window at once.

Why in Prometheus: with 200 replicas nobody pulls every pod's logs and objects onto a
laptop, while kube-state-metrics, cAdvisor and the service's own HTTP metrics already
hold the fleet's history. Each signal is one or two PromQL queries; the PromQL is kept
as the signal's evidence, so an operator can paste it into Grafana and see the same
numbers. Aggregation happens on the server (``sum by (pod)``), so what comes back grows
with replicas and points, never with requests.

Signals and their PromQL (``{S}`` is the selector, ``[W]`` the window, ``[r]`` a rate
range of at least four samples):

* ``pods.restarts``: ``increase(kube_pod_container_status_restarts_total{S}[W])``;
* ``pods.oomkilled``: ``max_over_time(kube_pod_container_status_last_terminated_reason
  {reason="OOMKilled",S}[W])``;
* ``process.rss_growth``: ``container_memory_working_set_bytes`` per container over the
  window against ``kube_pod_container_resource_limits{resource="memory"}``: a working set
  that climbs by a third of its limit and reaches 85% of it; the bytes it grows per request
  served come from the same replica's request counter;
* ``pods.no_memory_limit``: working sets with no memory limit beside them;
* ``errors.rise_with_concurrency``: per replica and step, the 5xx share of requests
  against the requests in flight (the peak of the service's in-flight gauge in the step,
  else the histogram's ``rate(_sum)``, the mean number in flight by Little's law), judged by the
  same rule as logs and the ramp (``judge_rise``: single requests pass, a higher level
  fails at least 20 points more often);
* ``requests.failed``: the window's 5xx share over all requests;
* ``latency.ceiling``: the latency histogram of failed requests, when 60% of them end in
  the one bucket below a common timeout and successes seldom end there;
* ``errors.rate_limit``: upstream calls answered 429/503 (OpenTelemetry GenAI or HTTP
  client metrics, LiteLLM);
* ``fleet.replica_outlier``: one replica's 5xx share or memory far from its siblings';
* ``process.multiple_workers``: more than one replica.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from probes.evidence import MAX_EXAMPLE_TEXT, Example, Signal, example, no, unknown, yes
from probes.prometheus import catalog as C
from probes.prometheus.client import FORBIDDEN, PromClient, Result, Series

PROBE = "prometheus"
MAX_POINTS = 240
"""Points per series asked of ``query_range``: enough for a chart and the concurrency
join, far under the server's 11,000-point limit."""
MAX_EXAMPLES = 8
RESTART_MIN = 0.5
"""``increase`` extrapolates: half a restart or more is one."""
FAILED_SHARE = 0.01
FEW_ERRORS = 3
"""requests.failed as the logs say it: at least this many failures and this share."""
GROWTH_SHARE = 1 / 3
NEAR_LIMIT = 0.85
"""process.rss_growth: a working set that climbs by a third of its limit and gets within
15% of it."""
CEILING_SHARE = 0.60
CEILING_MAX_OK_SHARE = 0.25
CEILING_MIN_FAILURES = 5
"""As in logs: 60% of failures in one bucket, successes there at most a quarter of them."""
RATE_LIMIT_MIN = 5
RATE_LIMIT_SHARE = 0.01
OUTLIER_MIN_REPLICAS = 3
OUTLIER_ERROR_SHARE = 0.10
OUTLIER_FACTOR = 5.0
OUTLIER_MEMORY_FACTOR = 2.0
OUTLIER_MIN_REQUESTS = 20


@dataclass(frozen=True, slots=True)
class Window:
    """The time window asked about, in unix seconds, with its step and rate range."""

    start: float
    end: float
    step: float
    rate_s: int

    @property
    def span(self) -> str:
        return f"{max(1, round(self.end - self.start))}s"

    @property
    def rate(self) -> str:
        return f"{self.rate_s}s"


@dataclass
class Asked:
    """Every query the probe sent, for the evidence and the Metrics view."""

    client: PromClient
    selector: str
    window: Window
    log: list[dict[str, Any]] = field(default_factory=list)

    def sel(self, name: str, *extra: str) -> str:
        parts = [p for p in (*extra, self.selector) if p]
        return f"{name}{{{','.join(parts)}}}"

    def instant(self, promql: str, what: str) -> Result:
        got = self.client.query(promql, self.window.end)
        self.note(got, what, "instant")
        return got

    def range(self, promql: str, what: str) -> Result:
        w = self.window
        got = self.client.query_range(promql, w.start, w.end, w.step)
        self.note(got, what, "range")
        return got

    def note(self, got: Result, what: str, kind: str) -> None:
        """One query sent and what came of it, in the evidence's list."""
        entry: dict[str, Any] = {"what": what, "promql": got.promql, "kind": kind,
                                 "series": len(got.series), "seconds": round(got.seconds, 3)}
        if got.failure is not None:
            entry["failure"] = got.failure.kind
            entry["message"] = got.failure.message
        if got.dropped:
            entry["dropped"] = got.dropped
        if got.warnings:
            entry["warnings"] = list(got.warnings)
        self.log.append(entry)


@dataclass
class Found:
    """What discovery found: metric names present, and per metric its label names."""

    names: set[str]
    labels: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Http:
    """The service's HTTP metrics as found: the convention, and the labels it carries."""

    convention: C.HttpConvention
    status: str | None
    replica: str | None
    in_flight: str | None
    histogram_status: str | None
    has_histogram: bool
    traffic: tuple[str, ...] = ()
    """Matchers that leave out the scrape and health checks (on the request counter)."""
    flight_traffic: tuple[str, ...] = ()
    hist_traffic: tuple[str, ...] = ()

    def requests(self, asked: Asked, *extra: str) -> str:
        """The request counter's selector, the scrape and health checks left out."""
        return asked.sel(self.convention.requests, *extra, *self.traffic)

    def failures(self, asked: Asked) -> str:
        """The same counter's 5xx answers (a convention is found only with its status)."""
        return self.requests(asked, _is(self.status or "", "=~", C.SERVER_ERROR_RE))


@dataclass
class Out:
    """The probe's results as they are made: signals, charts and tables for the views."""

    signals: list[Signal] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)

    def put(self, s: Signal) -> None:
        self.signals.append(s)


# --------------------------------------------------------------------------- helpers


def _ex(asked: Asked, promql: str, note: str, where: str = "") -> Example:
    """A pointer to the numbers: the PromQL that gives them (to paste into Grafana as it
    is), and what they said. A query longer than an excerpt is never cut (a cut query does
    not run): the example names it in the evidence's list of queries instead."""
    src = f"prometheus {asked.client.shown}" + (f" {where}" if where else "")
    text = promql
    if len(promql) > MAX_EXAMPLE_TEXT:
        at = next((i for i, q in enumerate(asked.log, 1) if q.get("promql") == promql), None)
        text = (f"(a PromQL of {len(promql)} characters: query {at} of the evidence's queries,"
                " to copy from the Metrics view or -o json)" if at else
                f"(a PromQL of {len(promql)} characters, too long to show here)")
    return example(src, time_ns=int(asked.window.end * 1e9), text=text, note=note)


def _why_not(got: Result, metric: str) -> str:
    f = got.failure
    assert f is not None
    if f.kind == FORBIDDEN:
        return f"{f.message} (needed to read {metric})"
    return f"{metric}: {f.message}"


def _replica(s: Series, label: str | None = None) -> str:
    lab = s.labels
    if label and label in lab:
        return lab[label]
    ns, pod = lab.get("namespace"), lab.get("pod")
    if pod:
        return f"{ns}/{pod}" if ns else pod
    return lab.get("instance") or ",".join(f"{k}={v}" for k, v in sorted(lab.items())) or "-"


def _container(s: Series) -> str:
    lab = s.labels
    base = _replica(s)
    return f"{base}/{lab['container']}" if lab.get("container") else base


def _is(label: str, op: str, value: str) -> str:
    """One label matcher, ``label op "value"`` (values here are our own constants)."""
    return f'{label}{op}"{value}"'


def _finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


def _thin(points: Sequence[tuple[float, float]], n: int = MAX_POINTS) -> list[list[float]]:
    """At most ``n`` points for a chart (every k-th), NaN and infinities left out."""
    pts = [(t, v) for t, v in points if _finite(v)]
    k = max(1, math.ceil(len(pts) / n))
    return [[t, v] for t, v in pts[::k]]


def _chart(out: Out, title: str, unit: str, promql: str,
           series: Sequence[tuple[str, Sequence[tuple[float, float]]]], signal: str) -> None:
    """A small chart for the Metrics view; ``signal`` is the key it shows the numbers of
    (charts of signals answered yes are shown first)."""
    out.charts.append({"title": title, "unit": unit, "promql": promql, "signal": signal,
                       "series": [{"label": label, "points": _thin(points)}
                                  for label, points in series if points]})


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.2%}"


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


# --------------------------------------------------------------------------- discovery


def discover(asked: Asked) -> Found | Result:
    """Which catalogue metrics exist for the selector (one label-values call, or one
    query when a proxy allows only queries); the failed Result when neither answers."""
    names = C.every_name()
    alt = "|".join(names)
    match = asked.sel("", f'__name__=~"{alt}"')
    w = asked.window
    got = asked.client.label_values("__name__", [match], w.start, w.end)
    if isinstance(got, list):
        asked.log.append({"what": "which metrics exist", "kind": "label values",
                          "promql": match, "series": len(got), "seconds": 0.0})
        return Found(set(got) & set(names))
    asked.log.append({"what": "which metrics exist", "kind": "label values", "promql": match,
                      "series": 0, "seconds": 0.0, "failure": got.kind,
                      "message": got.message})
    # a proxy may allow queries only: the same answer from one range query (an instant
    # selector sees 5 minutes back, so a step of 5 minutes covers the window; functions
    # over ranges would drop the metric name this needs)
    q = f"count by (__name__) ({match})"
    step = min(300.0, max(1.0, w.end - w.start))
    res = asked.client.query_range(q, w.start, w.end, step)
    asked.note(res, "which metrics exist", "range")
    if not res.ok:
        return res
    return Found({s.labels.get("__name__", "") for s in res.series} & set(names))


def labels_of(asked: Asked, found: Found, metric: str) -> set[str]:
    """The label names ``metric``'s series carry (empty when it is absent)."""
    if metric not in found.names:
        return set()
    if metric in found.labels:
        return found.labels[metric]
    w = asked.window
    got = asked.client.labels([asked.sel(metric)], w.start, w.end)
    if not isinstance(got, list):  # labels API refused: ask a query for one series
        res = asked.instant(f"topk(1, last_over_time({asked.sel(metric)}[{w.span}]))",
                            f"labels of {metric}")
        got = sorted({k for s in res.series for k in s.labels}) if res.ok else []
    found.labels[metric] = set(got)
    return found.labels[metric]


def http_metrics(asked: Asked, found: Found) -> Http | None:
    """The first HTTP convention whose request counter exists, with its labels."""
    for conv in C.HTTP_CONVENTIONS:
        if conv.requests not in found.names:
            continue
        labels = labels_of(asked, found, conv.requests)
        status = next((s for s in conv.status_labels if s in labels), None)
        if status is None:
            continue
        replica = next((r for r in C.REPLICA_LABELS if r in labels), None)
        in_flight = next((g for g in conv.in_flight if g in found.names), None)
        hist_status = None
        has_hist = bool(conv.histogram) and f"{conv.histogram}_bucket" in found.names
        if has_hist and conv.histogram:
            hl = labels_of(asked, found, f"{conv.histogram}_bucket")
            hist_status = next((s for s in conv.status_labels if s in hl), None)
        def traffic(names: set[str], routes: tuple[str, ...] = conv.route_labels
                    ) -> tuple[str, ...]:
            route = next((r for r in routes if r in names), None)
            return (_is(route, "!~", C.NOT_TRAFFIC_RE),) if route else ()

        return Http(conv, status, replica, in_flight, hist_status, has_hist, traffic(labels),
                    traffic(labels_of(asked, found, in_flight)) if in_flight else (),
                    traffic(labels_of(asked, found, f"{conv.histogram}_bucket"))
                    if has_hist else ())
    return None


def sample_interval(asked: Asked, found: Found) -> float | None:
    """Seconds between samples of the busiest metric found (a scrape interval), from how
    many samples one series holds over the window."""
    for metric in (*(c.requests for c in C.HTTP_CONVENTIONS), C.WORKING_SET, C.RESTARTS,
                   C.POD_INFO):
        if metric in found.names:
            w = asked.window
            res = asked.instant(f"max(count_over_time({asked.sel(metric)}[{w.span}]))",
                                "samples per series (the scrape interval)")
            if res.ok and res.series and _finite(res.series[0].last) and res.series[0].last > 1:
                return (w.end - w.start) / (res.series[0].last - 1)
            return None
    return None


# --------------------------------------------------------------------------- pods


def pod_signals(asked: Asked, found: Found, out: Out) -> dict[str, dict[str, Any]]:
    """Restarts and OOM kills per container (kube-state-metrics); the per-replica rows."""
    rows: dict[str, dict[str, Any]] = {}
    w = asked.window
    if C.RESTARTS not in found.names:
        why = (f"{C.RESTARTS} has no series for the selector (is kube-state-metrics "
               "scraped, and does the selector match its namespace/pod labels?)")
        out.put(unknown("pods.restarts", PROBE, why))
        out.put(unknown("pods.oomkilled", PROBE, why))
        return rows
    q = (f"sum by (namespace, pod, container) (increase({asked.sel(C.RESTARTS)}"
         f"[{w.span}]))")
    got = asked.instant(q, "restarts per container in the window")
    if not got.ok:
        out.put(unknown("pods.restarts", PROBE, _why_not(got, C.RESTARTS)))
    else:
        counted = [(s, s.last) for s in got.series if _finite(s.last)]
        restarted = sorted(((s, n) for s, n in counted if n >= RESTART_MIN),
                           key=lambda sn: -sn[1])
        for s, n in counted:
            rows.setdefault(_replica(s), {})["restarts"] = round(n)
        if restarted:
            total = sum(round(n) for _s, n in restarted)
            out.put(yes("pods.restarts", PROBE,
                        f"{len(restarted)} of {len(counted)} containers restarted in the window "
                        f"({total} restarts)",
                        [_ex(asked, q, f"{round(n)} restarts", _container(s))
                         for s, n in restarted[:MAX_EXAMPLES]], value=len(restarted)))
        else:
            out.put(no("pods.restarts", PROBE,
                       f"no container restarted in the window ({len(counted)} containers)",
                       value=0, examples=[_ex(asked, q, "0 restarts everywhere")]))
    oq = (f"max by (namespace, pod, container) (max_over_time("
          f"{asked.sel(C.TERMINATED_REASON, _is('reason', '=', 'OOMKilled'))}"
          f"[{w.span}]))")
    if C.TERMINATED_REASON not in found.names and got.ok:
        out.put(no("pods.oomkilled", PROBE, "no container's last termination was OOMKilled "
                   f"({C.TERMINATED_REASON} has no series: none was terminated)", value=0))
        return rows
    og = asked.instant(oq, "containers whose last termination was OOMKilled")
    if not og.ok:
        out.put(unknown("pods.oomkilled", PROBE, _why_not(og, C.TERMINATED_REASON)))
        return rows
    killed = [s for s in og.series if _finite(s.last) and s.last >= 1]
    for s in killed:
        rows.setdefault(_replica(s), {})["oomkilled"] = True
    if killed:
        restarts = {_container(s): round(s.last) for s in got.series} if got.ok else {}
        recent = [s for s in killed if restarts.get(_container(s), 0) > 0]
        out.put(yes("pods.oomkilled", PROBE,
                    f"{len(killed)} containers were OOMKilled (their last termination's reason)"
                    + (f"; {len(recent)} of them restarted in the window" if recent else
                       "; none restarted in the window, so the kill came before it"),
                    [_ex(asked, oq, "last terminated: OOMKilled"
                         + (f", {restarts[_container(s)]} restarts in the window"
                            if restarts.get(_container(s)) else ""), _container(s))
                     for s in (recent or killed)[:MAX_EXAMPLES]],
                    value=len(killed), strength=1.0 if recent else 0.6))
    else:
        out.put(no("pods.oomkilled", PROBE, "no container's last termination was OOMKilled",
                   value=0, examples=[_ex(asked, oq, "no series")]))
    return rows


# --------------------------------------------------------------------------- memory


def memory_signals(asked: Asked, found: Found, out: Out, rows: dict[str, dict[str, Any]],
                   request_rates: Mapping[str, Series], http: Http | None) -> None:
    """Working set against the limit: growth to the limit, bytes per request, no limit."""
    if C.WORKING_SET not in found.names:
        why = (f"{C.WORKING_SET} has no series for the selector (is cAdvisor, the kubelet's "
               "/metrics/cadvisor, scraped?)")
        out.put(unknown("process.rss_growth", PROBE, why))
        out.put(unknown("pods.no_memory_limit", PROBE, why))
        return
    ws_sel = asked.sel(C.WORKING_SET, _is("container", "!=", ""), _is("container", "!=", "POD"))
    wq = f"max by (namespace, pod, container) ({ws_sel})"
    ws = asked.range(wq, "memory working set per container")
    lim_sel = asked.sel(C.LIMITS, _is("resource", "=", "memory"))
    lq = (f"max by (namespace, pod, container) (max_over_time({lim_sel}"
          f"[{asked.window.span}]))")
    limits = asked.instant(lq, "memory limit per container") if C.LIMITS in found.names \
        else None
    if not ws.ok:
        out.put(unknown("process.rss_growth", PROBE, _why_not(ws, C.WORKING_SET)))
        out.put(unknown("pods.no_memory_limit", PROBE, _why_not(ws, C.WORKING_SET)))
        return
    limit_of: dict[str, float] = {}
    if limits is not None and limits.ok:
        limit_of = {_container(s): s.last for s in limits.series
                    if _finite(s.last) and s.last > 0}
    names = [_container(s) for s in ws.series]
    unlimited = [n for n in names if n not in limit_of]
    if limits is None or limits.ok:
        if unlimited:
            out.put(yes("pods.no_memory_limit", PROBE,
                        f"{len(unlimited)} of {len(names)} containers have no memory limit",
                        [_ex(asked, f"{wq} unless on (namespace, pod, container) {lq}",
                             "no memory limit", n) for n in unlimited[:MAX_EXAMPLES]],
                        value=len(unlimited)))
        else:
            out.put(no("pods.no_memory_limit", PROBE,
                       f"every container has a memory limit ({len(names)})", value=0))
    else:
        out.put(unknown("pods.no_memory_limit", PROBE, _why_not(limits, C.LIMITS)))
    grown: list[tuple[float, str, float, float, float, float, str]] = []
    chart: list[tuple[str, float, Sequence[tuple[float, float]]]] = []
    for s in ws.series:
        name = _container(s)
        pts = [(t, v) for t, v in s.points if _finite(v)]
        limit = limit_of.get(name)
        if not pts:
            continue
        peak = max(v for _t, v in pts)
        rows.setdefault(_replica(s), {})["memory_peak_bytes"] = peak
        if limit is None:
            continue
        rows[_replica(s)]["memory_peak_ratio"] = round(peak / limit, 3)
        chart.append((name, peak / limit, [(t, v / limit) for t, v in pts]))
        rise, t0, t1 = _longest_rise(pts, limit)
        if rise >= GROWTH_SHARE * limit and peak >= NEAR_LIMIT * limit:
            grown.append((rise, name, peak / limit, t0, t1, limit, s.labels.get("pod", "")))
    chart.sort(key=lambda c: -c[1])
    _chart(out, "memory working set / limit (top 5 containers)", "ratio",
           f"{wq} / on (namespace, pod, container) {lq}",
           [(name, pts) for name, _peak, pts in chart[:5]], "process.rss_growth")
    if not limit_of:
        out.put(unknown("process.rss_growth", PROBE,
                        f"no memory limit to compare the working set with ({C.LIMITS} "
                        "{resource=\"memory\"} has no series)"))
        return
    if not grown:
        top = max((c[1] for c in chart), default=0.0)
        out.put(no("process.rss_growth", PROBE,
                   f"no working set climbed towards its limit (highest {_pct(top)} of its "
                   f"limit, {len(chart)} containers)", value=round(top, 3)))
        return
    grown.sort(key=lambda g: -g[0])
    exs = []
    per_request = ""
    for rise, name, ratio, t0, t1, limit, pod in grown[:MAX_EXAMPLES]:
        note = (f"grew {_bytes(rise)} ({_pct(rise / limit)} of its {_bytes(limit)} limit) "
                f"in {(t1 - t0) / 60:.0f} min, peak {_pct(ratio)}")
        rate = request_rates.get(pod) if http is not None and pod else None
        if rate is not None:
            served = sum(v for t, v in rate.points if t0 <= t <= t1 and _finite(v)) \
                * asked.window.step
            if served >= 1:
                note += f"; about {_bytes(rise / served)} per request served"
                if not per_request:
                    per_request = f"; about {_bytes(rise / served)} per request"
        exs.append(_ex(asked, wq, note, name))
    out.put(yes("process.rss_growth", PROBE,
                f"{len(grown)} containers' working set climbed to {_pct(NEAR_LIMIT)}+ of "
                f"their memory limit{per_request}", exs, value=len(grown)))


def _longest_rise(pts: Sequence[tuple[float, float]], limit: float
                  ) -> tuple[float, float, float]:
    """The largest climb from a low to a later high, (bytes, from, to). A fall of a fifth
    of the limit between two samples is a restart (the working set starts over), so a
    climb never spans one."""
    best = (0.0, pts[0][0], pts[0][0])
    lo_v, lo_t = pts[0][1], pts[0][0]
    prev = pts[0][1]
    for t, v in pts[1:]:
        if v <= lo_v or prev - v >= 0.2 * limit:
            lo_v, lo_t = v, t
        elif v - lo_v > best[0]:
            best = (v - lo_v, lo_t, t)
        prev = v
    return best


# --------------------------------------------------------------------------- requests


def request_signals(asked: Asked, found: Found, out: Out, rows: dict[str, dict[str, Any]],
                    http: Http | None) -> dict[str, Series]:
    """Failure share, its rise with concurrency, the latency ceiling and outliers."""
    keys = ("requests.failed", "errors.rise_with_concurrency", "latency.ceiling",
            "fleet.replica_outlier")
    if http is None:
        names = ", ".join(c.requests for c in C.HTTP_CONVENTIONS)
        for k in keys:
            out.put(unknown(k, PROBE, f"no HTTP request metric of the service for the "
                                      f"selector (looked for {names}, with a status label)"))
        return {}
    conv = http.convention
    by = http.replica or "instance"
    w = asked.window
    req = http.requests(asked)
    err = http.failures(asked)
    # per replica, once: the fleet's totals are their sums, and the outliers read them too
    rq = f"sum by ({by}) (increase({req}[{w.span}]))"
    eq = f"sum by ({by}) (increase({err}[{w.span}]))"
    reqs, errs_w = asked.instant(rq, "requests per replica in the window"), \
        asked.instant(eq, "5xx per replica in the window")
    n_total = sum(x.last for x in reqs.series if _finite(x.last)) if reqs.ok else math.nan
    n_err = sum(x.last for x in errs_w.series if _finite(x.last)) if errs_w.ok else 0.0
    fleet_share_q = f"sum(increase({err}[{w.span}])) / sum(increase({req}[{w.span}]))"
    if not reqs.ok:
        out.put(unknown("requests.failed", PROBE, _why_not(reqs, conv.requests)))
    elif not _finite(n_total) or n_total < 1:
        out.put(unknown("requests.failed", PROBE, f"no request in the window "
                                                  f"({conv.requests})"))
    else:
        share = n_err / n_total if _finite(n_err) else 0.0
        if n_err >= FEW_ERRORS and share >= FAILED_SHARE:
            out.put(yes("requests.failed", PROBE,
                        f"{n_err:.0f} of {n_total:.0f} requests answered 5xx ({_pct(share)})",
                        [_ex(asked, fleet_share_q, f"{_pct(share)} of requests failed")],
                        value=round(share, 4)))
        else:
            out.put(no("requests.failed", PROBE,
                       f"{n_err:.0f} of {n_total:.0f} requests answered 5xx ({_pct(share)}): "
                       f"noise (YES needs {FEW_ERRORS}+ and {FAILED_SHARE:.0%})",
                       value=round(share, 4)))
    rate_q = f"sum by ({by}) (rate({req}[{w.rate}]))"
    err_q = f"sum by ({by}) (rate({err}[{w.rate}]))"
    rates = asked.range(rate_q, "request rate per replica")
    errs = asked.range(err_q, "5xx rate per replica")
    fleet_q = f"sum(rate({err}[{w.rate}])) / sum(rate({req}[{w.rate}]))"
    fleet = asked.range(fleet_q, "5xx share of the fleet")
    if fleet.ok:
        _chart(out, "5xx share of requests (fleet)", "ratio", fleet_q,
               [("5xx share", s.points) for s in fleet.series[:1]], "requests.failed")
    per_rate = {_replica(s, by): s for s in rates.series} if rates.ok else {}
    per_err = {_replica(s, by): s for s in errs.series} if errs.ok else {}
    _rise(asked, out, http, by, per_rate, per_err, rates if not rates.ok else errs)
    _ceiling(asked, out, http)
    _outliers(asked, out, by, rows, (rq, reqs), (eq, errs_w))
    return per_rate


def _rise(asked: Asked, out: Out, http: Http, by: str, per_rate: Mapping[str, Series],
          per_err: Mapping[str, Series], failed_part: Result) -> None:
    from probes.analysis.concurrency import (
        ConcurrencyTable,
        bucket_floor,
        bucket_label,
        judge_rise,
    )

    key = "errors.rise_with_concurrency"
    if not per_rate:
        out.put(unknown(key, PROBE, _why_not(failed_part, http.convention.requests)
                        if not failed_part.ok else "no request rate in the window"))
        return
    w = asked.window
    conv = http.convention
    queries: list[str] = []
    gauge_at: dict[str, dict[float, float]] = {}
    offered_by: dict[str, float] = {}
    sum_at: dict[str, dict[float, float]] = {}
    if http.in_flight is not None:
        # the gauge's peak in each step, not its mean; it still misses requests that fail
        # at once (a 500 "already running" is never in flight when Prometheus looks),
        # which is why the offered load below is taken too
        gauge = asked.sel(http.in_flight, *http.flight_traffic)
        flight_q = f"sum by ({by}) (max_over_time({gauge}[{w.rate}]))"
        queries.append(flight_q)
        flight = asked.range(flight_q, "requests in flight per replica (the gauge's peak)")
        if flight.ok:
            gauge_at = {_replica(s, by): dict(s.points) for s in flight.series}
    if http.has_histogram and conv.histogram:
        # offered load (Little's law): request rate x the mean duration of requests in the
        # steps without failures, i.e. how many would be in flight if none failed at once
        sum_q = (f"sum by ({by}) (rate({asked.sel(conv.histogram + '_sum', *http.hist_traffic)}"
                 f"[{w.rate}]))")
        cnt_q = (f"sum by ({by}) (rate("
                 f"{asked.sel(conv.histogram + '_count', *http.hist_traffic)}[{w.rate}]))")
        queries += [sum_q, cnt_q]
        sums, cnts = asked.range(sum_q, "seconds of requests per second per replica"), \
            asked.range(cnt_q, "requests per second per replica (histogram)")
        if sums.ok and cnts.ok:
            sum_at = {_replica(s, by): dict(s.points) for s in sums.series}
            cnt_at = {_replica(s, by): dict(s.points) for s in cnts.series}
            offered_by = _clean_durations(sum_at, cnt_at, per_rate, per_err, conv.unit_s)
    little = not offered_by and bool(sum_at)
    if little:  # no step without failures: the mean number in flight (rate of _sum)
        offered_by = {"": 0.0}
    if not gauge_at and not offered_by:
        out.put(unknown(key, PROBE, "no in-flight gauge and no latency histogram: the "
                                    "metrics that would answer are "
                                    + ", ".join(dict.fromkeys(g for c in C.HTTP_CONVENTIONS
                                                              for g in c.in_flight))
                                    + ", or a latency histogram"))
        return
    fleet_d = offered_by.get("", 0.0)
    how = " and ".join(filter(None, [
        f"the peak of {http.in_flight} in each step" if gauge_at else "",
        (f"the mean number in flight, rate({conv.histogram}_sum) (Little's law; no step "
         "was without failures)" if little else
         "the offered load (request rate x the mean duration of requests in steps without "
         "failures)") if offered_by else ""]))
    if gauge_at and offered_by:
        how = "the larger of " + how
    flight_q = "  |  ".join(queries)
    totals: dict[float, float] = {}
    counts: dict[str, list[float]] = {}
    for name, rate in per_rate.items():
        errs = per_err.get(name)
        e_at = dict(errs.points) if errs is not None else {}
        g_at = gauge_at.get(name, {})
        d = offered_by.get(name, fleet_d)
        for t, r in rate.points:
            if not _finite(r) or r <= 0:
                continue
            g = g_at.get(t, math.nan)
            if little:
                g2 = sum_at.get(name, {}).get(t, math.nan) * conv.unit_s
                g = max(g, g2) if _finite(g) and _finite(g2) else (g2 if _finite(g2) else g)
            level = max(g if _finite(g) else 0.0, r * d)
            if level <= 0 and not _finite(g):
                continue
            totals[t] = totals.get(t, 0.0) + level
            e = e_at.get(t, 0.0)
            e = e if _finite(e) else 0.0
            row = counts.setdefault(bucket_label(max(1, round(level))), [0.0, 0.0])
            row[0] += r * w.step
            row[1] += min(e, r) * w.step
    fleet_flight = sorted(totals.items())
    _chart(out, "requests in flight (fleet)", "requests", flight_q,
           [("in flight", fleet_flight)], "errors.rise_with_concurrency")
    table_rows: tuple[dict[str, Any], ...] = tuple(
        {"level": label, "requests": round(n), "errors": round(e),
         "error_rate": round(e / n, 3) if n else 0.0}
        for label, (n, e) in sorted(counts.items(), key=lambda kv: bucket_floor(kv[0])))
    table = ConcurrencyTable(table_rows, sum(int(r["requests"]) for r in table_rows))
    out.tables["concurrency"] = {"rows": list(table_rows), "measured_by": how,
                                 "promql": queries}
    verdict = judge_rise(table)
    detail = (f"{verdict.detail}; in flight from {how}, per replica and "
              f"{w.step:g} s step")
    if verdict.answer == "yes":
        share_q = (f"sum by ({by}) (rate({http.failures(asked)}[{w.rate}])) / "
                   f"sum by ({by}) (rate({http.requests(asked)}[{w.rate}]))")
        out.put(yes(key, PROBE, detail,
                    [_ex(asked, share_q, f"5xx share per replica and step, against requests "
                                         f"in flight ({how}): {verdict.detail}")],
                    value=verdict.worst_level, strength=0.9,
                    data={"table": list(table_rows)}))
    elif verdict.answer == "no":
        out.put(no(key, PROBE, detail, data={"table": list(table_rows)}))
    else:
        out.put(unknown(key, PROBE, detail))


CLEAN_SHARE = 0.01
"""A step whose 5xx share is under this counts as without failures."""


def _clean_durations(sum_at: Mapping[str, Mapping[float, float]],
                     cnt_at: Mapping[str, Mapping[float, float]],
                     per_rate: Mapping[str, Series], per_err: Mapping[str, Series],
                     unit_s: float) -> dict[str, float]:
    """Per replica, the mean duration (seconds) of requests in its steps without
    failures; key "" holds the fleet's, for replicas that had no such step."""
    out: dict[str, float] = {}
    fleet_s = fleet_n = 0.0
    for name, rate in per_rate.items():
        e_at = dict(per_err[name].points) if name in per_err else {}
        s_at, c_at = sum_at.get(name, {}), cnt_at.get(name, {})
        tot_s = tot_n = 0.0
        for t, r in rate.points:
            e = e_at.get(t, 0.0)
            sv, cv = s_at.get(t), c_at.get(t)
            if sv is None or cv is None or not (_finite(sv) and _finite(cv) and _finite(r)):
                continue
            if r > 0 and cv > 0 and (not _finite(e) or e <= CLEAN_SHARE * r):
                tot_s += sv * unit_s
                tot_n += cv
        if tot_n > 0:
            out[name] = tot_s / tot_n
            fleet_s += tot_s
            fleet_n += tot_n
    if fleet_n > 0:
        out[""] = fleet_s / fleet_n
    return out


def _ceiling(asked: Asked, out: Out, http: Http) -> None:
    key = "latency.ceiling"
    conv = http.convention
    if not http.has_histogram or not conv.histogram:
        out.put(unknown(key, PROBE, f"no latency histogram ({conv.histogram or 'none'}_bucket) "
                                    "for the selector"))
        return
    if http.histogram_status is None:
        out.put(unknown(key, PROBE, f"{conv.histogram}_bucket has no status label, so "
                                    "failed requests' durations cannot be told apart"))
        return
    w = asked.window
    bucket = conv.histogram + "_bucket"
    st = http.histogram_status
    failed = asked.sel(bucket, _is(st, "=~", C.SERVER_ERROR_RE), *http.hist_traffic)
    passed = asked.sel(bucket, _is(st, "!~", C.SERVER_ERROR_RE), *http.hist_traffic)
    fq = f"sum by (le) (increase({failed}[{w.span}]))"
    oq = f"sum by (le) (increase({passed}[{w.span}]))"
    fails, oks = asked.instant(fq, "failed requests per latency bucket"), \
        asked.instant(oq, "successful requests per latency bucket")
    if not fails.ok:
        out.put(unknown(key, PROBE, _why_not(fails, bucket)))
        return
    f_per = _per_bucket(fails.series, conv.unit_s)
    o_per = dict(_per_bucket(oks.series, conv.unit_s)) if oks.ok else {}
    total_f = sum(n for _b, n in f_per)
    out.tables["latency_buckets"] = {
        "failed": [[lo, hi, round(n)] for (lo, hi), n in f_per],
        "ok": [[lo, hi, round(n)] for (lo, hi), n in o_per.items()], "promql": [fq, oq]}
    if total_f < CEILING_MIN_FAILURES:
        out.put(no(key, PROBE, f"{total_f:.0f} failed requests in the window: too few to "
                               "cluster at a limit", value=round(total_f)))
        return
    (lo, hi), n = max(f_per, key=lambda bn: bn[1])
    ok_there = o_per.get((lo, hi), 0.0)
    share = n / total_f
    # the cut-off: the bucket's upper bound when it is a common limit, else the largest
    # common limit inside the bucket (a histogram says "at most hi", never the value)
    bound = max((b for b in C.TIMEOUT_BOUNDS_S if lo < b <= hi), default=None) \
        if math.isfinite(hi) else None
    if share >= CEILING_SHARE and ok_there <= CEILING_MAX_OK_SHARE * n and bound is not None:
        out.put(yes(key, PROBE,
                    f"{n:.0f} of {total_f:.0f} failed requests ({_pct(share)}) ended between "
                    f"{lo:g} s and {hi:g} s, where successes seldom end ({ok_there:.0f}): a "
                    f"cut-off at or just under {bound:g} s",
                    [_ex(asked, fq, f"{_pct(share)} of failures in ({lo:g}, {hi:g}] s")],
                    value=bound * 1000, data={"bucket_s": [lo, hi]}))  # ms, as logs say it
        return
    out.put(no(key, PROBE, f"failed requests' durations do not cluster below a common "
                           f"timeout (largest bucket ({lo:g}, {hi:g}] s holds {_pct(share)} of "
                           f"{total_f:.0f} failures)", value=round(share, 3)))


def _per_bucket(series: Sequence[Series], unit_s: float
                ) -> list[tuple[tuple[float, float], float]]:
    """Cumulative ``le`` counts into (lower, upper] counts, in seconds."""
    cum: list[tuple[float, float]] = []
    for s in series:
        try:
            le = float(s.labels.get("le", "nan"))
        except ValueError:
            continue
        if math.isnan(le) or not _finite(s.last):
            continue
        cum.append((le * unit_s if math.isfinite(le) else le, s.last))
    cum.sort()
    out: list[tuple[tuple[float, float], float]] = []
    prev_le, prev_n = 0.0, 0.0
    for le, n in cum:
        out.append(((prev_le, le), max(0.0, n - prev_n)))
        prev_le, prev_n = le, n
    return out


def _outliers(asked: Asked, out: Out, by: str, rows: dict[str, dict[str, Any]],
              requests: tuple[str, Result], failures: tuple[str, Result]) -> None:
    """One replica far from its siblings, from the per-replica counts of the window
    (``requests``, ``failures``: each query with its result)."""
    key = "fleet.replica_outlier"
    w = asked.window
    (rq, reqs), (eq, errs) = requests, failures
    if not reqs.ok:
        out.put(unknown(key, PROBE, _why_not(reqs, "the request counter")))
        return
    n_of = {_replica(s, by): s.last for s in reqs.series if _finite(s.last)}
    e_of = {_replica(s, by): s.last for s in errs.series if _finite(s.last)} if errs.ok \
        else {}
    shares = {r: e_of.get(r, 0.0) / n for r, n in n_of.items() if n >= OUTLIER_MIN_REQUESTS}
    for r, n in n_of.items():
        row = rows.setdefault(r if "/" in r or not rows else _match_row(rows, r), {})
        row["requests"] = round(n)
        if r in shares:
            row["error_share"] = round(shares[r], 4)
    mem = {r: v["memory_peak_bytes"] for r, v in rows.items() if "memory_peak_bytes" in v}
    if len(shares) < OUTLIER_MIN_REPLICAS:
        out.put(unknown(key, PROBE, f"{len(shares)} replicas with {OUTLIER_MIN_REPLICAS}+ "
                                    "requests: too few to compare"))
        return
    med = statistics.median(shares.values())
    odd = sorted(((r, s) for r, s in shares.items()
                  if s >= OUTLIER_ERROR_SHARE and s >= OUTLIER_FACTOR * (med + 0.005)),
                 key=lambda rs: -rs[1])
    exs = [_ex(asked, f"{eq} / {rq}", f"{_pct(s)} of its requests failed; the median replica "
                                      f"{_pct(med)}", r) for r, s in odd[:MAX_EXAMPLES]]
    mem_note = ""
    if len(mem) >= OUTLIER_MIN_REPLICAS:
        mmed = statistics.median(mem.values())
        big = sorted(((r, v) for r, v in mem.items()
                      if mmed > 0 and v >= OUTLIER_MEMORY_FACTOR * mmed), key=lambda rv: -rv[1])
        mq = f"max_over_time({asked.sel(C.WORKING_SET, _is('container', '!=', ''))}[{w.span}])"
        exs += [_ex(asked, mq,
                    f"memory peak {_bytes(v)}, the median replica {_bytes(mmed)}", r)
                for r, v in big[:MAX_EXAMPLES]]
        if big:
            mem_note = f"; {len(big)} replicas peak at {OUTLIER_MEMORY_FACTOR:g}x+ the " \
                       "median memory"
    if exs:
        out.put(yes(key, PROBE, f"{len(odd)} of {len(shares)} replicas fail far more often "
                                f"than the median replica ({_pct(med)}){mem_note}", exs,
                    value=len(odd)))
    else:
        out.put(no(key, PROBE, f"no replica's 5xx share or memory is far from its siblings' "
                               f"({len(shares)} replicas, median 5xx share {_pct(med)})",
                   value=len(shares)))


def _match_row(rows: dict[str, dict[str, Any]], replica: str) -> str:
    """The pod row (``ns/pod``) a bare replica name (``pod``) belongs to, else itself."""
    for name in rows:
        if name.rsplit("/", 1)[-1] == replica:
            return name
    return replica


# --------------------------------------------------------------------------- upstream


def upstream_signals(asked: Asked, found: Found, out: Out) -> None:
    key = "errors.rate_limit"
    w = asked.window
    present = [u for u in C.UPSTREAM_CONVENTIONS if u.calls in found.names]
    if not present:
        out.put(unknown(key, PROBE, "no upstream call metric for the selector: the metrics "
                                    "that would answer are "
                                    + ", ".join(u.calls for u in C.UPSTREAM_CONVENTIONS)))
        return
    seen: list[tuple[C.UpstreamConvention, float, float, str]] = []
    reasons: list[str] = []
    for u in present:
        limited_sel = asked.sel(u.calls, _is(u.error_label, "=~", u.limited))
        lq = f"sum(increase({limited_sel}[{w.span}]))"
        tq = f"sum(increase({asked.sel(u.calls)}[{w.span}]))"
        limited, total = asked.instant(lq, f"{u.name} calls rate-limited"), \
            asked.instant(tq, f"{u.name} calls")
        if not limited.ok or not total.ok:
            reasons.append(_why_not(limited if not limited.ok else total, u.calls))
            continue
        n_l = limited.series[0].last if limited.series else 0.0
        n_t = total.series[0].last if total.series else 0.0
        seen.append((u, n_l if _finite(n_l) else 0.0, n_t if _finite(n_t) else 0.0, lq))
        rq = f"sum(rate({limited_sel}[{w.rate}]))"
        chart = asked.range(rq, f"{u.name} calls rate-limited per second")
        if chart.ok:
            _chart(out, f"upstream calls answered 429/503 per second ({u.name})", "calls/s",
                   rq, [("rate-limited", s.points) for s in chart.series[:1]],
                   "errors.rate_limit")
    if not seen:
        out.put(unknown(key, PROBE, "; ".join(reasons)))
        return
    hits = [(u, n_l, n_t, q) for u, n_l, n_t, q in seen
            if n_l >= RATE_LIMIT_MIN and n_t > 0 and n_l / n_t >= RATE_LIMIT_SHARE]
    if hits:
        out.put(yes(key, PROBE, "; ".join(f"{n_l:.0f} of {n_t:.0f} {u.name} calls answered "
                                          f"429/503 or rate limited ({_pct(n_l / n_t)})"
                                          for u, n_l, n_t, _q in hits),
                    [_ex(asked, q, f"{n_l:.0f} rate-limited calls") for _u, n_l, _n, q in hits],
                    value=round(max(n_l / n_t for _u, n_l, n_t, _q in hits), 4)))
    else:
        out.put(no(key, PROBE, "; ".join(f"{n_l:.0f} of {n_t:.0f} {u.name} calls rate limited"
                                         for u, n_l, n_t, _q in seen), value=0))


def replica_signal(asked: Asked, found: Found, out: Out, http: Http | None) -> int:
    """How many replicas the window saw (``process.multiple_workers``)."""
    key = "process.multiple_workers"
    w = asked.window
    if C.POD_INFO in found.names:
        q = f"count(count by (namespace, pod) (max_over_time({asked.sel(C.POD_INFO)}[{w.span}])))"
    elif http is not None:
        by = http.replica or "instance"
        q = f"count(count by ({by}) ({http.requests(asked)}))"
    else:
        out.put(unknown(key, PROBE, f"neither {C.POD_INFO} nor a request metric for the "
                                    "selector"))
        return 0
    got = asked.instant(q, "replicas in the window")
    if not got.ok or not got.series:
        out.put(unknown(key, PROBE, _why_not(got, C.POD_INFO) if not got.ok
                        else "no replica in the window"))
        return 0
    n = int(got.series[0].last) if _finite(got.series[0].last) else 0
    if n > 1:
        out.put(yes(key, PROBE, f"{n} replicas in the window", [_ex(asked, q, f"{n} replicas")],
                    value=n))
    else:
        out.put(no(key, PROBE, f"{n} replica in the window", value=n))
    return n


Step = Callable[[Asked, Found, Out], None]
