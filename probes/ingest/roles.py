"""Field roles: which key of a structured line means time, level, instance, session...

Loggers disagree on names (pino ``msg``, structlog ``event``, winston ``message``;
``time`` in ms, ``timestamp`` as ISO, ``asctime`` with a comma), so ingestion never
looks at a logger's keys directly. It looks them up in ONE table, ``ROLE_ALIASES``
(role -> candidate key paths, first found wins), and turns each value into our units
with the ``*_value`` helpers here. Dotted paths reach into nested objects
(``agent.instanceId``, ``res.statusCode``); a user override (``--field``) is tried
before the table. Add a logger's spelling by adding one alias below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from probes.events import DEBUG, ERROR, FATAL, INFO, TRACE, WARN
from probes.evidence import parse_iso_ns

# role -> candidate key paths, in order of preference. A path is dotted for nested keys.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "@timestamp", "asctime", "created", "t"),
    "level": ("level", "levelname", "severity", "levelno", "lvl"),
    "message": ("msg", "message", "event"),
    "event": ("event", "eventName", "event_name", "action"),
    "pid": ("pid", "process_id", "process"),
    "host": ("hostname", "host", "pod", "pod_name", "kubernetes.pod_name"),
    "instance": ("instanceId", "instance_id", "agentId", "agent_id", "agent.instanceId",
                 "agent_instance", "instance", "runtimeId", "runtime_id", "teamId", "team_id",
                 "crewId", "crew_id", "clientId"),
    "session": ("sessionId", "session_id", "threadId", "thread_id", "conversationId",
                "conversation_id", "workflowId", "workflow_id", "chatId", "chat_id", "session",
                "thread"),
    "request": ("reqId", "req.id", "requestId", "request_id", "req_id", "x-request-id",
                "traceId", "trace_id"),
    "run": ("runId", "run_id", "taskRunId"),
    "error": ("err", "error", "exception", "err.message", "error.message", "stack"),
    "status": ("res.statusCode", "statusCode", "status", "status_code", "http.status_code"),
    "duration": ("responseTime", "response_time", "duration_ms", "durationMs", "elapsed_ms",
                 "latency_ms", "elapsedMs", "latencyMs", "took_ms", "ms"),
    # extra named values, kept in LogEvent.fields under the role name
    "version": ("version", "stateVersion", "state_version", "expectedVersion"),
    "expected": ("expected", "expectedVersion", "expected_version"),
    "history_len": ("historyLength", "history_len", "messages", "messageCount",
                    "message_count", "messages_in_state", "turns", "turn_count"),
    "key": ("key", "stateKey", "state_key"),
    "value": ("value",),
    "tool": ("tool", "toolName", "tool_name"),
    "user": ("userId", "user_id", "user"),
}

THREAD_NAMES = ("MainThread", "Thread-", "ThreadPoolExecutor", "AnyIO worker", "asyncio_")
"""Values of a ``thread`` key that name an OS thread (python logging's ``%(threadName)s``),
so the key does not mean a LangGraph thread (a conversation) there."""

EXTRA_ROLES = ("version", "expected", "history_len", "key", "value", "tool", "user")
"""Roles that go into ``LogEvent.fields`` rather than a LogEvent attribute."""

ROLES = tuple(ROLE_ALIASES)

# String level names (any case) on the pino 10-60 scale. Winston's npm names included;
# winston's *numbers* run the other way (error 0 .. silly 6) and are never read as pino.
LEVEL_NAMES: dict[str, int] = {
    "trace": TRACE, "silly": TRACE, "verbose": DEBUG, "debug": DEBUG, "dbug": DEBUG,
    "info": INFO, "information": INFO, "informational": INFO, "http": INFO, "notice": INFO,
    "log": INFO, "warn": WARN, "warning": WARN, "wrn": WARN, "error": ERROR, "err": ERROR,
    "eror": ERROR, "fatal": FATAL, "critical": FATAL, "crit": FATAL, "alert": FATAL,
    "emerg": FATAL, "emergency": FATAL, "panic": FATAL, "dpanic": FATAL,
}
# Python's logging levelno (10 DEBUG .. 50 CRITICAL) is one step below pino's scale.
PY_LEVELNO = {10: DEBUG, 20: INFO, 30: WARN, 40: ERROR, 50: FATAL}

MAX_ERROR_TEXT = 1000


def split_path(path: str) -> tuple[str, ...]:
    """``"agent.instanceId"`` -> ``("agent", "instanceId")``; a key holding a dot
    literally (``"http.status_code"`` as one key) is tried whole first by ``lookup``."""
    return tuple(path.split("."))


def lookup(doc: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path in a decoded JSON object, or None.

    The whole path is tried as one key first: OpenTelemetry style flat keys such as
    ``"http.status_code"`` are common in JSON logs.
    """
    v = doc.get(path)
    if v is not None or "." not in path:
        return v
    cur: Any = doc
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
        if cur is None:
            return None
    return cur


def time_value(v: Any) -> int | None:
    """A time value in UTC nanoseconds: epoch s / ms / us / ns by digit count, float
    seconds, ISO-8601 or numeric strings. Anything else is None."""
    t = type(v)
    if t is int:
        if v <= 0:
            return None
        if v < 100_000_000_000:  # up to 11 digits: seconds
            return int(v * 1_000_000_000)
        if v < 100_000_000_000_000:  # 12-14 digits: milliseconds (pino)
            return int(v * 1_000_000)
        if v < 100_000_000_000_000_000:  # 15-17 digits: microseconds
            return int(v * 1_000)
        return int(v)
    if t is float:
        if v <= 0 or v != v:
            return None
        # a double holds epoch seconds to about a microsecond: round there, not to noise
        if v < 1e11:
            return round(v * 1e6) * 1000  # python logging "created", structlog fmt=None
        if v < 1e14:
            return round(v * 1e3) * 1000  # ms with a fraction
        return None
    if t is str:
        s = v.strip()
        if not s:
            return None
        if s[0].isdigit() and (s.isdigit() or s.replace(".", "", 1).isdigit()):
            try:
                return time_value(int(s)) if s.isdigit() else time_value(float(s))
            except ValueError:
                return None
        ns = parse_iso_ns(s)
        if ns is None and (s.endswith(" UTC") or " m=" in s):
            # Go's time.String(): "2024-05-01 12:00:00.136 +0000 UTC m=+0.012"
            ns = parse_iso_ns(s.split(" m=", 1)[0].removesuffix(" UTC"))
        return ns
    return None


def level_value(v: Any, key: str = "level") -> int | None:
    """A level on the pino 10-60 scale from an int (pino/bunyan scale, or python's
    ``levelno`` when the key says so) or a name (any logger)."""
    t = type(v)
    if t is int:
        if key == "levelno":
            return PY_LEVELNO.get(v)
        return v if 10 <= v <= 60 else None
    if t is str:
        lv = LEVEL_NAMES.get(v.lower())
        if lv is None and v.isdigit():
            return level_value(int(v), key)
        return lv
    return None


def text_value(v: Any) -> str | None:
    """An id or name as text: strings as they are, numbers printed, others None."""
    t = type(v)
    if t is str:
        return v if v else None
    if t is int or t is float:
        return str(v)
    return None


def status_value(v: Any) -> int | None:
    """An HTTP status code (100-599) from an int or a numeric string."""
    if type(v) is int:
        return v if 100 <= v <= 599 else None
    if type(v) is str and len(v) == 3 and v.isdigit():
        n = int(v)
        return n if 100 <= n <= 599 else None
    return None


def number_value(v: Any) -> float | None:
    """A duration in ms from a number or numeric string."""
    t = type(v)
    if t is int or t is float or t is str:
        try:
            return float(v)
        except (ValueError, OverflowError):  # an integer no float holds is no duration
            return None
    return None


def error_value(v: Any) -> str | None:
    """Error text ("Type: message") from a pino/bunyan ``err`` object, a string, a
    stack, or structlog's ``dict_tracebacks`` list. ``False``/empty mean no error."""
    text: str | None = None
    if isinstance(v, str):
        text = v.strip() or None
    elif isinstance(v, Mapping):
        msg = v.get("message") or v.get("msg") or v.get("exc_value")
        typ = v.get("type") or v.get("name") or v.get("exc_type")
        if not msg:
            stack = v.get("stack")
            if isinstance(stack, str) and stack.strip():
                msg = stack.strip().splitlines()[0]
        if msg:
            text = f"{typ}: {msg}" if isinstance(typ, str) and typ and typ not in str(msg) \
                else str(msg)
        elif isinstance(typ, str) and typ:
            text = typ
    elif isinstance(v, list) and v:
        last = v[-1]
        if isinstance(last, Mapping):
            return error_value(last)
        if isinstance(last, str):
            text = last.strip() or None
    if text is None:
        return None
    if "\n" in text:
        text = text.splitlines()[0] if not text.startswith("Traceback") else text.splitlines()[-1]
    return text[:MAX_ERROR_TEXT]


def history_value(v: Any) -> int | None:
    """History length: a count, or the length of a list of messages."""
    if type(v) is int:
        return v if v >= 0 else None
    if isinstance(v, list):
        return len(v)
    if type(v) is str and v.isdigit():
        return int(v)
    return None


def extra_value(role: str, v: Any) -> Any:
    """Normalise an extra role for ``LogEvent.fields`` (plain JSON-able values)."""
    if role == "history_len":
        return history_value(v)
    if role in ("version", "expected"):
        if type(v) is int or type(v) is str:
            return v
        return None
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)[:MAX_ERROR_TEXT]


def is_counter_id(v: Any) -> bool:
    """Does a request id look like a per-process counter (pino-http ``1,2,3``, fastify
    ``req-1``) rather than a globally unique token (UUID, trace id)?"""
    if type(v) is int:
        return True
    return type(v) is str and len(v) < 16
