"""The ramp's share of the new signals: requests.failed from the levels it measured, and
'already running' that fails one request at a time is a bug, not a collision.

Pure: ``ramp_signals`` over results as ``_send`` records them. The bodies are the ones
real services return: AutoGen's RuntimeError text as FastAPI's default 500 handler and
the lab's services put it in ``{"detail": ...}``, and asyncio's own wording (CPython
base_events.py ``_check_running``) from a nested ``run_until_complete``.
"""

from __future__ import annotations

from probes.evidence import Answer
from probes.ramp import _Result, error_message, ramp_signals

TEAM = error_message('{"detail":"The team is already running, it cannot run again until it '
                     'is stopped."}')
LOOP = error_message('{"detail":"This event loop is already running"}')


def _level(level: int, n: int, failing: set[int], message: str) -> list[_Result]:
    return [_Result(level, i, f"scaledoc-{level}-{i}", 0.05,
                    status=500 if i in failing else 200,
                    message=message if i in failing else None) for i in range(1, n + 1)]


def _sig(results: list[_Result], key: str):  # type: ignore[no-untyped-def]
    return next(s for s in ramp_signals("http://127.0.0.1:8000/chat", results, 10.0)
                if s.key == key)


def test_requests_failed_from_the_levels() -> None:
    results = (_level(1, 10, set(), TEAM) + _level(10, 40, set(range(1, 21)), TEAM))
    s = _sig(results, "requests.failed")
    assert s.answer is Answer.YES and s.value == 20
    assert "0/10 at 1" in s.detail and "20/40 at 10" in s.detail
    clean = _sig(_level(1, 10, set(), TEAM) + _level(10, 40, set(), TEAM), "requests.failed")
    assert clean.answer is Answer.NO


def test_collisions_only_under_load_keep_full_strength() -> None:
    results = _level(1, 10, set(), TEAM) + _level(10, 40, set(range(1, 21)), TEAM)
    s = _sig(results, "errors.already_running")
    assert s.answer is Answer.YES and s.strength == 1.0


def test_already_running_one_request_at_a_time_is_weak() -> None:
    results = _level(1, 10, set(range(1, 11)), LOOP) + _level(10, 40, set(range(1, 41)), LOOP)
    s = _sig(results, "errors.already_running")
    assert s.answer is Answer.YES and s.strength < 0.6
    assert "at concurrency 1" in s.detail
    assert _sig(results, "requests.failed").answer is Answer.YES
    assert _sig(results, "errors.rise_with_concurrency").answer is Answer.NO
