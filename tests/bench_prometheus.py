"""Benchmark: time to a verdict from Prometheus for 200 pods over 2 hours.

A real Prometheus 2.42 serves the test fleet (tests/prom_fleet.py: 200-pod namespaces with
kube-state-metrics, cAdvisor and the app's metrics, one sample a minute for 2 h, backfilled
with promtool). For each 200-pod incident the probe is run end to end (discovery, every
signal's queries, the tree walk), medians of 3, and printed beside a reference measured in
the same run on the same server: one ``query_range`` of every pod's working set over the
window, which is what one Grafana panel of the same fleet costs.

Run: ``python3 tests/bench_prometheus.py`` or
``python3 -m pytest -m benchmark -s tests/bench_prometheus.py``. Printed, never asserted.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from prom_server import fleet_server, make_fleet_blocks, missing_binaries  # noqa: E402

from probes.diagnose import diagnose  # noqa: E402
from probes.evidence import Case  # noqa: E402
from probes.prometheus import PromTarget, collect  # noqa: E402
from probes.prometheus.client import PromClient  # noqa: E402

RUNS = 3


def run() -> str:
    missing = missing_binaries()
    if missing:
        return f"not measured: {missing}"
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="scaledoc-bench-prom-") as tmp:
        t0 = time.perf_counter()
        blocks = make_fleet_blocks(Path(tmp) / "blocks")
        setup = time.perf_counter() - t0
        with fleet_server(blocks, Path(tmp) / "server") as fleet:
            out.append(f"fleet: {sum(len(s.pods) for s in fleet.scenarios.values())} pods in "
                       f"{len(fleet.scenarios)} namespaces, 2 h at one sample a minute; "
                       f"history made and backfilled in {setup:.1f} s")
            out.append(f"{'namespace':<16} {'pods':>5} {'verdict':<22} {'to verdict':>11} "
                       f"{'queries':>8} {'calls':>6} {'reference':>10} {'ratio':>6}")
            for ns, sc in fleet.scenarios.items():
                if len(sc.pods) < 200:
                    continue
                target = PromTarget(fleet.url, f'namespace="{ns}"',
                                    since_s=fleet.end - fleet.start, until=float(fleet.end))
                times, verdict, queries, calls = [], "", 0, 0
                for _ in range(RUNS):
                    t = time.perf_counter()
                    ev = collect(target)
                    verdict = diagnose(Case(evidence=(ev,))).verdict
                    times.append(time.perf_counter() - t)
                    queries = len(ev.data["prometheus"]["queries"])
                    calls = ev.data["prometheus"]["http_calls"]
                ref = []
                with PromClient(fleet.url) as client:
                    q = (f'max by (pod) (container_memory_working_set_bytes{{container!="",'
                         f'namespace="{ns}"}})')
                    for _ in range(RUNS):
                        t = time.perf_counter()
                        got = client.query_range(q, fleet.start, fleet.end, fleet.step_s)
                        assert got.ok and len(got.series) == len(sc.pods)
                        ref.append(time.perf_counter() - t)
                med, rmed = statistics.median(times), statistics.median(ref)
                out.append(f"{ns:<16} {len(sc.pods):>5} {verdict:<22} {med:>9.2f} s "
                           f"{queries:>8} {calls:>6} {rmed:>8.3f} s {med / rmed:>5.0f}x")
    return "\n".join(out)


@pytest.mark.benchmark
def test_prometheus_time_to_verdict() -> None:
    print()
    print(run())


if __name__ == "__main__":
    print(run())
