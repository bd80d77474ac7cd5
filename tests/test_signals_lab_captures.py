"""Signals read from the lab's captures, checked against what each run measured.

The captures in ``tests/lab/scenarios`` were written by real services under a ramp; each
``truth.json`` holds counts the run recorded (the app's own records, the client's checks).
These tests compare a signal's count with that measured count, so a reader or detector that
drifts fails here, not only in the score.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.evidence import Answer, Signal
from probes.ingest import InputFile, read_all
from probes.pipeline import analyze_paths

LAB = Path(__file__).resolve().parent / "lab" / "scenarios"


def _signals(name: str) -> dict[str, Signal]:
    folder = LAB / name
    truth = json.loads((folder / "truth.json").read_text())
    inputs = [str(folder / i) for i in truth["inputs"]] if truth.get("inputs") else \
        [str(p) for p in sorted(folder.iterdir()) if p.name != "truth.json"]
    return analyze_paths(inputs).case.signals()


def _measured(name: str) -> dict[str, object]:
    measured = json.loads((LAB / name / "truth.json").read_text())["measured"]
    assert isinstance(measured, dict)
    return measured


def test_tool_reads_of_another_request_equal_the_apps_own_count() -> None:
    """py-stateful-tool: a module-level tool keeps the last caller's user; the app recorded
    how many tool reads differed from the value its own request set. In the spans each
    such read is a ``crm.lookup`` span naming another user and request than its trace's
    endpoint span: the same count."""
    sig = _signals("py-stateful-tool")["requests.contamination"]
    assert sig.answer is Answer.YES
    assert sig.value == _measured("py-stateful-tool")["app_tool_reads_differing_from_value_set"]
    fixed = _signals("py-stateful-tool-fixed")["requests.contamination"]
    assert fixed.answer is Answer.NO


def test_agent_spans_without_an_id_are_one_object_per_process() -> None:
    """py-shared-instance-agent-gunicorn: AutoGen's gen_ai spans name the agent, not an
    object id; the agent created once per worker and run by concurrent requests overlaps
    on ``billing_agent@<pid>``. The fixed twin creates one per request under the same
    name, and nothing is claimed about its runs."""
    broken = _signals("py-shared-instance-agent-gunicorn")["runs.overlap_instance"]
    assert broken.answer is Answer.YES
    assert _measured("py-shared-instance-agent-gunicorn")[
        "app_runs_started_while_another_active_on_same_object"]
    assert any("billing_agent@" in ex.text or "billing_agent@" in ex.note
               for ex in broken.examples) or "2 instance" in broken.detail
    fixed = _signals("py-shared-instance-agent-gunicorn-fixed")
    assert fixed["runs.overlap_instance"].answer is not Answer.YES


@pytest.mark.parametrize("line, missing", [
    # uvicorn access line, as pasted in tadata-org/fastapi_mcp#56 (2 workers)
    ('INFO:     127.0.0.1:63670 - "POST /mcp/messages/?session_id=495548f6adc54c618f8619d1ae07e51e'
     ' HTTP/1.1" 404 Not Found', True),
    ('INFO:     127.0.0.1:63670 - "POST /mcp/messages/?session_id=5576a7215caf42a38ba8d7c996d07f17'
     ' HTTP/1.1" 202 Accepted', False),
    ('INFO:     127.0.0.1:63769 - "GET /mcp HTTP/1.1" 404 Not Found', False),
    ('127.0.0.1 - - [06/Dec/2026:15:56:00 +0000] "GET /sessions/c1-u0 HTTP/1.1" 404 30 "-" '
     '"python-httpx/0.29.0"', True),
])
def test_a_404_on_a_session_path_is_a_missing_session(tmp_path: Path, line: str,
                                                      missing: bool) -> None:
    p = tmp_path / "access.log"
    p.write_text(line + "\n")
    events, _ = read_all(InputFile(str(p), p))
    (ev,) = events
    assert (ev.error is not None and "session path" in ev.error) is missing
    sig = analyze_paths([str(p)]).case.signals()["state.session_missing"]
    assert (sig.answer is Answer.YES) is missing


def test_sessions_starting_with_others_turns_equal_the_apps_count() -> None:
    """py-shared-history-autogen: structlog console lines with no pid; the stream is the
    holder, and every new session starting where the last one left is a prompt the app
    recorded as holding another session's turns."""
    sig = _signals("py-shared-history-autogen")["history.cross_session"]
    assert sig.answer is Answer.YES
    assert sig.value == _measured("py-shared-history-autogen")[
        "app_prompts_with_other_sessions_turns"]
    assert _signals("py-shared-history-autogen-fixed")["history.cross_session"].answer \
        is Answer.NO


