"""The Prometheus test infrastructure itself, against the real server (tests/prom_server.py).

What is checked is what the server answers: the backfilled history has the pods and the
counters the generator wrote, hostile label values survive the round trip byte for byte,
the variants fail the way they are meant to (401, errorType "timeout"), the scraped service's
counters in Prometheus equal what the client counted, each scenario shows what its truth
claims, and a whole test session leaves no prometheus or uvicorn process behind.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

# The fixtures come from tests/prom_server.py registered as a plugin (one session of each
# for every module that names it); importing its helpers too, it is marked for pytest's
# assertion rewriting first, as a plugin module is.
pytest_plugins = ["prom_server"]
pytest.register_assert_rewrite("prom_server")

from prom_fleet import CONTAINER, HOSTILE_HANDLER, HOSTILE_PODS, LIMIT_BYTES  # noqa: E402
from prom_server import (  # noqa: E402
    AUTH_PASSWORD,
    AUTH_USER,
    INSTALL_HINT,
    PromFleet,
    PromScraped,
    missing_binaries,
    query,
)

TESTS = Path(__file__).resolve().parent
WINDOW = "2h"


def vector(fleet: PromFleet, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    doc = query(fleet.url, promql, fleet.end if at is None else at, auth=fleet.auth)
    assert doc["status"] == "success", doc
    result: list[dict[str, Any]] = doc["data"]["result"]
    return result


def scalar(fleet: PromFleet, promql: str, at: float | None = None) -> float:
    rows = vector(fleet, promql, at)
    assert len(rows) == 1, (promql, rows)
    return float(rows[0]["value"][1])


def over_time(fleet: PromFleet, promql: str) -> list[float]:
    """One value per minute from ``start + 3 min`` to ``end`` (``/api/v1/query_range``)."""
    answer = httpx.post(f"{fleet.url}/api/v1/query_range", data={
        "query": promql, "start": str(fleet.start + 180), "end": str(fleet.end),
        "step": str(fleet.step_s)}, auth=fleet.auth, trust_env=False, timeout=30)
    doc = answer.json()
    assert doc["status"] == "success", doc
    (series,) = doc["data"]["result"]
    assert len(series["values"]) == (fleet.end - fleet.start - 180) // fleet.step_s + 1
    return [float(v) for _, v in series["values"]]


def by(rows: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {row["metric"].get(label, ""): float(row["value"][1]) for row in rows}


def promql_string(value: str) -> str:
    """A PromQL string literal: JSON's escapes (\\", \\\\, \\n, \\uXXXX) are PromQL's too."""
    return json.dumps(value, ensure_ascii=True)


# ---------------------------------------------------------------- the backfilled fleet


def test_each_namespace_answers_with_the_pods_written(prom_fleet: PromFleet) -> None:
    counts = by(vector(prom_fleet, "count by (namespace) (kube_pod_info)"), "namespace")
    assert counts == {ns: len(s.pods) for ns, s in prom_fleet.scenarios.items()}
    assert counts["fleet-healthy"] == counts["fleet-oom"] == counts["fleet-rise"] == 200
    for ns, scenario in prom_fleet.scenarios.items():
        rows = vector(prom_fleet, f"kube_pod_info{{namespace={promql_string(ns)}}}")
        assert sorted(row["metric"]["pod"] for row in rows) == sorted(scenario.pods)
    # the window: a sample at its first and last second, none after
    first = vector(prom_fleet, 'count(kube_pod_info{namespace="fleet-ceiling"})',
                   prom_fleet.start)
    assert float(first[0]["value"][1]) == 24
    later = prom_fleet.end + 5 * 60 + 1  # past Prometheus's 5 min lookback
    assert vector(prom_fleet, "kube_pod_info", later) == []


def test_a_counter_increases_over_the_window_by_what_was_written(prom_fleet: PromFleet
                                                                 ) -> None:
    oom = prom_fleet.scenarios["fleet-oom"]
    pod = max(oom.pods, key=lambda p: oom.facts["restarts"][p])
    restarts = (f'kube_pod_container_status_restarts_total{{namespace="fleet-oom",'
                f'pod="{pod}",container="{CONTAINER}"}}')
    before = scalar(prom_fleet, restarts, prom_fleet.start)
    after = scalar(prom_fleet, restarts, prom_fleet.end)
    assert after - before == oom.facts["restarts"][pod] >= 2

    healthy = prom_fleet.scenarios["fleet-healthy"]
    pod = healthy.pods[17]
    total = f'sum(http_requests_total{{namespace="fleet-healthy",pod="{pod}"}})'
    grew = scalar(prom_fleet, total) - scalar(prom_fleet, total, prom_fleet.start)
    assert grew == healthy.facts["requests"][pod] > 1000


def test_restarted_counters_start_again_from_zero(prom_fleet: PromFleet) -> None:
    """The OOM-killed app's 2xx counter read raw: every drop is a restart, and the increase
    counted across the drops is the requests the generator wrote."""
    oom = prom_fleet.scenarios["fleet-oom"]
    pod = max(oom.pods, key=lambda p: oom.facts["oom_kills"][p])
    seconds = prom_fleet.end - prom_fleet.start
    rows = vector(prom_fleet, f'http_requests_total{{namespace="fleet-oom",pod="{pod}",'
                              f'status="2xx"}}[{seconds}s]')
    assert len(rows) == 1
    values = [float(v) for _, v in rows[0]["values"]]
    assert len(values) == seconds // prom_fleet.step_s + 1  # 2.x ranges hold both ends
    drops = sum(cur < prev for prev, cur in zip(values, values[1:], strict=False))
    increase = sum(cur - prev if cur >= prev else cur
                   for prev, cur in zip(values, values[1:], strict=False))
    assert drops == oom.facts["oom_kills"][pod] >= 2
    assert increase == oom.facts["requests"][pod] - oom.facts["failed"][pod]


def test_hostile_label_values_come_back_byte_for_byte(prom_fleet: PromFleet) -> None:
    rows = vector(prom_fleet, 'kube_pod_info{namespace="fleet-hostile"}')
    assert sorted(row["metric"]["pod"].encode() for row in rows) == sorted(
        pod.encode() for pod in HOSTILE_PODS)
    for pod in HOSTILE_PODS:  # and each one can be selected by its exact value
        picked = vector(prom_fleet, f"kube_pod_info{{pod={promql_string(pod)}}}")
        assert [row["metric"]["pod"] for row in picked] == [pod]
    handlers = by(vector(prom_fleet, 'count by (handler) (http_requests_total'
                                     '{namespace="fleet-hostile"})'), "handler")
    assert set(handlers) == {"/chat", HOSTILE_HANDLER}

    memory = by(vector(prom_fleet, 'container_memory_working_set_bytes'
                                   '{namespace="fleet-hostile",container!=""}'), "pod")
    assert math.isnan(memory[HOSTILE_PODS[0]]) and memory[HOSTILE_PODS[1]] == math.inf
    raw = {row["metric"]["pod"]: row["value"][1] for row in vector(
        prom_fleet, 'http_requests_inprogress{namespace="fleet-hostile"}')}
    assert raw[HOSTILE_PODS[2]] == "NaN" and raw[HOSTILE_PODS[3]] == "-Inf"
    assert {raw[HOSTILE_PODS[0]], raw[HOSTILE_PODS[1]]} <= {"0", "1", "2"}


def test_the_pod_cgroup_series_has_no_container_label(prom_fleet: PromFleet) -> None:
    """cAdvisor's pod-level series is written with container="" and Prometheus stores an
    empty label as no label: ``container!=""`` is what keeps only the containers."""
    every = vector(prom_fleet, 'container_memory_working_set_bytes{namespace="fleet-healthy"}')
    containers = vector(prom_fleet, 'container_memory_working_set_bytes'
                                    '{namespace="fleet-healthy",container!=""}')
    assert len(every) == 400 and len(containers) == 200
    assert all("container" not in row["metric"] and "image" not in row["metric"]
               for row in every if row not in containers)


# ---------------------------------------------------------------- each scenario's claim


def test_each_scenario_shows_what_its_truth_claims(prom_fleet: PromFleet) -> None:
    """Fleet-wide figures over the two hours, so a change to the generator that no longer
    makes its scenario fails here first."""
    f = prom_fleet

    def share(ns: str, bad: str, total: str) -> float:
        return scalar(f, f"sum(increase({bad}[{WINDOW}])) / sum(increase({total}[{WINDOW}]))"
                      .replace("NS", ns))

    healthy = share("fleet-healthy", 'http_requests_total{namespace="NS",status="5xx"}',
                    'http_requests_total{namespace="NS"}')
    assert 0.0005 < healthy < 0.002
    assert scalar(f, 'max(http_requests_inprogress{namespace="fleet-healthy"})') <= 6
    memory = ('max_over_time((max(container_memory_working_set_bytes{namespace="NS",'
              'container!=""}))[2h:1m]) / ' + str(LIMIT_BYTES))
    assert 0.4 < scalar(f, memory.replace("NS", "fleet-healthy")) < 0.5
    assert scalar(f, 'sum(kube_pod_container_status_restarts_total{namespace="fleet-healthy"})'
                  ) == 0

    assert scalar(f, memory.replace("NS", "fleet-oom")) > 0.99
    oom_reasons = by(vector(f, 'count by (reason) (kube_pod_container_status_last_terminated'
                               '_reason{namespace="fleet-oom"})'), "reason")
    assert oom_reasons == {"OOMKilled": 200}

    # the rise: failures only where the fleet is busy (3 samples of each kind per point)
    # (the "500" series exists from the first 500 on: before it, "or vector(0)")
    failing = ('(sum(rate(http_server_request_duration_seconds_count{namespace="fleet-rise",'
               'http_response_status_code="500"}[3m])) or vector(0)) / sum(rate(http_server_'
               'request_duration_seconds_count{namespace="fleet-rise"}[3m]))')
    active = 'avg(avg_over_time(http_server_active_requests{namespace="fleet-rise"}[3m]))'
    pairs = list(zip(over_time(f, active), over_time(f, failing), strict=True))
    quiet = [x for a, x in pairs if a <= 1]
    busy = [x for a, x in pairs if a >= 8]
    assert len(quiet) > 20 and len(busy) > 20
    assert max(quiet) == 0 and 0.15 < min(busy) <= max(busy) < 0.45

    ceiling = by(vector(f, 'sum by (le) (increase(http_request_duration_seconds_bucket'
                           f'{{namespace="fleet-ceiling",status_code="504"}}[{WINDOW}]))'), "le")
    assert ceiling["20"] == 0 and ceiling["30"] == ceiling["+Inf"] > 0
    slow_ok = scalar(f, 'sum(http_request_duration_seconds_bucket{namespace="fleet-ceiling",'
                        'status_code="200",le="+Inf"}) - sum(http_request_duration_seconds_'
                        'bucket{namespace="fleet-ceiling",status_code="200",le="5"})')
    assert slow_ok == 0
    assert 0.25 < share("fleet-ceiling", 'http_request_duration_seconds_count{namespace="NS",'
                                         'status_code="504"}',
                        'http_request_duration_seconds_count{namespace="NS"}') < 0.4

    limited = share("fleet-ratelimit", 'gen_ai_client_operation_duration_seconds_count'
                                       '{namespace="NS",error_type="429"}',
                    'gen_ai_client_operation_duration_seconds_count{namespace="NS"}')
    assert 0.2 < limited < 0.7
    errors = by(vector(f, 'count by (error_type) (gen_ai_client_operation_duration_seconds_'
                          'count{namespace="fleet-ratelimit"})'), "error_type")
    assert set(errors) == {"", "429", "503"}  # successful calls carry no error_type

    outlier = prom_fleet.scenarios["fleet-outlier"]
    (odd,) = outlier.facts["outlier"]
    fives = by(vector(f, 'sum by (pod) (increase(http_requests_total{namespace="fleet-outlier",'
                         f'status="5xx"}}[{WINDOW}])) / sum by (pod) (increase(http_requests_'
                         f'total{{namespace="fleet-outlier"}}[{WINDOW}]))'), "pod")
    assert 0.3 < fives.pop(odd) < 0.4 and max(fives.values()) < 0.02
    held = by(vector(f, 'container_memory_working_set_bytes{namespace="fleet-outlier",'
                        'container!=""}'), "pod")
    odd_memory = held.pop(odd)
    assert 1.8 < odd_memory / (sum(held.values()) / len(held)) < 2.2


# ---------------------------------------------------------------- the variants


def test_the_basic_auth_server_wants_the_password(prom_basic_auth: PromFleet) -> None:
    url = f"{prom_basic_auth.url}/api/v1/query"
    form = {"query": "count(kube_pod_info)", "time": str(prom_basic_auth.end)}
    assert httpx.post(url, data=form, trust_env=False).status_code == 401
    assert httpx.post(url, data=form, auth=(AUTH_USER, "not-the-password"),
                      trust_env=False).status_code == 401
    answer = httpx.post(url, data=form, auth=(AUTH_USER, AUTH_PASSWORD), trust_env=False)
    assert answer.status_code == 200
    assert answer.json()["data"]["result"][0]["value"][1] == "676"
    assert prom_basic_auth.auth == (AUTH_USER, AUTH_PASSWORD)


def test_the_timeout_server_times_out_on_a_heavy_query(prom_query_timeout: PromFleet) -> None:
    assert prom_query_timeout.heavy_query and prom_query_timeout.query_timeout == "100ms"
    url = f"{prom_query_timeout.url}/api/v1/query"
    heavy = httpx.post(url, data={"query": prom_query_timeout.heavy_query,
                                  "time": str(prom_query_timeout.end)},
                       trust_env=False, timeout=30)
    assert heavy.status_code == 503
    assert heavy.json()["status"] == "error" and heavy.json()["errorType"] == "timeout"
    light = httpx.post(url, data={"query": "count(kube_pod_info)",
                                  "time": str(prom_query_timeout.end)}, trust_env=False)
    assert light.status_code == 200 and light.json()["data"]["result"][0]["value"][1] == "676"


def test_a_missing_binary_is_named_in_the_skip_reason(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_binaries() == f"prometheus and promtool not found on PATH; {INSTALL_HINT}"
    (tmp_path / "prometheus").write_text("#!/bin/sh\n")
    (tmp_path / "prometheus").chmod(0o755)
    assert missing_binaries() == f"promtool not found on PATH; {INSTALL_HINT}"


# ---------------------------------------------------------------- the scraped service


def test_the_scraped_counters_match_what_the_client_counted(prom_scraped: PromScraped
                                                            ) -> None:
    s = prom_scraped
    one, ten = s.measured[1], s.measured[10]
    assert one.sent == ten.sent // 10 > 0 and one.failed == 0
    assert ten.failed > ten.sent // 4  # the shared team refuses overlapping runs
    assert one.no_answer == ten.no_answer == 0 and one.other == ten.other == 0

    def chat(status: str, at: float) -> float:
        doc = query(s.url, f'sum(http_requests_total{{{s.selector},handler="/chat",'
                           f'status="{status}"}})', at)
        rows = doc["data"]["result"]
        return float(rows[0]["value"][1]) if rows else 0.0

    final = s.end + 2 * s.scrape_interval_s
    assert chat("2xx", final) == one.ok + ten.ok
    assert chat("5xx", final) == one.failed + ten.failed
    for phase in (one, ten):
        per_scrape = phase.concurrency / 0.1 * s.scrape_interval_s
        after = phase.end + 2 * s.scrape_interval_s
        for status, want in (("2xx", phase.ok), ("5xx", phase.failed)):
            got = chat(status, after) - chat(status, phase.start)
            assert abs(got - want) <= per_scrape, (phase, status, got)
    inprogress = query(s.url, f"max_over_time(http_requests_inprogress{{{s.selector},"
                              f'handler="/chat"}}[{int(s.end - s.start) + 1}s])', s.end)
    assert float(inprogress["data"]["result"][0]["value"][1]) >= 1


# ---------------------------------------------------------------- nothing left behind

_SESSION = '''
import json, os
pytest_plugins = ["prom_server"]

def test_everything_runs(prom_fleet, prom_basic_auth, prom_query_timeout, prom_scraped):
    pids = {"prometheus (fleet)": prom_fleet.pid, "prometheus (auth)": prom_basic_auth.pid,
            "prometheus (timeout)": prom_query_timeout.pid,
            "prometheus (scraping)": prom_scraped.pid, "uvicorn": prom_scraped.service_pid}
    with open(os.environ["PROM_PIDS_FILE"], "w") as out:
        json.dump(pids, out)
'''

_CONFTEST = '''
import json, os
import psutil

def pytest_sessionfinish(session):
    """After the session fixtures' teardown: who of them is still running?"""
    with open(os.environ["PROM_PIDS_FILE"]) as handle:
        pids = json.load(handle)
    alive = {}
    for what, pid in pids.items():
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive[what] = pid
        except psutil.NoSuchProcess:
            pass
    with open(os.environ["PROM_ALIVE_FILE"], "w") as out:
        json.dump(alive, out)
'''


def _ours(marker: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            if proc.environ().get("SCALEDOC_PROM_SESSION") == marker:
                found.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])}")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def test_a_test_session_leaves_no_server_running(tmp_path: Path) -> None:
    """A whole pytest session in a subprocess uses every fixture; at its end (checked by
    its own pytest_sessionfinish, after the fixtures' teardown, and again here once it
    exited) none of the processes it started is running."""
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    (tmp_path / "test_session.py").write_text(textwrap.dedent(_SESSION))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(_CONFTEST))
    marker = uuid.uuid4().hex
    env = {**os.environ, "PROM_PIDS_FILE": str(tmp_path / "pids.json"),
           "PROM_ALIVE_FILE": str(tmp_path / "alive.json"), "SCALEDOC_PROM_SESSION": marker,
           "SCALEDOC_PROM_PHASE_SECONDS": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'base'}", "--rootdir", str(tmp_path),
         str(tmp_path / "test_session.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pids = json.loads((tmp_path / "pids.json").read_text())
    assert len(pids) == 5 and len(set(pids.values())) == 5
    assert json.loads((tmp_path / "alive.json").read_text()) == {}
    assert _ours(marker) == []
