"""Lines real services print and people paste, read as evidence (issue 9, "Reading").

Every input here is real material under tests/ingest_cases/real/ (SOURCES.md names where
each file comes from: a capture of the incident lab, or text pasted into a public
issue thread). Each test states what the analysis needs from those lines as LogEvent
fields: one ERROR event per traceback with the exception line as ``error`` and the
innermost frame in ``fields["frames"]``; access lines as REQUEST_END with status,
duration and ``fields["access"]``; fatal runtime lines with a level, the pid they name
and ``fields["fatal"]``; resolver output as error-level events with its text.
A few structural tests (interleaving, bounds, wrappers) rearrange real lines; they say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.events import ERROR, FATAL, WARN, EventKind, LogEvent
from probes.evidence import InputReport, parse_iso_ns
from probes.ingest import InputFile, read_all
from probes.ingest.blocks import MAX_BLOCK_LINES
from probes.ingest.kinds import classify, end_failed, kind_of_text

REAL = Path(__file__).parent / "ingest_cases" / "real"
K = EventKind


def read(name: str) -> tuple[list[LogEvent], InputReport]:
    return read_all(InputFile(name, REAL / name))


def read_text(tmp_path: Path, name: str, text: str) -> tuple[list[LogEvent], InputReport]:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return read_all(InputFile(name, p))


def errors(events: list[LogEvent]) -> list[LogEvent]:
    return [e for e in events if e.kind is K.ERROR]


def accounted(rep: InputReport, folded: int) -> bool:
    """Every physical line is an event (or several, when it held several JSON records),
    folded into one, or skipped with a reason."""
    extra = 0
    for n in rep.notes:
        if "held several JSON records" in n:
            extra = int(n.split("read as ")[1].split()[0]) - int(n.split()[0])
    return rep.lines_read == rep.events - extra + folded + sum(rep.skipped.values())


def folded_of(rep: InputReport) -> int:
    for n in rep.notes:
        if "joined into their error event" in n:
            return int(n.split()[0])
    return 0


# --------------------------------------------------------------------------- tracebacks

def test_uvicorn_500_traceback_is_one_error_on_its_log_line() -> None:
    """Lab capture: AutoGen AgentChat team shared across requests under uvicorn. The 500
    access line, then ``ERROR: Exception in ASGI application`` and a 60-line traceback
    ending in AutoGen's ValueError: one ERROR event on the ERROR line, not 61 OTHER lines."""
    events, rep = read("lab-uvicorn-autogen-500-traceback.log")
    (err,) = errors(events)
    assert err.line == 28 and err.level == ERROR
    assert err.message == "Exception in ASGI application"
    assert err.error == ("ValueError: The team is already running, it cannot run again until "
                         "it is stopped.")
    assert err.fields is not None
    assert err.fields["frames"].endswith("_base_group_chat.py:484 in run_stream")
    assert err.fields["block"] == "python-traceback"
    # the access line just before it answered 500 and is a request end of uvicorn's
    end = next(e for e in events if e.line == 27)
    assert (end.kind, end.status, end.fields and end.fields["access"]) == (K.REQUEST_END, 500,
                                                                           "uvicorn")
    assert end.error == "HTTP 500 Internal Server Error"
    assert [(e.message, e.session) for e in events if e.line > 28] == [("chat", "s-11"),
                                                                       ("chat", "s-14")]
    assert accounted(rep, folded_of(rep)) and folded_of(rep) == 60


def test_chained_traceback_inside_cri_wrapper() -> None:
    """Lab capture (kubelet CRI file of a uvicorn service, httpx timeout to a slow tool):
    httpcore.ReadTimeout, "The above exception was the direct cause...", httpx.ReadTimeout,
    with empty CRI lines between. One event; the final exception first."""
    events, rep = read("lab-cri-uvicorn-chained-traceback.log")
    assert rep.format == "cri+text"
    (err,) = errors(events)
    assert err.line == 40 and err.message == "Exception in ASGI application"
    assert err.error == "httpx.ReadTimeout <- httpcore.ReadTimeout"
    assert err.time_ns == parse_iso_ns("2026-12-06T15:42:26.440536499Z")
    assert err.fields is not None and err.fields["frames"].startswith(
        "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/httpx/_transports/default.py")
    statuses = [e.status for e in events if e.kind is K.REQUEST_END]
    assert statuses.count(500) == 2 and statuses.count(200) == 13
    assert accounted(rep, folded_of(rep))


def test_traceback_after_a_bracket_timestamp_uvicorn_line() -> None:
    """sgl-project/sglang#7083: uvicorn lines behind ``[2025-06-11 06:19:30]``; the
    pasted traceback is cut after its first frame (no exception line): the event keeps
    the ERROR line's text and the frame seen."""
    events, _ = read("gh-sglang-7083-uvicorn-bracket-time.log")
    end, err = events
    assert (end.kind, end.status, end.time_ns) == (K.REQUEST_END, 500,
                                                   parse_iso_ns("2025-06-11T06:19:30"))
    assert end.fields is not None and end.fields["path"] == "/v1/chat/completions"
    assert err.kind is K.ERROR and err.error == "Exception in ASGI application"
    assert err.fields is not None and err.fields["frames"].endswith("h11_impl.py:403 in run_asgi")


