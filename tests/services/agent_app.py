"""A tiny agent service with the shared-instance bug, and its fixed twin (plain ASGI).

Why it exists: the ramp probe, the process probe and the bundled demo incident need a
real service that fails the way AutoGen services fail in production, not a simulation
inside the probe. ``app`` keeps ONE module-level team for every request; a second
request that arrives while a run is active gets the real AutoGen error
"The team is already running, it cannot run again until it is stopped." as a 500.
``fixed_app`` builds a team per request and never collides.

Plain ASGI (no framework) so it runs under uvicorn with nothing else installed.

Configuration, all by environment variable (so a replica is configured like a pod):

* ``AGENT_LOG_FILE``: where JSON log lines go (one object per line); ``-`` is stdout;
  unset means no log. Fields: ``time`` (ISO, ms, Z), ``level`` (pino scale), ``hostname``,
  ``pid``, ``msg``, plus ``instanceId``, ``sessionId``, ``requestId`` (the
  ``x-request-id`` header), ``runId``, ``err``, ``statusCode``, ``responseTime``.
* ``AGENT_TRACE_FILE``: where OTLP JSON lines go (one ``TracesData`` per request: a
  SERVER span and its INTERNAL ``agent.run`` span); unset means no traces.
* ``AGENT_MODE``: ``buggy`` (default) or ``fixed``; picks which app ``app`` serves, so a
  uvicorn command line can stay ``agent_app:app``.
* ``AGENT_MODEL_DELAY``: seconds the simulated model call takes (default 0.05).
* ``HOSTNAME``: the replica name written into logs and traces (a pod name in k8s).

Endpoints: ``POST /chat`` (JSON ``{"message": ..., "sessionId": ...}``; both optional)
and ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ALREADY_RUNNING = "The team is already running, it cannot run again until it is stopped."
INFO, ERROR = 30, 50
HOSTNAME = os.environ.get("HOSTNAME") or socket.gethostname()
MODEL_DELAY_S = float(os.environ.get("AGENT_MODEL_DELAY", "0.05"))
SERVICE_NAME = "agent-api"


class _JsonLines:
    """Append-only JSON-lines sink; one write + flush per record so lines never interleave."""

    def __init__(self, env_var: str) -> None:
        path = os.environ.get(env_var)
        self._lock = threading.Lock()
        self._out: TextIO | None
        if not path:
            self._out = None
        elif path == "-":
            self._out = sys.stdout
        else:
            self._out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process

    def write(self, record: dict[str, Any]) -> None:
        if self._out is None:
            return
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


LOG = _JsonLines("AGENT_LOG_FILE")
TRACES = _JsonLines("AGENT_TRACE_FILE")
SERVICE_INSTANCE_ID = str(uuid.uuid4())  # per process, as the OTel SDK sets it


def _iso_ms(time_ns: int) -> str:
    secs, rem = divmod(time_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem // 1_000_000:03d}Z"


def log(level: int, msg: str, **fields: Any) -> None:
    """One pino-shaped line with an ISO time (pino's ``isoTime``)."""
    record: dict[str, Any] = {"time": _iso_ms(time.time_ns()), "level": level,
                              "hostname": HOSTNAME, "pid": os.getpid()}
    record.update({k: v for k, v in fields.items() if v is not None})
    record["msg"] = msg
    LOG.write(record)


class Team:
    """Stands in for an AutoGen team: one run at a time, like ``BaseGroupChat.run``."""

    def __init__(self) -> None:
        self.id = f"team-{uuid.uuid4().hex[:8]}"
        self._running = False
        log(INFO, "agent created", instanceId=self.id)

    async def run(self, task: str) -> str:
        if self._running:
            raise RuntimeError(ALREADY_RUNNING)
        self._running = True
        try:
            await asyncio.sleep(MODEL_DELAY_S)  # the model call
            return f"summary of {task[:40]!r}"
        finally:
            self._running = False


class _Span:
    """A finished span in OTLP JSON shape (hex ids, string int64 nanos, int enums)."""

    def __init__(self, trace_id: str, name: str, kind: int, parent: str | None) -> None:
        self.trace_id = trace_id
        self.span_id = secrets.token_hex(8)
        self.parent = parent
        self.name = name
        self.kind = kind
        self.start_ns = time.time_ns()
        self.end_ns = self.start_ns
        self.attributes: list[dict[str, Any]] = []
        self.status: dict[str, Any] = {}

    def attr(self, key: str, value: str | int | list[str]) -> None:
        if isinstance(value, bool):
            raise TypeError("no bool attributes here")
        if isinstance(value, int):
            encoded: dict[str, Any] = {"intValue": str(value)}
        elif isinstance(value, list):
            encoded = {"arrayValue": {"values": [{"stringValue": v} for v in value]}}
        else:
            encoded = {"stringValue": value}
        self.attributes.append({"key": key, "value": encoded})

    def end(self, code: int, message: str = "") -> None:
        self.end_ns = time.time_ns()
        self.status = {"code": code, "message": message} if message else {"code": code}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "traceId": self.trace_id, "spanId": self.span_id, "name": self.name,
            "kind": self.kind, "startTimeUnixNano": str(self.start_ns),
            "endTimeUnixNano": str(self.end_ns), "attributes": self.attributes,
            "status": self.status,
        }
        if self.parent:
            out["parentSpanId"] = self.parent
        return out


