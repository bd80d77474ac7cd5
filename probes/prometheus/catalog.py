"""What the probe looks for in Prometheus: metric names and label conventions, as tables.

Real fleets name the same facts differently: kube-state-metrics and cAdvisor are nearly
universal, but a service's own HTTP metrics come from OpenTelemetry's semantic
conventions (two generations), prometheus_client instrumentators, express-prom-bundle or
Go's promhttp, each with its own status label and unit. Discovery asks the server which
of these names exist for the selector; each signal then uses the first convention that
does, and a signal whose metrics are all missing is "not checked", naming the metrics
that would answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

RESTARTS = "kube_pod_container_status_restarts_total"
TERMINATED_REASON = "kube_pod_container_status_last_terminated_reason"
LIMITS = "kube_pod_container_resource_limits"
POD_INFO = "kube_pod_info"
WORKING_SET = "container_memory_working_set_bytes"


@dataclass(frozen=True, slots=True)
class HttpConvention:
    """How one instrumentation library exports a service's HTTP requests."""

    name: str
    requests: str
    """A counter of finished requests (or a histogram's ``_count``)."""
    status_labels: tuple[str, ...]
    """Label names that may hold the status, first found wins."""
    histogram: str | None
    """The latency histogram's name without ``_bucket``/``_sum``/``_count``."""
    unit_s: float
    """Seconds per unit of the histogram's buckets and sum."""
    in_flight: tuple[str, ...]
    """Gauges of requests in flight, first found wins."""
    route_labels: tuple[str, ...] = ()
    """Label names that may hold the route, to leave out what is not traffic."""


HTTP_CONVENTIONS: tuple[HttpConvention, ...] = (
    HttpConvention("OpenTelemetry (semconv 1.20+)", "http_server_request_duration_seconds_count",
                   ("http_response_status_code",), "http_server_request_duration_seconds", 1.0,
                   ("http_server_active_requests",), ("http_route",)),
    HttpConvention("OpenTelemetry (before semconv 1.20)",
                   "http_server_duration_milliseconds_count", ("http_status_code",),
                   "http_server_duration_milliseconds", 0.001, ("http_server_active_requests",),
                   ("http_route", "http_target")),
    HttpConvention("prometheus_client instrumentator", "http_requests_total",
                   ("status", "code", "status_code"), "http_request_duration_seconds", 1.0,
                   ("http_requests_inprogress", "http_requests_in_progress",
                    "http_requests_in_flight"), ("handler", "path", "route")),
    HttpConvention("express-prom-bundle", "http_request_duration_seconds_count",
                   ("status_code", "status", "code"), "http_request_duration_seconds", 1.0,
                   ("http_requests_in_flight", "http_requests_inprogress"),
                   ("path", "route", "handler")),
)
"""Tried in order: the first whose request counter exists for the selector is used."""

SERVER_ERROR_RE = "5.."
NOT_TRAFFIC_RE = "/metrics|/healthz?|/livez|/readyz|/ready|/-/healthy|/-/ready"
"""Routes that are not the service's traffic: its own scrape (instrumentators count
``/metrics``, and its in-progress gauge is up while Prometheus reads it) and the
kubelet's health checks."""
"""A 5xx status: "500" as most write it, "5xx" as instrumentators group it."""


@dataclass(frozen=True, slots=True)
class UpstreamConvention:
    """How calls to a model provider (or any upstream) and their failures are exported."""

    name: str
    calls: str
    error_label: str
    limited: str
    """A regex of ``error_label`` values that mean "rate limited or overloaded"."""


UPSTREAM_CONVENTIONS: tuple[UpstreamConvention, ...] = (
    UpstreamConvention("OpenTelemetry GenAI client",
                       "gen_ai_client_operation_duration_seconds_count", "error_type",
                       "429|503|.*[Rr]ate.?[Ll]imit.*|.*[Tt]oo.?[Mm]any.*|.*[Oo]verloaded.*"),
    UpstreamConvention("OpenTelemetry HTTP client", "http_client_request_duration_seconds_count",
                       "http_response_status_code", "429|503"),
    UpstreamConvention("OpenTelemetry HTTP client (before semconv 1.20)",
                       "http_client_duration_milliseconds_count", "http_status_code", "429|503"),
    UpstreamConvention("LiteLLM proxy", "litellm_deployment_total_requests",
                       "exception_status", "429|503"),
)

REPLICA_LABELS = ("pod", "instance")
"""What names a replica in a service's own metrics: ``pod`` where Kubernetes service
discovery added it, else the scrape target."""

TIMEOUT_BOUNDS_S = (5.0, 10.0, 15.0, 20.0, 29.0, 30.0, 55.0, 60.0, 90.0, 100.0, 120.0, 180.0,
                    300.0, 600.0, 900.0)
"""Limits gateways and platforms commonly cut requests at (nginx 60 s, ALB 60 s, API
Gateway 29 s, Cloud Run 300 s, Heroku 30 s, many clients 10/30/120 s)."""


def every_name() -> tuple[str, ...]:
    """Every metric name discovery asks about."""
    names: list[str] = [RESTARTS, TERMINATED_REASON, LIMITS, POD_INFO, WORKING_SET]
    for c in HTTP_CONVENTIONS:
        names.append(c.requests)
        if c.histogram:
            names += [c.histogram + "_bucket", c.histogram + "_sum"]
        names += list(c.in_flight)
    names += [u.calls for u in UPSTREAM_CONVENTIONS]
    return tuple(dict.fromkeys(names))
