"""Spans into LogEvents: OTLP JSON (lines or one document) and the ConsoleSpanExporter.

Two on-disk shapes (log-formats.md §3.9):

* OTLP JSON lines (file exporter, collector ``file`` exporter): one ``TracesData``
  per line, hex ids, 64-bit ints as strings or numbers, int enums. The older
  Grafana/Tempo export (``batches``, ``instrumentationLibrarySpans``, base64 ids,
  ``"SPAN_KIND_SERVER"``, often one pretty-printed document) is read too.
  ``resourceLogs`` objects become log events.
* The Python SDK's ConsoleSpanExporter: ``span.to_json(indent=4)`` objects written one
  after another (multi-line, not JSONL).

Both are read with ``json.JSONDecoder.raw_decode`` over a bounded, sliding text buffer
(``console_objects``), which takes JSON lines and multi-line objects alike and never
holds the whole file.

Spans are normalised into ``Span`` and turned into events by ``span_events``: a SERVER
span is a request (REQUEST_START/REQUEST_END, request = trace id), an agent-run span
(``RUN_SPAN_NAMES`` or ``gen_ai.operation.name``) is a run (run = span id, request =
trace id, so the runs of one request share it), a model/tool call span gives TOOL_CALL
start/end, ``create_agent`` gives CREATED, any other failed span an ERROR.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from probes.events import DEBUG, ERROR, FATAL, INFO, TRACE, WARN, EventKind, LogEvent
from probes.evidence import parse_iso_ns
from probes.ingest.limits import DEEP_REASON, obj_too_deep
from probes.ingest.lineformats import assemble, role_paths, values_from_dict

# Span names that are an agent/team/crew run (case-insensitive, searched in the name).
RUN_SPAN_NAMES = re.compile(
    r"agent\.run|team\.run|crew\.kickoff|invoke_agent|autogen run|agent run|workflow\.run"
    r"|agent\.invoke|run_stream|agent_run|team_run|kickoff_async",
    re.IGNORECASE)
RUN_OPERATIONS = frozenset({"invoke_agent", "invoke_workflow"})
CREATE_OPERATIONS = frozenset({"create_agent"})
TOOL_OPERATIONS = frozenset({"chat", "execute_tool", "text_completion", "generate_content",
                             "embeddings"})
# Span names of outbound model / tool calls.
TOOL_SPAN_NAMES = re.compile(
    r"llm|chat|completion|openai|anthropic|bedrock|gemini|ollama|embedding|tool|model call",
    re.IGNORECASE)

INSTANCE_KEYS = ("agent.instance.id", "agent.instance_id", "agent.id", "gen_ai.agent.id",
                 "team.id", "crew.id", "autogen.agent.id", "runtime.id")
SESSION_KEYS = ("session.id", "gen_ai.conversation.id", "thread.id", "conversation.id",
                "workflow.id")
HOST_KEYS = ("host.name", "k8s.pod.name", "service.instance.id")
STATUS_KEYS = ("http.response.status_code", "http.status_code")
RUN_ID_KEYS = ("agent.run.id", "run.id", "gen_ai.run.id", "run_id")
REQUEST_ID_KEYS = ("request.id", "http.request.id", "http.request.header.x-request-id",
                   "x-request-id")
"""When a span names the run or request id its service also logs, the span takes that
id, so a run seen in both the logs and the trace export is one run, not two overlapping."""
INFERRED_INSTANCE = "gen_ai.agent.name"
"""``fields["instance_from"]`` of events whose instance id is an agent's name in a process."""
USER_KEYS = ("enduser.id", "user.id", "user_id", "app.user.id")
"""Who a span works for. Within one trace every span works for one user and one request:
a span naming another (a tool reading state another request left) is contamination."""
TOOL_KEYS = ("gen_ai.tool.name", "tool.name", "gen_ai.request.model", "llm.model")