def export_spans(spans: list[_Span]) -> None:
    """Write one OTLP ``TracesData`` line, as the OTel file exporter does per batch."""
    resource = [
        {"key": "service.name", "value": {"stringValue": SERVICE_NAME}},
        {"key": "service.instance.id", "value": {"stringValue": SERVICE_INSTANCE_ID}},
        {"key": "host.name", "value": {"stringValue": HOSTNAME}},
        {"key": "process.pid", "value": {"intValue": str(os.getpid())}},
    ]
    TRACES.write({"resourceSpans": [{
        "resource": {"attributes": resource},
        "scopeSpans": [{"scope": {"name": "agent_app", "version": "0.1.0"},
                        "spans": [s.to_json() for s in spans]}],
    }]})


SPAN_INTERNAL, SPAN_SERVER = 1, 2
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, doc: dict[str, Any], request_id: str) -> None:
    body = json.dumps(doc).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _session_for(body: bytes, request_id: str) -> tuple[str, str]:
    """The caller's session id and message; a new session when the caller sent none."""
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    session = doc.get("sessionId")
    if not isinstance(session, str) or not session:
        session = "sess-" + hashlib.sha1(request_id.encode()).hexdigest()[:8]
    message = doc.get("message")
    return session, message if isinstance(message, str) else "hello"


def make_app(team_for_request: Callable[[], Team]) -> Callable[[Scope, Receive, Send],
                                                                Awaitable[None]]:
    """Build the ASGI app around a team policy: the only difference between the twins."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = _header(scope, b"x-request-id") or f"req-{uuid.uuid4().hex[:12]}"
        method, path = scope["method"], scope["path"]
        if path == "/healthz":
            await _respond(send, 200, {"ok": True}, request_id)
            return
        if path != "/chat" or method != "POST":
            await _respond(send, 404, {"error": f"no route {method} {path}"}, request_id)
            return
        body = await _read_body(receive)
        session, task = _session_for(body, request_id)
        server = _Span(secrets.token_hex(16), f"{method} {path}", SPAN_SERVER, None)
        server.attr("http.request.method", method)
        server.attr("url.path", path)
        server.attr("http.request.header.x-request-id", [request_id])
        server.attr("request.id", request_id)
        server.attr("session.id", session)
        log(INFO, "incoming request", requestId=request_id, sessionId=session,
            req={"method": method, "url": path})
        team = team_for_request()
        run_id = f"run-{uuid.uuid4().hex[:10]}"
        run_span = _Span(server.trace_id, "agent.run", SPAN_INTERNAL, server.span_id)
        run_span.attr("agent.instance.id", team.id)
        run_span.attr("session.id", session)
        run_span.attr("agent.run.id", run_id)
        run_span.attr("request.id", request_id)
        ids = {"instanceId": team.id, "sessionId": session, "requestId": request_id,
               "runId": run_id}
        log(INFO, "run started", **ids)
        try:
            reply = await team.run(task)
        except RuntimeError as exc:
            run_span.end(STATUS_ERROR, str(exc))
            log(ERROR, "run failed", **ids, err={"type": type(exc).__name__,
                                                 "message": str(exc)})
            status, doc = 500, {"error": str(exc), "requestId": request_id}
        else:
            run_span.end(STATUS_OK)
            log(INFO, "run finished", **ids)
            status, doc = 200, {"reply": reply, "sessionId": session, "runId": run_id}
        await _respond(send, status, doc, request_id)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        server.attr("http.response.status_code", status)
        server.end(STATUS_ERROR if status >= 500 else STATUS_UNSET)
        log(ERROR if status >= 500 else INFO, "request completed", requestId=request_id,
            sessionId=session, statusCode=status, responseTime=elapsed_ms)
        export_spans([run_span, server])

    return application


_SHARED_TEAM: Team | None = None


def _shared_team() -> Team:
    """BROKEN: one team per process, created on first use and shared by every request."""
    global _SHARED_TEAM
    if _SHARED_TEAM is None:
        _SHARED_TEAM = Team()
    return _SHARED_TEAM


buggy_app = make_app(_shared_team)
fixed_app = make_app(Team)  # FIXED: a team per request
app = fixed_app if os.environ.get("AGENT_MODE", "buggy") == "fixed" else buggy_app