def test_pasted_traceback_glued_to_an_exception_repr() -> None:
    """langchain-ai/langgraph#1115 (corpus): ``TypeError('Object of type ... is not JSON
    serializable')Traceback (most recent call last):`` then frames separated by blank
    lines, cut before the exception line: the repr is the error."""
    path = Path(__file__).parent / "corpus" / \
        "langgraph-callbackmanager-not-json-serializable-1115" / "traceback.txt"
    if not path.exists():
        pytest.skip("corpus case not present")
    events, _ = read_all(InputFile("tb", path))
    (err,) = events
    assert err.kind is K.ERROR and err.line == 1
    assert err.error == ("TypeError('Object of type CallbackManagerForToolRun is not JSON "
                         "serializable')")


def test_loguru_exception_with_diagnose_annotations() -> None:
    """Captured here with loguru 0.7.3 (backtrace, diagnose): ``time | LEVEL | where -
    msg``, then a traceback with ``> File`` on the raising frame and ``│ └`` value
    annotations; one ERROR event on the logger's line."""
    events, rep = read("local-loguru-exception.log")
    assert [(e.line, e.kind, e.level) for e in events] == [
        (1, K.OTHER, 30), (2, K.OTHER, 30), (3, K.ERROR, ERROR), (21, K.OTHER, 30)]
    err = events[2]
    assert err.message == "__main__:handle:15 - tool call failed"
    assert err.error == "KeyError: 'sku-9'"
    assert err.fields is not None and err.fields["frames"] == "/tmp/lgdemo.py:8 in tool"
    assert accounted(rep, folded_of(rep))


def test_node_stack_is_one_event_with_the_innermost_frame() -> None:
    """langchain-ai/langchainjs#711: a shell prompt line, then ``TypeError: m._getType is
    not a function`` and its ``at`` frames."""
    events, rep = read("gh-langchainjs-711-node-typeerror.txt")
    prompt, err = events
    assert prompt.kind is K.OTHER
    assert (err.kind, err.level, err.line) == (K.ERROR, ERROR, 2)
    assert err.error == "TypeError: m._getType is not a function"
    assert err.fields is not None and err.fields["frames"] == (
        "/Users/josiahbryan/devel/rubber/backend/node_modules/langchain/dist/memory/base.cjs:22"
        " in getBufferString")
    assert folded_of(rep) == 3


def test_node_crash_with_source_excerpt_and_version_footer() -> None:
    """langchain-ai/langchainjs#6989: ``file:...:8``, the source line, the caret, then
    ``SyntaxError: ...``, frames and ``Node.js v22.9.0`` (folded into the error)."""
    events, rep = read("gh-langchainjs-6989-node-syntaxerror.txt")
    (err,) = errors(events)
    assert err.error == "SyntaxError: missing ) after argument list"
    assert err.fields is not None
    assert err.fields["frames"] == "node:internal/modules/esm/utils:337 in compileSourceTextModule"
    assert not any("Node.js v22" in e.message for e in events)
    assert accounted(rep, folded_of(rep))


def test_node_circular_json_stacks_with_detail_lines() -> None:
    """Lab capture (express, JSON.stringify of a request under load): each stack has
    ``--> starting at object...`` detail lines before its frames; one event per stack."""
    events, rep = read("lab-node-circular-json-stderr.log")
    assert [e.line for e in events] == [1, 10]
    for e in events:
        assert (e.kind, e.error) == (K.ERROR, "TypeError: Converting circular structure to JSON")
        assert e.fields is not None and e.fields["block"] == "stack"
    assert events[0].fields is not None
    assert events[0].fields["frames"].endswith("tests/lab/node/services/serialization.js:53")
    assert rep.lines_read == 15 and folded_of(rep) == 13


def test_node_stack_under_kubectl_timestamps() -> None:
    """langchain-ai/langsmith-sdk#1719: ``kubectl logs --timestamps`` of a crashing pod."""
    events, rep = read("gh-langsmith-1719-kubectl-timestamps.log")
    assert rep.format == "kubectl-timestamps+text"
    (err,) = events
    assert err.error == "ReferenceError: RunTree is not defined"
    assert err.time_ns == parse_iso_ns("2025-01-18T00:36:33.251431725Z")


def test_interleaved_pods_keep_their_tracebacks_apart(tmp_path: Path) -> None:
    """Structural: the real uvicorn traceback of the lab capture, printed by two pods
    and interleaved line by line as ``kubectl logs --prefix`` merges streams."""
    lines = (REAL / "lab-uvicorn-autogen-500-traceback.log").read_text().splitlines()[27:88]
    out: list[str] = []
    for ln in lines:
        out.append(f"[pod/api-7d4b9c6f5-aaaaa/app] {ln}")
        out.append(f"[pod/api-7d4b9c6f5-bbbbb/app] {ln}")
    events, rep = read_text(tmp_path, "two.log", "\n".join(out) + "\n")
    errs = errors(events)
    assert sorted(e.host or "" for e in errs) == ["api-7d4b9c6f5-aaaaa", "api-7d4b9c6f5-bbbbb"]
    assert all(e.error and e.error.startswith("ValueError: The team is already running")
               for e in errs)
    assert len(events) == 2 and accounted(rep, folded_of(rep))


def test_access_line_printed_inside_an_unfinished_traceback_passes_through(
        tmp_path: Path) -> None:
    """Structural: another worker's access line lands between a traceback's frames (two
    uvicorn workers share stderr). It stays an access event; the traceback stays whole."""
    lines = (REAL / "lab-uvicorn-autogen-500-traceback.log").read_text().splitlines()
    tb = lines[27:88]
    text = "\n".join(tb[:10] + ['INFO:     127.0.0.1:59438 - "POST /chat HTTP/1.1" 200 OK']
                     + tb[10:]) + "\n"
    events, _ = read_text(tmp_path, "mixed.log", text)
    assert [e.kind for e in events] == [K.REQUEST_END, K.ERROR]
    assert events[1].error and events[1].error.startswith("ValueError: The team")


