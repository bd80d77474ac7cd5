"""Pod signals on real captures (tests/kube_fixtures, attribution in its SOURCES.md).

The golden table says, per fixture, what a careful operator reading it would conclude;
the keys not listed are not asserted for that file. Healthy controls must stay quiet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from probes.evidence import Answer
from probes.kube import pod_signals, pods, read_kube_path
from probes.kube.termination import Ended

FIX = Path(__file__).parent / "kube_fixtures"
GOLDEN = Path(__file__).parent / "golden"

Y, N, U = Answer.YES, Answer.NO, Answer.UNKNOWN

# fixture -> expected answers (by signal key)
EXPECTED: dict[str, dict[str, Answer]] = {
    # OOMKilled on a pod that is Running and Ready now: only lastState tells.
    "pod-oomkilled-137-restarts101-is-healthy.yaml": {
        "pods.oomkilled": Y, "pods.restarts": Y, "pods.no_memory_limit": N,
        "pods.probe_config_risky": N, "process.multiple_workers": N},
    # OOM in state.terminated of a Job pod (restartPolicy Never), no OOM event anywhere.
    "podlist-oomkilled-137-job-troubleshoot.json": {
        "pods.oomkilled": Y, "pods.restarts": Y, "pods.no_memory_limit": N},
    "describe-pod-oomkilled-137-crashloop-memory-eater-holmesgpt.txt": {
        "pods.oomkilled": Y, "pods.restarts": Y, "pods.no_memory_limit": N,
        "pods.probe_killed": N},
    "describe-pod-oomkilled-137-crashloop-busybox-holmesgpt.txt": {
        "pods.oomkilled": Y, "pods.restarts": Y, "pods.no_memory_limit": N},
    # Exit 137 after an eviction is not an OOM kill.
    "describe-pod-evicted-ephemeral-storage-exit137-not-oom-k8s-issue-122932.txt": {
        "pods.oomkilled": N, "pods.restarts": Y},
    "describe-pod-evicted-memory-same-probe-delay60-k9s-issue-174.txt": {
        "pods.oomkilled": N, "pods.restarts": Y, "pods.probe_config_risky": Y,
        "pods.no_memory_limit": N},
    # Liveness kills from events alone (the pod objects are not in the capture).
    "eventlist-liveness-failed-killing-imagepull-minikube-troubleshoot.json": {
        "pods.probe_killed": Y, "pods.oomkilled": U, "pods.restarts": U},
    # Liveness kill visible only in status: clean exit under restartPolicy Always.
    "pod-liveness-killed-crashloop-podinfo-is-healthy.yaml": {
        "pods.probe_killed": Y, "pods.oomkilled": N, "pods.restarts": Y,
        "pods.no_memory_limit": Y},
    # Events tables (kubectl get events / kubectl events): no pod objects.
    "events-liveness-probe-timeout-killing-inspektor-gadget-pr-187.txt": {
        "pods.probe_killed": Y, "pods.oomkilled": U},
    # OOM is not visible in events: only BackOff. Pods unknown, OOM unknown (not "no").
    "events-pod-oomkilled-backoff-busybox-holmesgpt.txt": {
        "pods.probe_killed": N, "pods.oomkilled": U, "pods.restarts": U},
    "events-readiness-probe-failed-timeout-z2jh-issue-1357.txt": {
        "pods.probe_killed": N},
    # Same check for liveness and readiness.
    "pod-same-liveness-readiness-probe-restarts-no-memlimit-packageserver-openshift-insights"
    ".json": {
        "pods.probe_config_risky": Y, "pods.no_memory_limit": Y, "pods.restarts": Y,
        "pods.oomkilled": N},
    "pod-same-probe-initialdelay3-exit255-config-operator-openshift-insights.json": {
        "pods.probe_config_risky": Y, "pods.oomkilled": N},
    "describe-pod-same-probe-endpoint-restarts27-sockshop-holmesgpt.txt": {
        "pods.probe_config_risky": Y, "pods.restarts": Y, "pods.oomkilled": N},
    "describe-pod-same-tcp-probe-delay0-restarts-microk8s-issue-770.txt": {
        "pods.probe_config_risky": Y, "pods.restarts": Y},
    "podlist-high-restart-counts-k3s-troubleshoot.json": {
        "pods.restarts": Y, "pods.oomkilled": N, "pods.probe_config_risky": Y,
        "pods.no_memory_limit": Y},
    # CrashLoopBackOff from app exits: restarts yes, OOM no.
    "pod-crashloopbackoff-exit1-no-limits-gitops-engine.yaml": {
        "pods.restarts": Y, "pods.oomkilled": N, "pods.no_memory_limit": Y},
    "podlist-crashloop-containercannotrun-127-troubleshoot.json": {
        "pods.restarts": Y, "pods.oomkilled": N},
    "pod-initcontainer-crashloop-7527-restarts-openshift-insights.json": {
        "pods.restarts": Y, "pods.oomkilled": N, "pods.no_memory_limit": N},
    "describe-pod-crashloop-exit1-restarts63-holmesgpt.txt": {
        "pods.restarts": Y, "pods.oomkilled": N, "pods.probe_killed": N},
    # Healthy controls.
    "pod-healthy-guaranteed-nginx-gke-k9s.json": {
        "pods.restarts": N, "pods.oomkilled": N, "pods.probe_killed": N,
        "pods.probe_config_risky": N, "pods.no_memory_limit": N, "process.multiple_workers": N},
    "pod-healthy-coredns-probes-memlimit-eks-is-healthy.yaml": {
        "pods.restarts": N, "pods.oomkilled": N, "pods.probe_killed": N,
        "pods.probe_config_risky": N, "pods.no_memory_limit": N},
    "pod-healthy-running-no-limits-gitops-engine.yaml": {
        "pods.restarts": N, "pods.oomkilled": N, "pods.probe_killed": N,
        "pods.no_memory_limit": Y},
    "pod-readiness-probe-never-ready-gitops-engine.yaml": {
        "pods.restarts": N, "pods.probe_killed": N, "pods.probe_config_risky": N},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name: str) -> None:
    ev = read_kube_path(FIX / name)
    assert ev is not None and ev.error is None
    got = {s.key: s for s in ev.signals}
    for key, answer in EXPECTED[name].items():
        assert got[key].answer is answer, (key, got[key].detail)
        if answer is Y:
            assert got[key].examples, key


def test_every_signal_key_is_in_the_contract() -> None:
    from probes.signals import SIGNALS

    ev = read_kube_path(FIX / "podlist-high-restart-counts-k3s-troubleshoot.json")
    assert ev is not None
    assert {s.key for s in ev.signals} <= set(SIGNALS)


def _load(name: str) -> list[dict[str, Any]]:
    doc = json.loads((FIX / name).read_text())
    return list(doc["items"]) if "items" in doc else [doc]


def test_oom_example_points_at_last_state() -> None:
    pods = _load("pod-oomkilled-137-restarts101-is-healthy.converted.json")
    oom = {s.key: s for s in pod_signals(pods, [])}["pods.oomkilled"]
    ex = oom.examples[0]
    assert ex.source == "pod/config-db-5867b6596f-gs79g"
    assert ex.text.startswith("lastState.terminated: reason=OOMKilled exitCode=137")


def test_exit_137_alone_is_not_oom() -> None:
    """Same pod, reason rewritten to Error: 137 must then read as a kill, not an OOM."""
    pods = _load("pod-oomkilled-137-restarts101-is-healthy.converted.json")
    pods[0]["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] = "Error"
    sig = {s.key: s for s in pod_signals(pods, [])}
    assert sig["pods.oomkilled"].answer is N
    assert "not an OOM kill" in sig["pods.oomkilled"].detail


def test_liveness_kill_needs_failure_then_killing() -> None:
    """In the minikube EventList, crashpod pods get "Killing: Stopping container" with no
    probe failure (a deletion): they must not be reported as probe kills."""
    events = _load("eventlist-liveness-failed-killing-imagepull-minikube-troubleshoot.json")
    sig = {s.key: s for s in pod_signals([], events)}["pods.probe_killed"]
    assert sig.answer is Y
    assert {e.source for e in sig.examples} == {"pod/failing-liveness-pod"}
    assert "failed liveness probe, will be restarted" in sig.examples[0].text


def test_probe_kill_classifies_termination_with_events() -> None:
    """Pod status from the podinfo capture plus liveness events: the termination is then
    classified as a probe kill at full strength, not inferred."""
    pods = _load("pod-liveness-killed-crashloop-podinfo-is-healthy.converted.json")
    name = pods[0]["metadata"]["name"]
    ns = pods[0]["metadata"]["namespace"]
    events = [
        {"kind": "Event", "involvedObject": {"kind": "Pod", "name": name, "namespace": ns},
         "reason": reason, "message": msg, "type": "Warning", "count": 3,
         "lastTimestamp": ts, "firstTimestamp": ts}
        for reason, msg, ts in (
            ("Unhealthy", "Liveness probe failed: HTTP probe failed", "2024-11-20T14:30:25Z"),
            ("Killing", "Container test failed liveness probe, will be restarted",
             "2024-11-20T14:30:39Z"))]
    from probes.kube import PodFacts, pod_data

    facts = PodFacts(pods, events)
    assert [t.ended for t in facts.terms] == [Ended.PROBE_KILL]
    sig = {s.key: s for s in pod_signals(pods, events)}["pods.probe_killed"]
    assert sig.answer is Y and sig.strength == 1.0
    tl = pod_data(facts)["timeline"][name]
    whats = [e["what"] for e in tl]
    assert whats.index("event:Unhealthy") < whats.index("event:Killing")


def test_replicas_compared_and_multiple_workers() -> None:
    """Three replicas built from the coredns capture: one on another node with restarts."""
    base = _load("pod-healthy-guaranteed-nginx-gke-k9s.json")[0]
    pods = []
    for i in range(3):
        p = json.loads(json.dumps(base))
        p["metadata"]["name"] = f"web-6d4cf56db6-{i}"
        p["metadata"]["labels"] = {"pod-template-hash": "6d4cf56db6"}
        p["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web-6d4cf56db6",
                                             "controller": True}]
        pods.append(p)
    pods[2]["spec"]["nodeName"] = "node-b"
    pods[2]["status"]["containerStatuses"][0]["restartCount"] = 4
    from probes.kube import PodFacts, pod_data

    sig = {s.key: s for s in pod_signals(pods, [])}
    assert sig["process.multiple_workers"].answer is Y
    assert sig["process.multiple_workers"].value == 3
    assert "deploy/web" in sig["process.multiple_workers"].examples[0].text
    cmp = pod_data(PodFacts(pods, []))["replicas"]
    assert len(cmp) == 1 and cmp[0]["owner"].endswith("deploy/web")
    assert {"node", "restarts"} <= set(cmp[0]["differs"])
    assert cmp[0]["outliers"]["restarts"] == ["web-6d4cf56db6-2"]


def test_observed_startup_longer_than_initial_delay() -> None:
    """coredns (liveness delay 60 s) made to take 90 s from start to Ready."""
    import yaml

    pod = yaml.safe_load((FIX / "pod-healthy-coredns-probes-memlimit-eks-is-healthy.yaml")
                         .read_text())
    status = pod["status"]
    status["containerStatuses"][0]["state"] = {"running": {"startedAt": "2024-01-01T00:00:00Z"}}
    status["containerStatuses"][0]["ready"] = True
    status["conditions"] = [{"type": "Ready", "status": "True",
                             "lastTransitionTime": "2024-01-01T00:01:30Z"}]
    sig = {s.key: s for s in pod_signals([pod], [])}["pods.probe_config_risky"]
    assert sig.answer is Y
    assert "observed start-up 90s" in sig.examples[0].text


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.glob("oom-*"))
                         + sorted(p.name for p in GOLDEN.glob("probe-kill-*")))
def test_golden_cases_carry_their_signal(case: str) -> None:
    expected = json.loads((GOLDEN / case / "expected.json").read_text())["verdict"]
    ev = read_kube_path(GOLDEN / case)
    assert ev is not None
    got = {s.key: s.answer for s in ev.signals}
    if expected == "oom":
        assert got["pods.oomkilled"] is Y
    else:
        assert Y in (got["pods.probe_killed"], got["pods.probe_config_risky"])
        assert got["pods.oomkilled"] is not Y


@pytest.mark.parametrize("name", sorted(p.name for p in FIX.iterdir()
                                        if p.suffix in (".json", ".yaml", ".txt")))
def test_evidence_is_json_and_round_trips(name: str) -> None:
    """Every fixture that reads as Kubernetes gives JSON-safe Evidence that survives
    ``Evidence.from_json`` (what ``--save-case`` and the TUI rely on)."""
    from probes.evidence import Evidence

    ev = read_kube_path(FIX / name)
    if ev is None:
        return  # events text / node describe: not read by this probe
    doc = json.loads(json.dumps(ev.to_json()))
    back = Evidence.from_json(doc)
    assert [(s.key, s.answer, len(s.examples)) for s in back.signals] == \
        [(s.key, s.answer, len(s.examples)) for s in ev.signals]


def test_event_excerpts_are_redacted() -> None:
    events = _load("eventlist-liveness-failed-killing-imagepull-minikube-troubleshoot.json")
    for ev in events:
        if ev["reason"] == "Killing" and "liveness" in ev["message"]:
            ev["message"] += " (probe header Authorization: Bearer abcdefghijklmnop)"
    sig = {s.key: s for s in pod_signals([], events)}["pods.probe_killed"]
    assert "abcdefghijklmnop" not in sig.examples[0].text
    assert "Authorization: ***" in sig.examples[0].text


def test_events_table_columns() -> None:
    from probes.kube.events_text import parse_events_table

    text = (FIX / "events-pod-oomkilled-backoff-busybox-holmesgpt.txt").read_text()
    rows = parse_events_table(text)
    assert [r["reason"] for r in rows] == ["Scheduled", "Pulled", "Created", "Started",
                                           "BackOff"]
    assert rows[-1]["count"] == 256 and rows[-1]["type"] == "Warning"
    assert rows[-1]["involvedObject"] == {"kind": "Pod", "namespace": "",
                                          "name": "giant-narwhal-6958c5bdd8-69gtn"}
    gadget = parse_events_table(
        (FIX / "events-liveness-probe-timeout-killing-inspektor-gadget-pr-187.txt").read_text())
    assert gadget[8]["reason"] == "Killing"
    assert gadget[8]["lastTimestamp"] == "2021-07-01T13:58:59Z"
    assert gadget[-1]["message"].endswith("\n20")  # the cut last line joins its row


def test_same_events_from_describe_and_table_count_once() -> None:
    """The busybox golden case holds the pod's describe (with its Events block) and
    ``kubectl events --for`` of the same pod, without namespace: 5 events, not 10,
    all attached to the described pod."""
    ev = read_kube_path(GOLDEN / "oom-busybox-describe")
    assert ev is not None
    assert len(ev.data["events"]) == 5
    assert {e["namespace"] for e in ev.data["events"]} == {"app-02"}
    timeline = ev.data["timeline"]["giant-narwhal-6958c5bdd8-69gtn"]
    assert sum(1 for e in timeline if e["what"] == "event:BackOff") == 1


# --- examples: made (redacted) only when shown -----------------------------------------


def test_signals_redact_only_the_examples_they_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """500 unready replicas of one workload: the signals count all of them and make
    (redact) only the ``MAX_EXAMPLES`` examples they show."""
    base = json.loads((FIX / "pod-readiness-probe-never-ready-gitops-engine.converted.json")
                      .read_text())
    replicas = []
    for i in range(500):
        pod = json.loads(json.dumps(base))
        pod["metadata"].update(name=f"web-{i}", ownerReferences=[
            {"kind": "ReplicaSet", "name": "web-5d8f", "controller": True}])
        pod["metadata"].setdefault("labels", {})["pod-template-hash"] = "5d8f"
        replicas.append(pod)
    facts = pods.PodFacts(replicas, [])
    calls: list[str] = []
    monkeypatch.setattr(pods, "redact_text", lambda text: calls.append(text) or text)
    for signal in (pods._not_ready, pods._multiple_workers):
        calls.clear()
        result = signal(facts)
        assert result.value == 500
        assert len(result.examples) == pods.MAX_EXAMPLES
        assert len(calls) <= 2 * pods.MAX_EXAMPLES, (signal.__name__, len(calls))
