"""Lines that real servers and runtimes print in their own fixed shapes.

A structured logger names its fields; nginx, Apache, uvicorn, gunicorn, Envoy and
PostgreSQL do not: their lines have a fixed layout, and the lines that matter most at
3 a.m. (a V8 heap fatal, a kernel OOM kill, a gunicorn worker timeout, a pip resolver
conflict) carry no level word at all. Read as plain text they were ``OTHER`` events and
the analysis never saw them. Two tables fix that.

``parse_shape``: whole-line layouts, tried by first character and a substring guard:

==========================  ===========================================================
layout                      event
==========================  ===========================================================
combined / common (nginx,   REQUEST_END: status, duration ($request_time, Apache %D,
Apache, gunicorn, Traefik)  Traefik's ``Nms``), method/path, ``fields.access``
uvicorn access              REQUEST_END, ``access=uvicorn`` (also behind a logger's prefix)
morgan dev / tiny / short   REQUEST_END with status and duration, ``access=morgan``
Envoy / Istio default       REQUEST_END with duration and x-request-id; code 0 = no response
nginx error log             ERROR (error+): the error text, client/request/upstream fields
Apache error log            ERROR: mod_proxy's AH01102 timeouts etc., ``access=apache``
gunicorn ``[t] [pid] [L]``  its level and pid; uvicorn access lines behind it
PostgreSQL ``t Z [pid]``    its level (ERROR/FATAL), backend pid, ``fields.postgres``
V8 GC trace line            ``fields.heap_mb``/``gc_pause_ms``; WARN when near the limit
proxy error page (HTML)     REQUEST_END 502/503/504 ``access=proxy`` (lineformats)
==========================  ===========================================================

``MARKS``: phrases that give an otherwise plain line a level, an error text, the pid it
names and a tag, ``fields["fatal"]`` (heap_oom, kernel_oom, memory_error, oomkilled,
worker_timeout, worker_killed, worker_exit, worker_died, worker_boot) or
``fields["resolver"]`` (pip, npm, poetry, uv). An exception line with no level word
(``ValueError: bad``) is an error; an httpx request log gives ``fields.upstream_status``.

Everything here runs on the text path only (a JSON line never reaches it, except
``mark_structured`` on warn+ JSON lines), behind substring guards, on at most
``MAX_SHAPE_LINE`` / ``MARK_SPAN`` characters, with anchored or linear patterns;
nothing raises.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from probes.events import ERROR, FATAL, INFO, WARN, EventKind, LogEvent
from probes.evidence import parse_iso_ns
from probes.ingest import roles as R
from probes.ingest.kinds import classify

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

# ---------------------------------------------------------------- whole-line layouts

# nginx/Apache "combined" and "common" (also gunicorn's default access format and
# Traefik's CLF): host ident user [time] "request" status bytes ["referer" "agent"] tail
_CLF = re.compile(
    r'(\S+) (\S+) (\S+(?: \S+)?) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d(?: [+-]\d{4})?)\] '
    r'"([A-Z]+) (\S+)(?: (HTTP/[\d.]+))?" (\d{3}) (\d+|-)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)')
# Traefik CLF tail: <count> "<router>" "<server url>" <duration>ms
_TRAEFIK_TAIL = re.compile(r'\s*(\d+) "([^"]*)" "([^"]*)" (\d+)ms\s*$')
_TAIL_KV = re.compile(r'(\w+)=("[^"]*"|\S+)')
# uvicorn: INFO:     127.0.0.1:54321 - "POST /chat HTTP/1.1" 500 Internal Server Error
# (matched from the client token on, found by the ' - "' that follows it)
_UVICORN = re.compile(
    r'(\S+) - "([A-Z]+) (\S+) (HTTP/[\d.]+)" (\d{3})(?: ([A-Za-z][\w \'-]*))?\s*$')
# morgan (express's request logger): dev "POST /chat 200 52.345 ms - 54", tiny
# "POST /chat 200 54 - 52.345 ms", short "::1 - POST /chat HTTP/1.1 200 54 - 52.345 ms";
# a response that never finished prints "-" for the status and time
_MORGAN = re.compile(
    r'(?:(\S+) (?:\S+ )?- )?(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*)(?: HTTP/[\d.]+)? '
    r'(\d{3}|-) (?:(\d+(?:\.\d+)?|-) ms - (\d+|-)|(\d+|-) - (\d+(?:\.\d+)?|-) ms)\s*$')
# a path that names a session: a 404 there is a session the serving process does not know
_SESSION_PATH = re.compile(
    r"[?&](?:session_?id|sessionId|thread_?id|threadId|conversation_?id|conversationId)=[^&\s]"
    r"|/(?:sessions?|threads?|conversations?|chats?)/[^/?\s]", re.IGNORECASE)
# Envoy's default format: [start] "METHOD PATH PROTO" code flags rx tx duration upstream-time
# "xff" "ua" "x-request-id" "authority" "upstream host"
# (Istio's default inserts %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
# "%UPSTREAM_TRANSPORT_FAILURE_REASON%" after the flags; code 0 = no response was sent)
_ENVOY = re.compile(
    r'\[(\d{4}-\d\d-\d\dT[\d:.]+Z?)\] "([A-Z]+) (\S+) (\S+)" (\d{1,3}) (\S+)'
    r'(?: \S+ \S+ "[^"]*")? (\d+) (\d+) (\d+) (\S+)'
    r'(?: "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)")?')
# nginx error log: 2024/05/01 12:00:00 [error] 12#12: *1 message, client: ..., request: "..."
_NGINX_ERR = re.compile(
    r"(?:(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) )?\[(debug|info|notice|warn|error|crit|alert|emerg)\] "
    r"(\d+)#(\d+): (?:\*(\d+) )?(.*)")
_NGINX_CTX = re.compile(r', (client|server|request|upstream|host|referrer): ("[^"]*"|[^,]*)')
# gunicorn: [2024-05-01 12:00:00 +0000] [7] [INFO] text (old releases: no brackets on time)
_GUNICORN = re.compile(
    r"\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?[+-]\d{4})?)\]? \[(\d+)\] "
    r"\[([A-Z]+)\] (.*)")
_LEAD_TIME = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)")
# PostgreSQL's stderr log (log_line_prefix '%m [%p] %q%u@%d '):
# 2026-12-06 15:54:54.944 UTC [9119] postgres@shop ERROR:  duplicate key value ...
_POSTGRES = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([A-Z]{2,5}|[+-]\d\d(?::?\d\d)?))? "
    r"\[(\d+)\] (?:(\S*@\S*) )?(LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG[1-5]?|DETAIL|"
    r"HINT|STATEMENT|CONTEXT|LOCATION|QUERY):  (.*)")
_POSTGRES_LEVELS = {"LOG": INFO, "ERROR": ERROR, "FATAL": FATAL, "PANIC": FATAL,
                    "WARNING": WARN, "NOTICE": INFO, "INFO": INFO}
# httpx/openai client log: HTTP Request: POST http://host/v1/chat/completions "HTTP/1.1 429 ..."
_HTTPX = re.compile(r'HTTP Request: ([A-Z]+) (\S+) "HTTP/[\d.]+ (\d{3})(?: ([^"]*))?"')
# A proxy's error page pasted or printed by a client (nginx, HAProxy: "504 Gateway Time-out")
_PROXY_PAGE = re.compile(
    r"\s*(502|503|504) (Bad Gateway|Service (?:Temporarily )?Unavailable|Gateway Time-?out)\s*",
    re.IGNORECASE)
# V8's GC trace line (--trace-gc, or the "Last few GCs" before a heap OOM):
# [1:0x79bf12627690] 240600620 ms: Mark-Compact 4012.3 (4129.4) -> 3996.3 (4129.1) MB, 3206.37 / ...
_V8_GC_LINE = re.compile(
    r"\[(\d+):(?:0x)?[0-9A-Fa-f]+\]\s+(\d+) ms: ([A-Za-z-]+(?: \([a-z ]+\))?) "
    r"([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) / ")
GC_PAUSE_WARN_MS = 1000.0
"""A single GC pause this long, or V8's own "scavenge might not succeed", is the heap
near its limit: the line is a warning."""
# Apache httpd 2.4 error log:
# [Fri Jan 28 14:18:33.838658 2022] [proxy_http:error] [pid 119] (70007)The timeout specified
# has expired: [client 10.6.0.2:52924] AH01102: error reading status line from remote server ...
_APACHE_ERR = re.compile(
    r"\[\w{3} (\w{3}) +(\d{1,2}) (\d\d:\d\d:\d\d(?:\.\d+)?) (\d{4})\] \[(?:(\w+):)?(\w+)\] "
    r"\[pid (\d+)(?::tid \d+)?\] (.*)")
_APACHE_CLIENT = re.compile(r"\[client ([^\]]{1,100})\] ")
_APACHE_LEVELS = {"trace": 10, "debug": 20, "info": INFO, "notice": INFO, "warn": WARN,
                  "error": ERROR, "crit": FATAL, "alert": FATAL, "emerg": FATAL}
_NGINX_LEVELS = {"debug": 20, "info": INFO, "notice": INFO, "warn": WARN, "error": ERROR,
                 "crit": FATAL, "alert": FATAL, "emerg": FATAL}


_last_clf: list[tuple[str, int | None]] = [("", None)]


def _clf_time(s: str) -> int | None:
    """``01/May/2024:12:00:00 +0000`` -> UTC ns (None when malformed). Access lines come
    many to a second: the last answer is kept."""
    last = _last_clf[0]
    if last[0] == s:
        return last[1]
    t = _clf_time_parse(s)
    _last_clf[0] = (s, t)
    return t


def _clf_time_parse(s: str) -> int | None:
    mon = _MONTHS.get(s[3:6])
    if mon is None:
        return None
    iso = f"{s[7:11]}-{mon:02d}-{s[0:2]}T{s[12:20]}"
    if len(s) > 21:
        iso += f"{s[21:24]}:{s[24:26]}"
    return parse_iso_ns(iso)


def _status_level(status: int) -> int:
    return ERROR if status >= 500 else (WARN if status >= 400 else INFO)


_REASONS = {int(st): f"{int(st)} {st.phrase}" for st in HTTPStatus}


def _reason(status: int) -> str:
    return _REASONS.get(status) or str(status)


def _seconds_ms(v: str) -> float | None:
    """An nginx time in seconds (``0.123``, or ``0.1, 0.2`` for retried upstreams: the
    sum) in ms; None for ``-``."""
    if v[:1].isdigit():
        try:
            return round(float(v) * 1000, 3)
        except ValueError:
            pass
    total = 0.0
    seen = False
    for part in v.strip('"').replace(":", ",").split(","):
        part = part.strip()
        if not part or part == "-":
            continue
        try:
            total += float(part)
            seen = True
        except ValueError:
            return None
    return round(total * 1000, 3) if seen else None


class ShapeState:
    """Per-source memory of what the shapes saw: the access-log flavour is named by
    the source (``apache``/``httpd``/``access_log`` -> apache, ``gunicorn`` ->
    gunicorn, ``traefik``, ``envoy``), or by gunicorn or Apache error lines earlier in
    the same input; the combined format alone cannot tell nginx from Apache, and nginx
    is the default."""

    __slots__ = ("apache_seen", "flavour", "gunicorn_seen", "too_long")

    def __init__(self, source: str) -> None:
        low = source.lower()
        self.flavour = "nginx"
        for word, name in (("apache", "apache"), ("httpd", "apache"), ("access_log", "apache"),
                           ("gunicorn", "gunicorn"), ("traefik", "traefik"),
                           ("envoy", "envoy")):
            if word in low:
                self.flavour = name
                break
        self.gunicorn_seen = False
        self.apache_seen = False
        self.too_long = 0  # lines longer than MAX_SHAPE_LINE, read as plain text


MAX_SHAPE_LINE = 16 * 1024
"""Access and error lines are short; a longer line is not tried against the layouts
(their regexes stay linear-time on what they see) and is counted."""
MARK_SPAN = 4096
"""The phrases of ``MARKS`` are looked for in a line's first this many characters."""