def test_json_lines_around_a_traceback_keep_their_fast_path(tmp_path: Path) -> None:
    """Structural: a structlog-JSON service whose uncaught exception goes to stderr as
    text (the lab's lines), merged by kubectl: JSON lines stay JSON events."""
    tb = (REAL / "lab-uvicorn-autogen-500-traceback.log").read_text().splitlines()[28:88]
    js = ('{"event": "run started", "level": "info", "run_id": "r-1", '
          '"timestamp": "2026-12-06T15:40:41.000001Z"}')
    text = "\n".join([js, *tb, js.replace("run started", "run failed").replace("info", "error")])
    events, _ = read_text(tmp_path, "s.log", text + "\n")
    assert [e.kind for e in events] == [K.RUN_START, K.ERROR, K.RUN_END]
    assert events[2].run == "r-1" and events[2].error == "run failed"


def test_two_json_records_on_one_line_are_two_events() -> None:
    """Lab capture: two uvicorn workers' structlog records landed on one line."""
    events, rep = read("lab-two-writers-one-line.log")
    assert [(e.kind, e.session, e.line) for e in events] == [
        (K.RUN_END, "sess-15", 1), (K.REQUEST_END, None, 2), (K.RUN_START, "sess-15", 3),
        (K.RUN_START, "sess-14", 3)]
    assert events[3].text.startswith('{"event": "agent.run.start", "request_id": "94335eccc78e"')
    assert accounted(rep, 0)
    assert "1 line(s) held several JSON records (writers sharing a stream), read as 2 events" \
        in rep.notes


def test_cut_traceback_is_bounded_and_counted(tmp_path: Path) -> None:
    """A runaway traceback (recursion) is cut at MAX_BLOCK_LINES and said so."""
    frame = '  File "/app/agent.py", line 12, in step\n    return step(n + 1)\n'
    text = ("Traceback (most recent call last):\n" + frame * MAX_BLOCK_LINES
            + "RecursionError: maximum recursion depth exceeded\n")
    events, rep = read_text(tmp_path, "deep.log", text)
    assert events[0].kind is K.ERROR and events[0].line == 1
    assert any("cut" in n for n in rep.notes)
    assert accounted(rep, folded_of(rep))


# --------------------------------------------------------------------------- access logs

def test_nginx_combined_with_request_and_upstream_times() -> None:
    """Lab capture: nginx (Debian package) in front of uvicorn with a 2 s upstream
    timeout; log_format combined + $request_time $upstream_response_time."""
    events, rep = read("lab-nginx-access.log")
    assert rep.events == 8 and all(e.kind is K.REQUEST_END for e in events)
    ok, gw = events[0], events[-1]
    assert (ok.status, ok.duration_ms, ok.error) == (200, 496.0, None)
    assert ok.fields is not None and ok.fields["access"] == "nginx"
    assert (ok.fields["method"], ok.fields["path"], ok.fields["upstream_ms"]) == (
        "POST", "/chat", 492.0)
    assert ok.time_ns == parse_iso_ns("2026-12-06T15:46:41+00:00")
    assert (gw.status, gw.duration_ms, gw.level) == (504, 2010.0, ERROR)
    assert gw.fields is not None and gw.fields["upstream_ms"] == 2005.0
    assert gw.error == "HTTP 504 Gateway Timeout" and gw.message == "POST /chat 504"


@pytest.mark.parametrize("name, first_time, method, path", [
    # lab capture of the same nginx
    ("lab-nginx-error.log", "2026-12-06T15:46:47", "POST", "/chat"),
    # kubernetes/kubernetes#107269
    ("gh-k8s-107269-nginx-error.log", "2021-12-31T13:40:37", "POST",
     "/api/awc-tracker/beneficiary/save"),
    # fossar/selfoss#1427: pasted without its date
    ("gh-selfoss-1427-nginx-error-no-date.log", None, "GET", "/update"),
])
def test_nginx_error_lines(name: str, first_time: str | None, method: str, path: str) -> None:
    events, _ = read(name)
    e = events[0]
    assert (e.kind, e.level) == (K.ERROR, ERROR)
    assert e.error == ("upstream timed out (110: Connection timed out) while reading response "
                       "header from upstream")
    assert e.time_ns == (parse_iso_ns(first_time) if first_time else None)
    assert e.fields is not None and e.fields["access"] == "nginx"
    assert (e.fields["method"], e.fields["path"]) == (method, path)
    assert e.pid is not None and e.fields["upstream"]


def test_apache_proxy_error_and_access_lines() -> None:
    """nextcloud/all-in-one#175: Apache in front of an app; vhost_combined and combined
    access lines, then mod_proxy's timeout (AH01102) and AH00898 error lines."""
    events, _ = read("gh-nextcloud-aio-175-apache.log")
    vhost, plain, timeout, proxy = events
    assert (vhost.kind, vhost.status, plain.status) == (K.REQUEST_END, 201, 201)
    assert vhost.fields is not None and plain.fields is not None
    assert (vhost.fields["vhost"], vhost.fields["client"]) == ("172.17.0.2:8000", "127.0.0.1")
    assert vhost.fields["access"] == plain.fields["access"] == "apache"
    assert (timeout.kind, timeout.level, timeout.pid) == (K.ERROR, ERROR, "119")
    assert timeout.error == ("(70007)The timeout specified has expired: AH01102: error reading "
                             "status line from remote server localhost:8000")
    assert timeout.time_ns == parse_iso_ns("2022-01-28T14:18:33.838658")
    assert timeout.fields == {"access": "apache", "module": "proxy_http",
                              "client": "10.6.0.2:52924"}
    assert proxy.error == "AH00898: Error reading from remote server returned by /api/docker/start"


