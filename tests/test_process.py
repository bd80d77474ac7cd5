"""The process probe on real processes: uvicorn masters and workers, this test process,
and small Python children that really grow memory or run out of file descriptors.

One mock, named where it is used: permission denied. These tests run as root and the
interpreter lives under /root (mode 0700), so a process of another user that could run
this code cannot be started here; psutil's ``AccessDenied`` is raised by a patched
method instead, exactly where psutil raises it for another user's process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services.launch import Service, free_port, running  # noqa: E402

from probes.evidence import Answer, Evidence  # noqa: E402
from probes.process import (  # noqa: E402
    ProcessTarget,
    cgroup_ids,
    collect,
    nofile_limits_from_proc,
    rss_trend,
    supervisor_kind,
)
from tui.commands import live  # noqa: E402
from tui.exit_codes import ExitCode  # noqa: E402

pytestmark = pytest.mark.timeout(60)


def _signals(ev: Evidence) -> dict[str, Answer]:
    return {s.key: s.answer for s in ev.signals}


def _by_pid(ev: Evidence) -> dict[int, dict[str, Any]]:
    return {p["pid"]: p for p in ev.data["processes"]}


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Service]:
    with running(mode="buggy", workers=2) as svc:
        yield svc


def test_port_finds_master_and_both_workers(two_workers: Service) -> None:
    svc = two_workers
    workers = svc.worker_pids()
    assert len(workers) == 2
    ev = collect(ProcessTarget(port=svc.port, sample_seconds=0.4))
    assert ev.error is None
    procs = _by_pid(ev)
    assert {svc.proc.pid, *workers} <= set(procs)
    assert procs[svc.proc.pid]["role"] == "master"
    for pid in workers:
        assert procs[pid]["role"] == "worker"
        assert procs[pid]["ppid"] == svc.proc.pid
        assert svc.port in procs[pid]["listening"]
        assert procs[pid]["identity"] == f"{pid}@{psutil.Process(pid).create_time():.2f}"
    assert svc.port in procs[svc.proc.pid]["listening"]
    helpers = [p for p in procs.values() if p["role"] == "helper"]
    assert all("resource_tracker" in p["cmdline"] for p in helpers)
    multiple = next(s for s in ev.signals if s.key == "process.multiple_workers")
    assert multiple.answer is Answer.YES and multiple.value == 2
    assert {e.source for e in multiple.examples} >= {f"pid {p}" for p in workers}
    assert ev.data["port_sockets"].get("LISTEN", 0) >= 1


def test_pid_of_the_master_brings_its_workers(two_workers: Service) -> None:
    ev = collect(ProcessTarget(pid=two_workers.proc.pid, sample_seconds=0))
    assert set(two_workers.worker_pids()) <= set(_by_pid(ev))
    assert _signals(ev)["process.multiple_workers"] is Answer.YES
    assert _signals(ev)["process.rss_growth"] is Answer.UNKNOWN  # one sample only


def test_a_worker_pid_brings_its_uvicorn_master(two_workers: Service) -> None:
    worker = two_workers.worker_pids()[0]
    ev = collect(ProcessTarget(pid=worker, sample_seconds=0))
    procs = _by_pid(ev)
    assert procs[two_workers.proc.pid]["found_by"] == "parent (uvicorn)"
    assert procs[worker]["found_by"] == "pid given"


def test_this_test_process() -> None:
    me = psutil.Process()
    ev = collect(ProcessTarget(pid=os.getpid(), sample_seconds=0.3))
    assert ev.error is None
    procs = _by_pid(ev)
    # services started by module fixtures are children of this process: they come along
    assert set(procs) == {os.getpid(), *(c.pid for c in me.children(recursive=True))}
    facts = procs[os.getpid()]
    assert facts["identity"] == f"{os.getpid()}@{me.create_time():.2f}"
    assert facts["role"] == ("single" if len(procs) == 1 else "master")
    assert facts["fds"] == me.num_fds()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert (facts["fd_soft_limit"], facts["fd_hard_limit"]) == (soft, hard)
    assert facts["threads"] >= 1 and facts["rss_samples"] >= 2
    assert facts["user"] == me.username()
    answers = _signals(ev)
    if len(procs) == 1:
        assert answers["process.multiple_workers"] is Answer.NO
    assert answers["errors.socket_exhaustion"] is Answer.NO
    assert answers["process.fd_pressure"] is Answer.NO


def test_pattern_finds_two_replicas_with_their_pod_names() -> None:
    with running(mode="buggy", env={"HOSTNAME": "agent-7d9f8b6c4-x2k9p"}) as a, \
            running(mode="buggy", env={"HOSTNAME": "agent-7d9f8b6c4-q8wzm"}) as b:
        ev = collect(ProcessTarget(pattern=rf"--port ({a.port}|{b.port})\b",
                                   sample_seconds=0))
    procs = _by_pid(ev)
    assert set(procs) == {a.proc.pid, b.proc.pid}
    assert {p["pod"] for p in procs.values()} == {"agent-7d9f8b6c4-x2k9p",
                                                 "agent-7d9f8b6c4-q8wzm"}
    assert _signals(ev)["process.multiple_workers"] is Answer.YES


_FD_HOG = textwrap.dedent("""
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    held = []
    try:
        while True:
            held.append(open("/dev/null"))
    except OSError:
        pass
    held.pop().close()
    print("ready", flush=True)
    time.sleep(30)
