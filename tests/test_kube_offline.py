"""Capture bundles (written from the real client talking to tests/kube_server.py, then
read back), cluster-info dump folders and other offline inputs."""

from __future__ import annotations

import json
import socket
import tarfile
from pathlib import Path

import pytest

from probes.evidence import Answer
from probes.kube import (
    CaptureError,
    KubeTarget,
    bundle_log_members,
    capture,
    collect,
    looks_like_kube,
    read_kube_path,
)
from tests.kube_server import NS, FakeKube, load_agent_scenario

FIX = Path(__file__).parent / "kube_fixtures"
SECRET_KEY = "sk-proj-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1"


def _scenario(fake: FakeKube) -> list[str]:
    names = load_agent_scenario(fake)
    env = fake.pods[0]["spec"]["containers"][0].setdefault("env", [])
    env.extend([{"name": "OPENAI_API_KEY", "value": SECRET_KEY},
                {"name": "DATABASE_URL", "value": "postgres://app:pg-pass-123@db:5432/app"},
                {"name": "LOG_LEVEL", "value": "info"}])
    # kubectl apply keeps the whole manifest, env values included, in an annotation
    fake.pods[0]["metadata"].setdefault("annotations", {})[
        "kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": "annot-pw-42"}]}]}})
    return names


def test_capture_round_trip(tmp_path: Path) -> None:
    with FakeKube() as fake:
        names = _scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        target = KubeTarget(kubeconfig=str(cfg), targets=("deploy/agent",), since_seconds=3600)
        live_ev, live_logs = collect(target)
        out = capture(target, tmp_path / "incident.tar.gz")
        assert fake.verbs() == {"GET"}
    assert out.exists() and not (tmp_path / "incident.tar.gz.partial").exists()
    with tarfile.open(out) as tar:
        members = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        raw = b"".join(tar.extractfile(m).read()  # type: ignore[union-attr]
                       for m in tar.getmembers() if m.isfile())
    assert {"manifest.json", "pods.json", "events.json", "owners.json",
            f"logs/{names[0]}/config-db.log", f"logs/{names[0]}/config-db.previous.log"} \
        <= members
    assert manifest["format"] == "scaledoc-capture/v1"
    assert manifest["namespace"] == NS and manifest["context"] == "fake"
    assert manifest["targets"] == ["deploy/agent"]
    assert manifest["time_window"]["logs_since_seconds"] == 3600
    assert manifest["collected"]["pods"] == 3 and manifest["collected"]["logs"] == 4
    assert manifest["denied"] == []
    assert manifest["tool_version"]
    # secrets never reach the bundle
    assert SECRET_KEY.encode() not in raw and b"pg-pass-123" not in raw
    assert b"annot-pw-42" not in raw
    assert b"sk-proj-Ab3dEf6h" not in raw  # the token in the previous log line
    assert b"fake-token-for-tests" not in raw
    assert b"***redacted***" in raw and b"postgres://app:***@db" in raw
    # read back: same signals as the live collection
    ev = read_kube_path(out)
    assert ev is not None and ev.error is None
    assert ev.inputs[0].kind == "bundle"
    assert [(s.key, s.answer) for s in ev.signals] == \
        [(s.key, s.answer) for s in live_ev.signals]
    assert ev.data["manifest"]["collected"]["events"] == len(live_ev.data["events"])
    # logs come back with the pod identity, lazily
    members_back = bundle_log_members(out)
    sources = {m.source: m for m, _ in members_back}
    assert set(sources) == {s for s, _ in live_logs}
    prev = sources[f"pod/{names[0]}/config-db (previous)"]
    assert prev.pod == names[0] and prev.container == "config-db" and prev.previous
    lines = dict((m.source, list(it)) for m, it in members_back)[prev.source]
    assert len(lines) == 2, "--since must drop the old line"
    assert lines[0].endswith(b"Z starting config-db\n")
    assert b"Authorization: ***" in lines[1]


def test_capture_records_denials(tmp_path: Path) -> None:
    with FakeKube() as fake:
        _scenario(fake)
        fake.forbidden.update({("pods/log", NS), ("events", NS)})
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        out = capture(KubeTarget(kubeconfig=str(cfg)), tmp_path / "b.tar.gz")
    ev = read_kube_path(out)
    assert ev is not None
    denied = {(d["verb"], d["resource"], d["namespace"]) for d in ev.data["manifest"]["denied"]}
    assert denied == {("get", "pods/log", NS), ("list", "events", NS)}
    assert any("list events in agents" in n for n in ev.inputs[0].notes)
    assert bundle_log_members(out) == []


def test_capture_unreachable_raises_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "kubeconfig"
    with FakeKube() as fake:
        fake.write_kubeconfig(cfg)
    cfg.write_text(cfg.read_text().replace(fake.url, f"http://127.0.0.1:{port}"))
    with pytest.raises(CaptureError, match="cannot reach the API server"):
        capture(KubeTarget(kubeconfig=str(cfg), request_timeout=2), tmp_path / "x.tar.gz")
    assert not list(tmp_path.glob("x.tar.gz*"))