def test_apache_error_lines_of_a_threaded_mpm() -> None:
    """ether/etherpad#4125: ``[pid N:tid M]``; named neither apache nor httpd."""
    events, _ = read("gh-etherpad-4125-apache-tid.log")
    assert [(e.kind, e.pid) for e in events] == [(K.ERROR, "12181"), (K.ERROR, "12181")]
    assert events[0].error and events[0].error.endswith(
        "AH01102: error reading status line from remote server 127.0.0.1:9001")


def test_uvicorn_access_inside_another_logger() -> None:
    """chatchat-space/Langchain-Chatchat#2302: uvicorn's line re-logged by a
    ``time | LEVEL | stdout |`` logger; the httpx client line above is not an access line."""
    client, access = read("gh-chatchat-2302-uvicorn-in-logger.log")[0]
    assert client.kind is K.OTHER
    assert (access.kind, access.status) == (K.REQUEST_END, 200)
    assert access.time_ns == parse_iso_ns("2023-12-07 14:15:06")
    assert access.fields is not None and access.fields["path"] == "/llm_model/list_running_models"


def test_gunicorn_default_access_format_after_its_own_lines() -> None:
    """Captured here: gunicorn 27 sync workers with ``--access-logfile -``; its access
    lines are the combined format, named gunicorn because the input showed gunicorn."""
    events, _ = read("local-gunicorn-sync-access.log")
    access = [e for e in events if e.kind is K.REQUEST_END]
    assert [(e.status, e.fields and e.fields["path"]) for e in access] == [
        (200, "/"), (200, "/chat"), (500, "/fail")]
    assert all(e.fields and e.fields["access"] == "gunicorn" for e in access)
    assert access[2].error == "HTTP 500 Internal Server Error" and access[2].level == ERROR
    boots = [e.pid for e in events if e.fields and e.fields.get("fatal") == "worker_boot"]
    assert boots == ["8043", "8044"]
    # a clean shutdown (SIGTERM) is not a worker death
    assert not any(e.level is not None and e.level >= WARN for e in events
                   if e.kind is not K.REQUEST_END)


def test_structlog_console_lines_beside_uvicorn_access() -> None:
    """Lab capture: structlog's console renderer pads the level (``[info     ]``) and the
    event; its key=value pairs are read, the message is the event alone."""
    events, _ = read("lab-structlog-console-uvicorn.log")
    runs = [e for e in events if e.message == "agent run"]
    assert runs and all(e.level == 30 and e.kind is K.HISTORY for e in runs)
    assert (runs[0].session, runs[0].fields) == ("s-1", {"history_len": 1})
    assert runs[0].time_ns == parse_iso_ns("2026-12-06 15:54:42")
    assert any(e.kind is K.REQUEST_END and e.status == 200 for e in events)


def test_envoy_istio_default_lines() -> None:
    """fredcoq/kubefrog-kvmserver istio/readme.md: Istio's default Envoy format; a 302
    with its duration and request id, and a code-0 line (the client reset the stream)."""
    events, _ = read("gh-kubefrog-istio-envoy.log")
    redirect, reset = events
    assert (redirect.kind, redirect.status, redirect.duration_ms) == (K.REQUEST_END, 302, 16.0)
    assert redirect.request == "1d3ec87f-d974-4521-b5ac-23404817a56a"
    assert redirect.fields is not None and redirect.fields["access"] == "envoy"
    assert (reset.status, reset.level, reset.error) == (None, WARN, None)
    assert reset.fields is not None and reset.fields["no_response"] is True


def test_uvicorn_access_under_gunicorn_and_python_logging_pid() -> None:
    """Lab capture: gunicorn with UvicornWorker; the app logs ``%(asctime)s [%(process)d]``."""
    events, _ = read("lab-gunicorn-uvicorn-oom.log")
    app = next(e for e in events if e.message.startswith("assistant: session user-0"))
    assert app.pid == "23820" and app.level == 30
    access = [e for e in events if e.kind is K.REQUEST_END]
    assert access and all(e.fields and e.fields["access"] == "uvicorn" for e in access)


def test_postgresql_server_log() -> None:
    """Lab capture: PostgreSQL 15's own log; the unique violation is an ERROR with the
    backend's pid, its DETAIL and STATEMENT lines follow as what they are."""
    events, _ = read("lab-postgresql-unique-violation.log")
    err, detail, stmt = events[5:8]
    assert (err.kind, err.level, err.pid) == (K.ERROR, ERROR, "9119")
    assert err.error == 'duplicate key value violates unique constraint "orders_pkey"'
    assert err.time_ns == parse_iso_ns("2026-12-06T15:54:54.944Z")
    assert err.fields == {"postgres": "ERROR", "db_user": "postgres@shop"}
    assert (detail.fields or {}).get("postgres") == "DETAIL"
    assert detail.message == "Key (order_id)=(ord-25-2-0) already exists."
    assert (stmt.fields or {}).get("postgres") == "STATEMENT" and stmt.level is None
    assert all(e.level == 30 for e in events[:5])


def test_psycopg_error_keeps_the_server_detail() -> None:
    """Lab capture: uvicorn traceback ending in psycopg's UniqueViolation and the
    server's ``DETAIL:`` line (unindented, part of the exception's message)."""
    events, _ = read("lab-uvicorn-psycopg-unique-violation.log")
    assert [e.kind for e in events] == [K.REQUEST_END, K.ERROR, K.REQUEST_END]
    err = events[1]
    assert err.error == ('psycopg.errors.UniqueViolation: duplicate key value violates unique '
                         'constraint "orders_pkey"')
    assert err.fields is not None
    assert err.fields["detail"] == "DETAIL:  Key (order_id)=(ord-25-3-0) already exists."


