"""The two tables ingestion is built on, tested with golden values: field roles
(names and value types, ``probes.ingest.roles``) and event kinds (message patterns,
``probes.ingest.kinds``)."""

from __future__ import annotations

from typing import Any

import pytest

from probes.events import EventKind as K
from probes.ingest import roles as R
from probes.ingest.kinds import KIND_PATTERNS, classify, kind_of_text

T0 = 1_714_557_600


@pytest.mark.parametrize(("value", "expected"), [
    (T0, T0 * 10**9),                         # 10 digits: seconds
    (T0 * 1000 + 466, (T0 * 1000 + 466) * 10**6),  # 13 digits: ms (pino)
    (T0 * 10**6 + 1, (T0 * 10**6 + 1) * 1000),     # 16 digits: us
    (T0 * 10**9 + 7, T0 * 10**9 + 7),              # 19 digits: ns
    (float(T0) + 0.25, T0 * 10**9 + 250_000_000),  # float seconds (python "created")
    ("2024-05-01T10:00:00Z", T0 * 10**9),
    ("2024-05-01T10:00:00.123456789Z", T0 * 10**9 + 123456789),
    ("2024-05-01 10:00:00,896", T0 * 10**9 + 896_000_000),  # asctime
    ("2024-05-01T12:00:00+02:00", T0 * 10**9),
    (str(T0 * 1000), T0 * 10**9),  # numeric string
    ("yesterday", None), (True, None), (None, None), (-5, None), ({}, None),
])
def test_time_values(value: Any, expected: int | None) -> None:
    assert R.time_value(value) == expected


@pytest.mark.parametrize(("value", "key", "expected"), [
    (30, "level", 30), (60, "level", 60), (5, "level", None),
    ("info", "level", 30), ("WARNING", "levelname", 40), ("err", "level", 50),
    ("critical", "level", 60), ("http", "level", 30), ("silly", "level", 10),
    (40, "levelno", 50),  # python ERROR
    (20, "levelno", 30),  # python INFO
    ("nonsense", "level", None),
])
def test_level_values(value: Any, key: str, expected: int | None) -> None:
    assert R.level_value(value, key) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ({"type": "Error", "message": "boom", "stack": "Error: boom\n at x"}, "Error: boom"),
    ({"type": "TypeError", "message": "TypeError: x is not a function"},
     "TypeError: x is not a function"),
    ({"stack": "RangeError: Maximum call stack size exceeded\n    at f"},
     "RangeError: Maximum call stack size exceeded"),
    ("Traceback (most recent call last):\n  File x\nRecursionError: maximum recursion depth",
     "RecursionError: maximum recursion depth"),
    ([{"exc_type": "ValueError", "exc_value": "bad"}], "ValueError: bad"),
    (False, None), ("", None),
])
def test_error_values(value: Any, expected: str | None) -> None:
    assert R.error_value(value) == expected


def test_counter_ids_versus_unique_ids() -> None:
    assert R.is_counter_id(1) and R.is_counter_id("req-1")
    assert not R.is_counter_id("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert not R.is_counter_id("5b8efff798038103d269b633813fc60c")


def test_lookup_dotted_and_flat_keys() -> None:
    doc = {"agent": {"instanceId": "a"}, "http.status_code": 502, "res": {"statusCode": 200}}
    assert R.lookup(doc, "agent.instanceId") == "a"
    assert R.lookup(doc, "http.status_code") == 502
    assert R.lookup(doc, "res.statusCode") == 200
    assert R.lookup(doc, "res.nothing.deeper") is None


def test_every_alias_table_role_has_aliases() -> None:
    assert all(R.ROLE_ALIASES[r] for r in R.ROLES)


GOLDEN_KINDS = [
    ("agent created", K.CREATED), ("Created agent planner", K.CREATED),
    ("new AssistantAgent(name=writer)", K.CREATED), ("team created", K.CREATED),
    ("runtime created", K.CREATED),
    ("run started", K.RUN_START), ("Starting run 42", K.RUN_START),
    ("kickoff started", K.RUN_START), ("agent.run start", K.RUN_START), ("run_start", K.RUN_START),
    ("run finished", K.RUN_END), ("run completed in 3s", K.RUN_END), ("run failed", K.RUN_END),
    ("kickoff finished", K.RUN_END), ("run_end", K.RUN_END),
    ("incoming request", K.REQUEST_START), ("request received", K.REQUEST_START),
    ("request completed", K.REQUEST_END), ("request errored", K.REQUEST_END),
    ("request aborted", K.REQUEST_END),
    ("state read", K.STATE_READ), ("loaded state v3", K.STATE_READ),
    ("state saved", K.STATE_WRITE), ("saved state", K.STATE_WRITE),
    ("tool call search", K.TOOL_CALL), ("calling tool web_search", K.TOOL_CALL),
    ("LLM call", K.TOOL_CALL), ("model call started", K.TOOL_CALL),
    ("Server listening at http://0.0.0.0:3000", K.PROCESS_START),
    ("Application startup complete.", K.PROCESS_START),
    ("hello world", K.OTHER), ("", K.OTHER),
]


@pytest.mark.parametrize(("message", "kind"), GOLDEN_KINDS)
def test_kind_table_golden_lines(message: str, kind: K) -> None:
    assert kind_of_text(message) is kind


def test_every_kind_pattern_is_exercised() -> None:
    covered = {kind for _, kind in GOLDEN_KINDS}
    assert set(KIND_PATTERNS) <= covered


def test_classify_rules_beyond_the_message() -> None:
    # status + duration = a request end, whatever the message
    assert classify("GET /chat", None, 30, None, 200, 12.0, False) is K.REQUEST_END
    assert classify("snapshot", None, 30, None, None, None, True) is K.HISTORY
    # level >= 50 or an error field: an error, unless it is a run/request end
    assert classify("something", None, 50, None, None, None, False) is K.ERROR
    assert classify("tool call", None, 30, "ETIMEDOUT", None, None, False) is K.ERROR
    assert classify("run failed", None, 50, "boom", None, None, False) is K.RUN_END
    # the event name is used when the message says nothing
    assert classify("ok", "run_start", 30, None, None, None, False) is K.RUN_START
