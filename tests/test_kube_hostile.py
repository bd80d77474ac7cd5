"""Hostile and broken API servers (issue 12, parts 2 to 4): real HTTP on 127.0.0.1 with the
real kubernetes client and the installed ``kubectl-scaledoc`` script. The servers here are
small real ``http.server`` servers (a trickle, a 500 to everything) and the fake API
server of ``tests/kube_server.py``; nothing is mocked. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from probes.kube.live import KubeTarget, collect
from tests.kube_server import NS, FakeKube, load_agent_scenario

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = shutil.which("kubectl-scaledoc")


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "trickle"
    calls = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        pass

    def do_GET(self) -> None:
        type(self).calls += 1
        try:
            if self.mode == "500":
                body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                   "message": "etcdserver: request timed out",
                                   "reason": "InternalError", "code": 500}).encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.mode == "trickle-headers":
                for ch in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 400:
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(0.5)
                return
            # trickle: honest headers, then one byte of the body every 0.5 s
            body = b'{"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}'
            body += b" " * 400
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for ch in body:
                self.wfile.write(bytes([ch]))
                self.wfile.flush()
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def hostile(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[type, Path]]:
    handler = type("H", (_Hostile,), {"mode": request.param, "calls": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "h",
        "clusters": [{"name": "h", "cluster": {"server":
                                               f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "h", "context": {"cluster": "h", "user": "u", "namespace": NS}}],
    }))
    yield handler, cfg
    server.shutdown()
    server.server_close()


def _plugin(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    assert PLUGIN is not None
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    t0 = time.monotonic()
    proc = subprocess.run([PLUGIN, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return proc, time.monotonic() - t0


@pytest.mark.skipif(PLUGIN is None, reason="kubectl-scaledoc is not installed (pip install -e .)")
@pytest.mark.parametrize("hostile", ["trickle", "trickle-headers"], indirect=True)
def test_trickling_server_is_cut_at_the_whole_request_deadline(
        hostile: tuple[type, Path]) -> None:
    """A byte every 0.5 s never trips a per-read timeout; the whole-request deadline
    (--request-timeout 2s) ends the run in seconds, with exit 3 and the reason."""
    _, cfg = hostile
    proc, took = _plugin("--kubeconfig", str(cfg), "--request-timeout", "2s", "--report")
    print(f"trickling server ({hostile[0].mode}): exit {proc.returncode} in {took:.1f}s")
    assert proc.returncode == 3, proc.stderr
    assert took < 10
    assert "no complete answer within 2s" in proc.stderr


@pytest.mark.skipif(PLUGIN is None, reason="kubectl-scaledoc is not installed (pip install -e .)")
@pytest.mark.parametrize("hostile", ["500"], indirect=True)
def test_server_answering_500_to_everything_exits_3(hostile: tuple[type, Path]) -> None:
    handler, cfg = hostile
    flags = ["--kubeconfig", str(cfg), "--request-timeout", "5s"]
    for args in ([*flags, "--report", "-o", "json"],
                 ["capture", *flags, "-o", str(cfg.parent / "b.tar.gz")]):
        proc, took = _plugin(*args)
        print(f"500 server, {args[0]} {args[-1]}: exit {proc.returncode} in {took:.1f}s, "
              f"{handler.calls} call(s) served")
        assert proc.returncode == 3, (proc.stdout[-500:], proc.stderr)
        assert "answered none of" in proc.stderr and "HTTP 500" in proc.stderr
        assert "etcdserver: request timed out" in proc.stderr
        assert not (cfg.parent / "b.tar.gz").exists()


@pytest.mark.parametrize("hostile", ["500"], indirect=True)
def test_500_everywhere_is_an_error_in_the_evidence(hostile: tuple[type, Path]) -> None:
    _, cfg = hostile
    ev, logs = collect(KubeTarget(kubeconfig=str(cfg), request_timeout=5.0))
    assert ev.error is not None and "answered none of" in ev.error and logs == []


def test_forbidden_everything_is_still_an_answer(tmp_path: Path) -> None:
    """A 403 names a missing permission: a partial result, not 'unreachable'."""
    with FakeKube() as fake:
        load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        fake.forbidden |= {("pods", NS), ("events", NS)}
        ev, _ = collect(KubeTarget(kubeconfig=str(cfg), request_timeout=5.0))
    assert ev.error is None and len(ev.data["denied"]) == 2


def test_log_budget_names_what_was_not_fetched(tmp_path: Path) -> None:
    with FakeKube() as fake:
        names = load_agent_scenario(fake, replicas=6)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        target = KubeTarget(kubeconfig=str(cfg), request_timeout=5.0,
                            targets=("deploy/agent",), log_budget_count=2)
        ev, logs = collect(target)
        log_calls = fake.count("/log")
    assert len(names) == 6
    assert len(logs) == 2 and log_calls == 2
    files = ev.data["logs"]
    skipped = [f for f in files if f.get("not_fetched")]
    assert len(skipped) == len(files) - 2 >= 4
    assert skipped[0]["not_fetched"] == "log budget: 2 logs per run"
    assert ev.data["logs_not_fetched"] == {"log budget: 2 logs per run": len(skipped)}
    assert any(n.startswith(f"logs not fetched: {len(skipped)} (log budget")
               for n in ev.inputs[0].notes)


def test_log_byte_budget(tmp_path: Path) -> None:
    with FakeKube() as fake:
        load_agent_scenario(fake, replicas=4)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        ev, logs = collect(KubeTarget(kubeconfig=str(cfg), request_timeout=5.0,
                                      targets=("deploy/agent",), log_budget_bytes=1))
    # fetches already running when the first log spent the budget may finish (4 workers)
    assert 1 <= len(logs) <= 4
    assert "log budget: 0 MiB per run" in ev.data["logs_not_fetched"]


def test_logs_of_many_pods_run_concurrently_and_bounded(tmp_path: Path) -> None:
    """200 pods: logs fetched by the pool (never more than LOG_WORKERS at once)."""
    from probes.kube import live

    with FakeKube() as fake:
        load_agent_scenario(fake, replicas=200)
        fake.delay = 0.05
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        t0 = time.monotonic()
        ev, logs = collect(KubeTarget(kubeconfig=str(cfg), request_timeout=10.0,
                                      targets=("deploy/agent",)))
        took = time.monotonic() - t0
        log_calls = fake.count("/log")
    print(f"200 pods: {log_calls} log calls in {took:.1f}s, {live.LOG_WORKERS} workers")
    assert ev.error is None and len(logs) == log_calls >= 200
    assert took < log_calls * 0.05 * 0.7  # not one after another
    assert threading.active_count() < 20 + live.LOG_WORKERS


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-s"]))
