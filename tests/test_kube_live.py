"""Live collection with the real kubernetes client over real HTTP to tests/kube_server.py
(127.0.0.1, port 0). Nothing is mocked: the fake API server is the only stand-in, for a
cluster that cannot run here."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from probes.evidence import Answer
from probes.kube import live
from probes.kube.live import KubeTarget, collect
from tests.kube_server import NS, FakeKube, load_agent_scenario


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[FakeKube, list[str], Path]]:
    with FakeKube() as fake:
        names = load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        yield fake, names, cfg


def _target(cfg: Path, **kw: object) -> KubeTarget:
    base: dict[str, object] = {"kubeconfig": str(cfg), "request_timeout": 5.0}
    base.update(kw)
    return KubeTarget(**base)  # type: ignore[arg-type]


def test_deployment_fans_out_to_all_replicas(kube: tuple[FakeKube, list[str], Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake, names, cfg = kube
    monkeypatch.setattr(live, "PAGE_SIZE", 2)  # force pagination with 4 pods
    ev, logs = collect(_target(cfg, targets=("deploy/agent",)))
    assert ev.error is None
    pods = {r["pod"] for r in ev.data["pods"]}
    assert pods == set(names), "the unrelated pod must not be included"
    sig = {s.key: s for s in ev.signals}
    assert sig["pods.oomkilled"].answer is Answer.YES
    assert sig["pods.oomkilled"].examples[0].source == f"pod/{names[0]}"
    assert sig["pods.probe_killed"].answer is Answer.YES
    assert sig["pods.probe_killed"].examples[0].source == f"pod/{names[1]}"
    assert sig["process.multiple_workers"].answer is Answer.YES
    assert sig["process.multiple_workers"].value == 3
    # only GETs; the selector came from the Deployment; pages were followed
    assert fake.verbs() == {"GET"}
    pod_lists = [q for m, p, q in fake.requests if p == f"/api/v1/namespaces/{NS}/pods"]
    assert pod_lists[0]["labelSelector"] == ["app=agent"]
    assert len(pod_lists) == 2 and "continue" in pod_lists[1]
    assert all(q.get("limit") == ["2"] for q in pod_lists)
    # events: only those of our pods (the other namespaces' events are filtered out)
    assert {e["name"] for e in ev.data["events"]} == {names[1]}
    # logs: current for all, previous for the OOM-killed one, with timestamps
    sources = dict(logs)
    assert f"pod/{names[0]}/config-db (previous)" in sources
    assert {f"pod/{n}/config-db" for n in names} <= set(sources)
    previous = sources[f"pod/{names[0]}/config-db (previous)"]
    assert previous[0].startswith("2024-07-18T09:59:58") and len(previous) == 3
    log_queries = [q for _, p, q in fake.requests if p.endswith("/log")]
    assert all(q["timestamps"] == ["true"] for q in log_queries)
    assert ev.data["api_calls"] == len(fake.requests)


def test_pod_target_and_selector(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, names, cfg = kube
    ev, _ = collect(_target(cfg, targets=(f"pod/{names[2]}",)), logs=False)
    assert [r["pod"] for r in ev.data["pods"]] == [names[2]]
    assert any(q.get("fieldSelector") == [f"metadata.name={names[2]}"]
               for _, _, q in fake.requests)
    ev, _ = collect(_target(cfg, selector="app=other"), logs=False)
    assert [r["pod"] for r in ev.data["pods"]] == ["nginx-7fb78fb6d8-2w75j"]


def test_all_namespaces_uses_cluster_lists(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, names, cfg = kube
    ev, _ = collect(_target(cfg, all_namespaces=True, selector="app=agent"), logs=False)
    assert {r["pod"] for r in ev.data["pods"]} == set(names)
    paths = {p for _, p, _ in fake.requests}
    assert "/api/v1/pods" in paths and "/api/v1/events" in paths


def test_forbidden_events_give_partial_result(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, names, cfg = kube
    fake.forbidden.add(("events", NS))
    ev, _ = collect(_target(cfg, targets=("deploy/agent",)), logs=False)
    assert ev.error is None
    sig = {s.key: s for s in ev.signals}
    assert sig["pods.oomkilled"].answer is Answer.YES  # pods were still read
    assert sig["pods.probe_killed"].answer is Answer.UNKNOWN
    assert "list events in namespace agents" in sig["pods.probe_killed"].reason
    assert ev.data["denied"][0]["verb"] == "list"
    assert ev.data["denied"][0]["resource"] == "events"
    assert "forbidden" in ev.data["denied"][0]["reason"]
    assert any("not collected: list events" in n for n in ev.inputs[0].notes)


def test_forbidden_pods_names_the_permission(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, _, cfg = kube
    fake.forbidden.add(("pods", NS))
    ev, logs = collect(_target(cfg))
    assert logs == []
    for s in ev.signals:
        if s.key != "pods.probe_killed":
            assert s.answer is Answer.UNKNOWN, s.key
            assert "list pods in namespace agents" in s.reason


def test_forbidden_logs_recorded(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, _, cfg = kube
    fake.forbidden.add(("pods/log", NS))
    ev, logs = collect(_target(cfg, targets=("deploy/agent",)))
    assert logs == []
    assert {(d["verb"], d["resource"]) for d in ev.data["denied"]} == {("get", "pods/log")}


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "kubeconfig"
    with FakeKube() as fake:
        fake.write_kubeconfig(cfg)
    cfg.write_text(cfg.read_text().replace(fake.url, f"http://127.0.0.1:{port}"))
    t0 = time.monotonic()
    ev, logs = collect(_target(cfg, request_timeout=2.0))
    assert time.monotonic() - t0 < 3
    assert ev.error is not None and "cannot reach the API server" in ev.error
    assert "connection refused" in ev.error
    assert logs == []


def test_slow_server_times_out(kube: tuple[FakeKube, list[str], Path]) -> None:
    fake, _, cfg = kube
    fake.delay = 6.0
    t0 = time.monotonic()
    ev, _ = collect(_target(cfg, request_timeout=0.5), logs=False)
    assert time.monotonic() - t0 < 4.0  # well under the server's delay: the timeout fired
    assert ev.error is not None and "within 0.5s" in ev.error


def test_bad_target_and_missing_workload(kube: tuple[FakeKube, list[str], Path]) -> None:
    _, _, cfg = kube
    ev, _ = collect(_target(cfg, targets=("svc/agent",)))
    assert ev.error is not None and "unsupported target" in ev.error
    ev, _ = collect(_target(cfg, targets=("deploy/nope",)))
    assert ev.error is not None and "not found" in ev.error


def test_no_kubeconfig_anywhere(tmp_path: Path) -> None:
    ev, _ = collect(KubeTarget(kubeconfig=str(tmp_path / "missing")))
    assert ev.error is not None and "kubeconfig" in ev.error


def test_cancel_stops_collection(kube: tuple[FakeKube, list[str], Path]) -> None:
    import threading

    _, _, cfg = kube
    cancel = threading.Event()
    cancel.set()
    ev, _ = collect(_target(cfg), cancel)
    assert ev.error == "cancelled"
