"""Golden inputs (tests/ingest_cases/) for every log format, wrapper and trace shape.

Each input imitates what the real logger or tool prints (shapes copied from
/work/shared/reference/log-formats.md); the table below states the detected format,
the line accounting and, per chosen event, the fields ingestion must extract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from probes.events import EventKind as K
from probes.ingest import IngestConfig, InputFile, read_all, sniff

CASES = Path(__file__).parent / "ingest_cases"


def ns(iso: str) -> int:
    from probes.evidence import parse_iso_ns

    t = parse_iso_ns(iso)
    assert t is not None
    return t


# file -> (format, lines_read, events, skipped, {event index: expected fields})
GOLDEN: dict[str, tuple[str, int, int, dict[str, int], dict[int, dict[str, Any]]]] = {
    "pino.log": ("pino", 6, 6, {}, {
        0: {"time_ns": 1573664685466 * 10**6, "level": 30, "host": "x", "pid": "78742",
            "message": "hello", "kind": K.OTHER},
        1: {"kind": K.CREATED, "instance": "inst-a1", "session": "sess-1"},
        2: {"kind": K.RUN_START, "run": "run-1", "instance": "inst-a1",
            "host": "agent-api-7cfd7bf68f-nk5kr"},
        3: {"kind": K.RUN_END, "level": 50, "run": "run-2", "session": "sess-2",
            "error": "Error: Team is already running a task"},
        4: {"kind": K.STATE_WRITE, "fields": {"version": 7}},
        5: {"kind": K.HISTORY, "level": 20, "fields": {"history_len": 12}},
    }),
    "pino-http.log": ("pino-http", 4, 4, {}, {
        0: {"kind": K.PROCESS_START},
        1: {"kind": K.REQUEST_END, "request": "api-0/101/1", "status": 200, "duration_ms": 412.0,
            "error": None},
        2: {"kind": K.REQUEST_END, "request": "api-0/101/2", "status": 500,
            "error": "Error: failed with status code 500", "duration_ms": 30001.0},
        # same counter value 1 on another replica: a different request
        3: {"request": "api-1/202/1", "status": 200},
    }),
    "fastify.log": ("fastify", 5, 5, {}, {
        1: {"kind": K.REQUEST_START, "request": "web-6d9f8c7b5-abcde/55/req-1"},
        2: {"kind": K.TOOL_CALL, "session": "thr-9", "request": "web-6d9f8c7b5-abcde/55/req-1"},
        3: {"kind": K.REQUEST_END, "status": 200, "duration_ms": 240.51},
        4: {"request": "0f8fad5b-d9cb-469f-a165-70867728950e"},  # a UUID is kept as is
    }),
    "winston.log": ("winston", 4, 4, {}, {
        0: {"time_ns": None, "level": 30, "message": "Public error to share", "kind": K.OTHER},
        1: {"kind": K.RUN_END, "level": 50, "session": "s-77",
            "error": "Error: Maximum call stack size exceeded"},
        2: {"time_ns": ns("2018-08-30T00:26:07.483Z"), "kind": K.STATE_READ, "session": "wf-3",
            "fields": {"version": 4}},
        3: {"kind": K.REQUEST_END, "status": 429, "duration_ms": 12.0},
    }),
    "bunyan.log": ("bunyan", 2, 2, {}, {
        0: {"time_ns": ns("2013-01-04T18:46:23.851Z"), "host": "banana.local", "pid": "40161",
            "message": "hi"},
        1: {"kind": K.ERROR, "error": "Error: ECONNRESET",
            "request": "9d1c3a2e-5b0f-4e1a-9a61-1b2c3d4e5f60"},
    }),
    "structlog.log": ("structlog", 4, 4, {}, {
        0: {"time_ns": ns("2023-11-02T08:03:38.298565Z"), "message": "hello", "level": 30},
        1: {"kind": K.RUN_START, "instance": "team-42", "session": "c-1", "run": "r-9"},
        2: {"kind": K.RUN_END, "level": 50,
            "error": "RuntimeError: This event loop is already running"},
        3: {"level": 40},
    }),
    "python-json.log": ("python-json-logger", 3, 3, {}, {
        0: {"time_ns": ns("2003-07-08T16:49:45.896Z"), "kind": K.PROCESS_START, "pid": "812",
            "level": 30},
        1: {"kind": K.ERROR, "session": "sess-9",
            "error": "Object of type datetime is not JSON serializable"},
        2: {"kind": K.STATE_READ, "level": 40, "session": "wf-1", "fields": {"version": 3}},
    }),
    "logfmt.log": ("logfmt", 3, 3, {}, {
        0: {"time_ns": ns("2021-09-15T21:17:10.220731Z"), "level": 50, "kind": K.ERROR,
            "host": "hello-6b8d7c9f4-x2x9q", "status": None,
            "message": 'error retrieving pod status: pods "hello" not found'},
        1: {"kind": K.RUN_START, "instance": "i-7", "session": "s-7", "run": "r-70"},
        2: {"kind": K.REQUEST_END, "status": 200, "duration_ms": 1999.5,
            "request": "8f14e45f-ceea-467f-a0d0-123456789abc"},
    }),
    "text.log": ("text", 4, 4, {}, {
        0: {"time_ns": ns("2024-05-01T10:00:00Z"), "level": 50, "kind": K.RUN_END,
            "message": "run failed", "instance": "a1", "session": "s2", "error": "run failed"},
        1: {"time_ns": ns("2024-05-01T10:00:01.250Z"), "kind": K.RUN_START, "session": "s3"},
        2: {"level": 50, "kind": K.ERROR, "message": "Maximum call stack size exceeded"},
        3: {"kind": K.PROCESS_START, "time_ns": None},
    }),
    "kubectl-timestamps-structlog.log": ("kubectl-timestamps+structlog", 3, 3, {}, {
        # no app time: the kubelet's time is kept
        0: {"time_ns": ns("2021-11-08T22:10:43.631552134Z"), "kind": K.RUN_START,
            "instance": "team-1", "session": "t-1"},
        # the app's own time wins over the wrapper's
        1: {"time_ns": ns("2021-11-08T22:10:43.990000Z"), "kind": K.RUN_END},
        2: {"kind": K.PROCESS_START, "message": "Example app listening on port 3000!"},
    }),
    "kubectl-prefix.log": ("kubectl-prefix+kubectl-timestamps+fastify", 3, 3, {}, {
        0: {"host": "echo-req-7cfd7bf68f-nk5kr", "request": "echo-req-7cfd7bf68f-nk5kr/1/req-1",
            "time_ns": 1636409443600 * 10**6},
        1: {"host": "echo-req-7cfd7bf68f-zq2lm", "request": "echo-req-7cfd7bf68f-zq2lm/1/req-1",
            "time_ns": ns("2021-11-08T22:10:43.700000000Z")},
        # the container's access line (CLF) is the request's end, with its status
        2: {"host": "echo-req-7cfd7bf68f-zq2lm", "kind": K.REQUEST_END, "status": 200},
    }),
    "cri-pino.log": ("cri+pino", 6, 4, {}, {
        0: {"kind": K.RUN_START, "run": "run-7", "instance": "ag-1",
            "host": "worker-5f7d9c-8xk2p"},
        1: {"line": 3, "level": 40, "time_ns": ns("2016-10-06T00:17:09.669794301Z")},
        # three P/F pieces of one stdout record, interleaved with a stderr line
        2: {"line": 2, "kind": K.HISTORY, "fields": {"history_len": 2}, "message": "history"},
        3: {"line": 6, "kind": K.RUN_END, "time_ns": ns("2016-10-06T00:17:09.7+02:00")},
    }),
    "docker-json.log": ("docker+pino", 3, 2, {}, {
        0: {"message": "Log line is here", "host": "c1", "time_ns": 1547205071111 * 10**6},
        1: {"line": 2, "kind": K.STATE_READ, "session": "s-5", "fields": {"version": 2},
            "time_ns": ns("2016-10-20T18:39:20.57606443Z")},
    }),
    "stern.log": ("stern+pino", 2, 2, {}, {
        0: {"host": "api-7c9d8b6f5d-k2j4x", "kind": K.RUN_START, "session": "s-1",
            "time_ns": ns("2024-05-01T10:00:00Z")},
        1: {"host": "api-7c9d8b6f5d-m8n7q", "kind": K.ERROR, "error": "Error: ETIMEDOUT"},
    }),
    # the stack frame folds into its error (one event per traceback, six lines, five events)
    "mixed.log": ("pino", 6, 5, {}, {
        0: {"kind": K.RUN_START, "run": "r1", "host": "h"},
        1: {"kind": K.ERROR, "error": "Error: Converting circular structure to JSON", "line": 2},
        2: {"kind": K.OTHER, "time_ns": None, "line": 4},  # truncated JSON kept as text
        3: {"kind": K.REQUEST_END, "status": 200, "duration_ms": 5.0},
        4: {"kind": K.RUN_END, "run": "r1", "error": None},
    }),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_log(name: str) -> None:
    fmt, lines, n_events, skipped, expect = GOLDEN[name]
    inp = InputFile(name, CASES / name)
    assert sniff(inp).kind == "log"
    assert sniff(inp).format == fmt
    events, rep = read_all(inp)
    assert (rep.kind, rep.format, rep.error) == ("log", fmt, None)
    assert rep.lines_read == lines
    assert rep.events == len(events) == n_events
    assert dict(rep.skipped) == skipped
    for i, fields in expect.items():
        ev = events[i]
        got = {k: getattr(ev, k) for k in fields}
        assert got == fields, f"{name} event {i}: {ev}"
    for ev in events:
        assert ev.source == name
        assert "\x1b" not in ev.text  # stern colours removed


def test_cri_partial_join_is_reported() -> None:
    _, rep = read_all(InputFile("cri", CASES / "cri-pino.log"))
    assert "2 partial line(s) joined into the following record" in rep.notes
    # lines_read == events + joined + skipped
    assert rep.lines_read == rep.events + 2 + rep.lines_skipped


def test_json_line_in_text_file_and_text_in_json_file() -> None:
    """A text line in a JSON-locked file is kept as an event and counted as unparsed."""
    _, rep = read_all(InputFile("k", CASES / "kubectl-timestamps-structlog.log"))
    assert any("1 line(s) of unparsed text" in n for n in rep.notes)


def test_otlp_json_lines() -> None:
    inp = InputFile("otlp.jsonl", CASES / "otlp.jsonl")
    s = sniff(inp)
    assert (s.kind, s.format) == ("trace", "otlp-json")
    events, rep = read_all(inp)
    assert (rep.kind, rep.format, rep.lines_read) == ("trace", "otlp-json", 3)
    kinds = [e.kind for e in events]
    assert kinds == [K.REQUEST_START, K.REQUEST_END, K.RUN_START, K.RUN_END, K.TOOL_CALL,
                     K.TOOL_CALL]  # the SELECT span has no role: no event
    trace = "5b8efff798038103d269b633813fc60c"
    req_end, run_start, run_end, tool_start, tool_end = events[1:]
    assert (req_end.status, req_end.duration_ms, req_end.request) == (200, 1000.0, trace)
    assert req_end.time_ns == 1544712661000000000
    assert req_end.host == "agent-api-7cfd7bf68f-nk5kr" and req_end.pid == "4121"
    assert (run_start.run, run_start.request, run_start.instance, run_start.session) == (
        "eee19b7ec3c1b175", trace, "agent-planner-1", "conv-1")
    assert run_start.time_ns == 1544712660100000000  # int64 as a number
    assert run_end.error == "RuntimeError: team is already running" and run_end.level == 50
    assert tool_start.fields == {"phase": "start", "tool": "gpt-4o"}
    assert tool_end.fields == {"phase": "end", "tool": "gpt-4o"}
    # service.instance.id names the process (OTel resource), never an agent object
    assert tool_start.instance is None
    assert all(e.line == 1 for e in events)
    # an empty resourceSpans object is counted, not silently dropped
    assert rep.skipped == {}  # empty lines between objects are whitespace to raw_decode
    assert any("2 JSON object(s) read" in n for n in rep.notes)


def test_otlp_old_tempo_shape() -> None:
    """batches / instrumentationLibrarySpans / base64 ids / SPAN_KIND_* strings."""
    events, rep = read_all(InputFile("tempo", CASES / "otlp-tempo.json"))
    assert rep.kind == "trace" and rep.error is None
    assert [e.kind for e in events] == [K.REQUEST_START, K.REQUEST_END, K.RUN_START, K.RUN_END]
    trace = "0af7651916cd43dd8448eb211c80319c"
    assert {e.request for e in events} == {trace}
    req_end = events[1]
    assert (req_end.status, req_end.error, req_end.host) == (504, "upstream timed out",
                                                             "crew-host-1")
    assert events[2].run == "00f067aa0ba902b7"
    assert (events[2].instance, events[2].session) == ("crew-5", "sess-5")


def test_otlp_logs() -> None:
    events, _ = read_all(InputFile("logs", CASES / "otlp-logs.jsonl"))
    (ev,) = events
    assert (ev.level, ev.message, ev.kind, ev.session, ev.host) == (
        50, "run failed", K.RUN_END, "s-9", "node-1")
    assert ev.request == "5b8efff798038103d269b633813fc60c"
    assert ev.time_ns == 1544712662000000000


CONSOLE_SPAN = """{
    "name": "%(name)s",
    "context": {
        "trace_id": "0x90cf0754024da13f39a9fd2749939109",
        "span_id": "%(span)s",
        "trace_state": "[]"
    },
    "kind": "%(kind)s",
    "parent_id": null,
    "start_time": "2026-11-22T01:19:47.055880Z",
    "end_time": "2026-11-22T01:19:48.055890Z",
    "status": {
        "status_code": "%(status)s"
    },
    "attributes": {
        "session.id": "s-1"
    },
    "events": [],
    "links": [],
    "resource": {
        "attributes": {
            "telemetry.sdk.language": "python",
            "service.instance.id": "0f235ed2-replica",
            "service.name": "agent-api"
        },
        "schema_url": ""
    }
}
"""


def console(name: str, span: str, kind: str = "SpanKind.INTERNAL", status: str = "UNSET") -> str:
    return CONSOLE_SPAN % {"name": name, "span": span, "kind": kind, "status": status}


def test_console_span_exporter(tmp_path: Path) -> None:
    """Multi-line concatenated objects as the Python SDK writes them (children first)."""
    text = (console("llm.call", "0x13ad0a83531450fd")
            + console("team.run", "0x90519ee1ae244aa3", status="ERROR")
            + console("POST /chat", "0x0000000000000001", kind="SpanKind.SERVER"))
    p = tmp_path / "spans.json"
    p.write_text(text)
    inp = InputFile("spans.json", p)
    assert (sniff(inp).kind, sniff(inp).format) == ("trace", "otel-console")
    events, rep = read_all(inp)
    assert rep.lines_read == text.count("\n") and rep.skipped == {}
    assert [e.kind for e in events] == [K.TOOL_CALL, K.TOOL_CALL, K.RUN_START, K.RUN_END,
                                        K.REQUEST_START, K.REQUEST_END]
    per_object = text.count("\n") // 3
    assert [e.line for e in events] == [1, 1, 1 + per_object, 1 + per_object,
                                        1 + 2 * per_object, 1 + 2 * per_object]
    run_end = events[3]
    assert run_end.run == "90519ee1ae244aa3"
    assert run_end.request == "90cf0754024da13f39a9fd2749939109"
    assert run_end.error == "span team.run failed" and run_end.duration_ms == pytest.approx(1000.01)
    assert (run_end.instance, run_end.session, run_end.host) == (
        None, "s-1", "0f235ed2-replica")
    assert events[0].time_ns == ns("2026-11-22T01:19:47.055880Z")


def test_console_spans_with_a_broken_object(tmp_path: Path) -> None:
    """A malformed object is skipped with a reason and reading resumes at the next one."""
    broken = console("agent.run", "0x1111111111111111").replace('"kind"', '"kind" "oops"', 1)
    text = console("agent.run", "0x2222222222222222") + broken + console("agent.run",
                                                                         "0x3333333333333333")
    p = tmp_path / "spans.json"
    p.write_text(text)
    events, rep = read_all(InputFile("spans.json", p), IngestConfig(max_line_bytes=4096))
    assert [e.run for e in events if e.kind is K.RUN_START] == ["2222222222222222",
                                                                 "3333333333333333"]
    assert rep.skipped == {"malformed JSON object": 1}


def test_garbage_between_trace_objects_is_skipped_quickly(tmp_path: Path) -> None:
    """A non-JSON line in an OTLP file is skipped at once, not buffered up to the cap."""
    good = (CASES / "otlp.jsonl").read_text().splitlines()[0]
    p = tmp_path / "t.jsonl"
    p.write_text(good + "\nthis is not json\n" + good + "\n")
    events, rep = read_all(InputFile("t.jsonl", p))
    assert rep.skipped == {"malformed JSON object": 1}
    assert len(events) == 12 and {e.line for e in events} == {1, 3}
