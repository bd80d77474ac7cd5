"""Two hours of fleet history for a real Prometheus, written as OpenMetrics text.

Why it exists: the Prometheus probe must be tested against what a real server answers,
not against JSON we imagine. ``write_openmetrics`` writes seven namespaces of history,
named and labelled the way the real exporters name and label them, for ``promtool tsdb
create-blocks-from openmetrics`` to backfill (tests/prom_server.py does that and starts
the server on the blocks).

The series (the contract the probe is written against):

* kube-state-metrics: ``kube_pod_container_status_restarts_total{namespace,pod,container}``
  (counter; it may already be above 0 at the window's start),
  ``kube_pod_container_status_last_terminated_reason{namespace,pod,container,reason}`` (1,
  present from the first termination on), ``kube_pod_container_resource_limits{namespace,
  pod,container,node,resource,unit}`` (memory in bytes, cpu in cores), ``kube_pod_info
  {namespace,pod,node,created_by_kind="ReplicaSet",created_by_name}`` (1).
* cAdvisor: ``container_memory_working_set_bytes{namespace,pod,container,image}`` for the
  container, and the pod cgroup's series with ``container=""`` and ``image=""`` (the
  container plus the pause container), which a correct query must exclude.
* the app's HTTP metrics in one of four conventions per namespace (``Scenario.convention``):
  ``instrumentator`` (prometheus-fastapi-instrumentator defaults: ``http_requests_total
  {method,handler,status}`` with "2xx"/"4xx"/"5xx", ``http_request_duration_seconds
  {method,handler}`` with its default buckets 0.1, 0.5, 1, +Inf, ``http_requests_inprogress
  {method,handler}``); ``otel`` (``http_server_request_duration_seconds{http_request_method,
  http_route,http_response_status_code}`` with the semantic conventions' advisory buckets,
  ``http_server_active_requests{http_request_method}``); ``express`` (express-prom-bundle:
  ``http_request_duration_seconds{method,path,status_code}``, no in-flight gauge);
  ``instrumentator+genai`` (the first plus ``gen_ai_client_operation_duration_seconds
  {gen_ai_system,gen_ai_operation_name,gen_ai_request_model,error_type}``, ``error_type``
  only on failed calls). Every app series also carries ``namespace`` and ``pod``.

What real exporters do and the probe must live with, kept here on purpose: client-library
children are created on first use, so a ``status="5xx"`` series appears at the first 5xx
and not before; a restarted container starts its counters at 0 again (a counter reset) and
its lazily created series are absent until used again; the instrumentator's default
buckets stop at 1 s, so most agent requests land in +Inf.

What is left out: the ``job``, ``instance`` (and cAdvisor ``id``, ``name``) labels a real
scrape adds; a binary operation between kube-state-metrics and cAdvisor series needs
``on(...)``/``ignoring(...)`` in a real cluster even though it would match here without.

One sample every ``step_s`` seconds over [now - 2 h, now - 60 s], counters cumulative,
from a fixed seed: the same ``now`` gives the same text.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

SEED = 20_240_917
WINDOW_S = 2 * 3600
END_OFFSET_S = 60
STEP_S = 60
LIMIT_BYTES = 1 << 30  # 1 GiB
CPU_LIMIT_CORES = 1
CONTAINER = "agent"
IMAGE = "registry.example.com/agents/agent:1.8.3"
NODES = tuple(f"node-{i}" for i in range(1, 9))
PAUSE_BYTES = 716_800  # what the pause container adds to the pod cgroup's working set
# kubernetes' pod-name suffix alphabet (rand.SafeEncodeString): lowercase, no vowels
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

INSTRUMENTATOR_BUCKETS = (0.1, 0.5, 1.0)  # latency_lowr_buckets, the default
OTEL_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                     7.5, 10.0)  # http.server.request.duration advisory boundaries
EXPRESS_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
GENAI_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                 40.96, 81.92)  # gen_ai.client.operation.duration advisory boundaries
GATEWAY_TIMEOUT_S = 30.0
GENAI_MODEL = "gpt-4o-mini"

HOSTILE_PODS = (
    "[bold red]x[/]",
    "agent-\x1b[31mred\x1b[0m",
    'agent-"quoted"\nsecond line',
    "agent-back\\slash-\u202eevil",
)
HOSTILE_HANDLER = "/chat?q=[link=https://example.com]y[/link]"


@dataclass(frozen=True)
class Scenario:
    """One namespace of history and what is true of it.

    ``truth`` is the verdict a correct probe reaches ("healthy", "oom", "shared-instance",
    "platform-timeout", "upstream-rate-limit"); "not-healthy" means any cause or
    "inconclusive" but not "healthy"; ``None`` means no verdict is asserted. ``facts`` are
    what the generator wrote, per pod, counted over the window (from the first sample to the
    last, resets included): "requests" (the app's requests, all statuses), "failed" (5xx),
    "restarts" (the restarts counter's increase), "oom_kills".
    """

    namespace: str
    pods: tuple[str, ...]
    truth: str | None
    convention: str
    notes: str
    step_s: int = STEP_S
    facts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


# ---------------------------------------------------------------- OpenMetrics text


def _escape(value: str) -> str:
    """A label value as OpenMetrics writes it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 6))