_KINDS = {0: "", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_SEVERITY = ((4, TRACE), (8, DEBUG), (12, INFO), (16, WARN), (20, ERROR), (24, FATAL))


@dataclass(slots=True)
class Span:
    """One span, whatever file shape it came from."""

    trace_id: str
    span_id: str
    name: str
    kind: str  # "server" | "client" | "internal" | "producer" | "consumer" | ""
    start_ns: int | None
    end_ns: int | None
    error: bool
    status_message: str
    attrs: dict[str, Any]
    resource: dict[str, Any]
    events: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)

    def attr(self, keys: tuple[str, ...]) -> Any:
        for k in keys:
            v = self.attrs.get(k)
            if v is not None and v != "":
                return v
        for k in keys:
            v = self.resource.get(k)
            if v is not None and v != "":
                return v
        return None


def norm_id(v: Any) -> str:
    """Hex id, lower case: from hex, ``0x`` hex (console) or base64 (old Tempo)."""
    if not isinstance(v, str) or not v:
        return ""
    s = v[2:] if v.startswith("0x") else v
    if len(s) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in s):
        return s.lower()
    try:
        return base64.b64decode(s, validate=True).hex()
    except (binascii.Error, ValueError):
        return s


def _int(v: Any) -> int | None:
    if type(v) is int:
        return v
    if isinstance(v, str) and v.isdigit():
        return int(v)
    if type(v) is float:
        return int(v)
    return None


def norm_kind(v: Any) -> str:
    if type(v) is int:
        return _KINDS.get(v, "")
    if isinstance(v, str):
        s = v.lower()
        for prefix in ("span_kind_", "spankind."):
            if s.startswith(prefix):
                s = s[len(prefix) :]
        return "" if s == "unspecified" else s
    return ""


def is_error_status(code: Any) -> bool:
    if type(code) is int:
        return code == 2
    return isinstance(code, str) and code.upper() in ("ERROR", "STATUS_CODE_ERROR")