def test_outbound_model_call_status_from_httpx() -> None:
    """Lab capture: the openai client's httpx line for a 429 from the provider; the
    upstream status is a field (this service's own answer is the 500 access line)."""
    events, _ = read("lab-httpx-429-structlog.log")
    call = next(e for e in events if e.fields and "outbound" in e.fields)
    assert call.fields == {"outbound": "httpx", "method": "POST",
                           "url": "http://127.0.0.1:18110/v1/chat/completions",
                           "upstream_status": 429}
    assert (call.status, call.level, call.kind) == (None, WARN, K.OTHER)
    failed = next(e for e in events if e.kind is K.RUN_END)
    assert failed.error and failed.error.startswith("Error code: 429 - Rate limit reached")
    assert [e.kind for e in events].count(K.RUN_START) == 4


# --------------------------------------------------------------------------- fatal lines

def test_v8_heap_fatal_block_is_one_fatal_event_per_process() -> None:
    """Lab capture: two Node cluster workers with --max-old-space-size died one after the
    other on the shared stderr: two blocks, two FATAL events, each with its pid."""
    events, rep = read("lab-node-heap-oom-stderr.log")
    assert [(e.kind, e.level, e.pid, e.line) for e in events] == [
        (K.ERROR, FATAL, "16211", 2), (K.ERROR, FATAL, "16212", 30)]
    for e in events:
        assert e.error == ("FATAL ERROR: Ineffective mark-compacts near heap limit Allocation "
                           "failed - JavaScript heap out of memory")
        assert e.fields is not None and e.fields["fatal"] == "heap_oom"
    assert [e.fields and e.fields["heap_mb"] for e in events] == [61.5, 61.7]
    assert accounted(rep, folded_of(rep))


@pytest.mark.parametrize("name, pid", [
    ("gh-gemini-cli-4359-v8-wrapped.txt", "2571992"),  # GC lines wrapped at ") allocation"
    ("gh-unibest-235-v8-windows.txt", "6032"),  # Windows frames, "10: 00007FF..."
])
def test_v8_heap_fatal_pasted(name: str, pid: str) -> None:
    events, _ = read(name)
    fatal = [e for e in events if e.level == FATAL]
    assert len(fatal) == 1 and fatal[0].pid == pid
    assert fatal[0].error == ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript "
                              "heap out of memory")
    assert fatal[0].fields is not None and fatal[0].fields["fatal"] == "heap_oom"


def test_v8_gc_lines_near_the_heap_limit() -> None:
    """labring/FastGPT#4774: V8 GC lines alone (no fatal yet), 3 s pauses at 4 GB."""
    events, _ = read("gh-fastgpt-4774-v8-gc-lines.log")
    assert [(e.pid, e.level) for e in events] == [("1", WARN), ("1", WARN)]
    assert events[0].fields is not None
    assert (events[0].fields["v8_gc"], events[0].fields["heap_mb"],
            events[0].fields["gc_pause_ms"]) == ("Mark-Compact", 3996.3, 3206.37)


@pytest.mark.parametrize("name, line", [
    ("gh-sd-webui-9722-nginx-504-page.txt", 2),  # nginx's page: <title> and <h1>, one event
    ("gh-anything-llm-1722-haproxy-504-page.html", 1),  # HAProxy's page
])
def test_proxy_error_page_is_a_504_at_a_proxy(name: str, line: int) -> None:
    events, _ = read(name)
    pages = [e for e in events if e.kind is K.REQUEST_END]
    assert [(e.line, e.status, e.level) for e in pages] == [(line, 504, ERROR)]
    assert pages[0].fields == {"access": "proxy", "proxy_page": True}
    assert pages[0].error == "HTTP 504 Gateway Time-out"


def test_gunicorn_worker_timeouts_kills_and_boots() -> None:
    """benoitc/gunicorn#3136: the master (pid 1637) reports workers by their pid."""
    events, _ = read("gh-gunicorn-3136-worker-timeout.log")
    tags = [(e.pid, (e.fields or {}).get("fatal"), e.level) for e in events]
    assert tags[0] == ("7214", "worker_timeout", FATAL)
    assert tags[2] == ("7310", "worker_boot", 30)
    assert ("7284", "worker_killed", ERROR) in tags  # "terminated due to signal 9"
    assert ("7289", "worker_exit", WARN) in tags  # signal 6 after the timeout
    assert events[0].fields is not None and events[0].fields["by_pid"] == "1637"
    assert events[0].time_ns == parse_iso_ns("2024-01-09 13:24:39 +0000")
    assert events[2].kind is K.PROCESS_START


