"""Start and stop the test services as real uvicorn processes on 127.0.0.1.

Why subprocesses and not an in-thread server: the process probe must see real masters
and workers, and the ramp must talk to a service that runs its own event loop, exactly
as in production. Each service gets a free port; ``running`` stops it (SIGTERM, then
SIGKILL) whatever happens in the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import psutil

SERVICES_DIR = Path(__file__).resolve().parent
READY_TIMEOUT_S = 20.0


def free_port() -> int:
    """A TCP port nothing listens on right now (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    port: int
    workers: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """Children of the uvicorn master that listen on the port (the workers)."""
        out = []
        for child in psutil.Process(self.proc.pid).children():
            with contextlib.suppress(psutil.Error):
                if any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                       for c in child.net_connections(kind="tcp")):
                    out.append(child.pid)
        return sorted(out)


def start(app: str = "agent_app:app", *, mode: str = "buggy", workers: int = 1,
          port: int | None = None, env: dict[str, str] | None = None,
          stdout: int | IO[Any] | None = subprocess.DEVNULL) -> Service:
    """Start ``uvicorn app`` from this folder on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    full_env = {**os.environ, "AGENT_MODE": mode, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(SERVICES_DIR),
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=full_env, stdout=stdout, stderr=subprocess.DEVNULL)
    service = Service(proc, port, workers)
    try:
        _wait_ready(service)
    except BaseException:
        stop(service)
        raise
    return service


def _wait_ready(service: Service) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(f"service exited with {service.proc.returncode}")
        try:
            ok = httpx.get(f"{service.url}/healthz", timeout=1.0,
                           trust_env=False).status_code == 200
        except httpx.TransportError:
            ok = False
        if ok and (service.workers <= 1 or len(service.worker_pids()) >= service.workers):
            return
        time.sleep(0.1)
    raise TimeoutError(f"service on :{service.port} not ready in {READY_TIMEOUT_S} s")


def stop(service: Service) -> None:
    """SIGTERM the master (uvicorn stops its workers), SIGKILL what is left."""
    try:
        family = [psutil.Process(service.proc.pid),
                  *psutil.Process(service.proc.pid).children(recursive=True)]
    except psutil.Error:
        family = []
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
        try:
            service.proc.wait(10)
        except subprocess.TimeoutExpired:
            service.proc.kill()
            service.proc.wait(5)
    _, alive = psutil.wait_procs(family, timeout=5)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()


@contextlib.contextmanager
def running(app: str = "agent_app:app", **kwargs: Any) -> Iterator[Service]:
    service = start(app, **kwargs)
    try:
        yield service
    finally:
        stop(service)
