"""The shared-instance agent service with Prometheus metrics, as a FastAPI service exports them.

Why it exists: the Prometheus probe is tested against a real Prometheus that scrapes a real
service (tests/prom_server.py, fixture ``prom_scraped``). This wraps ``agent_app.app`` (the
one module-level team; a request that arrives while a run is active gets a 500) in an ASGI
middleware that counts what prometheus-fastapi-instrumentator counts with its defaults plus
``should_instrument_requests_inprogress=True, inprogress_labels=True``, and serves them on
``GET /metrics`` from its own ``CollectorRegistry``:

* ``http_requests_total{method,status,handler}``: status grouped ("2xx", "4xx", "5xx");
  handler the route ("/chat", "/healthz", "/metrics") or "none" for a path no route has
  (the instrumentator's ``should_group_untemplated``). /metrics itself is counted, as the
  instrumentator does unless told to exclude it.
* ``http_request_duration_seconds{method,handler}``: histogram, buckets 0.1, 0.5, 1, +Inf.
* ``http_request_duration_highr_seconds``: histogram without labels, the instrumentator's
  21 buckets.
* ``http_request_size_bytes{handler}``, ``http_response_size_bytes{handler}``: summaries of
  the Content-Length headers.
* ``http_requests_inprogress{method,handler}``: gauge, up while a request is handled.

Run it like the agent service: ``uvicorn metrics_app:app --app-dir tests/services``
(``AGENT_MODE``, ``AGENT_MODEL_DELAY`` and the other variables of agent_app apply).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
)

try:  # started by uvicorn with --app-dir tests/services
    import agent_app
except ImportError:  # imported as part of the tests.services package
    from . import agent_app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ROUTES = ("/chat", "/healthz", "/metrics")
LOWR_BUCKETS = (0.1, 0.5, 1.0, float("inf"))
HIGHR_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4,
                 4.5, 5, 7.5, 10, 30, 60, float("inf"))

REGISTRY = CollectorRegistry()
TOTAL = Counter("http_requests_total",
                "Total number of requests by method, status and handler.",
                ("method", "status", "handler"), registry=REGISTRY)
IN_SIZE = Summary("http_request_size_bytes",
                  "Content length of incoming requests by handler. Only value of header is "
                  "respected. Otherwise ignored. No percentile calculated. ",
                  ("handler",), registry=REGISTRY)
OUT_SIZE = Summary("http_response_size_bytes",
                   "Content length of outgoing responses by handler. Only value of header is "
                   "respected. Otherwise ignored. No percentile calculated. ",
                   ("handler",), registry=REGISTRY)
LATENCY_HIGHR = Histogram("http_request_duration_highr_seconds",
                          "Latency with many buckets but no API specific labels. Made for "
                          "more accurate percentile calculations. ",
                          buckets=HIGHR_BUCKETS, registry=REGISTRY)
LATENCY_LOWR = Histogram("http_request_duration_seconds",
                         "Latency with only few buckets by handler. Made to be only used if "
                         "aggregation by handler is important. ",
                         ("method", "handler"), buckets=LOWR_BUCKETS, registry=REGISTRY)
INPROGRESS = Gauge("http_requests_inprogress", "Number of HTTP requests in progress.",
                   ("method", "handler"), registry=REGISTRY, multiprocess_mode="livesum")


def _content_length(headers: Any) -> int:
    for key, value in headers or ():
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _metrics(scope: Scope, receive: Receive, send: Send) -> None:
    body = generate_latest(REGISTRY)
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", CONTENT_TYPE_LATEST.encode()),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """agent_app.app behind the instrumentator's middleware, plus ``GET /metrics``."""
    if scope["type"] != "http":
        await agent_app.app(scope, receive, send)
        return
    method, path = scope["method"], scope["path"]
    handler = path if path in ROUTES else "none"
    inner = _metrics if path == "/metrics" and method == "GET" else agent_app.app
    status, out_size = 500, 0

    async def watching(message: Message) -> None:
        nonlocal status, out_size
        if message["type"] == "http.response.start":
            status = int(message["status"])
            out_size = _content_length(message.get("headers"))
        await send(message)

    gauge = INPROGRESS.labels(method, handler)
    gauge.inc()
    started = time.perf_counter()
    try:
        await inner(scope, receive, watching)
    finally:
        duration = max(time.perf_counter() - started, 0.0)
        TOTAL.labels(method, f"{str(status)[0]}xx", handler).inc()
        IN_SIZE.labels(handler).observe(_content_length(scope.get("headers")))
        OUT_SIZE.labels(handler).observe(out_size)
        LATENCY_HIGHR.observe(duration)
        LATENCY_LOWR.labels(method, handler).observe(duration)
        gauge.dec()
