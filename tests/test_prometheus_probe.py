"""The Prometheus probe against a real Prometheus 2.42 (Debian's package), never a fake.

* The fleet (tests/prom_fleet.py, tests/prom_server.py): two hours of 200-pod history
  backfilled with promtool, one namespace per incident. Each gets its verdict from
  Prometheus alone, and the numbers the probe reports are checked against what the
  generator wrote (restarts, requests, failures per pod).
* A real service (tests/services/metrics_app.py, the shared-instance agent behind
  prometheus_client metrics) scraped every second while a client drives it at
  concurrency 1 then 10: the probe's error rate by concurrency is checked against what
  the client measured, and joined with the service's own log the verdict is the cause.
* Real failures: a server with basic auth (401), one with a 100 ms query timeout, and a
  real nginx in front (queries only, 403, 429 with Retry-After, a login redirect).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

pytest_plugins = ["prom_server"]
pytest.register_assert_rewrite("prom_server")

from prom_proxy import nginx_missing, prom_proxy  # noqa: E402
from prom_server import PromFleet, PromScraped  # noqa: E402

from probes.diagnose import diagnose  # noqa: E402
from probes.evidence import Answer, Case, Evidence  # noqa: E402
from probes.prometheus import PromTarget, collect  # noqa: E402
from probes.prometheus.client import TIMEOUT, PromAuth, PromClient  # noqa: E402

VERDICT_FROM_METRICS = ["fleet-healthy", "fleet-oom", "fleet-ceiling", "fleet-ratelimit"]


def _target(fleet: PromFleet, ns: str, **kw: object) -> PromTarget:
    return PromTarget(fleet.url, f'namespace="{ns}"', since_s=fleet.end - fleet.start,
                      until=float(fleet.end), **kw)  # type: ignore[arg-type]


def _signals(ev: Evidence) -> dict[str, Answer]:
    return {s.key: s.answer for s in ev.signals}


@pytest.fixture(scope="module")
def fleet_evidence(prom_fleet: PromFleet) -> dict[str, Evidence]:
    return {ns: collect(_target(prom_fleet, ns)) for ns in prom_fleet.scenarios}


@pytest.mark.parametrize("ns", VERDICT_FROM_METRICS)
def test_incident_verdict_from_prometheus_alone(ns: str, prom_fleet: PromFleet,
                                                fleet_evidence: dict[str, Evidence]) -> None:
    truth = prom_fleet.scenarios[ns].truth
    ev = fleet_evidence[ns]
    assert ev.error is None
    verdict = diagnose(Case(evidence=(ev,)))
    assert verdict.verdict == truth, (verdict.summary, [(c.id, c.score) for c in verdict.causes])


def test_rise_from_metrics_alone_names_the_cause_but_does_not_claim_it(
        prom_fleet: PromFleet, fleet_evidence: dict[str, Evidence]) -> None:
    """Failures rising with concurrency are the symptom of a shared instance, and of the
    others below it in the tree: metrics cannot see the 'already running' text, so the
    verdict is inconclusive with shared-instance ranked first, never healthy."""
    ev = fleet_evidence["fleet-rise"]
    got = _signals(ev)
    assert got["errors.rise_with_concurrency"] is Answer.YES
    assert got["requests.failed"] is Answer.YES
    verdict = diagnose(Case(evidence=(ev,)))
    assert prom_fleet.scenarios["fleet-rise"].truth == "shared-instance"
    assert verdict.verdict == "inconclusive"
    assert verdict.causes[0].id == "shared-instance"
    assert "rise" in verdict.summary or "in flight" in verdict.summary


def test_one_failing_replica_is_found_and_named(prom_fleet: PromFleet,
                                                fleet_evidence: dict[str, Evidence]) -> None:
    sc = prom_fleet.scenarios["fleet-outlier"]
    (odd,) = sc.facts["outlier"]
    ev = fleet_evidence["fleet-outlier"]
    sig = next(s for s in ev.signals if s.key == "fleet.replica_outlier")
    assert sig.answer is Answer.YES
    assert any(odd in e.source for e in sig.examples), [e.source for e in sig.examples]
    assert diagnose(Case(evidence=(ev,))).verdict != "healthy"
    healthy = next(s for s in fleet_evidence["fleet-healthy"].signals
                   if s.key == "fleet.replica_outlier")
    assert healthy.answer is Answer.NO


def test_counts_are_what_the_history_holds(prom_fleet: PromFleet,
                                           fleet_evidence: dict[str, Evidence]) -> None:
    """Ground truth from the generator's own per-pod counts, not from the scenario's name."""
    sc = prom_fleet.scenarios["fleet-oom"]
    ev = fleet_evidence["fleet-oom"]
    rows = {r["replica"].split("/", 1)[1]: r for r in ev.data["prometheus"]["replicas"]}
    written = sc.facts["restarts"]
    worst = sorted(written, key=lambda p: -written[p])[:20]
    for pod in worst:
        if pod in rows:
            assert rows[pod]["restarts"] == round(written[pod]), pod
    assert ev.data["prometheus"]["replicas_seen"] == len(sc.pods)
    restarts = next(s for s in ev.signals if s.key == "pods.restarts")
    killed = {p for p, n in sc.facts["oom_kills"].items() if n > 0}
    assert restarts.value == sum(1 for p in sc.pods if written.get(p, 0) > 0)
    oom = next(s for s in ev.signals if s.key == "pods.oomkilled")
    assert oom.value == len(killed)
    for ns in ("fleet-healthy", "fleet-rise"):
        facts = prom_fleet.scenarios[ns].facts
        share = sum(facts["failed"].values()) / sum(facts["requests"].values())
        failed = next(s for s in fleet_evidence[ns].signals if s.key == "requests.failed")
        assert failed.value == pytest.approx(share, abs=0.01), ns


def test_every_claim_is_a_query_the_server_answers(prom_fleet: PromFleet,
                                                   fleet_evidence: dict[str, Evidence]) -> None:
    """An operator pastes the PromQL of an example into Grafana: it must run as it is."""
    seen = 0
    with httpx.Client(timeout=30) as client:
        for ev in fleet_evidence.values():
            for s in ev.signals:
                for e in s.examples:
                    for promql in [e.text] if not e.text.startswith("(") else []:
                        r = client.get(f"{prom_fleet.url}/api/v1/query",
                                       params={"query": promql, "time": prom_fleet.end})
                        assert r.json()["status"] == "success", (s.key, promql, r.text[:300])
                        seen += 1
    assert seen >= 20


def test_hostile_labels_and_nan_are_plain_text(prom_fleet: PromFleet,
                                               fleet_evidence: dict[str, Evidence]) -> None:
    """Label values come back byte for byte in the data, and no output carries a raw
    control character (the text and Markdown reports make them visible)."""
    from prom_fleet import HOSTILE_PODS

    ev = fleet_evidence["fleet-hostile"]
    names = {r["replica"].split("/", 1)[1] for r in ev.data["prometheus"]["replicas"]}
    assert set(HOSTILE_PODS) <= names
    for chart in ev.data["prometheus"]["charts"]:
        for series in chart["series"]:
            assert all(v == v and abs(v) != float("inf") for _t, v in series["points"])
    argv = [sys.executable, "-m", "tui.commands.cli", "analyze", "--prometheus", prom_fleet.url,
            "--selector", 'namespace="fleet-hostile"', "--since", "2h", "--until",
            _iso(prom_fleet.end)]
    for fmt in ("text", "markdown", "json"):
        out = subprocess.run([*argv, "-o", fmt], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert not any(ord(c) < 32 and c not in "\n" for c in out.stdout), fmt
        if fmt == "json":  # strict JSON (no NaN), and the names exactly as the server has them
            doc = json.loads(out.stdout)
            assert doc["metrics"][0]["selector"] == 'namespace="fleet-hostile"'


def test_a_real_service_error_rate_by_concurrency_matches_the_client(
        prom_scraped: PromScraped) -> None:
    ev = collect(PromTarget(prom_scraped.url, prom_scraped.selector,
                            since_s=prom_scraped.end - prom_scraped.start + 10,
                            until=prom_scraped.end + 3))
    rise = next(s for s in ev.signals if s.key == "errors.rise_with_concurrency")
    assert rise.answer is Answer.YES, rise.detail
    rows = {r["level"]: r for r in ev.data["prometheus"]["tables"]["concurrency"]["rows"]}
    one, ten = prom_scraped.measured[1], prom_scraped.measured[10]
    assert one.failed == 0 and ten.failed > ten.sent / 2  # what the client saw
    single = rows["1"]
    assert single["errors"] == 0
    assert single["requests"] == pytest.approx(one.sent, rel=0.25)
    busy = [r for level, r in rows.items() if level != "1" and r["requests"] >= 50]
    worst = max(busy, key=lambda r: r["requests"])
    assert worst["error_rate"] == pytest.approx(ten.failed / ten.sent, abs=0.1)
    total = sum(r["requests"] for r in rows.values())
    assert total == pytest.approx(one.sent + ten.sent, rel=0.1)
    verdict = diagnose(Case(evidence=(ev,)))
    assert verdict.verdict != "healthy" and verdict.causes[0].id == "shared-instance"


def test_a_real_service_joined_with_its_logs_gets_the_cause(prom_scraped: PromScraped) -> None:
    from probes.pipeline import analyze_paths

    assert prom_scraped.log_path is not None and prom_scraped.log_path.stat().st_size > 0
    ev = collect(PromTarget(prom_scraped.url, prom_scraped.selector,
                            since_s=prom_scraped.end - prom_scraped.start + 10,
                            until=prom_scraped.end + 3))
    joined = analyze_paths([str(prom_scraped.log_path)], extra=[ev])
    assert joined.verdict.verdict == "shared-instance", joined.verdict.summary
    keys = {s.key for e in joined.case.evidence if e.probe == "prometheus" for s in e.signals}
    assert "errors.rise_with_concurrency" in keys


def test_401_is_a_partial_result_naming_what_is_missing(prom_basic_auth: PromFleet) -> None:
    ev = collect(_target(prom_basic_auth, "fleet-oom"))
    assert ev.error is None  # the server answered: not unreachable
    assert all(s.answer is Answer.UNKNOWN for s in ev.signals)
    assert all("401" in s.reason for s in ev.signals)
    assert ev.inputs[0].error is not None and "401" in ev.inputs[0].error
    assert "no credentials" in ev.inputs[0].error
    user, password = prom_basic_auth.auth or ("", "")
    ok = collect(_target(prom_basic_auth, "fleet-oom",
                         auth=PromAuth(username=user, password=password)))
    assert _signals(ok)["pods.oomkilled"] is Answer.YES
    wrong = collect(_target(prom_basic_auth, "fleet-oom",
                            auth=PromAuth(username=user, password="not-it")))
    assert all(s.answer is Answer.UNKNOWN for s in wrong.signals)
    assert "basic auth" in (wrong.inputs[0].error or "")


def test_a_query_the_server_times_out(prom_query_timeout: PromFleet) -> None:
    assert prom_query_timeout.heavy_query
    with PromClient(prom_query_timeout.url) as client:
        got = client.query(prom_query_timeout.heavy_query, float(prom_query_timeout.end))
    assert got.failure is not None and got.failure.kind == TIMEOUT
    assert "timed out" in got.failure.message
    ev = collect(_target(prom_query_timeout, "fleet-healthy"))
    for q in ev.data["prometheus"]["queries"]:
        assert q.get("failure") in (None, TIMEOUT), q
    for s in ev.signals:
        if s.answer is Answer.UNKNOWN and "timed out" in s.reason:
            assert "the server timed out the query" in s.reason


def test_a_result_too_large_is_bounded_and_said(prom_fleet: PromFleet) -> None:
    ev = collect(_target(prom_fleet, "fleet-healthy", max_bytes=20_000))
    reasons = " ".join(s.reason for s in ev.signals)
    assert "larger than" in reasons
    assert any(k.startswith("query too large") for k in ev.inputs[0].skipped)
    answered = [s for s in ev.signals if s.answer is not Answer.UNKNOWN]
    assert answered  # the small answers still came through


def test_cancel_stops_the_probe(prom_fleet: PromFleet) -> None:
    cancel = threading.Event()
    cancel.set()
    ev = collect(_target(prom_fleet, "fleet-oom"), cancel)
    assert all(s.answer is Answer.UNKNOWN for s in ev.signals)


@pytest.fixture(scope="module")
def proxy(prom_fleet: PromFleet, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    missing = nginx_missing()
    if missing:
        pytest.skip(missing)
    with prom_proxy(prom_fleet.url, tmp_path_factory.mktemp("nginx")) as p:
        yield p


def test_a_gateway_that_allows_only_queries(prom_fleet: PromFleet, proxy,  # type: ignore[no-untyped-def]
                                           fleet_evidence: dict[str, Evidence]) -> None:
    ev = collect(PromTarget(proxy.urls["queries_only"], 'namespace="fleet-oom"',
                            since_s=prom_fleet.end - prom_fleet.start, until=prom_fleet.end))
    assert _signals(ev) == _signals(fleet_evidence["fleet-oom"])
    refused = [q for q in ev.data["prometheus"]["queries"] if q.get("failure")]
    assert refused and all("403" in q["message"] for q in refused)


def test_403_everywhere_names_the_permission(prom_fleet: PromFleet, proxy) -> None:  # type: ignore[no-untyped-def]
    ev = collect(PromTarget(proxy.urls["forbidden"], 'namespace="fleet-oom"',
                            since_s=3600, until=prom_fleet.end))
    assert ev.error is None
    assert all(s.answer is Answer.UNKNOWN and "403" in s.reason and "prometheus:read" in s.reason
               for s in ev.signals)


def test_429_is_retried_after_what_the_server_says(prom_fleet: PromFleet, proxy,  # type: ignore[no-untyped-def]
                                                   fleet_evidence: dict[str, Evidence]) -> None:
    before = len(proxy.statuses())
    ev = collect(PromTarget(proxy.urls["rate_limited"], 'namespace="fleet-ceiling"',
                            since_s=prom_fleet.end - prom_fleet.start, until=prom_fleet.end))
    assert _signals(ev) == _signals(fleet_evidence["fleet-ceiling"])
    seen = proxy.statuses()[before:]
    assert 429 in [st for _p, st in seen], seen
    for i, (path, status) in enumerate(seen):  # every 429 was followed by a retry
        if status == 429:
            assert any(p == path for p, _s in seen[i + 1:]), (path, seen)


def test_a_login_redirect_is_reported_not_followed(prom_fleet: PromFleet, proxy) -> None:  # type: ignore[no-untyped-def]
    ev = collect(PromTarget(proxy.urls["login"], 'namespace="fleet-oom"', since_s=3600,
                            until=prom_fleet.end))
    assert all(s.answer is Answer.UNKNOWN for s in ev.signals)
    assert "redirected to" in (ev.inputs[0].error or "")
    assert "/oauth2/sign_in" in (ev.inputs[0].error or "")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def test_cli_end_to_end(prom_fleet: PromFleet) -> None:
    argv = [sys.executable, "-m", "tui.commands.cli", "analyze", "--prometheus", prom_fleet.url,
            "--selector", 'namespace="fleet-oom"', "--since", "2h", "--until",
            _iso(prom_fleet.end)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("verdict: oom")
    assert "kube_pod_container_status_last_terminated_reason" in out.stdout
    doc = json.loads(subprocess.run([*argv, "-o", "json"], capture_output=True, text=True,
                                    timeout=120).stdout)
    assert doc["verdict"] == "oom"
    (metrics,) = doc["metrics"]
    assert metrics["selector"] == 'namespace="fleet-oom"'
    assert all(q["promql"] for q in metrics["queries"])
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parent.parent / "schemas" /
                         "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_kubectl_plugin_asks_for_the_workloads_pods(prom_fleet: PromFleet,
                                                    tmp_path: Path) -> None:
    """``kubectl scaledoc -n NS deploy/agent --prometheus URL``: the fake API server (real
    kubernetes client over HTTP) has deploy/agent in namespace "agents"; the probe is asked
    for that namespace and the pods the Deployment makes, and joins the pods' evidence."""
    from tests.kube_server import NS, RS_HASH, FakeKube, load_agent_scenario
    from tui.commands.kubectl import kubectl_main

    got: list[Case] = []

    def report(case: Case, *fmt: object) -> int:
        got.append(case)
        return 0

    with FakeKube() as fake:
        load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        base = ["--kubeconfig", str(cfg), "deploy/agent", "--report", "--since", "2h",
                "--until", _iso(prom_fleet.end), "--prometheus", prom_fleet.url]
        assert kubectl_main(base, report, lambda case, **kw: 0) == 0
        (prom,) = [e for e in got[-1].evidence if e.probe == "prometheus"]
        selector = prom.data["prometheus"]["selector"]
        assert selector.startswith(f'namespace="{NS}",pod=~"agent-')
        import re

        regex = selector.split('pod=~"', 1)[1][:-1].replace("\\\\", "\\")
        assert re.fullmatch(regex, f"agent-{RS_HASH}-x2k9p")
        # this fleet's history is in other namespaces: asked, found nothing, said so
        assert all(s.answer is Answer.UNKNOWN for s in prom.signals)
        assert "no series" in (prom.inputs[0].error or "")
        # --prom-selector names the series when they are labelled otherwise
        assert kubectl_main([*base, "--prom-selector", 'namespace="fleet-oom"'], report,
                            lambda case, **kw: 0) == 0
        merged = got[-1].signals()["pods.oomkilled"]
        assert merged.answer is Answer.YES and set(merged.probe.split("+")) == {"kube",
                                                                               "prometheus"}
        # an unreachable server: the report still printed, exit 3
        code = kubectl_main([*base[:-1], "http://127.0.0.1:9"], report, lambda case, **kw: 0)
        assert code == 3
        assert fake.verbs() == {"GET"}