def _event(source: str, line_no: int, text: str, *, time_ns: int | None, level: int | None,
           message: str, kind: EventKind, host: str | None, pid: str | None = None,
           request: str | None = None, error: str | None = None, status: int | None = None,
           duration: float | None = None, fields: dict[str, Any] | None = None) -> LogEvent:
    return LogEvent(time_ns, source, line_no, level, message, kind, host, pid, None, None,
                    request, None, error, status, duration, fields, text)


def _access_event(source: str, line_no: int, text: str, wrap_time: int | None,
                  wrap_host: str | None, *, flavour: str, t: int | None, method: str,
                  path: str, status: int, duration: float | None,
                  fields: dict[str, Any], pid: str | None = None,
                  request: str | None = None, level: int | None = None) -> LogEvent:
    fields["access"] = flavour
    fields["method"] = method
    fields["path"] = path[:R.MAX_ERROR_TEXT]
    error = f"HTTP {_reason(status)}" if status >= 500 else None
    if status == 404 and _SESSION_PATH.search(path):
        error = "HTTP 404 Not Found: 404 on a session path"
        level = ERROR if level is None else level  # the session's caller got no answer
    return _event(source, line_no, text, time_ns=t if t is not None else wrap_time,
                  level=level if level is not None else _status_level(status),
                  message=f"{method} {path[:R.MAX_ERROR_TEXT]} {status}",
                  kind=EventKind.REQUEST_END, host=wrap_host, pid=pid, request=request,
                  error=error, status=status, duration=duration, fields=fields)