""")

_RSS_GROWER = textwrap.dedent("""
    import sys, time
    chunks = []
    print("ready", flush=True)
    for _ in range(200):
        chunks.append(bytearray(1024 * 1024))  # touched: bytearray zero-fills
        time.sleep(0.03)
    time.sleep(30)
""")

_IDLE = "import time; print('ready', flush=True); time.sleep(30)"


@pytest.fixture
def child() -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(code: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(5)


def test_fds_at_the_limit_are_pressure_and_exhaustion(child) -> None:  # type: ignore[no-untyped-def]
    hog = child(_FD_HOG)
    ev = collect(ProcessTarget(pid=hog.pid, sample_seconds=0))
    [facts] = ev.data["processes"]
    assert facts["fd_soft_limit"] == 64 and facts["fds"] >= 61
    answers = _signals(ev)
    assert answers["process.fd_pressure"] is Answer.YES
    assert answers["errors.socket_exhaustion"] is Answer.YES
    exhausted = next(s for s in ev.signals if s.key == "errors.socket_exhaustion")
    assert exhausted.examples[0].source == f"pid {hog.pid}"
    assert "of soft limit 64" in exhausted.examples[0].text


def test_growing_rss_is_seen_and_idle_rss_is_not(child) -> None:  # type: ignore[no-untyped-def]
    grower = child(_RSS_GROWER)
    ev = collect(ProcessTarget(pid=grower.pid, sample_seconds=1.0))
    growth = next(s for s in ev.signals if s.key == "process.rss_growth")
    assert growth.answer is Answer.YES, growth.detail
    assert int(growth.value or 0) >= 8 * 1024 * 1024
    idle = child(_IDLE)
    ev = collect(ProcessTarget(pid=idle.pid, sample_seconds=0.6))
    assert _signals(ev)["process.rss_growth"] is Answer.NO


def test_permission_denied_gives_unknown_with_the_pid(child, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Mock: psutil raises AccessDenied as it does for another user's process (see module
    docstring for why a real other-user process cannot run here)."""
    idle = child(_IDLE)

    def denied(self: psutil.Process, *args: object, **kwargs: object) -> object:
        raise psutil.AccessDenied(self.pid)

    for method in ("num_fds", "memory_info", "net_connections", "rlimit", "environ"):
        monkeypatch.setattr(psutil.Process, method, denied)
    ev = collect(ProcessTarget(pid=idle.pid, sample_seconds=0.2))
    assert ev.error is None
    by_key = {s.key: s for s in ev.signals}
    for key in ("process.fd_pressure", "errors.socket_exhaustion", "process.rss_growth"):
        assert by_key[key].answer is Answer.UNKNOWN
        assert by_key[key].reason == f"permission denied reading pid {idle.pid}"
        assert by_key[key].detail.startswith("not checked: ")
    [facts] = ev.data["processes"]
    assert {"fds", "memory", "sockets", "environ"} <= set(facts["denied"])