LAB = Path(__file__).resolve().parent / "lab" / "scenarios"


@pytest.mark.parametrize(("ns", "scenario"), [
    ("fleet-oom", "py-oom"),
    ("fleet-ceiling", "py-platform-timeout-nginx"),
    ("fleet-ratelimit", "py-upstream-rate-limit"),
    ("fleet-rise", "py-shared-instance-autogen"),
    ("fleet-healthy", "py-healthy-gunicorn-autogen"),
])
def test_joined_with_logs_of_the_same_fault(ns: str, scenario: str, prom_fleet: PromFleet,
                                            fleet_evidence: dict[str, Evidence]) -> None:
    """The fleet's metrics joined with real logs of the same fault (a lab capture of a
    real service under load, tests/lab/) give that fault: the two kinds of evidence add
    up, neither drowns the other. Ground truth of each is its own (the generator's counts,
    the lab run's measured truth.json)."""
    from probes.pipeline import analyze_paths

    folder = LAB / scenario
    recorded = json.loads((folder / "truth.json").read_text())
    truth = recorded["expected"]
    assert truth == prom_fleet.scenarios[ns].truth
    inputs = [str(folder / name) for name in recorded["inputs"]]
    joined = analyze_paths(inputs, extra=[fleet_evidence[ns]])
    assert joined.verdict.verdict == truth, joined.verdict.summary
    assert any(e.probe == "prometheus" for e in joined.case.evidence)