def _le(bound: float, style: str) -> str:
    """A bucket bound as the client library writes it: Python clients (prometheus_client,
    and OpenTelemetry's Python exporter through it) write floats ("1.0"); prom-client for
    Node writes JavaScript numbers ("1"). Prometheus 2.x stores the text as written."""
    if math.isinf(bound):
        return "+Inf"
    if style == "js" and bound == int(bound):
        return str(int(bound))
    return repr(float(bound))


class _Families:
    """Each metric family's series streamed to its own temporary file, so the text is
    never held in memory; ``write`` puts the families one after another (OpenMetrics
    wants a family's series together) and ends with ``# EOF``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files: dict[str, tuple[str, str, TextIO]] = {}

    def out(self, name: str, kind: str, help_text: str) -> TextIO:
        if name not in self._files:
            handle = open(self._folder / f"{len(self._files):02d}.part", "w",  # noqa: SIM115
                          encoding="utf-8", newline="\n")
            self._files[name] = (kind, help_text, handle)
        return self._files[name][2]

    def get(self, name: str) -> TextIO:
        return self._files[name][2]

    def write(self, out: TextIO) -> None:
        for name, (kind, help_text, handle) in self._files.items():
            handle.close()
            out.write(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n")
            with open(handle.name, encoding="utf-8", newline="\n") as part:
                shutil.copyfileobj(part, out, 1 << 20)
            os.unlink(handle.name)
        out.write("# EOF\n")

    def close(self) -> None:
        for _kind, _help, handle in self._files.values():
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)


class _Text:
    """One scenario's sample times, writing series into the shared families."""

    def __init__(self, families: _Families, times: Sequence[int], step_s: int) -> None:
        self._families = families
        self.step_s = step_s
        self._ts = [str(t) for t in times]

    @property
    def steps(self) -> int:
        return len(self._ts)

    def family(self, name: str, kind: str, help_text: str) -> None:
        self._families.out(name, kind, help_text)

    def series(self, family: str, sample: str, labels: Mapping[str, str],
               values: Iterable[float], present: Iterable[bool] | None = None) -> None:
        """One series' samples in time order; ``present`` False leaves a step out."""
        head = f"{sample}{{{_labels(labels)}}} "
        vals = [_number(v) for v in values]
        if present is None:
            lines = [f"{head}{v} {t}\n" for v, t in zip(vals, self._ts, strict=True)]
        else:
            lines = [f"{head}{v} {t}\n"
                     for v, t, p in zip(vals, self._ts, present, strict=True) if p]
        self._families.get(family).write("".join(lines))

    def histogram(self, family: str, labels: Mapping[str, str], bounds: Sequence[float],
                  buckets: np.ndarray, count: np.ndarray, total: np.ndarray,
                  present: np.ndarray | None = None, le_style: str = "py") -> None:
        """``buckets``: cumulative counts per step and bound (+Inf last), shape (steps, n)."""
        for i, bound in enumerate([*bounds, math.inf]):
            self.series(family, f"{family}_bucket", {**labels, "le": _le(bound, le_style)},
                        buckets[:, i].tolist(), present)
        self.series(family, f"{family}_count", labels, count.tolist(), present)
        self.series(family, f"{family}_sum", labels, total.tolist(), present)


# ---------------------------------------------------------------- the generator's pieces