@pytest.mark.parametrize("name, want", [
    # open-runtimes/open-runtimes#330 (appwrite): timeout, then SIGKILL
    ("gh-open-runtimes-330-sigkill.log", [("17", "worker_timeout", FATAL),
                                          ("17", "worker_killed", ERROR)]),
    # benoitc/gunicorn#76: the 2010 format without brackets around the time
    ("gh-gunicorn-76-old-format.log", [("5870", "worker_timeout", FATAL),
                                       ("5871", "worker_timeout", FATAL),
                                       ("6935", "worker_boot", 30)]),
    # devilry/devilry-django#1297: pasted without the time and master pid
    ("gh-devilry-1297-no-time.log", [("414077", "worker_timeout", FATAL),
                                     ("414078", "worker_timeout", FATAL),
                                     ("414077", "worker_exit", ERROR),
                                     ("414077", "worker_exit", ERROR),
                                     ("575558", "worker_boot", 30),
                                     ("414078", "worker_killed", ERROR)]),
    # lab capture: a UvicornWorker killed by the cgroup's OOM killer
    ("lab-gunicorn-uvicorn-oom.log", [("23820", "worker_boot", 30),
                                      ("23821", "worker_boot", 30),
                                      ("23821", "worker_killed", ERROR),
                                      ("23881", "worker_boot", 30)]),
])
def test_worker_lifecycle_lines(name: str, want: list[tuple[str, str, int]]) -> None:
    events, _ = read(name)
    got = [(e.pid, e.fields["fatal"], e.level) for e in events
           if e.fields and "fatal" in e.fields]
    assert got == want
    for e in events:
        if e.level is not None and e.level >= ERROR:
            assert e.kind is K.ERROR and e.error


def test_node_cluster_worker_death_logged_as_json() -> None:
    """Lab capture: the cluster primary (pid 26058) logs each dead worker through winston;
    the event names the worker that died, and keeps the primary as ``by_pid``."""
    events, _ = read("lab-node-cluster-winston.log")
    started, *died = events
    assert started.kind is K.OTHER and not (started.fields or {}).get("fatal")
    assert [(e.pid, e.kind, e.level) for e in died] == [("26074", K.ERROR, ERROR),
                                                        ("26066", K.ERROR, ERROR)]
    for e in died:
        assert e.fields is not None
        assert (e.fields["fatal"], e.fields["by_pid"]) == ("worker_died", "26058")
        assert e.error and e.error.startswith(f"worker {e.pid} died (code null, signal SIGABRT)")


@pytest.mark.parametrize("name, pids", [
    ("gh-docker-for-linux-1001-kernel-oom.log", ["15784", "15925"]),  # journald kernel lines
    ("gh-pandora-49-kernel-oom-old.log", ["27438", "27438"]),  # "Kill process ... sacrifice"
    ("gh-py-autovod-7-dmesg.log", ["7899"]),  # dmesg -T
])
def test_kernel_oom_kills(name: str, pids: list[str]) -> None:
    events, _ = read(name)
    oom = [e for e in events if e.fields and e.fields.get("fatal") == "kernel_oom"]
    assert [e.pid for e in oom] == pids
    assert all(e.level == FATAL and e.kind is K.ERROR for e in oom)
    assert all(e.error and e.error.startswith(("Out of memory", "Killed process")) for e in oom)


def test_python_memory_error_alone_and_in_a_traceback(tmp_path: Path) -> None:
    """Structural: Python's MemoryError as the last line of a traceback, and alone."""
    text = ("Traceback (most recent call last):\n"
            '  File "/app/main.py", line 30, in chat\n'
            "    history.append(big)\n"
            "MemoryError\n"
            "MemoryError\n")
    events, _ = read_text(tmp_path, "mem.log", text)
    tb, alone = events
    assert (tb.error, tb.fields and tb.fields.get("fatal")) == ("MemoryError", "memory_error")
    assert alone.kind is K.ERROR and alone.fields == {"fatal": "memory_error"}


# --------------------------------------------------------------------------- resolvers

def test_pip_conflict_lines_are_errors_with_their_text() -> None:
    """microsoft/autogen#7173: pip's post-install conflict report."""
    events, _ = read("gh-autogen-7173-pip.txt")
    assert all(e.kind is K.ERROR and e.level == ERROR for e in events)
    assert events[1].error == ("autogen-ext 0.5.7 requires autogen-core==0.5.7, but you have "
                               "autogen-core 0.7.5 which is incompatible.")
    assert all(e.fields and e.fields["resolver"] == "pip" for e in events)


@pytest.mark.parametrize("name", [
    "gh-langchainjs-9760-npm-error.txt",  # npm 10: "npm error"
    "gh-langchainjs-980-npm-err-timestamps.txt",  # npm 8 "npm ERR!" behind CI timestamps
])
def test_npm_eresolve_lines_are_errors(name: str) -> None:
    events, _ = read(name)
    assert all(e.level == ERROR and e.kind is K.ERROR for e in events)
    assert all(e.fields and e.fields["resolver"] == "npm" for e in events)
    text = " ".join(e.error or "" for e in events)
    assert "ERESOLVE" in text
    if "980" in name:
        assert "Conflicting peer dependency: axios@0.26.1" in text


def test_pip_conflict_explanation_lines_each_an_error() -> None:
    """talhadar90/agentzero#1: pip's "The conflict is caused by:" and its indented lines;
    each detail line is its own error (not folded under the header)."""
    events, _ = read("gh-agentzero-1-pip-conflict.txt")
    assert [e.error for e in events] == [
        "The conflict is caused by:", "The user requested langchain==0.3.1",
        "crewai 0.11.2 depends on langchain<0.2.0 and >=0.1.0"]
    assert all(e.level == ERROR and e.fields == {"resolver": "pip"} for e in events)


def test_poetry_solver_explanation() -> None:
    """crewAIInc/crewAI#782: poetry's "Because ... version solving failed." lines."""
    events, _ = read("gh-crewai-782-poetry.txt")
    assert len(events) == 5 and all(e.level == ERROR for e in events)
    assert all(e.fields and e.fields["resolver"] == "poetry" for e in events)
    assert events[-1].error and events[-1].error.endswith("version solving failed.")