def test_nothing_found_and_bad_targets_are_errors() -> None:
    assert collect(ProcessTarget(port=free_port(), sample_seconds=0)).error
    assert "give a port" in (collect(ProcessTarget()).error or "")
    assert "bad pattern" in (collect(ProcessTarget(pattern="(")).error or "")
    assert "out of range" in (collect(ProcessTarget(port=70000)).error or "")


def test_cancel_stops_sampling_early() -> None:
    import threading
    import time
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    ev = collect(ProcessTarget(pid=os.getpid(), sample_seconds=20), cancel)
    assert time.monotonic() - started < 3
    assert ev.inputs[0].error == "cancelled"


def test_secrets_in_command_lines_are_redacted(child) -> None:  # type: ignore[no-untyped-def]
    proc = child(_IDLE + "  # --api-key sk-proj-abcdefghijklmnopqrstuvwxyz PASSWORD=hunter22")
    ev = collect(ProcessTarget(pid=proc.pid, sample_seconds=0))
    text = json.dumps(ev.to_json())
    assert "hunter22" not in text and "abcdefghijklmnopqrstuvwxyz" not in text


# --- parsing tables, golden inputs --------------------------------------------------------

CID = "3f5c1e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"


@pytest.mark.parametrize("text,expected", [
    (f"0::/system.slice/docker-{CID}.scope\n", {"container_id": CID}),
    (f"12:memory:/docker/{CID}\n11:cpu:/docker/{CID}\n", {"container_id": CID}),
    ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
     "pod8d7c7a4e_1b2c_4d5e_9f00_112233445566.slice/cri-containerd-" + CID + ".scope\n",
     {"container_id": CID, "pod_uid": "8d7c7a4e-1b2c-4d5e-9f00-112233445566"}),
    ("11:memory:/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/crio-" + CID
     + "\n", {"container_id": CID, "pod_uid": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}),
    ("0::/user.slice/user-1000.slice/session-2.scope\n", {}),
    ("0::/\n", {}),
])
def test_cgroup_table(text: str, expected: dict[str, str]) -> None:
    assert cgroup_ids(text) == expected


def test_proc_limits_golden() -> None:
    text = textwrap.dedent("""\
        Limit                     Soft Limit           Hard Limit           Units
        Max cpu time              unlimited            unlimited            seconds
        Max open files            1024                 1048576              files
        Max locked memory         8388608              8388608              bytes
    """)
    assert nofile_limits_from_proc(text) == (1024, 1048576)
    assert nofile_limits_from_proc("Max open files  unlimited  unlimited  files") == (None, None)


@pytest.mark.parametrize("parent,child_args,expected", [
    (["/usr/bin/python3", "-m", "uvicorn", "app:app", "--workers", "4"],
     ["python3", "-c", "from multiprocessing.spawn import spawn_main"], "uvicorn"),
    (["/usr/local/bin/python", "/usr/local/bin/gunicorn", "-w", "4", "app:app"],
     ["/usr/local/bin/python", "/usr/local/bin/gunicorn", "-w", "4", "app:app"], "gunicorn"),
    (["PM2 v5.3.0: God Daemon (/root/.pm2)"], ["node /app/server.js"], "pm2"),
    (["node", "server.js"], ["node", "server.js"], "same command (cluster primary)"),
    (["timeout", "60", "python3", "-m", "uvicorn", "app:app"], ["python3"], None),
    (["/bin/bash"], ["node", "server.js"], None),
])
def test_supervisor_table(parent: list[str], child_args: list[str],
                          expected: str | None) -> None:
    assert supervisor_kind(parent, child_args) == expected


def test_rss_trend_golden() -> None:
    mib = 1024 * 1024
    assert rss_trend([100 * mib, 104 * mib, 108 * mib, 112 * mib]) == (12 * mib, 0.12, 1.0)
    growth, _, rising = rss_trend([100 * mib, 90 * mib, 120 * mib, 80 * mib, 110 * mib])
    assert growth == 10 * mib and rising == 0.5
    assert rss_trend([5]) == (0, 0.0, 0.0)


