"""Rebuild the Python agent scenarios of the incident lab.

    python3 tests/lab/py_agents/rebuild.py                 # every scenario below
    python3 tests/lab/py_agents/rebuild.py py-tool-timeout  # one scenario and its twin
    python3 tests/lab/py_agents/rebuild.py --check          # committed folders vs their rules

Needs the packages in requirements.txt (PyPI) in the running Python; no Debian packages.
Uses ports 18100-18199 on 127.0.0.1 only. Each scenario folder under tests/lab/scenarios/ is
rewritten: the service's own output as it printed it, spans where the scenario exports them,
and truth.json whose ``expected`` is computed from ``measured`` by the scenario's rule.

Ground truth comes from two records kept outside the capture: the driver's client-side
record (statuses, bodies, checks on the body) and the apps' ``_measure`` lines (overlapping
runs on one object, values a tool set and read back, 429s the fake provider sent).
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import driver  # noqa: E402

SCEN_ROOT = os.path.normpath(os.path.join(HERE, "..", "scenarios"))
MAX_FOLDER_BYTES = 900_000


@dataclass
class Proc:
    """A server we started: its argv, where its output goes, and the Popen."""
    name: str
    argv: list[str]
    log_path: str
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    cri: bool = False  # wrap each line like the container runtime's log file does


def cri_pump(src: Any, dst_path: str) -> None:
    """Copy a pipe to a file with the CRI prefix containerd writes (``TS stdout F line``)."""
    import threading

    def run() -> None:
        with open(dst_path, "w", encoding="utf-8") as out:
            for raw in iter(src.readline, b""):
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                frac = f"{time.time() % 1:.9f}"[1:]
                line = raw.decode("utf-8", "replace").rstrip("\n")
                out.write(f"{ts}{frac}Z stderr F {line}\n")
                out.flush()

    threading.Thread(target=run, daemon=True).start()


def start(p: Proc) -> None:
    env = {**os.environ, **p.env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": HERE}
    if p.cri:
        p.popen = subprocess.Popen(p.argv, cwd=HERE, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        cri_pump(p.popen.stdout, p.log_path)
    else:
        fh = open(p.log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed with the process)
        p.popen = subprocess.Popen(p.argv, cwd=HERE, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                   start_new_session=True)


def wait_ready(p: Proc, marker: str, count: int, limit: float = 60.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            with open(p.log_path, encoding="utf-8", errors="replace") as fh:
                if fh.read().count(marker) >= count:
                    return
        except FileNotFoundError:
            pass
        assert p.popen is not None
        if p.popen.poll() is not None:
            raise SystemExit(f"{p.name} exited early, see {p.log_path}")
        time.sleep(0.2)
    raise SystemExit(f"{p.name} not ready after {limit}s")


def stop(p: Proc) -> None:
    if p.popen is None or p.popen.poll() is not None:
        return
    os.kill(p.popen.pid, signal.SIGTERM)
    try:
        p.popen.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.popen.pid, signal.SIGKILL)
        p.popen.wait(timeout=5)
    time.sleep(0.3)


def read_measure(d: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(glob.glob(os.path.join(d, "measure-*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


@dataclass
class Scenario:
    name: str
    twin: str
    stack: str
    logging: str
    rule: str
    # (tmp measure dir, scenario dir, fixed) -> servers to start, in order, with ready markers
    servers: Callable[[str, str, bool], list[tuple[Proc, str, int]]]
    send: Callable[[], driver.Send]
    # (client summary, raw results, measure rows) -> measured dict
    measure: Callable[[dict[str, Any], list[driver.Result], list[dict[str, Any]]], dict[str, Any]]
    # measured -> expected cause id
    decide: Callable[[dict[str, Any]], str]
    fixed: bool = False
    levels: tuple[tuple[int, int], ...] = driver.LEVELS
    timeout: float = 30.0
    inputs: list[str] = field(default_factory=list)


def run(sc: Scenario) -> dict[str, Any]:
    out = os.path.join(SCEN_ROOT, sc.name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    tmp = tempfile.mkdtemp(prefix="lab-py-")
    servers = sc.servers(tmp, out, sc.fixed)
    try:
        for p, marker, count in servers:
            start(p)
            wait_ready(p, marker, count)
        results, not_sent = asyncio.run(
            driver.ramp(sc.send(), levels=sc.levels, request_timeout=sc.timeout))
    finally:
        for p, _, _ in reversed(servers):
            stop(p)
    driver.dump(results, os.path.join(tmp, "client.jsonl"))
    summary = driver.summarise(results, not_sent)
    measured = sc.measure(summary, results, read_measure(tmp))
    expected = sc.decide(measured)
    inputs = sc.inputs or sorted(f for f in os.listdir(out) if f != "truth.json")
    truth = {"expected": expected, "measured": measured, "rule": sc.rule, "twin": sc.twin,
             "stack": sc.stack, "logging": sc.logging, "inputs": inputs}
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump(truth, fh, indent=2)
        fh.write("\n")
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{sc.name}: expected={expected} 5xx={measured.get('client_5xx')} size={size}B tmp={tmp}")
    if size > MAX_FOLDER_BYTES:
        print(f"  WARNING: {sc.name} is {size} bytes (limit {MAX_FOLDER_BYTES})")
    return truth


def uvicorn(module: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]


def chat_sender(url: str, make: Callable[[int, int], dict[str, Any]]) -> driver.Send:
    async def send(client: httpx.AsyncClient, level: int, seq: int) -> driver.Result:
        return await driver.post_json(client, url, make(level, seq), level, seq)
    return send


def check(scenarios: list[Scenario]) -> list[str]:
    """Problems with the committed folders: the contract of tests/lab/README.md, re-derived.

    ``expected`` must equal the rule applied to the committed ``measured`` again; a fixed twin
    must be healthy and a broken one must not; inputs must exist; folders stay small.
    """
    problems = []
    for sc in scenarios:
        out = os.path.join(SCEN_ROOT, sc.name)
        try:
            with open(os.path.join(out, "truth.json"), encoding="utf-8") as fh:
                truth = json.load(fh)
        except (OSError, ValueError) as exc:
            problems.append(f"{sc.name}: no readable truth.json ({exc})")
            continue
        again = sc.decide(truth["measured"])
        if truth["expected"] != again:
            problems.append(f"{sc.name}: expected {truth['expected']} but the rule gives {again}")
        if truth["rule"] != sc.rule:
            problems.append(f"{sc.name}: rule text differs from the scenario table")
        if sc.fixed and again != "healthy":
            problems.append(f"{sc.name}: fixed twin measured a fault ({again})")
        if not sc.fixed and sc.twin and again in ("healthy", "inconclusive"):
            problems.append(f"{sc.name}: broken scenario measured no fault ({again})")
        for name in truth["inputs"]:
            if not os.path.isfile(os.path.join(out, name)):
                problems.append(f"{sc.name}: input {name} missing")
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        if size > MAX_FOLDER_BYTES:
            problems.append(f"{sc.name}: {size} bytes > {MAX_FOLDER_BYTES}")
    return problems


if __name__ == "__main__":
    import scenarios_py

    if sys.argv[1:] == ["--check"]:
        found = check(scenarios_py.ALL)
        print("\n".join(found) or f"{len(scenarios_py.ALL)} scenario folders match their rules")
        sys.exit(1 if found else 0)
    wanted = set(sys.argv[1:])
    for sc in scenarios_py.ALL:
        base = sc.name.removesuffix("-fixed")
        if wanted and sc.name not in wanted and base not in wanted:
            continue
        run(sc)
