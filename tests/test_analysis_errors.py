"""The error taxonomy table against real strings from the seeds, frameworks and platforms."""

from __future__ import annotations

import pytest

from probes.analysis import classify
from probes.analysis.error_families import error_text, is_error_event
from probes.events import EventKind, LogEvent

GOLDEN: list[tuple[str, set[str]]] = [
    # AutoGen AgentChat BaseGroupChat.run_stream
    ("RuntimeError: The team is already running, it cannot run again until it is stopped.",
     {"already_running"}),
    ("Error: Cannot run while another task is active", {"already_running"}),  # seed 004
    ("Error: event loop already running", {"already_running"}),
    ("RuntimeError: This event loop is already running", {"already_running"}),
    ("RangeError: Maximum call stack size exceeded", {"max_call_stack"}),
    ("RecursionError: maximum recursion depth exceeded while calling a Python object",
     {"max_call_stack"}),
    ("Error: 429 Rate limit reached for gpt-4o-mini in organization org-x on tokens per min",
     {"rate_limit"}),
    ("openai.RateLimitError: Error code: 429 - {'error': {'code': 'rate_limit_exceeded'}}",
     {"rate_limit"}),
    ("HTTP 429 Too Many Requests", {"rate_limit"}),
    ("APIStatusError: 503 Service Unavailable", {"rate_limit"}),
    ("anthropic.InternalServerError: {'type': 'overloaded_error', 'message': 'Overloaded'}",
     {"rate_limit"}),
    ("Error: connect ETIMEDOUT 10.0.3.7:443", {"timeout"}),
    ("AbortError: This operation was aborted", {"timeout"}),
    ("httpx.ReadTimeout: timed out", {"timeout"}),
    ("TimeoutError: tool lookupClaim timed out after 3000ms", {"timeout"}),
    ("grpc: DEADLINE_EXCEEDED: deadline exceeded after 4.99s", {"timeout"}),
    ("FUNCTION_INVOCATION_TIMEOUT", {"platform_timeout"}),
    ("Task timed out after 30.03 seconds", {"platform_timeout"}),
    ("504 Gateway Timeout", {"platform_timeout"}),
    ("upstream returned 502 Bad Gateway", {"platform_timeout"}),
    ('error: duplicate key value violates unique constraint "claims_pkey"', {"duplicate_write"}),
    ("MongoServerError: E11000 duplicate key error collection: app.claims index: _id_",
     {"duplicate_write"}),
    ("psycopg.errors.UniqueViolation: duplicate key value", {"duplicate_write"}),
    ("record claim-81 already exists", {"duplicate_write"}),
    ("409 Conflict", {"duplicate_write"}),
    ("TypeError: Converting circular structure to JSON\n    --> starting at object with "
     "constructor 'IncomingMessage'", {"serialization"}),
    ("TypeError: Object of type datetime is not JSON serializable", {"serialization"}),
    ("TypeError: cyclic object value", {"serialization"}),
    ("TypeError: modelClient.create is not a function", {"version_mismatch"}),  # seed 001
    ("Error: AgentRuntime not initialized", {"version_mismatch"}),
    ("ImportError: cannot import name 'AssistantAgent' from 'autogen_agentchat.agents'",
     {"version_mismatch"}),
    ("AttributeError: 'OpenAIChatCompletionClient' object has no attribute 'create_stream'",
     {"version_mismatch"}),
    ("Error [ERR_REQUIRE_ESM]: require() of ES Module not supported", {"version_mismatch"}),
    ("Error: Cannot find module '@autogen/core'", {"version_mismatch"}),
    ("Error: EMFILE: too many open files, open '/tmp/x'", {"socket_exhaustion"}),
    ("Error: read ECONNRESET", {"socket_exhaustion"}),
    ("Error: socket hang up", {"socket_exhaustion"}),
    ("Error: connect EADDRNOTAVAIL 127.0.0.1:8080", {"socket_exhaustion"}),
    # wrapped: one line, two families
    ("ToolExecutionError: ReadTimeout while calling claims-api (504 Gateway Timeout)",
     {"timeout", "platform_timeout"}),
    # langchain-ai/langchainjs#4056: tsc on two copies of @langchain/core
    ("Property 'lc_runnable' is protected but type 'Runnable<RunInput, RunOutput, "
     "CallOptions>' is not a class derived from 'Runnable<RunInput, RunOutput, "
     "CallOptions>'.ts(2322)", {"version_mismatch"}),
    # modelcontextprotocol/python-sdk: a session the serving worker does not hold
    ("Could not find session for ID: 495548f6adc54c618f8619d1ae07e51e", {"session_missing"}),
    ("HTTP 404 Not Found: 404 on a session path", {"session_missing"}),
    ("Error: session expired, please log in", set()),
    # nothing we know
    ("Error: Failed to execute tool call", set()),
    ("Internal Server Error", set()),
]


@pytest.mark.parametrize(("text", "families"), GOLDEN)
def test_error_family_table(text: str, families: set[str]) -> None:
    assert {f.name for f in classify(text)} == families


@pytest.mark.parametrize("text", ["request took 429ms", "tokens=1.4290", "latency 504 ms",
                                  "retry 1 of 3"])
def test_numbers_that_are_not_statuses_do_not_classify(text: str) -> None:
    assert classify(text) == ()


def test_status_codes_join_the_text_and_make_an_event_an_error() -> None:
    e = LogEvent(time_ns=1, source="a", line=1, kind=EventKind.REQUEST_END,
                 message="request completed", status=504)
    assert is_error_event(e)
    assert "Gateway Timeout" in error_text(e)
    assert {f.name for f in classify(error_text(e))} == {"platform_timeout"}
    ok = LogEvent(time_ns=1, source="a", line=2, kind=EventKind.REQUEST_END,
                  message="request completed", status=200, level=30)
    assert not is_error_event(ok)