def test_the_ceiling_is_said_in_the_units_the_advice_reads(fleet_evidence: dict[str, Evidence]
                                                           ) -> None:
    """latency.ceiling's value is milliseconds, as the logs and the ramp give it: the fix
    then names the gateway's 30 s limit (a value in seconds once made it "~0 s")."""
    from probes.pipeline import Analysis

    ev = fleet_evidence["fleet-ceiling"]
    sig = next(s for s in ev.signals if s.key == "latency.ceiling")
    assert sig.answer is Answer.YES and sig.value == 30_000
    top = Analysis.of_case(Case(evidence=(ev,))).verdict.causes[0]
    assert top.id == "platform-timeout"
    assert "~30 s" in (top.broken or "") and "~0 s" not in (top.broken or "")


def test_tls_with_the_servers_own_ca(prom_fleet: PromFleet, proxy,  # type: ignore[no-untyped-def]
                                     fleet_evidence: dict[str, Evidence]) -> None:
    """HTTPS through a real nginx with a certificate of a private CA: refused without
    ``--prom-ca`` (the verification error said, exit 3 as unreachable), read with it."""
    url = proxy.urls["tls"]
    window = {"since_s": prom_fleet.end - prom_fleet.start, "until": float(prom_fleet.end)}
    refused = collect(PromTarget(url, 'namespace="fleet-oom"', **window))  # type: ignore[arg-type]
    assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error
    ok = collect(PromTarget(url, 'namespace="fleet-oom"', auth=PromAuth(ca_file=str(proxy.ca)),
                            **window))  # type: ignore[arg-type]
    assert ok.error is None
    assert _signals(ok) == _signals(fleet_evidence["fleet-oom"])


def test_a_selector_that_matches_nothing_is_said(prom_fleet: PromFleet) -> None:
    out = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", "--prometheus",
                          prom_fleet.url, "--selector", 'namespace="fleet-oomm"', "--since",
                          "2h", "--until", _iso(prom_fleet.end)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0  # the server answered: a partial result, not an input error
    assert 'no series of the metrics looked for matched {namespace="fleet-oomm"}' in out.stderr
    assert out.stdout.startswith("verdict: inconclusive")