def test_npm_output_pasted_as_rendered_html() -> None:
    """CaviraOSS/PageLM#75: colourised npm output pasted as HTML (<font> tags, &quot;):
    read as the plain text it shows."""
    events, _ = read("gh-pagelm-75-npm-html-paste.html")
    assert events[0].error == "npm error code ERESOLVE"
    assert events[4].error == "npm error Found: @langchain/core@0.3.78"
    assert events[6].error == 'npm error   @langchain/core@"^0.3.78" from the root project'
    assert not any("</" in e.message or "&quot;" in (e.error or "") for e in events)
    assert events[0].text.startswith("<pre><b>npm</b>")  # the line as it is, for excerpts
    assert events[7].error == ('npm error   peer @langchain/core@">=0.3.58 <0.4.0" from '
                               "@langchain/anthropic@0.3.28")


# --------------------------------------------------------------------------- wrappers, kinds

def test_go_trimmed_wrapper_timestamps(tmp_path: Path) -> None:
    """Structural: kubectl --timestamps prints Go's RFC3339Nano, which trims zeros
    (``.136Z``, ``.1Z``, none); the inner lines are the lab's real pino-style JSON."""
    text = ('2026-12-06T15:40:15.136Z {"level":"info","message":"run started","runId":"r-1"}\n'
            '2026-12-06T15:40:15.1Z {"level":"info","message":"run finished","runId":"r-1"}\n'
            '2026-12-06T15:40:16Z {"level":"error","message":"run failed","runId":"r-2"}\n')
    events, rep = read_text(tmp_path, "k.log", text)
    assert rep.format.startswith("kubectl-timestamps+")
    assert [e.time_ns for e in events] == [parse_iso_ns("2026-12-06T15:40:15.136Z"),
                                           parse_iso_ns("2026-12-06T15:40:15.100Z"),
                                           parse_iso_ns("2026-12-06T15:40:16Z")]
    assert [e.kind for e in events] == [K.RUN_START, K.RUN_END, K.RUN_END]


@pytest.mark.parametrize("value, iso", [
    ("2026-12-06T15:40:15.136Z", "2026-12-06T15:40:15.136Z"),  # RFC3339Nano, zeros trimmed
    ("2026-12-06T15:40:15.1Z", "2026-12-06T15:40:15.100Z"),
    ("2026-12-06T15:40:15Z", "2026-12-06T15:40:15Z"),
    ("2026-12-06T15:40:15.123456789+02:00", "2026-12-06T13:40:15.123456789Z"),
    ("2026-12-06 15:40:15.136 +0000 UTC", "2026-12-06T15:40:15.136Z"),  # Go time.String()
    ("2026-12-06 15:40:15.136 +0000 UTC m=+0.012", "2026-12-06T15:40:15.136Z"),
])
def test_json_time_fields_at_any_precision(tmp_path: Path, value: str, iso: str) -> None:
    (e,), _ = read_text(tmp_path, "t.log", f'{{"time":"{value}","msg":"run started"}}\n')
    assert e.time_ns == parse_iso_ns(iso)


def test_app_own_fixed_width_time_is_not_a_wrapper(tmp_path: Path) -> None:
    """An app printing its own ``...Z LEVEL msg`` with a fixed width stays a text log."""
    text = "".join(f"2026-12-06T15:40:1{i}.100Z INFO request completed status=200\n"
                   for i in range(5))
    _, rep = read_text(tmp_path, "own.log", text)
    assert rep.format == "logfmt" or rep.format == "text"


@pytest.mark.parametrize("name", ["run_error", "run_failed", "agent.error", "run.failed",
                                  "task_failed", "kickoff_failed", "run errored",
                                  "agent.run.failed"])  # the last: lab py-upstream-rate-limit
def test_run_ends_named_otherwise(name: str) -> None:
    """Issue 9's list of run-end names that read as OTHER before: a failed run ended."""
    assert kind_of_text(name) is K.RUN_END
    assert end_failed(K.RUN_END, "", None, None, name)
    assert classify("step done", name, None, None, None, None, False) is K.RUN_END


def test_run_done_and_start_with_dots() -> None:
    """Lab capture py-upstream-rate-limit logs ``agent.run.start`` / ``agent.run.done``
    (structlog event names); ``done`` is an end that did not fail."""
    assert kind_of_text("agent.run.start") is K.RUN_START
    assert kind_of_text("agent.run.done") is K.RUN_END
    assert not end_failed(K.RUN_END, "agent.run.done", 30, None, "agent.run.done")


def test_run_end_event_name_records_the_failure(tmp_path: Path) -> None:
    """A JSON line whose event name says the run failed carries that as its error."""
    line = ('{"timestamp":"2026-12-06T15:40:16.5Z","level":"info","msg":"step done",'
            '"event":"agent.error","runId":"r-9"}\n')
    (e,), _ = read_text(tmp_path, "j.log", line)
    assert (e.kind, e.run, e.error) == (K.RUN_END, "r-9", "step done")


# --------------------------------------------------------------------------- robustness