# --- CLI ----------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scaledoc")
    live.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_ps_json_and_table(two_workers: Service, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli(["ps", "--port", str(two_workers.port), "--sample", "0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["probe"] == "process"
    assert {s["key"]: s["answer"] for s in doc["signals"]}["process.multiple_workers"] == "yes"
    monkeypatch.setenv("COLUMNS", "240")
    assert _cli(["ps", "--port", str(two_workers.port), "--sample", "0"]) == 0
    out = capsys.readouterr().out
    assert "process.multiple_workers" in out and str(two_workers.proc.pid) in out


@pytest.mark.parametrize("argv,code", [
    (["ps"], ExitCode.INPUT_ERROR),
    (["ps", "--match", "("], ExitCode.INPUT_ERROR),
    (["ps", "--port", "0"], ExitCode.INPUT_ERROR),
])
def test_cli_ps_bad_input(argv: list[str], code: ExitCode,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(argv) == code
    assert capsys.readouterr().err.startswith("scaledoc: ")


def test_cli_ps_nothing_listening_is_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["ps", "--port", str(free_port()), "--sample", "0"]) == ExitCode.UNREACHABLE
    assert "no process found" in capsys.readouterr().err


def test_listener_of_another_user_gives_unknown_not_an_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Mock: the system socket table as psutil returns it to a non-root user, where a
    socket owned by another user's process has pid None (cannot be produced as root)."""
    from types import SimpleNamespace
    port = free_port()
    hidden = SimpleNamespace(fd=-1, family=2, type=1, raddr=(), status=psutil.CONN_LISTEN,
                             laddr=SimpleNamespace(ip="0.0.0.0", port=port), pid=None)
    monkeypatch.setattr(psutil, "net_connections", lambda kind="inet": [hidden])
    ev = collect(ProcessTarget(port=port, sample_seconds=0))
    assert ev.error is None
    assert set(_signals(ev).values()) == {Answer.UNKNOWN}
    assert all("permission denied" in s.reason for s in ev.signals)
    assert any("not readable" in n for n in ev.data["notes"])


_HOLDING_SERVER = textwrap.dedent("""
    import socket, sys, time
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    print(srv.getsockname()[1], flush=True)
    mode = sys.argv[1]
    held = []
    while True:
        conn, _ = srv.accept()
        if mode == "hold":
            held.append(conn)  # never closed: CLOSE_WAIT once the client closes
        else:
            conn.close()  # the server closes first: TIME_WAIT on the server port
""")


@pytest.fixture
def tcp_server() -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(mode: str) -> tuple[subprocess.Popen[str], int]:
        proc = subprocess.Popen([sys.executable, "-c", _HOLDING_SERVER, mode],
                                stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None
        return proc, int(proc.stdout.readline())

    yield start
    for proc in started:
        proc.kill()
        proc.wait(5)


def _connect_and_close(port: int, count: int, wait_for_server_close: bool) -> None:
    import socket
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            if wait_for_server_close:
                c.recv(1)  # returns b"" once the server has closed its end


def test_close_wait_leak_is_fd_pressure(tcp_server) -> None:  # type: ignore[no-untyped-def]
    import time
    proc, port = tcp_server("hold")
    _connect_and_close(port, 40, wait_for_server_close=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ev = collect(ProcessTarget(port=port, sample_seconds=0))
        if (_by_pid(ev)[proc.pid]["sockets"] or {}).get("CLOSE_WAIT", 0) >= 40:
            break
        time.sleep(0.1)
    pressure = next(s for s in ev.signals if s.key == "process.fd_pressure")
    assert pressure.answer is Answer.YES
    assert any("CLOSE_WAIT" in e.text and e.source == f"pid {proc.pid}"
               for e in pressure.examples)


def test_time_wait_churn_on_the_port_is_fd_pressure(tcp_server) -> None:  # type: ignore[no-untyped-def]
    proc, port = tcp_server("close")
    _connect_and_close(port, 300, wait_for_server_close=True)
    ev = collect(ProcessTarget(port=port, sample_seconds=0))
    assert ev.data["port_sockets"].get("TIME_WAIT", 0) >= 256
    pressure = next(s for s in ev.signals if s.key == "process.fd_pressure")
    assert pressure.answer is Answer.YES
    assert any(e.source == f"tcp :{port}" and "TIME_WAIT" in e.text for e in pressure.examples)