def _pod_names(rng: np.random.Generator, n: int) -> tuple[str, list[str]]:
    """A ReplicaSet's name and ``n`` distinct pod names ``agent-<10 hex>-<5 chars>``."""
    rs = "agent-" + "".join(rng.choice(list("0123456789abcdef"), 10))
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = rs + "-" + "".join(rng.choice(list(_SUFFIX_ALPHABET), 5))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return rs, names


def _cumulate(increments: np.ndarray, restart_at: np.ndarray | None = None) -> np.ndarray:
    """Counter values from per-interval increments; a restart at step k starts again at 0
    (the value at k is then what the new process counted in its part of the interval)."""
    out = np.cumsum(increments, axis=0, dtype=np.float64)
    if restart_at is None or not restart_at.any():
        return out
    for k in np.flatnonzero(restart_at):
        base = out[k] - increments[k]
        out[k:] -= base
    return out


@dataclass
class _Traffic:
    """One pod's requests of one status: how many per interval and how long each took."""

    counts: np.ndarray  # per step (the first one includes everything before the window)
    latencies: np.ndarray  # one per request, in step order


def _hist(bounds: Sequence[float], steps: int, counts: np.ndarray,
          latencies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-interval bucket counts (not cumulative in time), observation counts and sums."""
    nb = len(bounds) + 1
    step_of = np.repeat(np.arange(steps), counts.astype(np.int64))
    bucket = np.searchsorted(np.asarray(bounds, dtype=np.float64), latencies, side="left")
    per = np.bincount(step_of * nb + bucket, minlength=steps * nb).reshape(steps, nb)
    le = np.cumsum(per, axis=1)
    sums = np.bincount(step_of, weights=latencies, minlength=steps)
    return le.astype(np.float64), counts.astype(np.float64), sums


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int,
               cap: float | None = None) -> np.ndarray:
    out = rng.lognormal(math.log(median), sigma, n)
    if cap is not None:
        out = np.minimum(out, cap * rng.uniform(0.7, 0.99, n))
    return out


class _Fleet:
    """Writes one namespace: kube-state-metrics and cAdvisor series for every pod, then
    the app's own metrics through the convention's writer."""

    def __init__(self, text: _Text, namespace: str, rng: np.random.Generator,
                 pods: Sequence[str] | None = None, n: int = 0) -> None:
        self.text, self.ns, self.rng = text, namespace, rng
        if pods is None:
            self.rs, self.pods = _pod_names(rng, n)
        else:
            self.rs, self.pods = "agent-7f9c4b8d6e", list(pods)
        self.nodes = [NODES[int(i)] for i in rng.integers(0, len(NODES), len(self.pods))]
        self.steps = text.steps
        self.facts: dict[str, dict[str, float]] = {
            "requests": {}, "failed": {}, "restarts": {}, "oom_kills": {}}

    def kube(self, i: int, working_set: np.ndarray, restarts: np.ndarray | None = None,
             terminated: np.ndarray | None = None, reason: str = "OOMKilled") -> None:
        """kube-state-metrics and cAdvisor series of pod ``i``."""
        t, pod, steps = self.text, self.pods[i], self.steps
        ones = [1.0] * steps
        t.family("kube_pod_info", "gauge", "Information about pod.")
        t.series("kube_pod_info", "kube_pod_info", {
            "namespace": self.ns, "pod": pod, "node": self.nodes[i],
            "created_by_kind": "ReplicaSet", "created_by_name": self.rs}, ones)
        t.family("kube_pod_container_status_restarts", "counter",
                 "The number of container restarts per container.")
        values = np.zeros(steps) if restarts is None else restarts
        t.series("kube_pod_container_status_restarts",
                 "kube_pod_container_status_restarts_total",
                 {"namespace": self.ns, "pod": pod, "container": CONTAINER}, values.tolist())
        self.facts["restarts"][pod] = float(values[-1] - values[0])
        if terminated is not None and terminated.any():
            t.family("kube_pod_container_status_last_terminated_reason", "gauge",
                     "Describes the last reason the container was in terminated state.")
            t.series("kube_pod_container_status_last_terminated_reason",
                     "kube_pod_container_status_last_terminated_reason",
                     {"namespace": self.ns, "pod": pod, "container": CONTAINER,
                      "reason": reason}, ones, terminated.tolist())
        t.family("kube_pod_container_resource_limits", "gauge",
                 "The number of requested limit resource by a container.")
        for resource, unit, value in (("cpu", "core", CPU_LIMIT_CORES),
                                      ("memory", "byte", LIMIT_BYTES)):
            t.series("kube_pod_container_resource_limits", "kube_pod_container_resource_limits",
                     {"namespace": self.ns, "pod": pod, "container": CONTAINER,
                      "node": self.nodes[i], "resource": resource, "unit": unit},
                     [float(value)] * steps)
        t.family("container_memory_working_set_bytes", "gauge",
                 "Current working set of the container in bytes")
        t.series("container_memory_working_set_bytes", "container_memory_working_set_bytes",
                 {"namespace": self.ns, "pod": pod, "container": CONTAINER, "image": IMAGE},
                 working_set.tolist())
        pod_level = working_set + PAUSE_BYTES
        t.series("container_memory_working_set_bytes", "container_memory_working_set_bytes",
                 {"namespace": self.ns, "pod": pod, "container": "", "image": ""},
                 pod_level.tolist())

    def flat_memory(self, low: float = 0.35, high: float = 0.45,
                    level: float | None = None) -> np.ndarray:
        base = (level if level is not None else self.rng.uniform(low, high)) * LIMIT_BYTES
        noise = self.rng.normal(0, 0.006 * LIMIT_BYTES, self.steps)
        return np.round(base + noise)

    # ------------------------------------------------------------ app conventions

    def instrumentator(self, i: int, by_status: Mapping[str, _Traffic], inflight: np.ndarray,
                       restart_at: np.ndarray | None = None, handler: str = "/chat") -> None:
        t, pod = self.text, self.pods[i]
        base = {"namespace": self.ns, "pod": pod, "method": "POST", "handler": handler}
        t.family("http_requests", "counter",
                 "Total number of requests by method, status and handler.")
        all_counts = np.zeros(self.steps)
        all_lat: list[np.ndarray] = []
        step_lat: list[np.ndarray] = []
        for status, traffic in by_status.items():
            values = _cumulate(traffic.counts, restart_at)
            t.series("http_requests", "http_requests_total", {**base, "status": status},
                     values.tolist(), (values > 0).tolist())
            all_counts += traffic.counts
            all_lat.append(traffic.latencies)
            step_lat.append(np.repeat(np.arange(self.steps), traffic.counts.astype(np.int64)))
        self._count(pod, by_status, restart_at, failed={"5xx"})
        order = np.argsort(np.concatenate(step_lat), kind="stable")
        latencies = np.concatenate(all_lat)[order]
        le, count, total = _hist(INSTRUMENTATOR_BUCKETS, self.steps, all_counts, latencies)
        le, count, total = (_cumulate(le, restart_at), _cumulate(count, restart_at),
                            _cumulate(total, restart_at))
        t.family("http_request_duration_seconds", "histogram",
                 "Latency with only few buckets by handler. Made to be only used if "
                 "aggregation by handler is important.")
        t.histogram("http_request_duration_seconds", base, INSTRUMENTATOR_BUCKETS, le, count,
                    total, count > 0)
        t.family("http_requests_inprogress", "gauge",
                 "Number of HTTP requests in progress.")
        t.series("http_requests_inprogress", "http_requests_inprogress", base,
                 inflight.tolist())

    def otel(self, i: int, by_status: Mapping[str, _Traffic], active: np.ndarray) -> None:
        t, pod = self.text, self.pods[i]
        t.family("http_server_request_duration_seconds", "histogram",
                 "Duration of HTTP server requests.")
        for status, traffic in by_status.items():
            labels = {"namespace": self.ns, "pod": pod, "http_request_method": "POST",
                      "http_route": "/chat", "http_response_status_code": status}
            le, count, total = _hist(OTEL_HTTP_BUCKETS, self.steps, traffic.counts,
                                     traffic.latencies)
            count = _cumulate(count)
            t.histogram("http_server_request_duration_seconds", labels, OTEL_HTTP_BUCKETS,
                        _cumulate(le), count, _cumulate(total), count > 0)
        self._count(pod, by_status, None, failed={"500", "502", "503", "504"})
        t.family("http_server_active_requests", "gauge",
                 "Number of active HTTP server requests.")
        t.series("http_server_active_requests", "http_server_active_requests",
                 {"namespace": self.ns, "pod": pod, "http_request_method": "POST"},
                 active.tolist())

    def express(self, i: int, by_status: Mapping[str, _Traffic]) -> None:
        t, pod = self.text, self.pods[i]
        t.family("http_request_duration_seconds", "histogram",
                 "duration histogram of http responses labeled with: status_code, method, "
                 "path")
        for status, traffic in by_status.items():
            labels = {"namespace": self.ns, "pod": pod, "method": "POST", "path": "/chat",
                      "status_code": status}
            le, count, total = _hist(EXPRESS_BUCKETS, self.steps, traffic.counts,
                                     traffic.latencies)
            count = _cumulate(count)
            t.histogram("http_request_duration_seconds", labels, EXPRESS_BUCKETS,
                        _cumulate(le), count, _cumulate(total), count > 0, le_style="js")
        self._count(pod, by_status, None, failed={"500", "502", "503", "504"})

    def genai(self, i: int, by_error: Mapping[str, _Traffic]) -> None:
        """``by_error``: "" for successful calls, else the error type."""
        t, pod = self.text, self.pods[i]
        t.family("gen_ai_client_operation_duration_seconds", "histogram",
                 "GenAI operation duration")
        for error, traffic in by_error.items():
            labels = {"namespace": self.ns, "pod": pod, "gen_ai_system": "openai",
                      "gen_ai_operation_name": "chat", "gen_ai_request_model": GENAI_MODEL}
            if error:
                labels["error_type"] = error
            le, count, total = _hist(GENAI_BUCKETS, self.steps, traffic.counts,
                                     traffic.latencies)
            count = _cumulate(count)
            t.histogram("gen_ai_client_operation_duration_seconds", labels, GENAI_BUCKETS,
                        _cumulate(le), count, _cumulate(total), count > 0)
        calls = sum(tr.counts[1:].sum() for tr in by_error.values())
        limited = sum(tr.counts[1:].sum() for e, tr in by_error.items() if e == "429")
        self.facts.setdefault("genai_calls", {})[pod] = float(calls)
        self.facts.setdefault("genai_429", {})[pod] = float(limited)

    def _count(self, pod: str, by_status: Mapping[str, _Traffic],
               restart_at: np.ndarray | None, failed: set[str]) -> None:
        """Facts: the in-window increments (the first step holds the time before)."""
        self.facts["requests"][pod] = float(sum(tr.counts[1:].sum()
                                                for tr in by_status.values()))
        self.facts["failed"][pod] = float(sum(tr.counts[1:].sum()
                                              for s, tr in by_status.items() if s in failed))

    def traffic(self, counts: np.ndarray, latency: Callable[[int], np.ndarray]) -> _Traffic:
        counts = counts.astype(np.int64)
        return _Traffic(counts, latency(int(counts.sum())))


def _split(rng: np.random.Generator, total: np.ndarray, share: np.ndarray | float
           ) -> tuple[np.ndarray, np.ndarray]:
    """``total`` per step split into (picked, rest) with probability ``share`` each."""
    picked = rng.binomial(total.astype(np.int64), np.clip(share, 0.0, 1.0))
    return picked, total - picked


def _prior(rng: np.random.Generator, rate_per_s: float, counts: np.ndarray,
           low_h: float = 1.0, high_h: float = 6.0) -> np.ndarray:
    """Add the traffic served before the window (the process's uptime) to step 0."""
    out = counts.copy()
    out[0] += rng.poisson(rate_per_s * rng.uniform(low_h, high_h) * 3600)
    return out


# ---------------------------------------------------------------- the scenarios


def _healthy(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps = text.steps
    wave = 1.0 + 0.35 * np.sin(np.linspace(0, 2 * math.pi, steps) + rng.uniform(0, 6))
    for i in range(n):
        rate = rng.uniform(0.8, 1.6) * wave  # requests per second
        total = _prior(rng, float(rate.mean()), rng.poisson(rate * text.step_s))
        e5, rest = _split(rng, total, 0.001)
        e4, ok = _split(rng, rest, 0.004)
        inflight = np.minimum(rng.poisson(rate * 1.6), 6)
        fleet.instrumentator(i, {
            "2xx": fleet.traffic(ok, lambda m: _lognormal(rng, 1.4, 0.5, m, cap=20)),
            "4xx": fleet.traffic(e4, lambda m: rng.uniform(0.003, 0.02, m)),
            "5xx": fleet.traffic(e5, lambda m: rng.uniform(0.01, 0.4, m)),
        }, inflight)
        fleet.kube(i, fleet.flat_memory())
    return Scenario(ns, tuple(fleet.pods), "healthy", "instrumentator",
                    "steady traffic, in-flight 0-6 per pod, 5xx ~0.1% at any concurrency, "
                    "4xx ~0.4%, no restarts, working set flat at 35-45% of the limit",
                    text.step_s, fleet.facts)


def _oom(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps, step = text.steps, text.step_s
    for i in range(n):
        rate = np.full(steps, rng.uniform(0.8, 1.4))
        total = rng.poisson(rate * step).astype(np.int64)
        base = rng.uniform(0.28, 0.32) * LIMIT_BYTES
        fill_s = rng.uniform(30, 50) * 60
        leak = (LIMIT_BYTES - base) / (rate[0] * fill_s)  # bytes per request
        pos = rng.uniform(0, 0.95) * rate[0] * fill_s  # requests since the container started
        prior_restarts = int(rng.integers(0, 4))
        restart_at = np.zeros(steps, dtype=bool)
        e5 = np.zeros(steps, dtype=np.int64)
        ws = np.zeros(steps)
        kills = 0
        for k in range(steps):
            if k > 0 and base + leak * (pos + total[k]) >= LIMIT_BYTES:
                kills += 1
                restart_at[k] = True
                after = int(total[k] * rng.uniform(0.2, 0.8))  # served by the new process
                total[k] = after
                pos = float(after)
                e5[k - 1] += int(rng.integers(1, 6))  # MemoryError 500s just before
                e5[k] += int(rng.integers(0, 3))  # cold start
            else:
                pos += total[k]
            ws[k] = min(base + leak * pos + rng.normal(0, 0.004 * LIMIT_BYTES),
                        0.997 * LIMIT_BYTES)
        total[0] += int(pos)  # what the first process served before the window
        e5 = np.minimum(e5, total)
        ok = total - e5
        restarts = prior_restarts + np.cumsum(restart_at)
        terminated = restarts > 0
        inflight = np.minimum(rng.poisson(rate * 1.5), 6)
        fleet.instrumentator(i, {
            "2xx": fleet.traffic(ok, lambda m: _lognormal(rng, 1.4, 0.5, m, cap=20)),
            "5xx": fleet.traffic(e5, lambda m: rng.uniform(0.05, 2.0, m)),
        }, inflight, restart_at)
        fleet.kube(i, np.round(ws), restarts.astype(np.float64), terminated)
        fleet.facts["oom_kills"][fleet.pods[i]] = float(kills)
    return Scenario(ns, tuple(fleet.pods), "oom", "instrumentator",
                    "working set grows with requests from ~30% to the 1 GiB limit in 30-50 "
                    "min, then OOMKilled: restarts +1, last_terminated_reason OOMKilled, the "
                    "app's counters reset; 1-5 5xx the minute before each kill",
                    step, fleet.facts)


def _periods(rng: np.random.Generator, steps: int, step_s: int, quiet: tuple[int, int],
             busy: tuple[int, int]) -> np.ndarray:
    """Alternating quiet and busy stretches (minutes), starting quiet: True where busy."""
    out = np.zeros(steps, dtype=bool)
    k, is_busy = 0, False
    while k < steps:
        low, high = busy if is_busy else quiet
        length = max(1, int(rng.integers(low, high + 1) * 60 // step_s))
        out[k:k + length] = is_busy
        k += length
        is_busy = not is_busy
    return out


def _rise(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps, step = text.steps, text.step_s
    busy = _periods(rng, steps, step, quiet=(12, 20), busy=(8, 15))
    for i in range(n):
        active = np.where(busy, rng.integers(6, 13, steps), rng.integers(0, 2, steps))
        rate = np.where(busy, active / 1.5, rng.uniform(0.2, 0.6, steps))
        total = _prior(rng, 0.6, rng.poisson(rate * step))
        share = np.where(busy, 0.2 + 0.2 * (active - 6) / 6 + rng.normal(0, 0.015, steps), 0.0)
        share[0] = 0.0
        failed, ok = _split(rng, total, share)
        fleet.otel(i, {
            "200": fleet.traffic(ok, lambda m: _lognormal(rng, 1.3, 0.45, m, cap=9)),
            "500": fleet.traffic(failed, lambda m: rng.uniform(0.002, 0.03, m)),
        }, active)
        fleet.kube(i, fleet.flat_memory(0.38, 0.46))
    return Scenario(ns, tuple(fleet.pods), "shared-instance", "otel",
                    "quiet stretches (active 0-1 per pod) where every request passes, busy "
                    "stretches (active 6-12) where 20-40% answer 500 within 30 ms, more at "
                    "higher concurrency; no restarts, no 429s, normal latencies",
                    step, {**fleet.facts, "busy_steps": {"count": float(busy.sum())}})


def _ceiling(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps, step = text.steps, text.step_s
    for i in range(n):
        rate = np.full(steps, rng.uniform(0.6, 1.2))
        total = _prior(rng, float(rate[0]), rng.poisson(rate * step))
        timed_out, ok = _split(rng, total, rng.uniform(0.25, 0.4))
        fleet.express(i, {
            "200": fleet.traffic(ok, lambda m: _lognormal(rng, 1.2, 0.6, m, cap=5.0)),
            "504": fleet.traffic(timed_out,
                                 lambda m: rng.uniform(GATEWAY_TIMEOUT_S - 0.8,
                                                       GATEWAY_TIMEOUT_S, m)),
        })
        fleet.kube(i, fleet.flat_memory())
    return Scenario(ns, tuple(fleet.pods), "platform-timeout", "express",
                    "successes under 5 s; 25-40% answered 504 at 29.2-30 s, the gateway's "
                    "30 s limit (the (20, 30] bucket); no in-flight gauge",
                    step, fleet.facts)


def _ratelimit(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps, step = text.steps, text.step_s
    burst = _periods(rng, steps, step, quiet=(15, 25), busy=(6, 12))
    for i in range(n):
        rate = np.where(burst, rng.uniform(3.0, 5.0, steps), rng.uniform(0.5, 1.0, steps))
        total = _prior(rng, 0.8, rng.poisson(rate * step))
        calls = rng.poisson(total * 2.0)
        limited_share = np.where(burst, rng.uniform(0.4, 0.7, steps), 0.002)
        limited_share[0] = 0.002
        limited, rest = _split(rng, calls, limited_share)
        unavailable, ok_calls = _split(rng, rest, 0.001)
        fail_share = np.where(burst, 0.4 * limited_share + rng.normal(0, 0.01, steps), 0.001)
        fail_share[0] = 0.001
        failed, ok = _split(rng, total, fail_share)
        inflight = np.where(burst, rng.integers(4, 11, steps), rng.integers(0, 4, steps))
        fleet.instrumentator(i, {
            "2xx": fleet.traffic(ok, lambda m: _lognormal(rng, 2.0, 0.5, m, cap=30)),
            "5xx": fleet.traffic(failed, lambda m: rng.uniform(1.0, 4.0, m)),
        }, inflight)
        fleet.genai(i, {
            "": fleet.traffic(ok_calls, lambda m: _lognormal(rng, 1.8, 0.55, m, cap=60)),
            "429": fleet.traffic(limited, lambda m: rng.uniform(0.05, 0.4, m)),
            "503": fleet.traffic(unavailable, lambda m: rng.uniform(0.5, 2.0, m)),
        })
        fleet.kube(i, fleet.flat_memory())
    return Scenario(ns, tuple(fleet.pods), "upstream-rate-limit", "instrumentator+genai",
                    "bursts where the provider answers 429 to 40-70% of gen_ai calls and the "
                    "app's 5xx share rises to ~15-30%; quiet stretches near 0; rare 503s",
                    step, {**fleet.facts, "burst_steps": {"count": float(burst.sum())}})


def _outlier(text: _Text, ns: str, rng: np.random.Generator, n: int) -> Scenario:
    fleet = _Fleet(text, ns, rng, n=n)
    steps, step = text.steps, text.step_s
    odd = int(rng.integers(0, n))
    levels = rng.uniform(0.36, 0.44, n)
    for i in range(n):
        rate = rng.uniform(0.8, 1.4, steps)
        total = _prior(rng, 1.0, rng.poisson(rate * step))
        e5, ok = _split(rng, total, 0.35 if i == odd else 0.001)
        inflight = np.minimum(rng.poisson(rate * 1.5), 6)
        fleet.instrumentator(i, {
            "2xx": fleet.traffic(ok, lambda m: _lognormal(rng, 1.4, 0.5, m, cap=20)),
            "5xx": fleet.traffic(e5, lambda m: rng.uniform(0.01, 0.3, m)),
        }, inflight)
        level = 2 * float(np.delete(levels, odd).mean()) if i == odd else float(levels[i])
        fleet.kube(i, fleet.flat_memory(level=level))
    return Scenario(ns, tuple(fleet.pods), "not-healthy", "instrumentator",
                    f"one pod ({fleet.pods[odd]}) answers ~35% 5xx and holds twice its "
                    "siblings' memory; the other 23 are healthy",
                    step, {**fleet.facts, "outlier": {fleet.pods[odd]: 1.0}})


def _hostile(text: _Text, ns: str, rng: np.random.Generator) -> Scenario:
    fleet = _Fleet(text, ns, rng, pods=HOSTILE_PODS)
    steps, step = text.steps, text.step_s
    for i, _pod in enumerate(HOSTILE_PODS):
        total = _prior(rng, 0.5, rng.poisson(np.full(steps, 0.5 * step)))
        e5, ok = _split(rng, total, 0.01)
        inflight = rng.integers(0, 3, steps).astype(np.float64)
        ws = fleet.flat_memory()
        if i == 0:
            ws[1::2] = math.nan
        elif i == 1:
            ws[-10:] = math.inf
        elif i == 2:
            inflight[:] = math.nan
        else:
            inflight[-5:] = -math.inf
        fleet.instrumentator(i, {
            "2xx": fleet.traffic(ok, lambda m: _lognormal(rng, 1.0, 0.5, m, cap=20)),
            "5xx": fleet.traffic(e5, lambda m: rng.uniform(0.01, 0.3, m)),
        }, inflight, handler=HOSTILE_HANDLER if i == 3 else "/chat")
        fleet.kube(i, ws)
    return Scenario(ns, HOSTILE_PODS, None, "instrumentator",
                    "pod names with Rich markup, an ANSI escape, a newline and a quote, a "
                    "backslash and a right-to-left override; a handler with markup; working "
                    "set NaN every other sample (pod 0) and +Inf at the end (pod 1), "
                    "in-flight NaN (pod 2) and -Inf at the end (pod 3)",
                    step, fleet.facts)


# ---------------------------------------------------------------- the file


def window(now: int) -> tuple[int, int]:
    """The first and last sample times for ``now`` (whole seconds)."""
    return now - WINDOW_S, now - END_OFFSET_S


def write_openmetrics(path: Path | str, now: int | float, *, big_step_s: int = STEP_S
                      ) -> dict[str, Scenario]:
    """Write every scenario to ``path`` (OpenMetrics, ending ``# EOF``) and return them by
    namespace. ``big_step_s`` is the sample interval of the 200-pod fleets (the others
    always use ``STEP_S``); raise it if backfilling is too slow on the machine."""
    start, end = window(int(now))
    path = Path(path)
    scenarios: dict[str, Scenario] = {}
    with tempfile.TemporaryDirectory(prefix="prom-fleet-", dir=path.parent) as folder:
        families = _Families(Path(folder))
        try:
            for index, (ns, make) in enumerate(_SCENARIOS):
                step = big_step_s if ns in _BIG else STEP_S
                first = end - ((end - start) // step) * step
                text = _Text(families, range(first, end + 1, step), step)
                scenarios[ns] = make(text, ns, np.random.default_rng([SEED, index]))
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                families.write(out)
        finally:
            families.close()
    return scenarios


_BIG = {"fleet-healthy", "fleet-oom", "fleet-rise"}
_SCENARIOS: tuple[tuple[str, Callable[[_Text, str, np.random.Generator], Scenario]], ...] = (
    ("fleet-healthy", lambda t, ns, r: _healthy(t, ns, r, 200)),
    ("fleet-oom", lambda t, ns, r: _oom(t, ns, r, 200)),
    ("fleet-rise", lambda t, ns, r: _rise(t, ns, r, 200)),
    ("fleet-ceiling", lambda t, ns, r: _ceiling(t, ns, r, 24)),
    ("fleet-ratelimit", lambda t, ns, r: _ratelimit(t, ns, r, 24)),
    ("fleet-outlier", lambda t, ns, r: _outlier(t, ns, r, 24)),
    ("fleet-hostile", lambda t, ns, r: _hostile(t, ns, r)),
)