@pytest.mark.parametrize("name", sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md"))
def test_every_event_text_is_on_the_line_it_cites(name: str) -> None:
    """Evidence excerpts are found on the cited line: a folded block's ``text`` is its
    first line as written, an HTML line stays raw, a split JSON record is a slice."""
    physical = (REAL / name).read_text(encoding="utf-8").splitlines()
    events, rep = read(name)
    assert rep.error is None and events
    for e in events:
        assert e.text and e.text in physical[e.line - 1], (name, e.line, e.text)

@pytest.mark.parametrize("line", [
    "a" * 15_000 + ' - "GET / HTTP/1.1" 200',  # uvicorn shape: one anchored try, no search
    "    at " + "f (" * 300_000 + "x",  # a Node frame rule on a 900 KB line
    "requires x, " * 20_000 + "which is incompatible",  # resolver phrase, looked at the head
    '1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET /' + "a" * 40_000 + ' HTTP/1.1" 200 5',
])
def test_long_lines_stay_linear(tmp_path: Path, line: str) -> None:
    """Every new rule on a long hostile line: bounded time (quadratic would take minutes)."""
    import time

    start = time.process_time()
    events, rep = read_text(tmp_path, "long.log", f"TypeError: x\n{line}\n{line}\n")
    assert time.process_time() - start < 2.0
    assert rep.error is None and events


@pytest.mark.parametrize("junk", [
    "Traceback (most recent call last):\n" * 3,
    "    at x\n" * 5,
    "<--- Last few GCs --->\n[1:0x0]\n)\n",
    "FATAL ERROR: \x1b[31mred\x1b[0m\n",
    '1.2.3.4 - - [99/Xyz/2024:99:99:99 +0000] "GET / HTTP/1.1" 200 -\n',
    '[9999-99-99T99:99:99Z] "GET / HTTP/1.1" 200 - 1 2 3 -\n',
    "2024/13/45 25:61:61 [error] 1#1: *1 x, client: , request: \"\n",
    "[2024-99-99 99:99:99 +0000] [1] [INFO] Booting worker with pid: \n",
    "Error\n  \n\n  TypeError\n",
])
def test_odd_input_never_raises(tmp_path: Path, junk: str) -> None:
    events, rep = read_text(tmp_path, "junk.log", junk)
    assert rep.error is None
    assert accounted(rep, folded_of(rep))
    for e in events:
        assert isinstance(e.message, str)


def test_morgan_tiny_request_lines_between_console_lines() -> None:
    """The lab's express service with morgan('tiny'): each request's status and response
    time, between the app's own console.log lines (read as key=value, session and turns)."""
    events, rep = read("lab-express-morgan-tiny.log")
    assert rep.error is None and rep.events == 8
    access = [e for e in events if e.kind is K.REQUEST_END]
    assert [(e.status, e.duration_ms, e.fields and e.fields["path"]) for e in access] == [
        (200, 2.347, "/health"), (200, 65.019, "/chat"), (200, 52.784, "/chat"),
        (200, 52.451, "/chat")]
    assert all(e.fields and e.fields["access"] == "morgan" for e in access)
    app = [e for e in events if e.session]
    assert [(e.session, e.fields and e.fields.get("history_len")) for e in app] == [
        ("sess-1-0", 1)] * 3


def test_morgan_status_dash_is_a_request_without_response(tmp_path: Path) -> None:
    """morgan prints '-' for status and time when the client left before the response."""
    events, _ = read_text(tmp_path, "m.log", "POST /chat - - ms - -\nPOST /chat 503 12 - 3.0 ms\n")
    assert [(e.kind, e.status, e.error is not None) for e in events] == [
        (K.REQUEST_END, None, True), (K.REQUEST_END, 503, True)]


@pytest.mark.parametrize("line, tag", [
    # microsoft/autogen + modelcontextprotocol/python-sdk#407: AutoGen's tool result repr
    ("[FunctionExecutionResult(content='Error: Timed out while waiting for response to "
     "ClientRequest. Waited 0:00:05 seconds.\\n', name='get_all_status', "
     "call_id='call_JcE5ikS2SMj391nyMkjKOZ83', is_error=True)]", "tool_error"),
    # langchain-ai/langchainjs#4056: tsc output pasted from an editor
    ("      Property 'lc_runnable' is protected but type 'Runnable<RunInput, RunOutput, "
     "CallOptions>' is not a class derived from 'Runnable<RunInput, RunOutput, "
     "CallOptions>'.ts(2322)", "ts_duplicate_package"),
    # semi-technologies/t2v-transformers-models#123: PyO3's borrow error in a client summary
    ("['fail with status 500: Already borrowed']", "already_borrowed"),
    # TheLunarCompany/lunar#55: a gateway's WARN for a session another pod holds
    ('2025-12-05T17:20:02.719Z [mcpx] WARN: Session not found component="StreamableHttpRouter"'
     ' sessionId="8bbb3df0-152c-413c-b22f-479462144449"', "session_missing"),
    # Azure-Samples/azure-search-openai-javascript#105: a load test's output, quoted
    ('> Response: 500 {"statusCode":500,"error":"Internal Server Error","message":"429 Rate '
     'limit is exceeded. Try again in 11 seconds."} ', "http_5xx"),
])
def test_failures_told_in_words_are_errors(tmp_path: Path, line: str, tag: str) -> None:
    (ev,), _ = read_text(tmp_path, "pasted.txt", line + "\n")
    assert ev.kind is K.ERROR and ev.level == ERROR and ev.error
    assert ev.fields is not None and ev.fields["failure"] == tag


def test_a_tool_result_that_succeeded_is_not_an_error(tmp_path: Path) -> None:
    (ev,), _ = read_text(tmp_path, "ok.txt", "[FunctionExecutionResult(content='42', "
                         "name='add', call_id='call_1', is_error=False)]\n")
    assert ev.kind is K.OTHER and ev.error is None


def test_v8_last_gcs_header_is_a_heap_oom_even_escaped_and_cut(tmp_path: Path) -> None:
    """FlowiseAI/Flowise#2774: Railway's log view escaped the paste's HTML and the FATAL
    line was cut; V8 prints its 'Last few GCs' block only from its out-of-memory handler."""
    (ev,), _ = read_text(tmp_path, "railway.log", "&lt;--- Last few GCs ---&gt;\n")
    assert ev.level == FATAL and ev.fields is not None and ev.fields["fatal"] == "heap_oom"