def _clf(m: re.Match[str], state: ShapeState, source: str, line_no: int, text: str,
         wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    (client, _ident, user, ts, method, path, _proto, status_s, size, referer, agent,
     tail) = m.groups()
    status = int(status_s)
    flavour = state.flavour
    if flavour == "nginx":  # the default: another server's own lines earlier say otherwise
        if state.gunicorn_seen:
            flavour = "gunicorn"
        elif state.apache_seen:
            flavour = "apache"
    fields: dict[str, Any] = {}
    if " " in user:  # Apache vhost_combined: "%v:%p %h %l %u"
        fields["vhost"] = client
        client, user = _ident, user.split(" ", 1)[1]
    fields["client"] = client
    if user != "-":
        fields["user"] = user
    if size != "-":
        fields["bytes"] = int(size)
    duration: float | None = None
    tail = tail.strip() if tail else ""
    if tail:
        tm = _TRAEFIK_TAIL.search(tail)
        if tm is not None:
            flavour = "traefik"
            duration = float(tm.group(4))
            fields["router"] = tm.group(2)
            fields["upstream"] = tm.group(3)
        elif "=" in tail:
            kv = {k: v.strip('"') for k, v in _TAIL_KV.findall(tail)}
            rt = kv.get("rt") or kv.get("request_time")
            if rt:
                duration = _seconds_ms(rt)
            urt = kv.get("urt") or kv.get("upstream_response_time")
            if urt:
                up = _seconds_ms(urt)
                if up is not None:
                    fields["upstream_ms"] = up
        else:
            nums = [p for p in tail.replace('"', " ").split() if p != "-"]
            if nums:
                first = nums[0]
                if "." in first:  # nginx $request_time [$upstream_response_time], seconds
                    duration = _seconds_ms(first)
                    if len(nums) > 1 and "." in nums[1]:
                        up = _seconds_ms(nums[1])
                        if up is not None:
                            fields["upstream_ms"] = up
                elif first.isdigit() and flavour == "apache":  # Apache %D, microseconds
                    duration = int(first) / 1000.0
    if referer and referer != "-":
        fields["referer"] = referer[:200]
    if agent and agent != "-":
        fields["agent"] = agent[:200]
    return _access_event(source, line_no, text, wrap_time, wrap_host, flavour=flavour,
                         t=_clf_time(ts), method=method, path=path, status=status,
                         duration=duration, fields=fields)


def _uvicorn_match(text: str) -> re.Match[str] | None:
    """The uvicorn access part of a line: the token before the first ``' - "'`` is the
    client; only that position is tried (a search would be quadratic on long lines)."""
    i = text.find(' - "')
    if i <= 0:
        return None
    start = text.rfind(" ", 0, i) + 1
    return _UVICORN.match(text, start)


def _uvicorn(m: re.Match[str], source: str, line_no: int, text: str, t: int | None,
             host: str | None, pid: str | None, flavour: str = "uvicorn") -> LogEvent:
    client, method, path, _proto, status_s, _phrase = m.groups()
    status = int(status_s)
    return _access_event(source, line_no, text, t, host, flavour=flavour, t=t, method=method,
                         path=path, status=status, duration=None, fields={"client": client},
                         pid=pid)


def _morgan(m: re.Match[str], source: str, line_no: int, text: str, wrap_time: int | None,
            wrap_host: str | None) -> LogEvent:
    client, method, path, status_s, dev_ms, _dev_len, _tiny_len, tiny_ms = m.groups()
    ms = dev_ms if dev_ms is not None else tiny_ms
    fields: dict[str, Any] = {"client": client} if client else {}
    if status_s == "-":  # the client went away before the response was written
        return _event(source, line_no, text, time_ns=wrap_time, level=WARN,
                      message=f"{method} {path[:R.MAX_ERROR_TEXT]} no response",
                      kind=EventKind.REQUEST_END, host=wrap_host, pid=None,
                      error="no response written", status=None, duration=None,
                      fields={**fields, "access": "morgan", "method": method,
                              "path": path[:R.MAX_ERROR_TEXT]})
    return _access_event(source, line_no, text, wrap_time, wrap_host, flavour="morgan",
                         t=None, method=method, path=path, status=int(status_s),
                         duration=float(ms) if ms and ms != "-" else None, fields=fields)


def _envoy(m: re.Match[str], source: str, line_no: int, text: str, wrap_time: int | None,
           wrap_host: str | None) -> LogEvent:
    g = m.groups()
    status = int(g[4])
    fields: dict[str, Any] = {}
    if g[5] != "-":
        fields["flags"] = g[5]
    if g[9].isdigit():  # x-envoy-upstream-service-time, ms ("-" when none)
        fields["upstream_ms"] = float(g[9])
    request = None
    if g[10] is not None:
        if g[12] and g[12] != "-":
            request = g[12]
        if g[14] and g[14] != "-":
            fields["upstream"] = g[14]
    if status < 100:  # 0: the client went away or no upstream answered; not an HTTP status
        fields.update(access="envoy", method=g[1], path=g[2][:R.MAX_ERROR_TEXT],
                      no_response=True)
        return _event(source, line_no, text, time_ns=parse_iso_ns(g[0]) or wrap_time,
                      level=WARN, message=f"{g[1]} {g[2][:R.MAX_ERROR_TEXT]} no response",
                      kind=EventKind.REQUEST_END, host=wrap_host, request=request,
                      duration=float(g[8]), fields=fields)
    return _access_event(source, line_no, text, wrap_time, wrap_host, flavour="envoy",
                         t=parse_iso_ns(g[0]), method=g[1], path=g[2], status=status,
                         duration=float(g[8]), fields=fields, request=request)


def _nginx_error(m: re.Match[str], source: str, line_no: int, text: str,
                 wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    ts, lvl, pid, _tid, conn, rest = m.groups()
    level = _NGINX_LEVELS.get(lvl.lower(), INFO)
    fields: dict[str, Any] = {"access": "nginx"}
    if conn:
        fields["connection"] = conn
    cut = rest.find(", client: ")
    what = rest if cut == -1 else rest[:cut]
    if cut != -1:
        for k, v in _NGINX_CTX.findall(rest[cut:]):
            fields[k] = v.strip('"')[:200]
    req = fields.get("request")
    if isinstance(req, str) and " " in req:
        method, _, more = req.partition(" ")
        fields["method"] = method
        fields["path"] = more.rsplit(" ", 1)[0] if " HTTP/" in more else more
    t = parse_iso_ns(ts.replace("/", "-")) if ts else None
    error = what[:R.MAX_ERROR_TEXT] if level >= ERROR else None
    kind = EventKind.ERROR if level >= ERROR else EventKind.OTHER
    return _event(source, line_no, text, time_ns=t if t is not None else wrap_time, level=level,
                  message=rest[:R.MAX_ERROR_TEXT * 4], kind=kind, host=wrap_host, pid=pid,
                  error=error, fields=fields)


def _apache_error(m: re.Match[str], state: ShapeState, source: str, line_no: int, text: str,
                  wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    mon, day, clock, year, module, word, pid, rest = m.groups()
    state.apache_seen = True
    month = _MONTHS.get(mon)
    t = parse_iso_ns(f"{year}-{month:02d}-{int(day):02d}T{clock}") if month else None
    level = _APACHE_LEVELS.get(word.rstrip("0123456789"), INFO)
    fields: dict[str, Any] = {"access": "apache"}
    if module:
        fields["module"] = module
    cm = _APACHE_CLIENT.search(rest)
    if cm is not None:
        fields["client"] = cm.group(1)
        rest = rest[: cm.start()] + rest[cm.end() :]
    cut = rest.find(", referer: ")
    what = rest if cut == -1 else rest[:cut]
    kind = EventKind.ERROR if level >= ERROR else EventKind.OTHER
    return _event(source, line_no, text, time_ns=t if t is not None else wrap_time, level=level,
                  message=rest[: R.MAX_ERROR_TEXT * 4], kind=kind, host=wrap_host, pid=pid,
                  error=what[: R.MAX_ERROR_TEXT] if kind is EventKind.ERROR else None,
                  fields=fields)


def _postgres(m: re.Match[str], source: str, line_no: int, text: str,
              wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    ts, zone, pid, who, word, rest = m.groups()
    t = parse_iso_ns(f"{ts}{zone}" if zone and zone[0] in "+-" else ts)  # "UTC" and other
    # zone names: taken as UTC (a name is not an offset)
    level = _POSTGRES_LEVELS.get(word, 20 if word.startswith("DEBUG") else None)
    fields: dict[str, Any] = {"postgres": word}
    if who and who != "@":
        fields["db_user"] = who[:200]
    kind = EventKind.ERROR if level is not None and level >= ERROR else EventKind.OTHER
    return _event(source, line_no, text, time_ns=t if t is not None else wrap_time,
                  level=level, message=rest[: R.MAX_ERROR_TEXT * 4], kind=kind, host=wrap_host,
                  pid=pid, error=rest[: R.MAX_ERROR_TEXT] if kind is EventKind.ERROR else None,
                  fields=fields)


def _v8_gc(m: re.Match[str], source: str, line_no: int, text: str, wrap_time: int | None,
           wrap_host: str | None) -> LogEvent:
    pid, _uptime, what, before, _bcap, after, cap, pause = m.groups()
    fields: dict[str, Any] = {"v8_gc": what, "heap_mb": float(after),
                              "heap_before_mb": float(before), "heap_committed_mb": float(cap),
                              "gc_pause_ms": float(pause)}
    near = "might not succeed" in text or float(pause) >= GC_PAUSE_WARN_MS
    return _event(source, line_no, text, time_ns=wrap_time, level=WARN if near else None,
                  message=text.strip()[: R.MAX_ERROR_TEXT], kind=EventKind.OTHER,
                  host=wrap_host, pid=pid, fields=fields)


def proxy_page(text: str, source: str, line_no: int, wrap_time: int | None,
               wrap_host: str | None) -> LogEvent | None:
    """A proxy's error page (its HTML already reduced to text): the request ended there."""
    m = _PROXY_PAGE.fullmatch(text)
    if m is None:
        return None
    status = int(m.group(1))
    return _event(source, line_no, text, time_ns=wrap_time, level=ERROR,
                  message=text.strip(), kind=EventKind.REQUEST_END, host=wrap_host,
                  error=f"HTTP {text.strip()}", status=status,
                  fields={"access": "proxy", "proxy_page": True})


def _gunicorn(m: re.Match[str], state: ShapeState, source: str, line_no: int, text: str,
              wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    ts, pid, lvl, rest = m.groups()
    state.gunicorn_seen = True
    t = parse_iso_ns(ts)
    if t is None:
        t = wrap_time
    if 'HTTP/' in rest:  # uvicorn workers under gunicorn: their access lines, gunicorn's prefix
        um = _uvicorn_match(rest)
        if um is not None:
            return _uvicorn(um, source, line_no, text, t, wrap_host, pid)
    level = R.LEVEL_NAMES.get(lvl.lower(), INFO)
    kind = classify(rest, None, level, None, None, None, False)
    ev = _event(source, line_no, text, time_ns=t, level=level, message=rest, kind=kind,
                host=wrap_host, pid=pid,
                error=rest[:R.MAX_ERROR_TEXT] if kind is EventKind.ERROR else None)
    mark(ev, rest)
    return ev


_TAG = re.compile(r"<[^<>]{0,200}>")


def plain_of_html(text: str) -> str:
    """A line pasted as rendered HTML (GitHub's colourised terminal output:
    ``<b>npm</b> <font color="#ED1515">error</font> ... &quot;``) as the plain text it
    shows; only called for lines that start with a tag."""
    return html.unescape(_TAG.sub("", text))


def parse_shape(text: str, state: ShapeState, source: str, line_no: int,
                wrap_time: int | None, wrap_host: str | None) -> LogEvent | None:
    """The event for a line in one of the fixed layouts above, or None."""
    if len(text) > MAX_SHAPE_LINE:
        if "HTTP/" in text[:MAX_SHAPE_LINE] or text[:1] == "[":
            state.too_long += 1
        return None
    c = text[:1]
    if c == "[":
        m = _GUNICORN.match(text)
        if m is not None:
            return _gunicorn(m, state, source, line_no, text, wrap_time, wrap_host)
        if "] [pid " in text[:160]:
            m5 = _APACHE_ERR.match(text)
            if m5 is not None:
                return _apache_error(m5, state, source, line_no, text, wrap_time, wrap_host)
        if " ms: " in text[:60]:
            m4 = _V8_GC_LINE.match(text)
            if m4 is not None:
                return _v8_gc(m4, source, line_no, text, wrap_time, wrap_host)
        if "]#" not in text and "] " in text[:9] and "#" in text[:30]:
            m3 = _NGINX_ERR.match(text)  # an nginx error line pasted without its date
            if m3 is not None:
                return _nginx_error(m3, source, line_no, text, wrap_time, wrap_host)
        if '" ' in text:
            m2 = _ENVOY.match(text)
            if m2 is not None:
                return _envoy(m2, source, line_no, text, wrap_time, wrap_host)
    if "HTTP/" in text:
        if '] "' in text:
            m = _CLF.match(text)
            if m is not None:
                return _clf(m, state, source, line_no, text, wrap_time, wrap_host)
        if '" ' in text and " - \"" in text:
            um = _uvicorn_match(text)
            if um is not None:
                lead = text[: um.start()]
                t = None
                if lead.strip():
                    tm = _LEAD_TIME.search(lead)
                    t = parse_iso_ns(tm.group(1)) if tm is not None else None
                return _uvicorn(um, source, line_no, text, t if t is not None else wrap_time,
                                wrap_host, None)
    if " ms" in text and (c == "/" or c.isupper() or c == ":" or c.isdigit()):
        mm = _MORGAN.match(text)
        if mm is not None:
            return _morgan(mm, source, line_no, text, wrap_time, wrap_host)
    if c.isdigit() and text[4:5] == "/":
        m = _NGINX_ERR.match(text)
        if m is not None:
            return _nginx_error(m, source, line_no, text, wrap_time, wrap_host)
    if c.isdigit() and text[4:5] == "-":
        if "] [" in text:
            m = _GUNICORN.match(text)
            if m is not None:
                return _gunicorn(m, state, source, line_no, text, wrap_time, wrap_host)
        if ":  " in text and "] " in text[:48]:
            m = _POSTGRES.match(text)
            if m is not None:
                return _postgres(m, source, line_no, text, wrap_time, wrap_host)
    return None


# ---------------------------------------------------------------- marks on plain lines

Mark = tuple[str, "re.Pattern[str]", int, str, str, Callable[["re.Match[str]"], str | None]]

_ANY = re.IGNORECASE


def _g1(m: re.Match[str]) -> str | None:
    return m.group(1)


def _none(_m: re.Match[str]) -> str | None:
    return None


def _kernel_pid(m: re.Match[str]) -> str | None:
    return m.group(1) or m.group(3)


MARKS: tuple[Mark, ...] = (
    # (guard substring, pattern, level, field, tag, pid-of-match)
    ("FATAL ERROR:", re.compile(r"FATAL ERROR: .*heap out of memory"), FATAL, "fatal",
     "heap_oom", _none),
    ("FATAL ERROR:", re.compile(r"FATAL ERROR: "), FATAL, "fatal", "v8_fatal", _none),
    # V8 prints its last GCs only from its out-of-memory handler: the header alone (as
    # pasted, sometimes HTML-escaped, the FATAL line cut off) says the heap ran out
    ("Last few GCs", re.compile(r"(?:<|&lt;)--- Last few GCs ---(?:>|&gt;)"), FATAL, "fatal",
     "heap_oom", _none),
    ("Killed process", re.compile(
        r"(?:Out of memory|out of memory): Kill(?:ed)? process (\d+) \(([^)]*)\)"
        r"|Killed process (\d+) \(([^)]*)\)"), FATAL, "fatal", "kernel_oom", _kernel_pid),
    ("Kill process", re.compile(r"Out of memory: Kill process (\d+) \(([^)]*)\)"), FATAL,
     "fatal", "kernel_oom", _g1),
    ("MemoryError", re.compile(r"(?:^|\s|\.)MemoryError\b"), ERROR, "fatal", "memory_error",
     _none),
    ("OOMKilled", re.compile(r"\bOOMKilled\b"), ERROR, "fatal", "oomkilled", _none),
    ("WORKER TIMEOUT", re.compile(r"WORKER TIMEOUT \(pid:\s*(\d+)\)"), FATAL, "fatal",
     "worker_timeout", _g1),
    ("SIGKILL", re.compile(r"Worker \(pid:\s*(\d+)\) was sent SIGKILL"), ERROR, "fatal",
     "worker_killed", _g1),
    ("terminated due to signal", re.compile(r"Worker with pid (\d+) was terminated due to "
                                            r"signal (?:9|15)\b"), ERROR, "fatal",
     "worker_killed", _g1),
    ("terminated due to signal", re.compile(r"Worker with pid (\d+) was terminated"), WARN,
     "fatal", "worker_exit", _g1),
    ("exited with code", re.compile(r"Worker \(pid:\s*(\d+)\) exited with code"), ERROR,
     "fatal", "worker_exit", _g1),
    ("Booting worker", re.compile(r"Booting worker with pid: (\d+)"), INFO, "fatal",
     "worker_boot", _g1),
    ("died", re.compile(r"\bworker (\d+) died\b", _ANY), ERROR, "fatal", "worker_died", _g1),
    ("exited", re.compile(r"\bworker (\d+) exited\b", _ANY), ERROR, "fatal", "worker_exit",
     _g1),
    ("exited with code", re.compile(r"App \[[^\]]*\] exited with code \[\d+\] via signal "
                                    r"\[SIG\w+\]"), ERROR, "fatal", "worker_exit", _none),
    # a failure reported in words, with no level: a Rust-backed object (PyO3: HF tokenizers)
    # borrowed by a second caller, and a client's "failed with status 500" summary
    ("borrowed", re.compile(r"\bAlready (?:mutably )?borrowed\b"), ERROR, "failure",
     "already_borrowed", _none),
    # TypeScript's compiler when two copies of one package meet (npm installed a second
    # @langchain/core): the same class from two declarations is "not derived" from itself
    ("is not a class derived from", re.compile(r"is protected but type '[^']{1,300}' is not a "
                                               r"class derived from"), ERROR, "failure",
     "ts_duplicate_package", _none),
    ("separate declarations of a private", re.compile(
        r"Types have separate declarations of a private property"), ERROR, "failure",
     "ts_duplicate_package", _none),
    # AutoGen AgentChat's tool result repr: the call failed (its content says why)
    ("is_error=True", re.compile(r"FunctionExecutionResult\(content=(['\"]).{0,2000}?\1, "
                                 r"name=.{0,300}?is_error=True"), ERROR, "failure",
     "tool_error", _none),
    # a request for a session this process does not hold (MCP gateways, SSE servers)
    ("ession", re.compile(r"\b[Ss]ession (?:[Ii][Dd] )?not found\b|[Cc]ould not find session|"
                          r"\b[Nn]o such session\b|\b[Uu]nknown session\b"), ERROR, "failure",
     "session_missing", _none),
    ("Response: 5", re.compile(r"\bResponse: 5\d\d\b"), ERROR, "failure", "http_5xx",
     _none),
    ("with status 5", re.compile(r"\bfail(?:ed|s|ure)? with status 5\d\d\b", _ANY), ERROR,
     "failure", "http_5xx", _none),
    # dependency resolvers (pasted install output)
    ("npm ERR!", re.compile(r"\bnpm ERR!"), ERROR, "resolver", "npm", _none),
    ("npm error", re.compile(r"\bnpm error\b"), ERROR, "resolver", "npm", _none),
    ("npm warn", re.compile(r"\bnpm warn\b", _ANY), WARN, "resolver", "npm", _none),
    ("which is incompatible", re.compile(r"\brequires \S.*, but you have \S+ \S+ which is "
                                         r"incompatible"), ERROR, "resolver", "pip", _none),
    ("pip's dependency resolver", re.compile(r"pip's dependency resolver"), ERROR, "resolver",
     "pip", _none),
    ("ResolutionImpossible", re.compile(r"ResolutionImpossible"), ERROR, "resolver", "pip",
     _none),
    ("conflicting dependencies", re.compile(r"conflicting dependencies"), ERROR, "resolver",
     "pip", _none),
    ("The conflict is caused by", re.compile(r"^The conflict is caused by"), ERROR,
     "resolver", "pip", _none),
    (" depends on ", re.compile(r"^\s+\S+ [\w.!+*-]+ depends on \S"), ERROR, "resolver",
     "pip", _none),
    ("The user requested", re.compile(r"^\s+The user requested \S"), ERROR, "resolver", "pip",
     _none),
    # poetry explains its failure over several lines; each names packages and ranges
    ("no versions of", re.compile(r"\bno versions of \S+ match"), ERROR, "resolver", "poetry",
     _none),
    (" depends on ", re.compile(r"\bdepends on [\w.\[\]-]+ \([<>=^~!]"), ERROR, "resolver",
     "poetry", _none),
    ("is incompatible with", re.compile(r"is incompatible with [\w.\[\]-]+ \([<>=^~!]"), ERROR,
     "resolver", "poetry", _none),
    ("No solution found when resolving", re.compile(r"No solution found when resolving"),
     ERROR, "resolver", "uv", _none),
    ("version solving failed", re.compile(r"version solving failed"), ERROR, "resolver",
     "poetry", _none),
)
MARK_GUARDS = tuple(dict.fromkeys(g for g, *_ in MARKS))
_FATAL_HINT = re.compile("|".join(re.escape(g) for g, _p, _l, field, *_ in MARKS
                                  if field == "fatal"), re.IGNORECASE)
"""One C-level scan for any fatal phrase's guard, before the per-phrase table."""

# An exception line with no level word: "ValueError: bad", "openai.RateLimitError: ...",
# "TypeError: x is not a function", "asyncio.exceptions.CancelledError".
EXCEPTION_LINE = re.compile(
    r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Failure|Fault|Timeout|Exit|Interrupt)"
    r"(?:: |:?$| \[|\(['\"])")
_EXC_GUARDS = ("Error", "Exception", "Failure", "Fault", "Timeout", "Exit", "Interrupt")


def is_exception_line(text: str) -> bool:
    """Does the line start with an exception class name (Python or JavaScript)? Leading
    blanks are allowed: pasted stacks are often indented as a whole."""
    text = text[:1024]
    if text[:1] == " ":
        text = text.lstrip()
    return text[:1].isalpha() and any(g in text for g in _EXC_GUARDS) \
        and EXCEPTION_LINE.match(text) is not None


def _outbound(ev: LogEvent, text: str) -> None:
    """An HTTP client's log of a call it made (httpx, which the OpenAI and Anthropic SDKs
    use): the upstream's status goes to ``fields["upstream_status"]``, not ``status``
    (which is the status this service answered)."""
    i = text.find("HTTP Request: ")
    m = _HTTPX.match(text[i : i + 4096])
    if m is None:
        return
    st = int(m.group(3))
    fields = {"outbound": "httpx", "method": m.group(1), "url": m.group(2)[:500],
              "upstream_status": st}
    ev.fields = {**ev.fields, **fields} if ev.fields else fields
    if st >= 400 and (ev.level is None or ev.level < WARN):
        ev.level = WARN


def marks_of(text: str) -> tuple[int, dict[str, str], str | None, int] | None:
    """(level, {"fatal"/"resolver": tag}, pid, where the phrase starts) the line's
    phrases give, or None."""
    found: tuple[int, dict[str, str], str | None, int] | None = None
    if len(text) > MARK_SPAN:
        text = text[:MARK_SPAN]
    for guard in MARK_GUARDS:
        if guard not in text:
            continue
        for g, pat, level, field, tag, pid_of in MARKS:
            if g != guard:
                continue
            m = pat.search(text)
            if m is None:
                continue
            if found is None:
                found = (level, {field: tag}, pid_of(m), m.start())
            elif field not in found[1]:
                found[1][field] = tag
            break
    return found


def mark(ev: LogEvent, text: str) -> None:
    """Raise a plain line to what its phrases say (level, error, pid, tag), in place."""
    if "HTTP Request: " in text:
        _outbound(ev, text)
    got = marks_of(text)
    exc = got is None and (ev.level is None or ev.level < ERROR) and is_exception_line(text)
    if got is None and not exc:
        return
    level, tags, pid, at = got if got is not None else (ERROR, {}, None, 0)
    if ev.level is None or ev.level < level:
        ev.level = level
    if "resolver" in tags:
        # resolver output is read whole: "pkg requires core==0.5.7, but you have..." is not
        # key=value pairs, and the analysis matches on the exact words
        ev.message = text.strip()[: R.MAX_ERROR_TEXT * 4]
        ev.error = ev.message[: R.MAX_ERROR_TEXT] if level >= ERROR else None
    elif "fatal" in tags and level >= ERROR and ev.error is None:
        ev.error = text[at:].strip()[: R.MAX_ERROR_TEXT]  # from the phrase on, not the prefix
    if tags:
        ev.fields = {**ev.fields, **tags} if ev.fields else tags
    if pid is not None:
        if ev.pid is not None and ev.pid != pid:
            ev.fields = {**(ev.fields or {}), "by_pid": ev.pid}
        ev.pid = pid
    if ev.level is not None and ev.level >= ERROR:
        if ev.error is None:
            ev.error = (ev.message or text)[:R.MAX_ERROR_TEXT]
        if ev.kind is EventKind.OTHER or ev.kind is EventKind.PROCESS_START:
            ev.kind = EventKind.ERROR
    elif tags.get("fatal") == "worker_boot" and ev.kind is EventKind.OTHER:
        ev.kind = EventKind.PROCESS_START


def mark_structured(ev: LogEvent) -> None:
    """The fatal tags for a structured (JSON/logfmt) line at warn level or above: a
    Node cluster primary logging ``worker 26074 died`` through winston names the
    worker that died, like the text line would. Called only for warn+ lines, so the
    JSON fast path does not pay for it."""
    if _FATAL_HINT.search(ev.message, 0, MARK_SPAN) is None:
        return
    got = marks_of(ev.message)
    if got is None or "fatal" not in got[1]:
        return
    level, tags, pid, _at = got
    if ev.level is None or ev.level < level:
        ev.level = level
    ev.fields = {**ev.fields, **tags} if ev.fields else tags
    if pid is not None and pid != ev.pid:
        if ev.pid is not None:
            ev.fields["by_pid"] = ev.pid
        ev.pid = pid
    if ev.level >= ERROR and ev.error is None:
        ev.error = ev.message[: R.MAX_ERROR_TEXT]
        if ev.kind is EventKind.OTHER:
            ev.kind = EventKind.ERROR
