"""The Prometheus probe: fleet signals from the PromQL HTTP API, for any number of replicas.

``collect(PromTarget(url, selector, ...))`` returns one ``Evidence`` (probe
``prometheus``): the signals of ``probes.prometheus.fleet``, each YES pointing at the
PromQL that answered it, and ``data`` for the Metrics view and the reports (the queries
sent with their timings and outcomes, small charts, the concurrency table, a row per
replica). Prometheus, Thanos, Mimir, Cortex and VictoriaMetrics answer the same API.

Failures are data: a server that cannot be reached is ``Evidence.error`` (the CLI exits
3); a 401/403, a query the server timed out or a result too large leave the signals they
concern "not checked" with the reason, and the rest of the probe goes on.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from probes.evidence import Answer, Evidence, InputReport, iso_ns, now_utc, unknown
from probes.prometheus.client import (
    BAD_RESPONSE,
    FORBIDDEN,
    MAX_BYTES,
    UNREACHABLE,
    PromAuth,
    PromClient,
    check_url,
    display_url,
)

PROBE = "prometheus"
SIGNAL_KEYS = frozenset({
    "pods.restarts", "pods.oomkilled", "process.rss_growth", "pods.no_memory_limit",
    "errors.rise_with_concurrency", "requests.failed", "latency.ceiling", "errors.rate_limit",
    "fleet.replica_outlier", "process.multiple_workers"})
DEFAULT_SINCE_S = 3600.0
MAX_SINCE_S = 30 * 86400.0
DEFAULT_INTERVAL_S = 30.0
"""The sample interval assumed when the data cannot tell (a common scrape interval)."""

_MATCHER = re.compile(
    r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\\n]|\\.)*)"\s*(,|$)')
"""One PromQL label matcher: name, operator, double-quoted value (escapes kept)."""


def parse_selector(text: str) -> str:
    """PromQL label matchers (``namespace="prod",pod=~"agent-.*"``, braces optional) in a
    normal form; ValueError naming what is wrong. Only matchers are taken, so nothing a
    user types can change a query's shape."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    if not body.strip():
        return ""
    out: list[str] = []
    pos = 0
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if m is None:
            raise ValueError(f"not a label matcher at {body[pos:pos + 30]!r}: write "
                             'name="value", name=~"regex", name!="value" or name!~"regex", '
                             "separated by commas")
        name, op, value, _sep = m.groups()
        out.append(f'{name}{op}"{value}"')
        pos = m.end()
    return ",".join(out)


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_since(text: str) -> float:
    """A window length: "2h", "90m", "1h30m", "1d", or seconds; ValueError otherwise."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration (like 30m, 2h, 1d)")
    d, h, mins, secs = m.groups()
    value = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mins or 0) * 60 + float(secs or 0)
    if not 0 < value <= MAX_SINCE_S:
        raise ValueError(f"{text!r}: the window must be more than 0 and at most 30 days")
    return value


_WORKLOAD_PODS = {
    "deploy": r"{name}-[a-z0-9]{{5,10}}-[a-z0-9]{{5}}",
    "sts": r"{name}-[0-9]+",
    "rs": r"{name}-[a-z0-9]{{5}}",
    "po": r"{name}",
}
"""How a workload names its pods: a Deployment's through its ReplicaSets' hash, a
StatefulSet's by ordinal, a ReplicaSet's by a random suffix."""
_ALIASES = {"deployment": "deploy", "deployments": "deploy", "statefulset": "sts",
            "statefulsets": "sts", "replicaset": "rs", "replicasets": "rs", "pod": "po",
            "pods": "po"}


def _promql_string(regex: str) -> str:
    """A regex as the inside of a PromQL double-quoted string (backslashes doubled)."""
    return regex.replace("\\", "\\\\").replace('"', '\\"')


def workload_selector(namespace: str | None, targets: tuple[str, ...] = (),
                      pods: tuple[str, ...] = ()) -> str:
    """The selector for ``kubectl scaledoc``'s target: its namespace, and the pods its
    workloads make over time (``deploy/agent`` matches every ReplicaSet's pods, those the
    OOM killer replaced included), else the pods it found (for ``-l``), else all of the
    namespace."""
    import re as _re

    parts = [f'namespace="{_promql_string(namespace)}"'] if namespace else []
    alts: list[str] = []
    for t in targets:
        kind, _, name = t.partition("/")
        kind = _ALIASES.get(kind.lower(), kind.lower())
        shape = _WORKLOAD_PODS.get(kind)
        if not name or shape is None:
            alts = []
            break
        alts.append(shape.format(name=_re.escape(name)))
    if not alts and pods:
        alts = [_re.escape(p) for p in pods]
    if alts:
        parts.append(f'pod=~"{_promql_string("|".join(alts))}"')
    return ",".join(parts)


@dataclass(frozen=True)
class PromTarget:
    """Where and what to ask: the server, the series (selector) and the time window."""

    url: str
    selector: str = ""
    since_s: float = DEFAULT_SINCE_S
    until: float | None = None
    """End of the window as unix seconds; None: now."""
    auth: PromAuth = field(default_factory=PromAuth)
    timeout_s: float = 10.0
    deadline_s: float = 60.0
    max_bytes: int = MAX_BYTES
    """A larger answer is cut and its signal left "not checked", saying so."""


def check_target(target: PromTarget) -> str | None:
    """Why the target cannot be asked (bad URL or selector), before any request."""
    problem = check_url(target.url)
    if problem is not None:
        return f"--prometheus {display_url(target.url)}: {problem}"
    try:
        parse_selector(target.selector)
    except ValueError as exc:
        return f"--selector: {exc}"
    if not 0 < target.since_s <= MAX_SINCE_S:
        return "--since: the window must be more than 0 and at most 30 days"
    return None


def collect(target: PromTarget, cancel: threading.Event | None = None, *,
            transport: Any = None) -> Evidence:
    """Ask the server for every fleet signal; never raises for what the server does."""
    from probes.prometheus import fleet

    shown = display_url(target.url)
    problem = check_target(target)
    if problem is not None:
        return Evidence(probe=PROBE, target=shown, error=problem, collected_at=now_utc(),
                        inputs=(InputReport(shown, PROBE, "prometheus-api", error=problem),))
    selector = parse_selector(target.selector)
    end = target.until if target.until is not None else time.time()
    start = end - target.since_s
    t0 = time.monotonic()
    with PromClient(target.url, target.auth, timeout_s=target.timeout_s,
                    deadline_s=target.deadline_s, max_bytes=target.max_bytes, cancel=cancel,
                    transport=transport) as client:
        coarse = fleet.Window(start, end, _step(target.since_s, DEFAULT_INTERVAL_S),
                              _rate_s(target.since_s, DEFAULT_INTERVAL_S))
        asked = fleet.Asked(client, selector, coarse)
        found = fleet.discover(asked)
        if not isinstance(found, fleet.Found):
            f = found.failure
            assert f is not None
            report = InputReport(shown, PROBE, "prometheus-api", error=f.message,
                                 notes=(f"selector {{{selector}}}",))
            if f.kind in (UNREACHABLE, BAD_RESPONSE):  # nothing there to ask
                return Evidence(probe=PROBE, target=shown, error=f.message,
                                collected_at=now_utc(), inputs=(report,),
                                data={"prometheus": _data(target, asked, None, fleet.Out(),
                                                          {}, t0)})
            out = fleet.Out()
            for key in sorted(SIGNAL_KEYS):
                why = f.message + (" (the probe needs read access to /api/v1/query)"
                                   if f.kind == FORBIDDEN else "")
                out.put(unknown(key, PROBE, why))
            return Evidence(probe=PROBE, target=shown, signals=tuple(out.signals),
                            inputs=(report,), collected_at=now_utc(),
                            data={"prometheus": _data(target, asked, None, out, {}, t0)})
        interval = fleet.sample_interval(asked, found) or DEFAULT_INTERVAL_S
        asked.window = fleet.Window(start, end, _step(target.since_s, interval),
                                    _rate_s(target.since_s, interval))
        out = fleet.Out()
        http = fleet.http_metrics(asked, found)
        rows = fleet.pod_signals(asked, found, out)
        rates = fleet.request_signals(asked, found, out, rows, http)
        fleet.memory_signals(asked, found, out, rows, rates, http)
        fleet.upstream_signals(asked, found, out)
        replicas = fleet.replica_signal(asked, found, out, http)
        said_yes = {sig.key for sig in out.signals if sig.answer is Answer.YES}
        out.charts.sort(key=lambda c: c.get("signal") not in said_yes)  # the cause's first
        data = _data(target, asked, found, out, rows, t0, http=http, interval=interval,
                     replicas=replicas)
        data["http_calls"] = client.calls
        failed = [q for q in asked.log if q.get("failure")]
        notes = [f"selector {{{selector}}}", f"{len(asked.log)} queries, "
                 f"{client.calls} HTTP calls in {time.monotonic() - t0:.1f} s"]
        notes += [f"{q['what']}: {q['message']}" for q in failed[:5]]
        answered = sum(sig.answer is not Answer.UNKNOWN for sig in out.signals)
        nothing = (f"no series of the metrics looked for matched {{{selector}}} in the window "
                   "(check the selector's labels and the window)") if not found.names else None
        report = InputReport(shown, PROBE, "prometheus-api", lines_read=len(asked.log),
                             events=answered, error=nothing,
                             skipped=_count_failures(failed),
                             notes=tuple(notes))
    return Evidence(probe=PROBE, target=shown, signals=tuple(out.signals), inputs=(report,),
                    collected_at=now_utc(), data={"prometheus": data})


def _count_failures(failed: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in failed:
        k = f"query {q['failure']}"
        counts[k] = counts.get(k, 0) + 1
    return counts


def _step(since_s: float, interval: float) -> float:
    """Seconds between points: the sample interval, or coarser so a series holds at most
    ``MAX_POINTS`` points."""
    from probes.prometheus.fleet import MAX_POINTS

    return float(max(1, math.ceil(max(interval, since_s / MAX_POINTS))))


def _rate_s(since_s: float, interval: float) -> int:
    """The range of ``rate()``: four samples at least, and never under one step."""
    return max(1, math.ceil(max(4 * interval, _step(since_s, interval))))


def _data(target: PromTarget, asked: Any, found: Any, out: Any, rows: dict[str, Any],
          t0: float, *, http: Any = None, interval: float | None = None,
          replicas: int = 0) -> dict[str, Any]:
    """What the views and reports show: plain JSON values only."""
    from probes.prometheus import catalog

    w = asked.window
    worst = sorted(rows.items(), key=lambda kv: (-(kv[1].get("restarts") or 0),
                                                 -(kv[1].get("error_share") or 0.0),
                                                 -(kv[1].get("memory_peak_ratio") or 0.0)))
    missing: dict[str, list[str]] = {}
    if found is not None:
        for label, names in (
                ("kube-state-metrics", [catalog.RESTARTS, catalog.TERMINATED_REASON,
                                        catalog.LIMITS, catalog.POD_INFO]),
                ("cAdvisor", [catalog.WORKING_SET]),
                ("HTTP server", [c.requests for c in catalog.HTTP_CONVENTIONS]),
                ("upstream calls", [u.calls for u in catalog.UPSTREAM_CONVENTIONS])):
            if not any(n in found.names for n in names):
                missing[label] = names
    return {
        "url": display_url(target.url),
        "selector": asked.selector,
        "window": {"start": iso_ns(int(w.start * 1e9)), "end": iso_ns(int(w.end * 1e9)),
                   "seconds": round(w.end - w.start), "step_s": w.step, "rate": w.rate,
                   "sample_interval_s": round(interval, 1) if interval else None},
        "access": target.auth.kind,  # not "auth": a secret-looking key is redacted on save
        "found": sorted(found.names) if found is not None else [],
        "missing": missing,
        "http": None if http is None else {
            "convention": http.convention.name, "requests": http.convention.requests,
            "status_label": http.status, "replica_label": http.replica,
            "in_flight": http.in_flight},
        "replicas_seen": replicas,
        "queries": asked.log,
        "charts": out.charts,
        "tables": out.tables,
        "replicas": [{"replica": name, **vals} for name, vals in worst[:50]],
        "replicas_total": len(rows),
        "seconds": round(time.monotonic() - t0, 3),
    }
