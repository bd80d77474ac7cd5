"""Pasted kubectl text from public issues and peers' recorded fixtures (not written by us):
``get pods`` with and without ``-o wide`` / ``-A`` / header, ``get deploy,rs``, ``top pods``,
event rows without their header, describe of several pods, describe fragments.

Every file is in tests/kube_fixtures/real/ with its origin in that folder's SOURCES.md; the
describe captures joined below are in tests/kube_fixtures/ (their SOURCES.md, part B).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.evidence import Answer, Signal
from probes.ingest.sniff import classify_head
from probes.kube import looks_like_kube_text, pod_signals, read_kube_path
from probes.kube.paste import age_seconds, parse_paste
from probes.signals import SIGNALS

REAL = Path(__file__).parent / "kube_fixtures" / "real"
FIX = Path(__file__).parent / "kube_fixtures"
Y, N, U = Answer.YES, Answer.NO, Answer.UNKNOWN
POD_KEYS = ("pods.restarts", "pods.oomkilled", "pods.probe_killed", "pods.unschedulable",
            "pods.not_ready")
KUBE_KEYS = {k for k, spec in SIGNALS.items() if "kube" in spec.probes}

# file -> what a careful reader of the paste concludes (keys not listed are not asserted)
EXPECTED: dict[str, dict[str, Answer]] = {
    # k8s#86942: header-less -o wide rows, one pod Pending on <none>, FailedScheduling row
    "get-pods-wide-noheader-pending-insufficient-memory-k8s-issue-86942.txt": {
        "pods.unschedulable": Y, "pods.not_ready": N, "pods.no_memory_limit": U,
        "pods.probe_config_risky": U,
        # rows count restarts but never say why a container ended: OOM is not known
        "pods.oomkilled": U},
    # k8s#17488: -A rows without header (2015 format), 8 Pending pods
    "get-pods-all-namespaces-noheader-pending-k8s-issue-17488.txt": {
        "pods.unschedulable": Y, "pods.restarts": N, "pods.not_ready": N},
    # llm-d-inference-sim#45: deploy 0/1, pod 0/1 Running 6 restarts, liveness 404 + Killing
    "get-deploy-rs-pods-not-ready-liveness-404-llm-d-inference-sim-issue-45.txt": {
        "pods.not_ready": Y, "pods.restarts": Y, "pods.probe_killed": Y, "pods.oomkilled": U,
        "pods.unschedulable": N},
    # hmcts#28772: STATUS OOMKilled plus a Last State fragment with no pod name
    "get-pods-oomkilled-last-state-hmcts-cnp-flux-config-pr-28772.txt": {
        "pods.oomkilled": Y, "pods.restarts": Y},
    # argo-workflows#190: axdb-2 Pending for 2d in a table with a header
    "get-pods-pending-statefulset-argo-workflows-issue-190.txt": {
        "pods.unschedulable": Y, "pods.not_ready": N},
    # HolmesGPT's recorded EKS cluster: crash loops, image pulls, 0/1 Running, Pending
    "get-pods-wide-crashloop-pending-not-ready-holmesgpt.txt": {
        "pods.restarts": Y, "pods.unschedulable": Y, "pods.not_ready": Y, "pods.oomkilled": U,
        "process.multiple_workers": Y},
    # kubebb#130: readiness failure; FailedScheduling later Scheduled (resolved)
    "get-events-all-namespaces-noheader-kubebb-core-pr-130.txt": {
        "pods.not_ready": Y, "pods.unschedulable": N, "pods.probe_killed": N,
        "pods.restarts": U},
    # bank-of-anthos#261: one row whose message wrapped onto the next line
    "get-events-noheader-wrapped-readiness-bank-of-anthos-issue-261.txt": {
        "pods.not_ready": Y},
    # duyet/charts#241: -o wide rows without header
    "get-events-wide-noheader-readiness-refused-duyet-charts-pr-241.txt": {
        "pods.not_ready": Y, "pods.unschedulable": N},
    # k8s#84178: get pod then describe of the same pod, cut before Containers
    "get-pod-then-describe-startup-probe-not-ready-k8s-issue-84178.txt": {
        "pods.not_ready": Y, "pods.no_memory_limit": U, "pods.probe_config_risky": U},
    # skaffold#5427: get all with pod/ prefixes and service rows
    "get-all-pod-prefix-not-ready-skaffold-issue-5427.txt": {
        "pods.not_ready": Y, "pods.restarts": N},
    # calcom-helm#10: liveness failures x83 and restart back-offs, no Killing row pasted
    "describe-events-liveness-timeout-backoff-calcom-helm-issue-10.txt": {
        "pods.probe_killed": Y, "pods.not_ready": Y},
    # k8s-device-plugin#430: describe with Conditions "PodScheduled False", node <none>
    "describe-pod-pending-podscheduled-false-gpu-k8s-device-plugin-issue-430.txt": {
        "pods.unschedulable": Y, "pods.restarts": N, "pods.not_ready": N},
    # kubectl#1198: top only, nothing about pod state
    "top-pod-containers-kubectl-issue-1198.txt": {
        "pods.restarts": U, "pods.not_ready": U, "pods.unschedulable": U},
}


def _signals(path: Path) -> dict[str, Signal]:
    ev = read_kube_path(path)
    assert ev is not None and ev.error is None, path
    keys = [s.key for s in ev.signals]
    assert len(keys) == len(set(keys)), f"a key answered twice: {keys}"
    return {s.key: s for s in ev.signals}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pasted_text_gives_the_pod_signals(name: str) -> None:
    got = _signals(REAL / name)
    for key, answer in EXPECTED[name].items():
        sig = got[key]
        assert sig.answer is answer, (key, sig.detail)
        if answer is Y:
            assert sig.examples, key
        if answer is N:
            assert sig.detail, key  # says what was looked at
        if answer is U:
            assert sig.reason, key  # says why not


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_kube_key_gets_exactly_one_signal(name: str) -> None:
    assert set(_signals(REAL / name)) == KUBE_KEYS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sniffed_as_kube_and_recognised(name: str) -> None:
    data = (REAL / name).read_bytes()
    kind, _fmt, _why = classify_head(name + ".paste", data, True, False)
    assert kind == "kube", name
    assert looks_like_kube_text(data.decode())


BROKEN = [n for n in EXPECTED if not n.startswith("top-")] + [
    # real captures in tests/kube_fixtures whose pods are visibly broken
    "pod-imagepullbackoff-gitops-engine.yaml", "podlist-errimagepull-troubleshoot.json",
    "pod-readiness-probe-never-ready-gitops-engine.yaml",
    "describe-pod-errimagepull-holmesgpt.txt",
    "describe-pod-exit139-segfault-kube-rs-issue-331.txt",
]


@pytest.mark.parametrize("name", BROKEN)
def test_visibly_broken_pods_never_all_no(name: str) -> None:
    path = REAL / name if (REAL / name).exists() else FIX / name
    got = _signals(path)
    assert any(got[k].answer is Y for k in POD_KEYS), {k: got[k].detail for k in POD_KEYS}


def test_get_pods_wide_rows_become_pods() -> None:
    # HolmesGPT's EKS capture: each row's status, restarts and node as the API would say
    p = parse_paste((REAL / "get-pods-wide-crashloop-pending-not-ready-holmesgpt.txt").read_text())
    assert len(p.pods) == 25 and not p.skipped
    pods = {pod["metadata"]["name"]: pod for pod in p.pods}
    crash = pods["analytics-exporter-fast-8cf8c9446-6rqwc"]
    assert crash["status"]["containerStatuses"][0]["restartCount"] == 295
    assert crash["status"]["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "CrashLoopBackOff"}}
    assert crash["spec"]["nodeName"] == "ip-172-31-8-128.us-east-2.compute.internal"
    # Deployment pods get their ReplicaSet from the name, as the API would show
    assert crash["metadata"]["ownerReferences"][0]["name"] == "analytics-exporter-fast-8cf8c9446"
    assert pods["user-profile-import"]["status"]["phase"] == "Pending"
    assert "nodeName" not in pods["user-profile-import"]["spec"]
    init = pods["logging-agent"]["status"]["initContainerStatuses"][0]
    assert init["restartCount"] == 296 and init["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    unready = pods["search-engine-service"]["status"]["containerStatuses"][0]
    assert unready["ready"] is False and "running" in unready["state"]


def test_not_ready_example_names_the_row() -> None:
    got = _signals(REAL / "get-pods-wide-crashloop-pending-not-ready-holmesgpt.txt")
    (ex,) = got["pods.not_ready"].examples
    assert ex.source == "pod/search-engine-service"
    assert "0/1     Running" in ex.text


def test_unschedulable_example_carries_the_scheduler_reason() -> None:
    # k8s#86942: the FailedScheduling row was pasted apart from the pod rows
    sig = _signals(REAL / "get-pods-wide-noheader-pending-insufficient-memory-k8s-issue-86942.txt")[
        "pods.unschedulable"]
    assert sig.strength == 1.0
    assert sig.examples[0].source == "pod/pt-4c12g-2"
    assert any("Insufficient memory" in e.text for e in sig.examples)


def test_stuck_pending_for_another_reason_is_weaker() -> None:
    # gitops-engine ImagePullBackOff pod: scheduled, Pending, image cannot be pulled
    sig = _signals(FIX / "pod-imagepullbackoff-gitops-engine.yaml")["pods.unschedulable"]
    assert sig.answer is Y and sig.strength < 1.0
    assert "ImagePullBackOff" in sig.examples[0].note


def test_unschedulable_from_pod_scheduled_condition() -> None:
    # the status block pasted in kubernetes/kubernetes#52166 (2017), put in a pod object
    pod = {"metadata": {"name": "pending-pod", "namespace": "default"},
           "spec": {"containers": [{"name": "app"}]},
           "status": {"conditions": [{
               "lastProbeTime": None, "lastTransitionTime": "2017-09-07T11:43:02Z",
               "message": "No nodes are available that match all of the following predicates::"
                          " NodeUnderMemoryPressure (1).",
               "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
               "phase": "Pending", "qosClass": "BestEffort"}}
    sig = {s.key: s for s in pod_signals([pod], [])}["pods.unschedulable"]
    assert sig.answer is Y and "NodeUnderMemoryPressure" in sig.examples[0].text


def test_failed_scheduling_of_a_pod_missing_from_the_dump() -> None:
    # a healthy pod dump (k9s's GKE nginx) beside a namespace's real EventList that holds
    # FailedScheduling for other pods (troubleshoot's minikube events): pods filtered by
    # label while events were not
    import json
    pod = json.loads((FIX / "pod-healthy-guaranteed-nginx-gke-k9s.json").read_text())
    events = json.loads((FIX / "eventlist-liveness-failed-killing-imagepull-minikube-"
                               "troubleshoot.json").read_text())["items"]
    sig = {s.key: s for s in pod_signals([pod], events)}["pods.unschedulable"]
    assert sig.answer is Y and sig.strength < 1.0
    assert all("FailedScheduling" in e.text for e in sig.examples)


def test_deploy_and_rs_rows_are_read() -> None:
    p = parse_paste((REAL / "get-deploy-rs-pods-not-ready-liveness-404-llm-d-inference-sim-"
                             "issue-45.txt").read_text())
    kinds = {(o["kind"], o["ready"], o["desired"]) for o in p.owners}
    assert kinds == {("Deployment", 0, 1), ("ReplicaSet", 0, 1)}
    # describe's event rows name no pod: with one pod in the paste they are its events
    assert {e["involvedObject"]["name"] for e in p.events} == {
        "vllm-standalone-3b-vllm-llama-3-3b-instruct-57c8d4996c-qtr8b"}
    assert p.skipped["not kubectl output"] == 4  # fences, prose, the cut first line


def test_deploy_rows_alone_still_say_not_ready() -> None:
    # the same paste's deployment and replicaset rows, without the pod row
    text = (REAL / "get-deploy-rs-pods-not-ready-liveness-404-llm-d-inference-sim-issue-45.txt"
            ).read_text().split("\n\nNAME                                                      "
                                "         READY   STATUS")[0]
    p = parse_paste(text)
    assert not p.pods and len(p.owners) == 2
    from probes.kube.offline import evidence_from
    ev = evidence_from("paste", p.pods, p.events, [], owner_rows=p.owners)
    sig = {s.key: s for s in ev.signals}["pods.not_ready"]
    assert sig.answer is Y and sig.strength < 1.0


def test_event_rows_without_header() -> None:
    p = parse_paste((REAL / "get-events-all-namespaces-noheader-kubebb-core-pr-130.txt")
                    .read_text())
    assert len(p.events) == 7
    unhealthy = next(e for e in p.events if e["reason"] == "Unhealthy")
    assert unhealthy["metadata"]["namespace"] == "kube-system"
    assert unhealthy["involvedObject"] == {"kind": "Pod", "name": "coredns-57575c5f89-jmpc5",
                                           "namespace": "kube-system"}
    assert unhealthy["message"].startswith("Readiness probe failed: Get ")
    wrapped = parse_paste((REAL / "get-events-noheader-wrapped-readiness-bank-of-anthos-issue-"
                                  "261.txt").read_text())
    (ev,) = wrapped.events
    assert ev["message"].startswith("Readiness probe failed: Get http://10.1.010.10:8080/ready")
    wide = parse_paste((REAL / "get-events-wide-noheader-readiness-refused-duyet-charts-pr-241"
                               ".txt").read_text())
    msgs = [e["message"] for e in wide.events]
    assert msgs[1] == ('Readiness probe failed: Get "http://10.244.0.5:3001/": dial tcp '
                       '10.244.0.5:3001: connect: connection refused')
    assert wide.events[1]["source"] == {"component": "kubelet, chart-testing-control-plane"}


def test_top_rows_are_usage_not_pods() -> None:
    p = parse_paste((REAL / "top-pod-containers-kubectl-issue-1198.txt").read_text())
    assert not p.pods
    assert [(u["pod"], u.get("container"), u["memory"]) for u in p.usage] == [
        ("repolite-5f9f6bb846-tx6mj", "repolite", "1545Mi"),
        ("repolite-5f9f6bb846-tx6mj", "stash", "86Mi"),
        ("repolite-5f9f6bb846-tx6mj", "vault-agent", "19Mi")]
    ev = read_kube_path(REAL / "top-pod-containers-kubectl-issue-1198.txt")
    assert ev is not None and len(ev.data["usage"]) == 3


def test_describe_of_several_pods_in_one_paste() -> None:
    # `kubectl describe pods` prints one block per pod, separated by a blank line: two real
    # describes (HolmesGPT's OOMKilled busybox and its crashing Flask pod) joined that way
    a = (FIX / "describe-pod-oomkilled-137-crashloop-busybox-holmesgpt.txt").read_text()
    b = (FIX / "describe-pod-crashloop-exit1-restarts63-holmesgpt.txt").read_text()
    p = parse_paste(a.rstrip("\n") + "\n\n\n" + b)
    assert len(p.pods) == 2 and p.formats["kubectl-describe"] == 2
    names = [pod["metadata"]["name"] for pod in p.pods]
    assert len(set(names)) == 2
    sig = {s.key: s for s in pod_signals(p.pods, p.events)}
    assert sig["pods.oomkilled"].answer is Y and len(
        {e.source for e in sig["pods.restarts"].examples}) == 2
    # each pod keeps its own events
    per_pod = {e["involvedObject"]["name"] for e in p.events}
    assert per_pod == set(names)


def test_describe_fragment_without_pod_counts_as_a_termination() -> None:
    # kube-rs#331: only State/Last State lines were pasted (exit 139, segfault)
    got = _signals(FIX / "describe-pod-exit139-segfault-kube-rs-issue-331.txt")
    assert got["pods.restarts"].answer is Y
    assert got["pods.oomkilled"].answer is N
    assert got["pods.no_memory_limit"].answer is U


def test_last_reason_text_feeds_oomkilled() -> None:
    # "Restarts: 5 (last reason: OOMKilled)", a line of the k-cli diagnose output shown in
    # its public README; the phrase also appears in pasted pod summaries
    p = parse_paste("⚠️  Restarts:     5 (last reason: OOMKilled)\n")
    got = {s.key: s for s in pod_signals(p.pods, p.events)}
    assert got["pods.oomkilled"].answer is Y and got["pods.restarts"].answer is Y


def test_json_events_with_oom_text_keep_restarts_consistent() -> None:
    ev = {"kind": "Event", "involvedObject": {"kind": "Pod", "name": "p", "namespace": "d"},
          "reason": "BackOff", "type": "Warning",
          "message": "Back-off restarting failed container (last reason: OOMKilled)"}
    got = {s.key: s for s in pod_signals([], [ev])}
    assert got["pods.oomkilled"].answer is Y and got["pods.restarts"].answer is Y


def test_analyze_pasted_pending_is_not_healthy() -> None:
    from probes.pipeline import analyze_paths
    a = analyze_paths([str(REAL / "get-pods-wide-noheader-pending-insufficient-memory-k8s-issue"
                                  "-86942.txt")])
    assert a.verdict.verdict != "healthy"


def test_text_from_stdin_reads_the_same() -> None:
    from probes.kube import read_kube_text
    name = "get-pods-wide-crashloop-pending-not-ready-holmesgpt.txt"
    ev = read_kube_text("-", (REAL / name).read_text())
    assert ev is not None
    assert {s.key: s.answer for s in ev.signals} == {k: s.answer for k, s in
                                                      _signals(REAL / name).items()}
    assert read_kube_text("-", "just a log line\n") is None


def test_watch_rows_keep_the_latest_state() -> None:
    # the same pod printed twice by --watch: argo-workflows#190's axdb-2 row, then the row
    # kubectl would print once it runs, is one pod whose latest row wins
    rows = (REAL / "get-pods-pending-statefulset-argo-workflows-issue-190.txt").read_text()
    pending = next(ln for ln in rows.splitlines() if ln.startswith("axdb-2 "))
    p = parse_paste(pending + "\n" + pending.replace("0/1       Pending", "1/1       Running"))
    (pod,) = p.pods
    assert pod["status"]["phase"] == "Running"


def test_table_age() -> None:
    assert age_seconds("9m51s") == 591 and age_seconds("2d6h") == 194400
    assert age_seconds("<unknown>") is None and age_seconds("5/5") is None


def test_bad_input_is_counted_not_raised() -> None:
    junk = "\x1b[31mNAME READY\x1b[0m\n" + "x" * 20_000 + "\n" + "pod 1/1 Running 0 1m\n" * 3
    p = parse_paste(junk)
    assert p.skipped["line cut at 8192 characters"] == 1
    assert parse_paste("").found is False
