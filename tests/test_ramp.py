"""The concurrency ramp against real services on 127.0.0.1, and its safety rails.

Real parts: uvicorn processes serving ``tests/services/agent_app.py`` (the buggy shared
team and its fixed twin), httpx over real sockets. The only mock is
``httpx.MockTransport`` in the tests that must prove no traffic leaves for a remote
host (a real remote target would send load off the machine) and in the pure signal
goldens.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services.launch import free_port, running  # noqa: E402

from probes.evidence import Answer, Evidence  # noqa: E402
from probes.ramp import (  # noqa: E402
    RampPlan,
    _Result,
    error_message,
    loopback_host,
    ramp_signals,
    run_ramp,
)
from tui.commands import live  # noqa: E402
from tui.exit_codes import ExitCode  # noqa: E402

pytestmark = pytest.mark.timeout(60)

BODY = {"message": "summarise the incident"}


def _signal(ev: Evidence, key: str) -> Answer:
    return next(s for s in ev.signals if s.key == key).answer


def _rates(ev: Evidence) -> dict[int, float]:
    return {row["level"]: row["error_rate"] for row in ev.data["levels"]}


@pytest.fixture(scope="module")
def buggy(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("buggy") / "agent.log"
    with running(mode="buggy", env={"AGENT_LOG_FILE": str(log),
                                    "HOSTNAME": "agent-test-buggy"}) as svc:
        yield svc, log


@pytest.fixture(scope="module")
def fixed():  # type: ignore[no-untyped-def]
    with running(mode="fixed") as svc:
        yield svc


def test_shared_team_fails_more_as_concurrency_rises(buggy) -> None:  # type: ignore[no-untyped-def]
    svc, _ = buggy
    ev = run_ramp(RampPlan(url=f"{svc.url}/chat", json_body=BODY, levels=(1, 5, 10),
                           per_level=20))
    assert ev.error is None
    rates = _rates(ev)
    assert rates[1] == 0.0, "one request at a time must pass"
    assert rates[5] >= 0.4 and rates[10] >= 0.4
    assert _signal(ev, "errors.rise_with_concurrency") is Answer.YES
    already = next(s for s in ev.signals if s.key == "errors.already_running")
    assert already.answer is Answer.YES
    assert "already running" in already.examples[0].text
    assert "scaledoc-" in already.examples[0].note
    assert _signal(ev, "errors.rate_limit") is Answer.NO
    assert _signal(ev, "latency.ceiling") is Answer.NO
    top = ev.data["levels"][2]["errors_5xx"][0]
    assert top["message"].startswith("The team is already running")
    assert top["status"] == 500 and top["first_request_id"].startswith("scaledoc-10-")
    assert ev.data["levels"][0]["statuses"] == {"200": 20}


def test_fixed_twin_stays_flat(fixed) -> None:  # type: ignore[no-untyped-def]
    ev = run_ramp(RampPlan(url=f"{fixed.url}/chat", json_body=BODY, levels=(1, 5, 10),
                           per_level=20))
    assert ev.error is None
    assert set(_rates(ev).values()) == {0.0}
    assert _signal(ev, "errors.rise_with_concurrency") is Answer.NO
    assert _signal(ev, "errors.already_running") is Answer.NO
    latency = ev.data["levels"][2]["latency_ms"]
    assert latency["p50"] <= latency["p95"] <= latency["max"]


def test_request_ids_join_the_service_log(buggy) -> None:  # type: ignore[no-untyped-def]
    svc, log = buggy
    size_before = log.stat().st_size if log.exists() else 0
    ev = run_ramp(RampPlan(url=f"{svc.url}/chat", json_body=BODY, levels=(1, 3),
                           per_level=6))
    assert ev.data["sent"] == 12
    with log.open(encoding="utf-8") as fh:
        fh.seek(size_before)
        logged = {json.loads(line).get("requestId") for line in fh if line.strip()}
    sent = {f"scaledoc-{level}-{n}" for level in (1, 3) for n in range(1, 7)}
    assert sent <= logged
    failed_ids = set(ev.data["levels"][1]["failed_request_ids"])
    assert failed_ids <= sent


def _recorder(calls: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)
    return httpx.MockTransport(answer)


@pytest.mark.parametrize("url", ["http://192.0.2.10:8080/chat", "https://example.com/chat",
                                 "http://10.0.0.1/", "http://[2001:db8::1]/"])
def test_remote_target_refused_without_allow_remote(url: str) -> None:
    calls: list[httpx.Request] = []
    ev = run_ramp(RampPlan(url=url, levels=(1,), per_level=3), transport=_recorder(calls))
    assert ev.error is not None and "refused" in ev.error and "--yes" in ev.error
    assert calls == []


def test_allow_remote_opens_the_gate() -> None:
    """MockTransport stands in for the remote host: no real traffic may leave here."""
    calls: list[httpx.Request] = []
    ev = run_ramp(RampPlan(url="http://192.0.2.10:8080/chat", levels=(1, 2), per_level=3,
                           allow_remote=True), transport=_recorder(calls))
    assert ev.error is None and len(calls) == 6
    assert sorted(c.headers["x-request-id"] for c in calls) == sorted(
        f"scaledoc-{lv}-{n}" for lv in (1, 2) for n in (1, 2, 3))


@pytest.mark.parametrize("host,expected", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("localhost", True), ("[::1]", True),
    ("0.0.0.0", False), ("192.168.1.2", False), ("localhost.evil.com", False),
])
def test_loopback_table(host: str, expected: bool) -> None:
    assert loopback_host(httpx.URL(f"http://{host}:80/")) is expected


def test_max_requests_cap_stops_the_ramp(fixed) -> None:  # type: ignore[no-untyped-def]
    ev = run_ramp(RampPlan(url=f"{fixed.url}/chat", json_body=BODY, levels=(1, 5, 10),
                           per_level=20, max_requests=25))
    assert ev.data["sent"] == 25
    assert ev.data["stopped"] == "max_requests"
    assert [row["sent"] for row in ev.data["levels"]] == [20, 5]


def test_max_seconds_cap_stops_in_flight_requests() -> None:
    with running(mode="fixed", env={"AGENT_MODEL_DELAY": "0.4"}) as slow:
        started = time.monotonic()
        ev = run_ramp(RampPlan(url=f"{slow.url}/chat", json_body=BODY, levels=(2,),
                               per_level=200, max_seconds=1.0))
        took = time.monotonic() - started
    assert ev.data["stopped"] == "max_seconds"
    assert took < 3.0
    row = ev.data["levels"][0]
    assert 2 <= row["ok"] <= 8
    assert row["sent"] < 200


def test_cancel_event_stops_at_once(fixed) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 5:
            cancel.set()

    ev = run_ramp(RampPlan(url=f"{fixed.url}/chat", json_body=BODY, levels=(1, 4),
                           per_level=30), cancel=cancel, progress=progress)
    assert ev.data["stopped"] == "cancelled"
    assert 5 <= ev.data["sent"] <= 6


def test_ctrl_c_reports_what_ran(fixed) -> None:  # type: ignore[no-untyped-def]
    """A real SIGINT to this process, as Ctrl-C sends it, while the loop runs."""
    def progress(done: int, total: int) -> None:
        if done == 4:
            os.kill(os.getpid(), signal.SIGINT)

    ev = run_ramp(RampPlan(url=f"{fixed.url}/chat", json_body=BODY, levels=(1,),
                           per_level=50), progress=progress)
    assert ev.data["stopped"] == "interrupted"
    assert 4 <= ev.data["sent"] < 50
    assert ev.data["levels"][0]["ok"] >= 4


def test_unreachable_target_is_an_error_not_an_exception() -> None:
    port = free_port()
    ev = run_ramp(RampPlan(url=f"http://127.0.0.1:{port}/chat", levels=(1, 10), per_level=5))
    assert ev.error is not None and ev.error.startswith("cannot reach")
    assert ev.data["stopped"] == "unreachable"
    assert [row["level"] for row in ev.data["levels"]] == [1]
    assert ev.signals == ()


# --- pure goldens: results in, signals out --------------------------------------------


def _results(level: int, outcomes: list[tuple[int | None, float, str | None]],
             failure: str | None = None) -> list[_Result]:
    return [_Result(level, n, f"scaledoc-{level}-{n}", latency, status=status,
                    failure=failure if status is None else None, message=message)
            for n, (status, latency, message) in enumerate(outcomes, 1)]


def _answers(results: list[_Result], timeout_s: float = 10.0) -> dict[str, Answer]:
    return {s.key: s.answer for s in ramp_signals("http://127.0.0.1/x", results, timeout_s)}


def test_golden_gateway_ceiling_and_fast_failures() -> None:
    at_30s = _results(1, [(200, 0.2, None)] * 5) + _results(
        8, [(504, 30.0 + i * 0.01, "upstream request timeout") for i in range(6)])
    answers = _answers(at_30s)
    assert answers["latency.ceiling"] is Answer.YES
    assert answers["errors.timeout"] is Answer.YES
    fast = _results(1, [(200, 0.2, None)] * 5) + _results(8, [(500, 0.01, "boom")] * 6)
    assert _answers(fast)["latency.ceiling"] is Answer.NO


def test_golden_client_timeouts_cluster_at_our_own_limit() -> None:
    results = _results(1, [(200, 0.1, None)] * 4) + _results(
        10, [(None, 2.0, "ReadTimeout after 2 s")] * 5, failure="timeout")
    sig = next(s for s in ramp_signals("u", results, 2.0) if s.key == "latency.ceiling")
    assert sig.answer is Answer.YES and sig.strength < 1.0
    assert "client's own 2 s timeout" in sig.detail


def test_golden_rate_limit_by_status_and_by_text() -> None:
    by_status = _results(1, [(200, 0.1, None)] * 3) + _results(5, [(429, 0.1, "slow down")] * 3)
    by_text = _results(1, [(200, 0.1, None)] * 3) + _results(
        5, [(500, 0.1, "openai.RateLimitError: Error code: 429")] * 3)
    assert _answers(by_status)["errors.rate_limit"] is Answer.YES
    assert _answers(by_text)["errors.rate_limit"] is Answer.YES
    assert _answers(by_text)["errors.already_running"] is Answer.NO


def test_golden_failing_at_concurrency_one_is_not_a_rise() -> None:
    results = _results(1, [(500, 0.1, "db down")] * 5) + _results(10, [(500, 0.1, "db down")] * 5)
    sig = next(s for s in ramp_signals("u", results, 10) if s.key ==
               "errors.rise_with_concurrency")
    assert sig.answer is Answer.NO and "does not need concurrency" in sig.detail


def test_golden_one_level_and_one_flake() -> None:
    one_level = _results(1, [(200, 0.1, None)] * 5)
    assert _answers(one_level)["errors.rise_with_concurrency"] is Answer.UNKNOWN
    flake = _results(1, [(200, 0.1, None)] * 20) + _results(
        10, [(500, 0.1, "x")] + [(200, 0.1, None)] * 19)
    assert _answers(flake)["errors.rise_with_concurrency"] is Answer.NO


def test_golden_nothing_answered_means_unknown() -> None:
    results = _results(1, [(None, 0.1, "refused")] * 3, failure="connect_error")
    assert set(_answers(results).values()) == {Answer.UNKNOWN}


@pytest.mark.parametrize("body,expected", [
    ('{"error": "The team is already running"}', "The team is already running"),
    ('{"error": {"type": "RateLimitError", "message": "Rate limit reached"}}',
     "Rate limit reached"),
    ('{"detail": [{"msg": "field required"}]}', '{"msg": "field required"}'),
    ("Internal Server Error\nTraceback ...", "Internal Server Error"),
    ('{"error": "bad key sk-proj-abcdefghijklmnopqrstuvwx"}', "bad key sk-proj-***"),
    ("", ""),
])
def test_error_message_table(body: str, expected: str) -> None:
    assert error_message(body) == expected


# --- CLI ----------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scaledoc")
    live.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_ramp_json(buggy, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    svc, _ = buggy
    code = _cli(["ramp", f"{svc.url}/chat", "--json-body", json.dumps(BODY), "--levels",
                 "1,6", "--per-level", "12", "-H", "Authorization: Bearer abcdefghijk123",
                 "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert doc["probe"] == "ramp" and [lv["level"] for lv in doc["data"]["levels"]] == [1, 6]
    assert "abcdefghijk123" not in json.dumps(doc)
    assert {s["key"]: s["answer"] for s in doc["signals"]}["errors.already_running"] == "yes"


def test_cli_ramp_table(buggy, capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
                        monkeypatch: pytest.MonkeyPatch) -> None:
    svc, _ = buggy
    monkeypatch.setenv("COLUMNS", "220")
    code = _cli(["ramp", f"{svc.url}/chat", "--levels", "1,6", "--per-level", "12"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "errors.rise_with_concurrency" in out and "already running" in out


@pytest.mark.parametrize("argv,code", [
    (["ramp", "http://192.0.2.1/chat"], ExitCode.INPUT_ERROR),
    (["ramp", "http://127.0.0.1:9/x", "-H", "no-colon"], ExitCode.INPUT_ERROR),
    (["ramp", "http://127.0.0.1:9/x", "--json-body", "{nope"], ExitCode.INPUT_ERROR),
    (["ramp", "http://127.0.0.1:9/x", "--levels", "1,0"], ExitCode.INPUT_ERROR),
    (["ramp", "http://127.0.0.1:9/x", "--body-file", "/nonexistent/body"],
     ExitCode.INPUT_ERROR),
])
def test_cli_ramp_bad_input(argv: list[str], code: ExitCode,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(argv) == code
    assert capsys.readouterr().err.startswith("scaledoc: ")


def test_cli_ramp_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert _cli(["ramp", f"http://127.0.0.1:{port}/", "--per-level", "2",
                 "--json"]) == ExitCode.UNREACHABLE
    assert json.loads(capsys.readouterr().out)["error"].startswith("cannot reach")


# --- the demo incident ------------------------------------------------------------------

KUBECTL_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (\{.*\})$")
LOG_FIELDS = {"time", "level", "hostname", "pid", "msg"}
HEX = re.compile(r"^[0-9a-f]+$")


def _check_demo(folder: Path) -> None:
    """The shape the README promises, checked line by line."""
    plain = (folder / "agent-7d9f8b6c4-x2k9p.log").read_text().splitlines()
    wrapped = (folder / "agent-7d9f8b6c4-q8wzm.log").read_text().splitlines()
    inner = []
    for line in wrapped:
        m = KUBECTL_PREFIX.match(line)
        assert m, line
        inner.append(m.group(1))
    for host, lines in (("agent-7d9f8b6c4-x2k9p", plain), ("agent-7d9f8b6c4-q8wzm", inner)):
        docs = [json.loads(line) for line in lines]
        assert all(set(d) >= LOG_FIELDS and d["hostname"] == host for d in docs)
        msgs = [d["msg"] for d in docs]
        assert msgs.count("agent created") == 1
        assert {"incoming request", "run started", "run finished", "run failed",
                "request completed"} <= set(msgs)
        failed = [d for d in docs if d["msg"] == "run failed"]
        assert all("already running" in d["err"]["message"] for d in failed)
        done = [d for d in docs if d["msg"] == "request completed"]
        assert all(isinstance(d["statusCode"], int) and d["responseTime"] >= 0 for d in done)
        assert all(d["requestId"].startswith("scaledoc-") for d in done)
    spans = []
    for line in (folder / "traces.jsonl").read_text().splitlines():
        doc = json.loads(line)
        for rs in doc["resourceSpans"]:
            spans += [s for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert all(HEX.match(s["traceId"]) and len(s["traceId"]) == 32 for s in spans)
    assert all(isinstance(s["startTimeUnixNano"], str) for s in spans)
    runs = [s for s in spans if s["name"] == "agent.run"]
    servers = [s for s in spans if s["kind"] == 2]
    assert len(runs) == len(servers) > 0
    assert {s["status"]["code"] for s in runs} == {1, 2}


def test_bundled_demo_has_the_documented_shape() -> None:
    from importlib import resources
    folder = Path(str(resources.files("probes") / "demo"))
    _check_demo(folder)
    assert "python3 tests/make_demo_incident.py" in (folder / "README.md").read_text()


def test_demo_script_reproduces_the_incident(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_demo_incident

    counts = make_demo_incident.make(tmp_path, (1, 4), 12)
    assert counts["traces.jsonl"] == 24
    _check_demo(tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "`errors.rise_with_concurrency`: **yes**" in readme
    assert "`process.multiple_workers` **yes**" in readme


def test_cli_ctrl_c_prints_what_ran_and_exits_130() -> None:
    """A real SIGINT to a real `scaledoc ramp` process, as a terminal's Ctrl-C sends it."""
    with running(mode="fixed", env={"AGENT_MODEL_DELAY": "0.3"}) as slow:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.commands.live", "ramp", f"{slow.url}/chat",
             "--levels", "1,2", "--per-level", "30", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parent.parent)
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == ExitCode.INTERRUPTED
    doc = json.loads(out)
    assert doc["data"]["stopped"] == "cancelled"
    assert 1 <= doc["data"]["levels"][0]["ok"] < 30


def test_repeated_levels_run_once_so_request_ids_stay_unique() -> None:
    """MockTransport: only the request ids matter here, not a service's answers."""
    calls: list[httpx.Request] = []
    ev = run_ramp(RampPlan(url="http://127.0.0.1:9/x", levels=(1, 1, 2), per_level=3),
                  transport=_recorder(calls))
    ids = [c.headers["x-request-id"] for c in calls]
    assert len(ids) == len(set(ids)) == 6
    assert [row["level"] for row in ev.data["levels"]] == [1, 2]


def test_huge_error_body_is_cut_not_kept() -> None:
    """MockTransport serves a 5 MB error page; a real one would only be slower."""
    page = b"upstream exploded: " + b"x" * 5_000_000
    transport = httpx.MockTransport(lambda request: httpx.Response(500, content=page))
    ev = run_ramp(RampPlan(url="http://127.0.0.1:9/x", levels=(1,), per_level=2),
                  transport=transport)
    [entry] = ev.data["levels"][0]["errors_5xx"]
    assert entry["message"].startswith("upstream exploded: xxx")
    assert len(entry["message"]) <= 300 and entry["count"] == 2
