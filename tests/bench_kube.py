"""Benchmark: live collection and pod signals at 10,000 pods and 50,000 events.

Objects are generated from the real captures' shapes (the is-healthy production pod and
the troubleshoot minikube events, see tests/kube_fixtures/SOURCES.md) and served by the
fake API server over real HTTP. Prints the API calls and the time to signals at two
sizes; the calls must grow linearly (one paginated list per kind), and so should the
time. Run with: python3 -m pytest -m benchmark -s tests/bench_kube.py
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from probes.kube import KubeTarget, collect, pod_signals
from probes.kube.live import PAGE_SIZE
from tests.kube_server import NS, FakeKube, agent_pod, agent_workload, liveness_events_for


def _population(n_pods: int, events_per_pod: int) -> tuple[list[dict[str, Any]],
                                                          list[dict[str, Any]]]:
    template = agent_pod(0, oom=False)
    oom_template = agent_pod(0, oom=True)
    text, oom_text = json.dumps(template), json.dumps(oom_template)
    base_name = template["metadata"]["name"]
    pods, events = [], []
    lifecycle = liveness_events_for(base_name)
    ev_texts = [json.dumps(e) for e in lifecycle]
    for i in range(n_pods):
        name = f"agent-5d8f7c9b6d-{i:06d}"
        pods.append(json.loads((oom_text if i % 50 == 0 else text).replace(base_name, name)))
        for k in range(events_per_pod):
            ev = json.loads(ev_texts[k % len(ev_texts)].replace(base_name, name))
            ev["metadata"]["name"] = f"{name}.{k}"
            events.append(ev)
    return pods, events


def _run(n_pods: int, n_events: int, tmp: Path) -> dict[str, float]:
    pods, events = _population(n_pods, n_events // n_pods)
    with FakeKube() as fake:
        fake.add(pods)
        fake.add(events)
        fake.add(agent_workload())
        cfg = fake.write_kubeconfig(tmp / f"kc-{n_pods}", namespace=NS)
        t0 = time.perf_counter()
        ev, _ = collect(KubeTarget(kubeconfig=str(cfg), targets=("deploy/agent",),
                                   request_timeout=60), logs=False)
        t_collect = time.perf_counter() - t0
        calls = len(fake.requests)
    assert ev.error is None and len(ev.data["pods"]) == n_pods
    t0 = time.perf_counter()
    signals = pod_signals(pods, events)
    t_signals = time.perf_counter() - t0
    tracemalloc.start()  # a separate, untimed pass: tracing slows allocation a lot
    pod_signals(pods, events)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert {s.key for s in signals} >= {"pods.oomkilled", "pods.probe_killed"}
    print(f"\n{n_pods:>6} pods {n_events:>6} events: {calls} API calls "
          f"(page size {PAGE_SIZE}), collect+signals {t_collect:.2f}s, "
          f"signals alone {t_signals:.2f}s, peak {peak / 2**20:.0f} MiB in signals")
    return {"calls": calls, "collect": t_collect, "signals": t_signals}


@pytest.mark.benchmark
def test_kube_scale(tmp_path: Path) -> None:
    small = _run(2_500, 12_500, tmp_path)
    large = _run(10_000, 50_000, tmp_path)
    # 1 workload get + pod pages + event pages: linear in objects / page size
    expected = 1 + -(-10_000 // PAGE_SIZE) + -(-50_000 // PAGE_SIZE)
    assert large["calls"] == expected
    print(f"x4 objects: calls x{large['calls'] / small['calls']:.1f}, "
          f"collect x{large['collect'] / small['collect']:.1f}, "
          f"signals x{large['signals'] / small['signals']:.1f}")
    assert large["signals"] < small["signals"] * 8, "signals must stay linear"
