"""Benchmarks: 10,000 pods and 50,000 events, live (fake API server) and from a dump.

Objects are generated from the real captures' shapes (tests/kube_fixtures/SOURCES.md):
pods from the is-healthy, openshift-insights, gitops-engine, k9s and troubleshoot
captures, events from the troubleshoot minikube and OOM-job EventLists, each renamed to
its generated pod (names inside messages too), spread over an hour as events are, with
the per-pod values that differ in a real cluster (nodes, pull durations, uids).

* ``test_kube_scale``: live collection over the fake API server at two sizes; the API
  calls must grow linearly (one paginated list per kind), and so should the time.
* ``test_kube_dump``: ``kubectl get pods,events -A -o json`` written to a file (with the
  captures' ``managedFields``, and without them as kubectl 1.21+ prints it), then in
  child processes (medians of 3): ``json.load`` of it (the reference), a msgspec decode
  of it, and ``scaledoc analyze -o json FILE`` end to end, each with its wall and CPU
  seconds, their ratio to ``json.load`` and its peak RSS.

Run with: python3 -m pytest -m benchmark -s tests/bench_kube.py
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from probes.kube import KubeTarget, collect, pod_signals
from probes.kube.live import PAGE_SIZE
from tests.kube_server import (
    FIXTURES,
    NS,
    FakeKube,
    agent_pod,
    agent_workload,
    liveness_events_for,
)

ROOT = Path(__file__).resolve().parent.parent


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


# --- a cluster dump, read offline -------------------------------------------------------

_POD_FIXTURES = (
    # (fixture, index in its items): real pods of several workloads and states; the
    # first workload's pods are agent_pod (the is-healthy production pod, restarted and
    # OOM-killed only in every 50th replica)
    ("pod-healthy-guaranteed-nginx-gke-k9s.json", 0),
    ("pod-same-liveness-readiness-probe-restarts-no-memlimit-packageserver-openshift-"
     "insights.json", 0),
    ("pod-same-probe-initialdelay3-exit255-config-operator-openshift-insights.json", 0),
    ("pod-liveness-killed-crashloop-podinfo-is-healthy.converted.json", 0),
    ("pod-readiness-probe-never-ready-gitops-engine.converted.json", 0),
    ("podlist-high-restart-counts-k3s-troubleshoot.json", 2),  # traefik
    ("podlist-high-restart-counts-k3s-troubleshoot.json", 3),
    ("podlist-high-restart-counts-k3s-troubleshoot.json", 4),
    ("podlist-crashloop-containercannotrun-127-troubleshoot.json", 0),
)
_EVENT_FIXTURES = ("eventlist-liveness-failed-killing-imagepull-minikube-troubleshoot.json",
                   "eventlist-imagepull-backofflimit-oomjob-troubleshoot.json")
WORKLOADS = 40
NODES = 60
_T0 = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
_DURATION = re.compile(r"in \d+(?:\.\d+)?m?s\b")


def _fixture_items(name: str) -> list[dict[str, Any]]:
    doc = json.loads((FIXTURES / name).read_text())
    items: list[dict[str, Any]] = doc.get("items", [doc])
    return items


def _stamp(t: datetime, micros: bool = False) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}Z" if micros else "Z")


def _stories() -> list[tuple[str, list[str]]]:
    """The real event sequences of each pod in the EventLists: (pod name, event JSONs)."""
    by_pod: dict[str, list[str]] = {}
    for name in _EVENT_FIXTURES:
        for ev in _fixture_items(name):
            target = ev.get("involvedObject") or {}
            if target.get("kind") == "Pod" and target.get("name"):
                by_pod.setdefault(target["name"], []).append(json.dumps(ev))
    return sorted(by_pod.items())


def dump_population(n_pods: int, events_per_pod: int) -> list[dict[str, Any]]:
    """Pods of ``WORKLOADS`` deployments (real pod shapes, every 50th replica of the
    first one OOM-killed) and ``events_per_pod`` real events per pod."""
    templates = [json.dumps(agent_pod(0, oom=False)),
                 *(json.dumps(_fixture_items(f)[i]) for f, i in _POD_FIXTURES)]
    oom_template = json.dumps(agent_pod(0, oom=True))
    stories = _stories()
    pods: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for i in range(n_pods):
        w = i % WORKLOADS
        workload, rs_hash = f"agent-{w:02d}", f"{(w * 7_919) % 16**10:010x}"
        name = f"{workload}-{rs_hash}-{i:06x}"
        node = f"ip-10-0-{i % NODES}-{(i * 13) % 250}.eu-west-1.compute.internal"
        text = oom_template if w == 0 and i % 50 == 0 else templates[w % len(templates)]
        pod = json.loads(text)
        meta = pod.setdefault("metadata", {})
        meta.pop("generateName", None)
        meta.update(name=name, namespace=f"team-{w % 8}", uid=f"{i:08x}-0000-4000-8000-{w:012x}",
                    creationTimestamp=_stamp(_T0 - timedelta(seconds=(i * 7) % 86_400)),
                    labels={**(meta.get("labels") or {}), "app": workload,
                            "pod-template-hash": rs_hash},
                    ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                      "name": f"{workload}-{rs_hash}", "controller": True,
                                      "blockOwnerDeletion": True, "uid": f"rs-{w:04d}"}])
        pod.setdefault("spec", {})["nodeName"] = node
        status = pod.setdefault("status", {})
        status.update(podIP=f"10.{w}.{i // 250 % 250}.{i % 250}", hostIP=f"10.0.{i % NODES}.1")
        pods.append(pod)
        orig, story = stories[i % len(stories)]
        for k in range(events_per_pod):
            ev = json.loads(story[k % len(story)].replace(orig, name)
                            .replace("to minikube", f"to {node}"))
            when = _T0 - timedelta(seconds=(i * 37 + k * 11) % 3_600,
                                   microseconds=(i * 7_777 + k) % 1_000_000)
            ev["metadata"].update(name=f"{name}.{(i * 131 + k):016x}", namespace=meta["namespace"],
                                  uid=f"{i:08x}-{k:04x}-4000-9000-000000000000",
                                  creationTimestamp=_stamp(when))
            ev["involvedObject"].update(namespace=meta["namespace"], uid=meta["uid"])
            for key in ("firstTimestamp", "lastTimestamp"):
                if ev.get(key):
                    ev[key] = _stamp(when)
            if ev.get("eventTime"):
                ev["eventTime"] = _stamp(when, micros=True)
            if ev.get("source", {}).get("host"):
                ev["source"]["host"] = node
            ev["message"] = _DURATION.sub(f"in {1 + (i * 7_919 + k) % 9_000 / 1_000:.9f}s",
                                          ev.get("message") or "")
            events.append(ev)
    return pods + events


def write_dump(path: Path, n_pods: int, events_per_pod: int, *,
               managed_fields: bool = True) -> int:
    """The dump as ``kubectl get pods,events -A -o json`` prints it (4-space indent).
    ``managed_fields``: keep ``metadata.managedFields`` as the captures have them (the
    API, support bundles); kubectl 1.21 and later leave them out unless
    ``--show-managed-fields``."""
    items = dump_population(n_pods, events_per_pod)
    if not managed_fields:
        for item in items:
            item.get("metadata", {}).pop("managedFields", None)
    doc = {"apiVersion": "v1", "items": items, "kind": "List",
           "metadata": {"resourceVersion": ""}}
    path.write_bytes(msgspec.json.format(msgspec.json.encode(doc), indent=4))
    return path.stat().st_size


SCALEDOC_CLI = ("import importlib, sys\n"
        "for name in ('tui.commands.cli', 'tui.cli'):\n"
        "    try:\n"
        "        main = importlib.import_module(name).main\n"
        "        break\n"
        "    except ImportError:\n"
        "        continue\n"
        "sys.exit(main(sys.argv[1:]))\n")
"""``scaledoc`` itself (the console script's ``main``), wherever the CLI module lives."""


_PEAK = ("import atexit, sys\n"
         "def _peak():\n"
         "    with open('/proc/self/status') as f:\n"
         "        for line in f:\n"
         "            if line.startswith('VmHWM:'):\n"
         "                sys.stderr.write(f'\\nPEAK_KIB {line.split()[1]}\\n')\n"
         "atexit.register(_peak)\n")
"""The child's own peak RSS, written at exit: its ``ru_maxrss`` would start at this
process's (Linux keeps the high-water mark across fork and exec), which holds the
generated dump."""


def _child(code: str, *args: str) -> tuple[float, float, float, bytes]:
    """Run ``python -c code args`` from the repo root: wall seconds, CPU seconds (user +
    system: steadier than wall time on a shared machine), the child's peak RSS in MiB
    and its stdout. Exit 2 is a verdict, not a failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _PEAK + code, *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=err, check=False)
        seconds = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode in (0, 2), text[-2000:]
    peak = re.findall(r"^PEAK_KIB (\d+)$", text, re.M)
    return seconds, cpu, int(peak[-1]) / 1024 if peak else float("nan"), proc.stdout


def measure_child(code: str, *args: str, runs: int = 3) -> tuple[float, float, float, bytes]:
    """Median wall and CPU seconds and the largest peak RSS over ``runs`` child runs."""
    walls, cpus, peaks, out = [], [], [], b""
    for _ in range(runs):
        seconds, cpu, rss, out = _child(code, *args)
        walls.append(seconds)
        cpus.append(cpu)
        peaks.append(rss)
    return statistics.median(walls), statistics.median(cpus), max(peaks), out


@pytest.mark.benchmark
@pytest.mark.parametrize("managed_fields", [True, False], ids=["as-captured", "kubectl-1.21"])
def test_kube_dump(tmp_path: Path, managed_fields: bool) -> None:
    n_pods, per_pod = 10_000, 5
    dump = tmp_path / "dump.json"
    t0 = time.perf_counter()
    size = write_dump(dump, n_pods, per_pod, managed_fields=managed_fields)
    print(f"\ndump: {n_pods:,} pods + {n_pods * per_pod:,} events, {size / 2**20:.0f} MiB, "
          f"{'with' if managed_fields else 'without'} managedFields (written in "
          f"{time.perf_counter() - t0:.1f}s); medians of 3 child runs")
    rows = [("json.load (reference)",
             *measure_child("import json, sys; json.load(open(sys.argv[1]))", str(dump)))]
    rows.append(("msgspec.json.decode, all fields",
                 *measure_child("import msgspec, sys\n"
                           "msgspec.json.decode(open(sys.argv[1], 'rb').read())", str(dump))))
    rows.append(("python -c pass", *measure_child("pass")))
    rows.append((f"scaledoc analyze -o json {dump.name}",
                 *measure_child(SCALEDOC_CLI, "analyze", "-o", "json", str(dump))))
    _, ref, ref_cpu, _, _ = rows[0]
    print(f"  {'':<40} {'wall':>7}  {'x json.load':>11}  {'CPU':>7}  {'x json.load':>11}  "
          "peak RSS")
    for what, wall, cpu, peak, _ in rows:
        print(f"  {what:<40} {wall:6.2f}s  {wall / ref:10.2f}x  {cpu:6.2f}s  "
              f"{cpu / ref_cpu:10.2f}x  {peak:5.0f} MiB")
    out = rows[-1][-1]
    report = json.loads(out)
    (kube,) = [i for i in report["inputs"] if i["kind"] == "kube"]
    assert kube["events"] == n_pods * (1 + per_pod), kube
    assert report["verdict"] == "oom", report["verdict"]