def test_cluster_info_dump_folder(tmp_path: Path) -> None:
    """Layout of ``kubectl cluster-info dump --output-directory``: NS/pods.json,
    NS/events.json, NS/POD/logs.txt, plus nodes.json at the top."""
    ns_dir = tmp_path / "kube-system"
    ns_dir.mkdir()
    (ns_dir / "pods.json").write_text(
        (FIX / "podlist-high-restart-counts-k3s-troubleshoot.json").read_text())
    (ns_dir / "events.json").write_text(json.dumps(
        {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []}))
    (tmp_path / "nodes.json").write_text(json.dumps(
        {"kind": "NodeList", "apiVersion": "v1", "metadata": {},
         "items": [json.loads((FIX / "node-healthy-minikube-k9s.json").read_text())]}))
    pod_dir = ns_dir / "traefik-7cd4fcff68-9blj6"
    pod_dir.mkdir()
    (pod_dir / "logs.txt").write_text("2022-12-21T09:43:10Z time=... level=info msg=up\n")
    ev = read_kube_path(tmp_path)
    assert ev is not None
    sig = {s.key: s.answer for s in ev.signals}
    assert sig["pods.restarts"] is Answer.YES and sig["pods.probe_config_risky"] is Answer.YES
    by_name = {Path(i.name).name: i for i in ev.inputs}
    assert by_name["nodes.json"].skipped == {"kind Node not used": 1}
    assert by_name["pods.json"].events == 7
    logs = bundle_log_members(tmp_path)
    assert [(m.source, m.namespace) for m, _ in logs] == \
        [("pod/traefik-7cd4fcff68-9blj6", "kube-system")]
    assert list(logs[0][1]) == [b"2022-12-21T09:43:10Z time=... level=info msg=up\n"]


def test_concatenated_json_documents(tmp_path: Path) -> None:
    """``cluster-info dump`` to stdout prints one List after another."""
    pods = (FIX / "podlist-oomkilled-137-job-troubleshoot.json").read_text()
    events = (FIX / "eventlist-imagepull-backofflimit-oomjob-troubleshoot.json").read_text()
    path = tmp_path / "dump.json"
    path.write_text(pods + "\n" + events)
    ev = read_kube_path(path)
    assert ev is not None
    assert ev.inputs[0].format == "kubectl-json:EventList+PodList"
    assert len(ev.data["events"]) == 17
    assert {s.key: s.answer for s in ev.signals}["pods.oomkilled"] is Answer.YES
    assert ev.inputs[0].skipped == {}


def test_cluster_info_dump_stdout_with_logs_between(tmp_path: Path) -> None:
    """To stdout, kubectl prints each namespace's Lists, then its pods' logs as text."""
    pods = (FIX / "podlist-oomkilled-137-job-troubleshoot.json").read_text()
    events = (FIX / "eventlist-imagepull-backofflimit-oomjob-troubleshoot.json").read_text()
    logs = ("==== START logs for container memory-eater of pod default/oom-kill-job3-gbb89 "
            "====\nallocating 10Mi\nallocating 20Mi\n"
            "==== END logs for container memory-eater of pod default/oom-kill-job3-gbb89 ====\n")
    path = tmp_path / "cluster-info.dump"
    path.write_text(events + "\n" + logs + pods + "\n" + logs)
    ev = read_kube_path(path)
    assert ev is not None and len(ev.data["pods"]) == 1 and len(ev.data["events"]) == 17
    assert ev.inputs[0].skipped == {"text between JSON documents (e.g. dumped logs)": 8}


def test_not_kube_and_unreadable(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text('{"level":30,"msg":"hello"}\n')
    assert read_kube_path(log) is None
    assert read_kube_path(tmp_path / "missing.json") is None
    binary = tmp_path / "core.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    ev = read_kube_path(binary)
    assert ev is not None and ev.error is not None and "binary" in ev.error


def test_looks_like_kube() -> None:
    assert looks_like_kube(json.loads((FIX / "podlist-errimagepull-troubleshoot.json")
                                      .read_text()))
    # insights archive pods have no apiVersion/kind
    assert looks_like_kube(json.loads(
        (FIX / "pod-same-probe-initialdelay3-exit255-config-operator-openshift-insights.json")
        .read_text()))
    assert not looks_like_kube({"level": 30, "msg": "hi"})
    assert not looks_like_kube({"kind": "Pod"})  # no metadata: not an API object
    assert not looks_like_kube({"resourceSpans": []})


def test_bundle_log_inputs_feed_the_log_reader(tmp_path: Path) -> None:
    """The pipeline's LogReader reads bundle logs under their pod identity."""
    from probes.ingest import IngestConfig, LogReader
    from probes.kube import bundle_log_inputs

    with FakeKube() as fake:
        names = _scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        out = capture(KubeTarget(kubeconfig=str(cfg), targets=("deploy/agent",)),
                      tmp_path / "b.tar.gz")
    inputs = bundle_log_inputs(out)
    assert {i.name for i in inputs} == {f"pod/{n}/config-db" for n in names} | {
        f"pod/{names[0]}/config-db (previous)"}
    current = next(i for i in inputs if i.name == f"pod/{names[0]}/config-db")
    reader = LogReader(current, IngestConfig())
    events = list(reader.events())
    assert len(events) == 2 and all(e.source == current.name for e in events)
    assert events[0].time_ns is not None  # the --timestamps prefix was understood
    assert bundle_log_inputs(tmp_path / "kubeconfig") == []


def test_looks_like_kube_text() -> None:
    from probes.kube import looks_like_kube_text

    for name in ("describe-pod-oomkilled-137-crashloop-busybox-holmesgpt.txt",
                 "events-pod-oomkilled-backoff-busybox-holmesgpt.txt",
                 "events-readiness-probe-failed-timeout-z2jh-issue-1357.txt"):
        assert looks_like_kube_text((FIX / name).read_text()), name
    assert not looks_like_kube_text((FIX / "SOURCES.md").read_text())
    assert not looks_like_kube_text("2024-01-01T00:00:00Z INFO REASON MESSAGE started\n")