def test_timer_jobs_overlap_in_their_process_whatever_agent_each_builds() -> None:
    """node-overlapping-timer: setInterval starts a job (a fresh agent each) every 500 ms
    while the last one still runs; the app counted overlapping jobs. The overlap is found
    per process, and the guarded twin has none."""
    sig = _signals("node-overlapping-timer")["runs.periodic_overlap"]
    assert sig.answer is Answer.YES and isinstance(sig.value, int)
    measured = _measured("node-overlapping-timer")["app_jobsOverlapping"]
    assert isinstance(measured, int) and measured > 0
    # pairs of overlapping runs: each overlapping job overlaps at least its predecessor
    assert sig.value >= measured * 0.9
    assert _measured("node-overlapping-timer-fixed")["app_jobsOverlapping"] == 0
    assert _signals("node-overlapping-timer-fixed")["runs.periodic_overlap"].answer \
        is Answer.NO


def test_runs_reentered_from_their_own_callback_equal_the_apps_count() -> None:
    """node-reentrant-run: the reply callback starts a second run on the agent of its own
    request; the outer run's end is never logged (the inner one fails it). Every request
    shows one nested run, as the app counted; the twin that queues the follow-up has none,
    and runs that Promise.all starts together are not nested."""
    sig = _signals("node-reentrant-run")["runs.nested_same_request"]
    assert sig.answer is Answer.YES
    assert sig.value == _measured("node-reentrant-run")["app_reentrant"]
    assert _signals("node-reentrant-run-fixed")["runs.nested_same_request"].answer is Answer.NO
    assert _signals("node-parallel-run-same-session")["runs.nested_same_request"].answer \
        is Answer.NO


def test_a_ceiling_at_the_services_own_call_timeout_is_weak_platform_evidence() -> None:
    """node-tool-timeout: fetch with AbortSignal.timeout(1000) behind a tool; failures end
    near 1 s, each with the service's own TimeoutError and a 500 it wrote itself. The
    ceiling is reported, weakly; the timeouts (as many as the app counted) decide."""
    signals = _signals("node-tool-timeout")
    ceiling = signals["latency.ceiling"]
    assert ceiling.answer is Answer.YES and ceiling.strength < 0.9
    assert isinstance(ceiling.data, dict) and ceiling.data["own_timeout"] is True
    assert signals["errors.timeout"].value == _measured("node-tool-timeout")["app_toolTimeouts"]


def test_a_status_inside_a_hex_id_is_not_a_status() -> None:
    """node-reentrant-run: agent-74e503a7 holds '503'; no rate limit was ever answered."""
    assert _signals("node-reentrant-run")["errors.rate_limit"].answer is Answer.NO


def test_calls_in_flight_per_request_equal_the_apps_own_peak() -> None:
    """node-unbounded-fanout: Promise.all over 12 model calls per question, under a
    192-descriptor limit; the app recorded the most calls one request held in flight and
    the connects that failed with EMFILE. Its 'model call finished' lines carry no duration:
    they end a call, they do not start another. The twin bounds the calls with LangChain's
    Runnable.batch maxConcurrency 2."""
    signals = _signals("node-unbounded-fanout")
    measured = _measured("node-unbounded-fanout")
    fan = signals["fanout.concurrent_calls"]
    assert fan.answer is Answer.YES
    assert f"peaked at {measured['app_fanoutMaxInFlight']}" in fan.detail
    assert measured["app_socketErrors"]
    assert signals["errors.socket_exhaustion"].answer is Answer.YES
    fixed = _signals("node-unbounded-fanout-fixed")["fanout.concurrent_calls"]
    assert fixed.answer is Answer.NO and "at most 2 calls" in fixed.detail


def test_a_worker_killed_after_worker_timeout_is_a_weak_oom_sign(tmp_path: Path) -> None:
    """BerriAI/litellm#1741 (gunicorn as pasted): WORKER TIMEOUT, then SIGKILL with
    gunicorn's 'Perhaps out of memory?'. The arbiter killed it for its --timeout: still a
    symptom, no longer an OOM verdict on its own."""
    log = tmp_path / "gunicorn.log"
    log.write_text(
        "[2024-02-01 19:02:16 +0000] [7376] [CRITICAL] WORKER TIMEOUT (pid:7377)\n"
        "[2024-02-01 19:02:17 +0000] [7376] [ERROR] Worker (pid:7377) was sent SIGKILL! "
        "Perhaps out of memory?\n"
        "[2024-02-01 19:02:17 +0000] [7406] [INFO] Booting worker with pid: 7406\n")
    analysis = analyze_paths([str(log)])
    died = analysis.case.signals()["process.worker_died"]
    assert died.answer is Answer.YES and died.strength < 1.0 and "WORKER TIMEOUT" in died.detail
    assert analysis.verdict.verdict == "inconclusive"
    alone = tmp_path / "sigkill.log"
    alone.write_text("[2024-02-01 19:02:17 +0000] [7376] [ERROR] Worker (pid:7377) was sent "
                     "SIGKILL! Perhaps out of memory?\n")
    assert analyze_paths([str(alone)]).case.signals()["process.worker_died"].strength == 1.0