def any_value(v: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain value."""
    if not isinstance(v, Mapping):
        return v
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return _int(v["intValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values", ()) or ()]
    if "kvlistValue" in v:
        return otlp_attrs((v["kvlistValue"] or {}).get("values", ()))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def otlp_attrs(items: Any) -> dict[str, Any]:
    """OTLP ``[{key, value: AnyValue}]`` as a dict."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for kv in items:
            if isinstance(kv, Mapping) and isinstance(kv.get("key"), str):
                out[kv["key"]] = any_value(kv.get("value"))
    return out


def otlp_spans(doc: Mapping[str, Any]) -> Iterator[Span]:
    """Spans of one OTLP ``TracesData`` object (current or old Tempo shape)."""
    for rs in doc.get("resourceSpans") or doc.get("batches") or ():
        if not isinstance(rs, Mapping):
            continue
        resource = otlp_attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or ():
            if not isinstance(ss, Mapping):
                continue
            for sp in ss.get("spans") or ():
                if not isinstance(sp, Mapping):
                    continue
                status = sp.get("status") or {}
                events = [
                    (str(e.get("name", "")), _int(e.get("timeUnixNano")),
                     otlp_attrs(e.get("attributes")))
                    for e in sp.get("events") or () if isinstance(e, Mapping)
                ]
                if not isinstance(status, Mapping):
                    status = {}
                yield Span(
                    trace_id=norm_id(sp.get("traceId")), span_id=norm_id(sp.get("spanId")),
                    name=str(sp.get("name", "")), kind=norm_kind(sp.get("kind")),
                    start_ns=_int(sp.get("startTimeUnixNano")),
                    end_ns=_int(sp.get("endTimeUnixNano")),
                    error=is_error_status(status.get("code")),
                    status_message=str(status.get("message") or ""),
                    attrs=otlp_attrs(sp.get("attributes")), resource=resource, events=events,
                )


def console_span(doc: Mapping[str, Any]) -> Span | None:
    """A span from one ConsoleSpanExporter object, or None if it is not one."""
    ctx = doc.get("context")
    if not isinstance(ctx, Mapping) or "name" not in doc:
        return None
    status = doc.get("status") or {}
    res = doc.get("resource") or {}
    attrs = doc.get("attributes") or {}
    events = []
    for e in doc.get("events") or ():
        if isinstance(e, Mapping):
            ts = e.get("timestamp")
            t = parse_iso_ns(ts) if isinstance(ts, str) else None
            events.append((str(e.get("name", "")), t, dict(e.get("attributes") or {})))
    start, end = doc.get("start_time"), doc.get("end_time")
    return Span(
        trace_id=norm_id(ctx.get("trace_id")), span_id=norm_id(ctx.get("span_id")),
        name=str(doc.get("name", "")), kind=norm_kind(doc.get("kind")),
        start_ns=parse_iso_ns(start) if isinstance(start, str) else None,
        end_ns=parse_iso_ns(end) if isinstance(end, str) else None,
        error=is_error_status(status.get("status_code")) if isinstance(status, Mapping) else False,
        status_message=str(status.get("description") or "") if isinstance(status, Mapping) else "",
        attrs=dict(attrs) if isinstance(attrs, Mapping) else {},
        resource=dict(res.get("attributes") or {}) if isinstance(res, Mapping) else {},
        events=events,
    )


def _exception_text(span: Span) -> str | None:
    for name, _t, attrs in span.events:
        if name == "exception":
            typ, msg = attrs.get("exception.type"), attrs.get("exception.message")
            if typ and msg:
                return f"{typ}: {msg}"
            if typ or msg:
                return str(typ or msg)
    return None


def span_events(span: Span, source: str, line: int) -> list[LogEvent]:
    """The LogEvents one span stands for (empty for spans with no role we track)."""
    op = span.attrs.get("gen_ai.operation.name")
    is_server = span.kind == "server"
    is_run = op in RUN_OPERATIONS or (not is_server and bool(RUN_SPAN_NAMES.search(span.name)))
    is_create = op in CREATE_OPERATIONS
    is_tool = not is_run and not is_server and not is_create and (
        op in TOOL_OPERATIONS
        or (span.kind in ("client", "internal", "") and bool(TOOL_SPAN_NAMES.search(span.name))))
    error: str | None = None
    if span.error:
        error = span.status_message or _exception_text(span) or f"span {span.name} failed"
    http_status = _int(span.attr(STATUS_KEYS))
    # service.instance.id names the process (OTel resource semantics), not an agent object.
    # An agent span with no id of its own (AutoGen's gen_ai spans name the agent only) is
    # keyed by its name in that process: one object when the process created it once, and
    # the analysis's coarse-id guard drops the claim when the process created one per request.
    instance = span.attr(INSTANCE_KEYS)
    inferred = False
    if instance is None:
        agent = span.attr(("gen_ai.agent.name",))
        where = span.resource.get("service.instance.id") or span.attr(("process.pid",))
        if agent and where:
            instance, inferred = f"{agent}@{where}", True
    session = span.attr(SESSION_KEYS)
    host = span.attr(HOST_KEYS)
    pid = span.attr(("process.pid",))
    duration = (span.end_ns - span.start_ns) / 1e6 \
        if span.start_ns is not None and span.end_ns is not None else None
    text = f"span {span.name} trace={span.trace_id} span={span.span_id}"
    common: dict[str, Any] = {
        "source": source, "line": line, "host": _s(host), "pid": _s(pid),
        "instance": _s(instance), "session": _s(session), "text": text,
    }
    out: list[LogEvent] = []

    def ev(kind: EventKind, t: int | None, **kw: Any) -> None:
        if inferred:  # the analysis asks for a creation before it calls this one object
            kw["fields"] = {**(kw.get("fields") or {}), "instance_from": INFERRED_INSTANCE}
        out.append(LogEvent(time_ns=t, message=span.name, kind=kind, **common, **kw))

    req = _request_id(span.attr(REQUEST_ID_KEYS), common["host"], common["pid"]) \
        or span.trace_id or None
    if is_server:
        status = http_status or (500 if span.error else None)
        ev(EventKind.REQUEST_START, span.start_ns, request=req)
        ev(EventKind.REQUEST_END, span.end_ns, request=req, status=status, duration_ms=duration,
           error=error, level=ERROR if error else INFO)
    if is_run:
        run = _s(span.attr(RUN_ID_KEYS)) or span.span_id or None
        ev(EventKind.RUN_START, span.start_ns, request=req, run=run)
        ev(EventKind.RUN_END, span.end_ns, request=req, run=run, duration_ms=duration,
           error=error, level=ERROR if error else INFO)
    if is_create:
        ev(EventKind.CREATED, span.start_ns, request=req)
    if is_tool:
        tool = _s(span.attr(TOOL_KEYS)) or span.name
        ev(EventKind.TOOL_CALL, span.start_ns, request=req, fields={"phase": "start", "tool": tool})
        ev(EventKind.TOOL_CALL, span.end_ns, request=req, duration_ms=duration, error=error,
           fields={"phase": "end", "tool": tool}, level=ERROR if error else INFO)
    if not out and error:
        ev(EventKind.ERROR, span.end_ns, request=req, error=error, level=ERROR)
    user, own_req = _s(span.attr(USER_KEYS)), _s(span.attr(REQUEST_ID_KEYS))
    if not out and span.trace_id and (user or own_req):
        # only spans that said nothing else (an endpoint's or a tool's internal span): a
        # request, run or tool span already is an event of its own, shown once
        # the identities this span names, keyed by its trace (the request it really ran in)
        named = {k: v for k, v in (("user", user), ("span_request_id", own_req)) if v}
        out.append(LogEvent(time_ns=span.start_ns, message=span.name, kind=EventKind.OTHER,
                            **{**common, "instance": None, "session": None},
                            request=f"trace:{span.trace_id}", fields=named))
    return out


def _request_id(value: Any, host: str | None, pid: str | None) -> str | None:
    """A request id attribute, made unique per process the way log lines' ids are
    (``probes.ingest.lineformats``): per-process counters become ``host/pid/id``."""
    if isinstance(value, list):
        value = value[0] if value else None
    text = _s(value)
    if text and (host or pid) and len(text) < 16:
        return f"{host or '-'}/{pid or '-'}/{text}"
    return text


def _s(v: Any) -> str | None:
    if v is None or v == "":
        return None
    return v if isinstance(v, str) else str(v)


def otlp_log_events(doc: Mapping[str, Any], source: str, line: int) -> list[LogEvent]:
    """LogEvents from an OTLP ``LogsData`` object (``resourceLogs``)."""
    paths = role_paths({})
    out: list[LogEvent] = []
    for rl in doc.get("resourceLogs") or ():
        if not isinstance(rl, Mapping):
            continue
        resource = otlp_attrs((rl.get("resource") or {}).get("attributes"))
        for sl in rl.get("scopeLogs") or rl.get("instrumentationLibraryLogs") or ():
            if not isinstance(sl, Mapping):
                continue
            for rec in sl.get("logRecords") or ():
                if not isinstance(rec, Mapping):
                    continue
                merged = {**resource, **otlp_attrs(rec.get("attributes"))}
                vals, level_key = values_from_dict(merged, paths)
                body = any_value(rec.get("body"))
                vals[2] = body if isinstance(body, str) else (json.dumps(body) if body else "")
                t = _int(rec.get("timeUnixNano")) or _int(rec.get("observedTimeUnixNano"))
                vals[0] = None
                sev = _int(rec.get("severityNumber"))
                if sev:
                    vals[1] = next((lv for top, lv in _SEVERITY if sev <= top), FATAL)
                elif isinstance(rec.get("severityText"), str):
                    vals[1] = rec["severityText"]
                if rec.get("traceId"):
                    vals[8] = norm_id(rec.get("traceId"))
                if vals[5] is None:
                    vals[5] = resource.get("host.name") or resource.get("k8s.pod.name")
                out.append(assemble(vals, level_key, source, line, vals[2], t, None))
    return out


def trace_object_events(doc: Any, source: str, line: int) -> list[LogEvent] | None:
    """Events of one decoded trace object (OTLP ``TracesData``/``LogsData`` or a
    ConsoleSpanExporter span); None when the object is neither."""
    if not isinstance(doc, dict):
        return None
    if "resourceLogs" in doc:
        return otlp_log_events(doc, source, line)
    if "resourceSpans" in doc or "batches" in doc:
        out: list[LogEvent] = []
        for span in otlp_spans(doc):
            out.extend(span_events(span, source, line))
        return out
    if "resourceMetrics" in doc:
        return []
    console = console_span(doc)
    if console is None:
        return None
    return span_events(console, source, line)


_WS = re.compile(r"\s*")
CHUNK_CHARS = 64 * 1024


def console_objects(stream: BinaryIO, cap: int, on_skip: Callable[[str], None],
                    on_chunk: Callable[[int, int], None]) -> Iterator[tuple[int, Any]]:
    """(first line number, decoded object) for each JSON object of a concatenated-JSON
    stream. The buffer slides: at most ``cap`` characters of one object are held; an
    object that does not decode within that is skipped (counted) and reading resumes at
    the next line that starts with ``{``."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    dec = json.JSONDecoder()
    buf = ""
    pos = 0
    line_at_pos = 1  # line number of buf[pos]
    eof = False
    last_char = ""

    def more() -> bool:
        nonlocal buf, pos, eof, last_char
        chunk = text.read(CHUNK_CHARS)
        if not chunk:
            eof = True
            if last_char and last_char != "\n":
                on_chunk(1, 0)  # a last line with no newline
            return False
        on_chunk(chunk.count("\n"), len(chunk.encode("utf-8", "replace")))
        last_char = chunk[-1]
        buf = buf[pos:] + chunk
        pos = 0
        return True

    while True:
        m = _WS.match(buf, pos)
        end_ws = m.end() if m else pos
        line_at_pos += buf.count("\n", pos, end_ws)
        pos = end_ws
        if pos >= len(buf):
            if eof or not more():
                return
            continue
        try:
            obj, end = dec.raw_decode(buf, pos)
            if obj_too_deep(obj):
                raise RecursionError
        except RecursionError:
            on_skip(DEEP_REASON)
            nxt = buf.find("\n{", pos + 1)
            if nxt == -1:
                return
            line_at_pos += buf.count("\n", pos, nxt + 1)
            pos = nxt + 1
            continue
        except json.JSONDecodeError as exc:
            # An error at the end of the buffer (or an unterminated string) may only mean
            # the object continues in the next chunk; one inside the buffer is real.
            truncated = exc.pos >= len(buf) or exc.msg.startswith("Unterminated string")
            if truncated and not eof and len(buf) - pos < cap:
                more()
                continue
            on_skip("malformed JSON object")
            nxt = buf.find("\n{", pos + 1)
            while nxt == -1 and not eof:
                keep = max(pos, len(buf) - 1)  # keep a final "\n" so "\n{" across chunks is seen
                line_at_pos += buf.count("\n", pos, keep)
                pos = keep
                more()
                nxt = buf.find("\n{", pos)
            if nxt == -1:
                return
            line_at_pos += buf.count("\n", pos, nxt + 1)
            pos = nxt + 1
            continue
        yield line_at_pos, obj
        line_at_pos += buf.count("\n", pos, end)
        pos = end
