"""Run the Node lab services, drive them with a bounded ramp, write each scenario folder.

Usage (from the repo root; needs `npm ci` in tests/lab/node first, see README.md):

    python3 tests/lab/node/drive.py                 # every scenario, in order
    python3 tests/lab/node/drive.py node-oom-heap   # only the named ones

Why a driver of our own: the ground truth of a scenario must be measured from the run, not
taken from the script's intent. The services count what they saw (overlapping runs on one
object, worker deaths, overlapping timer jobs, circular-structure failures) and write the
counters on SIGTERM; this driver adds what the client saw (statuses, 5xx bodies, transport
errors) and what the captured files hold (V8 fatal lines, npm ERESOLVE), then derives
`expected` from `measured` with the scenario's rule, in code.

Safety: every request goes to 127.0.0.1 only, each with a timeout; a ramp has a total time
cap; every process started here is stopped by its own pid (process group) before the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
SCENARIOS_DIR = HERE.parent / "scenarios"
HOST = "127.0.0.1"

# The ramp: (concurrent users, sequential requests per user). 4+20+40+100 = 164 requests.
LEVELS: tuple[tuple[int, int], ...] = ((1, 4), (5, 4), (10, 4), (25, 4))
REQUEST_TIMEOUT_S = 10.0
RAMP_CAP_S = 120.0
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
MAX_BODY_CHARS = 300


@dataclass
class Scenario:
    """One scenario: how to start the service, how to load it, how to judge the run."""

    name: str
    cmd: list[str]
    port: int | None
    stack: str
    logging: str
    twin: str
    rule: str
    judge: Callable[[dict[str, Any]], str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = HERE
    mode: str = "http"  # http: ramp on /chat; timer: run for run_s; mismatch: npm + http
    run_s: float = 0.0
    stdout_name: str = "app.log"
    pre: Callable[[Scenario, Path], dict[str, Any]] | None = None
    sidecar: list[str] | None = (
        None  # started before the service, stopped after (e.g. fake provider)
    )
    sidecar_port: int | None = None
    sidecar_tcp: bool = False  # wait for a TCP accept instead of GET /health
    sidecar_env: dict[str, str] = field(default_factory=dict)  # "{folder}" is the scenario folder


# ---------------------------------------------------------------- client side


async def _user(
    client: httpx.AsyncClient,
    url: str,
    level: int,
    user: int,
    n: int,
    out: list[dict[str, Any]],
    deadline: float,
) -> None:
    session = f"sess-{level}-{user}"
    for turn in range(n):
        if time.monotonic() > deadline:
            out.append({"level": level, "status": None, "error": "skipped: ramp time cap"})
            continue
        body = {
            "sessionId": session,
            "turn": turn,
            "orderId": f"ord-{level}-{user}-{turn}",
            "message": f"turn {turn}: where is my order?",
        }
        t0 = time.monotonic()
        try:
            r = await client.post(url, json=body)
            rec: dict[str, Any] = {
                "level": level,
                "status": r.status_code,
                "ms": (time.monotonic() - t0) * 1000,
                "body": r.text[:MAX_BODY_CHARS],
                "turn": turn,
            }
            with contextlib.suppress(ValueError, AttributeError):
                answer = r.json()
                known = answer.get("historyLength")
                if isinstance(known, int):
                    rec["history_length"] = known
                if "orderId" in answer:
                    rec["order_ok"] = answer["orderId"] == body["orderId"]
            out.append(rec)
        except httpx.HTTPError as exc:
            out.append(
                {
                    "level": level,
                    "status": None,
                    "ms": (time.monotonic() - t0) * 1000,
                    "error": f"{type(exc).__name__}: {exc}"[:MAX_BODY_CHARS],
                }
            )


async def ramp(port: int, path: str = "/chat") -> list[dict[str, Any]]:
    """Bounded ramp on 127.0.0.1: each level starts N users, each sends its turns in order."""
    url = f"http://{HOST}:{port}{path}"
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + RAMP_CAP_S
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        for level, per_user in LEVELS:
            await asyncio.gather(
                *(_user(client, url, level, u, per_user, results, deadline) for u in range(level))
            )
    return results


def summarise_client(results: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(
        str(r["status"]) if r["status"] is not None else "no_response" for r in results
    )
    by_level: dict[str, dict[str, int]] = {}
    for r in results:
        lv = by_level.setdefault(str(r["level"]), {"sent": 0, "5xx": 0, "no_response": 0})
        lv["sent"] += 1
        if r["status"] is None:
            lv["no_response"] += 1
        elif r["status"] >= 500:
            lv["5xx"] += 1
    bodies = Counter(r["body"] for r in results if r["status"] is not None and r["status"] >= 500)
    errors = Counter(
        re.sub(r"\d+", "N", r.get("error", "")) for r in results if r["status"] is None
    )
    with_len = [r for r in results if "history_length" in r]
    extra: dict[str, Any] = {}
    if with_len:
        # A stale read: the client sent turn n (0-based) of its session, in order, and the
        # service answered that it knew fewer than n + 1 turns of that session.
        extra["client_turns_checked"] = len(with_len)
        extra["client_stale_reads"] = sum(
            1 for r in with_len if r["history_length"] < r["turn"] + 1
        )
        # The service knew more turns than this session had sent: other sessions' turns.
        extra["client_history_too_long"] = sum(
            1 for r in with_len if r["history_length"] > r["turn"] + 1
        )
    with_order = [r for r in results if "order_ok" in r]
    if with_order:
        # The answer named another order than the one this request asked about.
        extra["client_orders_checked"] = len(with_order)
        extra["client_wrong_order"] = sum(1 for r in with_order if not r["order_ok"])
    return {
        **extra,
        "requests": len(results),
        "statuses": dict(sorted(statuses.items())),
        "client_5xx": sum(1 for r in results if r["status"] is not None and r["status"] >= 500),
        "client_no_response": statuses.get("no_response", 0),
        "by_level": by_level,
        "5xx_bodies_top": [{"count": c, "body": b} for b, c in bodies.most_common(3)],
        "transport_errors_top": [{"count": c, "error": e} for e, c in errors.most_common(3)],
    }


# ---------------------------------------------------------------- processes


def wait_tcp(port: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """For sidecars that do not speak HTTP (redis-server): the port accepts a connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1.0):
            return True
        time.sleep(0.2)
    return False


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM the service (it writes its counters), then SIGKILL its own group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # Leftovers of the group (cluster workers), by the group id we created.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode


def read_counters(d: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(d.glob("counters-*.json"))]


def sum_key(counters: list[dict[str, Any]], key: str, role: str | None = None) -> int:
    return sum(int(c.get(key, 0)) for c in counters if role is None or c.get("role") == role)


def count_lines(path: Path, needle: str) -> int:
    return count_lines_all(path, needle)


def count_lines_all(path: Path, *needles: str) -> int:
    """Lines of a captured file that hold every needle (e.g. V8's fatal heap lines)."""
    if not path.exists():
        return 0
    return sum(
        1
        for line in path.read_text(errors="replace").splitlines()
        if all(n in line for n in needles)
    )


# ---------------------------------------------------------------- a run


def run_scenario(sc: Scenario) -> dict[str, Any]:
    folder = SCENARIOS_DIR / sc.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    counters_dir = Path(tempfile.mkdtemp(prefix="lab-node-"))
    measured: dict[str, Any] = {}
    if sc.pre:
        measured.update(sc.pre(sc, folder))
    env = {**os.environ, "LAB_COUNTERS_DIR": str(counters_dir), "NODE_ENV": "production", **sc.env}
    if sc.port:
        env["PORT"] = str(sc.port)
    out_path, err_path = folder / sc.stdout_name, folder / "stderr.log"
    side = None
    if sc.sidecar:
        side_env = {
            **os.environ,
            "LAB_COUNTERS_DIR": str(counters_dir),
            **{k: v.format(folder=folder) for k, v in sc.sidecar_env.items()},
        }
        side = subprocess.Popen(
            sc.sidecar,
            cwd=HERE,
            env=side_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert sc.sidecar_port is not None
        waiter = wait_tcp if sc.sidecar_tcp else wait_port
        if not waiter(sc.sidecar_port, side, START_TIMEOUT_S):
            stop(side)
            raise RuntimeError(f"{sc.name}: sidecar did not start")
    t0 = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            sc.cmd,
            cwd=sc.cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            results: list[dict[str, Any]] = []
            if sc.mode == "timer":
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(sc.run_s)
            else:
                assert sc.port is not None
                if wait_port(sc.port, proc, START_TIMEOUT_S):
                    results = asyncio.run(ramp(sc.port))
                    measured["service_started"] = True
                else:
                    measured["service_started"] = False
            time.sleep(0.5)
        finally:
            rc = stop(proc)
            if side is not None:
                stop(side)
    measured["run_seconds"] = round(time.monotonic() - t0, 1)
    measured["exit_code"] = rc
    if sc.mode != "timer":
        measured.update(summarise_client(results))
    counters = read_counters(counters_dir)
    measured["counters_files"] = len(counters)
    shutil.rmtree(counters_dir, ignore_errors=True)
    measured.update(app_counters(counters))
    spans = folder / "spans.otlp.jsonl"
    if spans.exists():
        measured["otlp_export_batches"] = count_lines(spans, "resourceSpans")
    measured["stderr_v8_heap_fatal_lines"] = count_lines_all(
        err_path, "FATAL ERROR:", "JavaScript heap out of memory"
    )
    measured["stderr_circular_structure_lines"] = count_lines(
        err_path, "Converting circular structure to JSON"
    )
    for p in (out_path, err_path):
        if p.exists() and p.stat().st_size == 0:
            p.unlink()
    expected = sc.judge(measured)
    inputs = sorted(p.name for p in folder.iterdir() if p.name != "truth.json")
    truth = {
        "expected": expected,
        "measured": measured,
        "rule": sc.rule,
        "twin": sc.twin,
        "stack": sc.stack,
        "logging": sc.logging,
        "inputs": inputs,
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def app_counters(counters: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum what the processes counted themselves."""
    keys = (
        "runs",
        "overlaps",
        "overlapsSameSession",
        "overlapsSameRequest",
        "rejected",
        "completed",
        "agentsCreated",
        "jobsStarted",
        "jobsOverlapping",
        "itemsProcessedTwice",
        "circularFailures",
        "requestsHandled",
        "historyEntries",
        "slowTurns",
        "sessions",
        "requestsFailed",
        "providerCompletions",
        "provider429",
        "toolWrongOrder",
        "toolTimeouts",
        "foreignTurnsSeen",
        "reentrant",
        "downstreamServed",
        "downstreamMaxQueue",
        "fanoutCalls",
        "fanoutMaxInFlight",
        "socketErrors",
    )
    out: dict[str, Any] = {}
    for k in keys:
        if any(k in c for c in counters):
            out[f"app_{k}"] = sum_key(counters, k)
    if any(c.get("role") == "primary" for c in counters):
        out["app_worker_deaths"] = sum_key(counters, "workerDeaths", "primary")
    per_session: Counter[str] = Counter()
    for c in counters:
        per_session.update(c.get("perSession", {}))
    if per_session:
        out["app_sessions_with_overlap"] = len(per_session)
        out["app_max_overlaps_one_session"] = max(per_session.values())
    return out


# ---------------------------------------------------------------- npm evidence (version-mismatch)

NPM_TIMEOUT_S = 300


def _npm(args: list[str], cwd: Path) -> tuple[int, str]:
    p = subprocess.run(
        ["npm", *args, "--no-audit", "--no-fund"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return p.returncode, p.stdout + p.stderr


def npm_evidence(sc: Scenario, folder: Path) -> dict[str, Any]:
    """What an engineer has of the install: the strict `npm install` output, the manifest and
    lock as committed, and whether the partner package's peer range admits the core installed.

    The strict install runs in a scratch copy (package.json only) so its ERESOLVE is real; the
    service then runs on `npm ci --legacy-peer-deps`, which is how such a tree gets deployed.
    """
    app = sc.cwd
    with tempfile.TemporaryDirectory(prefix="lab-npm-") as tmp:
        shutil.copy(app / "package.json", tmp)
        rc, out = _npm(["install"], Path(tmp))
    (folder / "npm-install.log").write_text(out)
    rc_ci, out_ci = _npm(["ci", "--legacy-peer-deps"], app)
    if rc_ci != 0:
        raise RuntimeError(f"{sc.name}: npm ci failed:\n{out_ci}")
    shutil.copy(app / "package.json", folder / "package.json")
    shutil.copy(app / "package-lock.json", folder / "package-lock.json")
    check = subprocess.run(
        ["node", "-e", PEER_CHECK_JS, str(app)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=30,
    )
    peer = json.loads(check.stdout)
    return {
        "npm_strict_install_exit": rc,
        "npm_strict_install_eresolve": "ERESOLVE" in out,
        "installed_core": peer["core"],
        "installed_partner": peer["partner"],
        "partner_peer_range_for_core": peer["range"],
        "peer_range_admits_installed_core": peer["admits"],
    }


# Reads the installed versions and checks the partner's declared peer range with npm's semver.
PEER_CHECK_JS = """
const path = require('node:path'); const semver = require('semver');
const root = process.argv[1];
const pj = (n) => require(path.join(root, 'node_modules', n, 'package.json'));
const core = pj('@langchain/core').version; const partner = pj('@langchain/openai');
const range = partner.peerDependencies['@langchain/core'];
const admits = semver.satisfies(core, range);
console.log(JSON.stringify({ core, partner: partner.version, range, admits }));
"""


# ---------------------------------------------------------------- scenarios and rules


def _clean(m: dict[str, Any]) -> str:
    no_fault = m.get("client_5xx", 0) == 0 and m.get("client_no_response", 0) == 0
    return "healthy" if no_fault else "inconclusive"


def _overlap_rule(cause: str) -> Callable[[dict[str, Any]], str]:
    def judge(m: dict[str, Any]) -> str:
        if m.get("app_overlaps", 0) > 0:
            return cause
        return (
            "healthy"
            if m.get("client_5xx", 0) == 0 and m.get("client_no_response", 0) == 0
            else "inconclusive"
        )

    return judge


def _same_session_rule(m: dict[str, Any]) -> str:
    if m.get("app_overlapsSameSession", 0) > 0:
        return "parallel-run-same-session"
    if m.get("app_overlaps", 0) > 0:
        return "shared-instance"
    return (
        "healthy"
        if m.get("client_5xx", 0) == 0 and m.get("client_no_response", 0) == 0
        else "inconclusive"
    )


def _oom_rule(m: dict[str, Any]) -> str:
    if m.get("app_worker_deaths", 0) > 0 and m.get("stderr_v8_heap_fatal_lines", 0) > 0:
        return "oom"
    return (
        "healthy"
        if m.get("client_5xx", 0) == 0 and m.get("client_no_response", 0) == 0
        else "inconclusive"
    )


def _timer_rule(m: dict[str, Any]) -> str:
    if m.get("app_jobsOverlapping", 0) > 0:
        return "overlapping-timer"
    return "healthy" if m.get("app_jobsStarted", 0) > 0 else "inconclusive"


def _serialization_rule(m: dict[str, Any]) -> str:
    if m.get("app_circularFailures", 0) > 0 or m.get("stderr_circular_structure_lines", 0) > 0:
        return "serialization"
    return (
        "healthy"
        if m.get("client_5xx", 0) == 0 and m.get("client_no_response", 0) == 0
        else "inconclusive"
    )


def _history_rule(m: dict[str, Any]) -> str:
    if m.get("client_history_too_long", 0) > 0:
        return "shared-history"
    return _clean(m)


def _reset_rule(m: dict[str, Any]) -> str:
    if m.get("client_stale_reads", 0) > 0:
        return "context-reset"
    return _clean(m)


def _reentrant_rule(m: dict[str, Any]) -> str:
    if m.get("app_reentrant", 0) > 0:
        return "reentrant-run"
    return _clean(m)


def _timeout_rule(m: dict[str, Any]) -> str:
    if m.get("app_toolTimeouts", 0) > 0 and m.get("client_5xx", 0) > 0:
        return "tool-timeout"
    return _clean(m)


def _tool_rule(m: dict[str, Any]) -> str:
    if m.get("client_wrong_order", 0) > 0:
        return "stateful-tool"
    return _clean(m)


def _fanout_rule(m: dict[str, Any]) -> str:
    if (m.get("app_socketErrors", 0) > 0 and m.get("app_fanoutMaxInFlight", 0) > FANOUT_BOUND
            and m.get("client_5xx", 0) > 0):
        return "unbounded-fanout"
    return _clean(m)


def _state_rule(m: dict[str, Any]) -> str:
    if m.get("client_stale_reads", 0) > 0:
        return "in-memory-state"
    return _clean(m)


def _rate_limit_rule(m: dict[str, Any]) -> str:
    if m.get("app_provider429", 0) > 0 and m.get("client_5xx", 0) > 0:
        return "upstream-rate-limit"
    return _clean(m)


def _mismatch_rule(m: dict[str, Any]) -> str:
    failure_shows = (
        m.get("npm_strict_install_eresolve")
        or not m.get("service_started", False)
        or m.get("client_5xx", 0) > 0
    )
    if failure_shows and m.get("peer_range_admits_installed_core") is False:
        return "version-mismatch"
    if (
        m.get("service_started")
        and m.get("client_5xx", 0) == 0
        and m.get("client_no_response", 0) == 0
    ):
        return "healthy"
    return "inconclusive"


NODE = "node"
OVERLAP_RULE = (
    "app_overlaps > 0 (run() entered while another run was active on the same agent object, "
    "counted by the app) => {cause}; else healthy if the client saw no 5xx and no dropped "
    "request, else inconclusive"
)

SAME_SESSION_RULE = (
    "app_overlapsSameSession > 0 (run() entered while a run of the same session was active on "
    "that session's agent, counted by the app) => parallel-run-same-session; else app_overlaps > 0 "
    "=> shared-instance; else healthy if the client saw no 5xx and no dropped request, "
    "else inconclusive"
)

TIMER_RULE = (
    "app_jobsOverlapping > 0 (a job started while another job was in progress, counted by the app) "
    "=> overlapping-timer; else healthy if jobs ran, else inconclusive"
)

SERIALIZATION_RULE = (
    "stderr_circular_structure_lines > 0 ('Converting circular structure to JSON' printed by "
    "the service) => serialization; else healthy if the client saw no 5xx and no dropped "
    "request, else inconclusive"
)

MISMATCH_RULE = (
    "peer_range_admits_installed_core is false (npm's semver on the installed versions) and the "
    "failure shows (strict npm install ERESOLVE, or the service did not start, or the client saw "
    "5xx) => version-mismatch; else healthy if the service started and the client saw no 5xx and "
    "no dropped request, else inconclusive"
)

RATE_LIMIT_RULE = (
    "app_provider429 > 0 (429s the provider stand-in counted sending) and client_5xx > 0 "
    "=> upstream-rate-limit; else healthy if the client saw no 5xx and no dropped request, "
    "else inconclusive"
)

STATE_RULE = (
    "client_stale_reads > 0 (the client sent turn n of its session in order and the service "
    "answered it knew fewer than n + 1 turns) => in-memory-state; else healthy if the client "
    "saw no 5xx and no dropped request, else inconclusive"
)

TOOL_RULE = (
    "client_wrong_order > 0 (the answer named another order than the one the request asked "
    "about, checked by the client) => stateful-tool; else healthy if the client saw no 5xx and "
    "no dropped request, else inconclusive"
)

TIMEOUT_RULE = (
    "app_toolTimeouts > 0 (tool calls aborted by their 1 s timeout, counted by the app) and "
    "client_5xx > 0 => tool-timeout; else healthy if the client saw no 5xx and no dropped "
    "request, else inconclusive"
)

HISTORY_RULE = (
    "client_history_too_long > 0 (the service answered it knew more turns than the client's "
    "session had sent) => shared-history; else healthy if the client saw no 5xx and no dropped "
    "request, else inconclusive"
)
RESET_RULE = (
    "client_stale_reads > 0 (the client sent turn n of its session in order and the service, "
    "a single process, answered it knew fewer than n + 1 turns) => context-reset; else healthy "
    "if the client saw no 5xx and no dropped request, else inconclusive"
)
FANOUT_BOUND = 4
FANOUT_RULE = (
    "app_socketErrors > 0 (model calls that failed for want of a socket or file descriptor: "
    "EMFILE, ECONNRESET, 'Connection error', counted by the app) and app_fanoutMaxInFlight > 4 "
    "(one request held more than 4 model calls in flight) and client_5xx > 0 => "
    "unbounded-fanout; else healthy if the client saw no 5xx and no dropped request, else "
    "inconclusive"
)
REENTRANT_RULE = (
    "app_reentrant > 0 (run() entered on an agent from inside its own active run's callback, "
    "counted by the app) => reentrant-run; else healthy if the client saw no 5xx and no "
    "dropped request, else inconclusive"
)

SCENARIOS: list[Scenario] = [
    Scenario(
        name="node-unbounded-fanout",
        cmd=["prlimit", "--nofile=192:192", NODE, "services/fanout.js"],
        port=18330,
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        sidecar_env={"LATENCY_MS": "250"},
        stack="express 5.3 + pino-http 11, one process under a 192-descriptor limit (prlimit, "
        "as a container ulimit) + @langchain/openai 1.5.8 ChatOpenAI; each question fans out "
        "into 12 model calls with Promise.all against a local chat-completions stand-in",
        logging="pino-http (JSON), a line per model call with the request id",
        twin="node-unbounded-fanout-fixed",
        rule=FANOUT_RULE,
        judge=_fanout_rule,
    ),
    Scenario(
        name="node-unbounded-fanout-fixed",
        cmd=["prlimit", "--nofile=192:192", NODE, "services/fanout.js"],
        port=18331,
        env={"FANOUT_MAX_CONCURRENCY": "2"},
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        sidecar_env={"LATENCY_MS": "250"},
        stack="the same, the 12 calls through Runnable.batch with maxConcurrency 2",
        logging="pino-http (JSON), a line per model call with the request id",
        twin="node-unbounded-fanout",
        rule=FANOUT_RULE,
        judge=_fanout_rule,
    ),
    Scenario(
        name="node-shared-instance",
        cmd=[NODE, "services/shared-instance.js"],
        port=18301,
        stack="express 5.3 + pino-http 11 + Node 20 cluster (2 workers) + @langchain/core 1.4 "
        "(RunnableSequence, FakeListChatModel); one ChatAgent per worker at module scope",
        logging="pino (JSON) + pino-http access logs",
        twin="node-shared-instance-fixed",
        rule=OVERLAP_RULE.format(cause="shared-instance"),
        judge=_overlap_rule("shared-instance"),
    ),
    Scenario(
        name="node-shared-instance-fixed",
        cmd=[NODE, "services/shared-instance.js"],
        port=18302,
        env={"AGENT_PER_REQUEST": "1"},
        stack="express 5.3 + pino-http 11 + Node 20 cluster (2 workers) + @langchain/core 1.4; "
        "a new ChatAgent per request",
        logging="pino (JSON) + pino-http access logs",
        twin="node-shared-instance",
        rule=OVERLAP_RULE.format(cause="shared-instance"),
        judge=_overlap_rule("shared-instance"),
    ),
    Scenario(
        name="node-oom-heap",
        cmd=[NODE, "services/oom-heap.js"],
        port=18303,
        stack="express 5.3 + winston 3.19 + Node 20 cluster (2 workers, --max-old-space-size=64) "
        "+ @langchain/core 1.4; per-session turns with retrieved chunks in a module-level Map, "
        "never evicted",
        logging="winston JSON (timestamp) on stdout; V8 fatal output on stderr",
        twin="node-oom-heap-fixed",
        rule="app_worker_deaths > 0 (cluster 'exit' events counted by the primary) and "
        "stderr_v8_heap_fatal_lines > 0 (V8's 'FATAL ERROR: ... JavaScript heap out of memory' "
        "lines in the captured stderr) "
        "=> oom; else healthy if the client saw no 5xx and no dropped request, else inconclusive",
        judge=_oom_rule,
    ),
    Scenario(
        name="node-oom-heap-fixed",
        cmd=[NODE, "services/oom-heap.js"],
        port=18304,
        env={"HISTORY_LIMIT": "8"},
        stack="express 5.3 + winston 3.19 + Node 20 cluster (2 workers, --max-old-space-size=64) "
        "+ @langchain/core 1.4; turns keep text only, last 8 per session, 200 sessions",
        logging="winston JSON (timestamp) on stdout; V8 fatal output on stderr",
        twin="node-oom-heap",
        rule="app_worker_deaths > 0 (cluster 'exit' events counted by the primary) and "
        "stderr_v8_heap_fatal_lines > 0 (V8's 'FATAL ERROR: ... JavaScript heap out of memory' "
        "lines in the captured stderr) "
        "=> oom; else healthy if the client saw no 5xx and no dropped request, else inconclusive",
        judge=_oom_rule,
    ),
    Scenario(
        name="node-parallel-run-same-session",
        cmd=[NODE, "services/parallel-session.js"],
        port=18305,
        stack="express 5.3 + bunyan 2.0, one process + @langchain/core 1.4; "
        "one ChatAgent per session, "
        "each request runs it twice with Promise.all",
        logging="bunyan (JSON, req_id child loggers)",
        twin="node-parallel-run-same-session-fixed",
        rule=SAME_SESSION_RULE,
        judge=_same_session_rule,
    ),
    Scenario(
        name="node-parallel-run-same-session-fixed",
        cmd=[NODE, "services/parallel-session.js"],
        port=18306,
        env={"SEQUENTIAL": "1"},
        stack="express 5.3 + bunyan 2.0, one process + @langchain/core 1.4; "
        "one ChatAgent per session, "
        "the request's two runs awaited in turn",
        logging="bunyan (JSON, req_id child loggers)",
        twin="node-parallel-run-same-session",
        rule=SAME_SESSION_RULE,
        judge=_same_session_rule,
    ),
    Scenario(
        name="node-overlapping-timer",
        cmd=[NODE, "services/timer-job.js"],
        port=None,
        mode="timer",
        run_s=15.0,
        stack="Node 20 background worker, setInterval(async job, 500 ms) + @langchain/core 1.4 "
        "(per-job ChatAgent, model latency 250-1400 ms)",
        logging="pino (JSON), no request ids",
        twin="node-overlapping-timer-fixed",
        rule=TIMER_RULE,
        judge=_timer_rule,
    ),
    Scenario(
        name="node-overlapping-timer-fixed",
        cmd=[NODE, "services/timer-job.js"],
        port=None,
        mode="timer",
        run_s=15.0,
        env={"SCHEDULE": "chain"},
        stack="Node 20 background worker, setTimeout chain (next job 500 ms after the last ends) "
        "+ @langchain/core 1.4",
        logging="pino (JSON), no request ids",
        twin="node-overlapping-timer",
        rule=TIMER_RULE,
        judge=_timer_rule,
    ),
    Scenario(
        name="node-serialization",
        cmd=[NODE, "services/serialization.js"],
        port=18309,
        stack="express 5.3 + morgan 1.10, one process + @langchain/core 1.4; model calls behind a "
        "4-slot limiter; slow turns logged with JSON.stringify of the request",
        logging="default framework output: morgan combined access log + console.log/warn, "
        "express's default error handler on stderr",
        twin="node-serialization-fixed",
        rule=SERIALIZATION_RULE,
        judge=_serialization_rule,
    ),
    Scenario(
        name="node-serialization-fixed",
        cmd=[NODE, "services/serialization.js"],
        port=18310,
        env={"PLAIN_LOG": "1"},
        stack="express 5.3 + morgan 1.10, one process + @langchain/core 1.4; model calls behind a "
        "4-slot limiter; slow turns logged with plain fields",
        logging="default framework output: morgan combined access log + console.log/warn",
        twin="node-serialization",
        rule=SERIALIZATION_RULE,
        judge=_serialization_rule,
    ),
    Scenario(
        name="node-version-mismatch",
        cmd=[NODE, "server.js"],
        port=18311,
        cwd=HERE / "mismatch" / "broken",
        pre=npm_evidence,
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        stack="express 5.3 + @langchain/openai 1.5.8 with @langchain/core 0.3.80 "
        "(peer range ^1.2.8), installed with npm ci --legacy-peer-deps; ChatOpenAI against "
        "a local chat-completions stand-in",
        logging="default framework output (console.log), Node's uncaught exception on stderr; "
        "npm install output",
        twin="node-version-mismatch-fixed",
        rule=MISMATCH_RULE,
        judge=_mismatch_rule,
    ),
    Scenario(
        name="node-version-mismatch-fixed",
        cmd=[NODE, "server.js"],
        port=18312,
        cwd=HERE / "mismatch" / "fixed",
        pre=npm_evidence,
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        stack="express 5.3 + @langchain/openai 1.5.8 with @langchain/core 1.4.0 "
        "(peer range ^1.2.8); "
        "ChatOpenAI against a local chat-completions stand-in",
        logging="default framework output (console.log); npm install output",
        twin="node-version-mismatch",
        rule=MISMATCH_RULE,
        judge=_mismatch_rule,
    ),
    Scenario(
        name="node-shared-instance-otel",
        cmd=[NODE, "services/shared-instance-otel.js"],
        port=18307,
        sidecar=[NODE, "services/otlp-sink.js"],
        sidecar_port=18391,
        sidecar_env={"OTLP_FILE": "{folder}/spans.otlp.jsonl"},
        stack="express 5.3 + pino-http 11 + Node 20 cluster (2 workers) + @langchain/core 1.4 + "
        "OpenTelemetry JS SDK 2.5 (OTLP/HTTP JSON exporter); one ChatAgent per worker "
        "at module scope",
        logging="pino-http access logs and failures only (no agent ids) + OTLP JSON spans "
        "(agent.run spans with agent.id, session.id, run.id)",
        twin="node-shared-instance-otel-fixed",
        rule=OVERLAP_RULE.format(cause="shared-instance"),
        judge=_overlap_rule("shared-instance"),
    ),
    Scenario(
        name="node-shared-instance-otel-fixed",
        cmd=[NODE, "services/shared-instance-otel.js"],
        port=18308,
        env={"AGENT_PER_REQUEST": "1"},
        sidecar=[NODE, "services/otlp-sink.js"],
        sidecar_port=18391,
        sidecar_env={"OTLP_FILE": "{folder}/spans.otlp.jsonl"},
        stack="express 5.3 + pino-http 11 + Node 20 cluster (2 workers) + @langchain/core 1.4 + "
        "OpenTelemetry JS SDK 2.5 (OTLP/HTTP JSON exporter); a new ChatAgent per request",
        logging="pino-http access logs and failures only (no agent ids) + OTLP JSON spans "
        "(agent.run spans with agent.id, session.id, run.id)",
        twin="node-shared-instance-otel",
        rule=OVERLAP_RULE.format(cause="shared-instance"),
        judge=_overlap_rule("shared-instance"),
    ),
    Scenario(
        name="node-upstream-rate-limit",
        cmd=[NODE, "services/rate-limit.js"],
        port=18314,
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        sidecar_env={"RATE_LIMIT_CONCURRENCY": "4", "LATENCY_MS": "300"},
        stack="express 5.3 + winston 3.19, one process + @langchain/openai 1.5.8 ChatOpenAI "
        "(maxRetries 1) against a local chat-completions stand-in that allows 4 requests in flight",
        logging="winston text (timestamp + simple format), error stacks in the line",
        twin="node-upstream-rate-limit-fixed",
        rule=RATE_LIMIT_RULE,
        judge=_rate_limit_rule,
    ),
    Scenario(
        name="node-upstream-rate-limit-fixed",
        cmd=[NODE, "services/rate-limit.js"],
        port=18315,
        env={"MODEL_MAX_CONCURRENCY": "4"},
        sidecar=[NODE, "services/fake-openai.js"],
        sidecar_port=18390,
        sidecar_env={"RATE_LIMIT_CONCURRENCY": "4", "LATENCY_MS": "300"},
        stack="express 5.3 + winston 3.19, one process + @langchain/openai 1.5.8 ChatOpenAI "
        "(maxRetries 1, maxConcurrency 4) against the same 4-in-flight provider stand-in",
        logging="winston text (timestamp + simple format), error stacks in the line",
        twin="node-upstream-rate-limit",
        rule=RATE_LIMIT_RULE,
        judge=_rate_limit_rule,
    ),
    Scenario(
        name="node-in-memory-state",
        cmd=[NODE, "services/session-state.js"],
        port=18316,
        stack="express 5.3 + pino 10 + Node 20 cluster (2 workers) + @langchain/core 1.4; "
        "conversation per session in a Map in each worker's memory",
        logging="pino (JSON), session ids, no request ids",
        twin="node-in-memory-state-fixed",
        rule=STATE_RULE,
        judge=_state_rule,
    ),
    Scenario(
        name="node-in-memory-state-fixed",
        cmd=[NODE, "services/session-state.js"],
        port=18317,
        env={"SESSION_STORE": "redis", "REDIS_URL": "redis://127.0.0.1:18392"},
        sidecar=[
            "redis-server",
            "--port",
            "18392",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/tmp",
        ],
        sidecar_port=18392,
        sidecar_tcp=True,
        stack="express 5.3 + pino 10 + Node 20 cluster (2 workers) + @langchain/core 1.4; "
        "conversation per session in Redis 7 (ioredis 5.8, RPUSH/LRANGE)",
        logging="pino (JSON), session ids, no request ids",
        twin="node-in-memory-state",
        rule=STATE_RULE,
        judge=_state_rule,
    ),
    Scenario(
        name="node-stateful-tool",
        cmd=[NODE, "services/stateful-tool.js"],
        port=18318,
        stack="express 5.3 + winston 3.19, one process + @langchain/core 1.4 (DynamicTool at "
        "module scope, the request's order id set on the tool object)",
        logging="winston JSON (timestamp), tool calls logged with requested order id and result",
        twin="node-stateful-tool-fixed",
        rule=TOOL_RULE,
        judge=_tool_rule,
    ),
    Scenario(
        name="node-stateful-tool-fixed",
        cmd=[NODE, "services/stateful-tool.js"],
        port=18319,
        env={"TOOL_ARGS": "1"},
        stack="express 5.3 + winston 3.19, one process + @langchain/core 1.4 (DynamicTool at "
        "module scope, the order id passed in the tool call's input)",
        logging="winston JSON (timestamp), tool calls logged with requested order id and result",
        twin="node-stateful-tool",
        rule=TOOL_RULE,
        judge=_tool_rule,
    ),
    Scenario(
        name="node-tool-timeout",
        cmd=[NODE, "services/tool-timeout.js"],
        port=18320,
        sidecar=[NODE, "services/inventory-api.js"],
        sidecar_port=18393,
        sidecar_env={"CAPACITY": "3", "SERVICE_MS": "150"},
        stack="fastify 5.12 (built-in pino logger), one process + @langchain/core 1.4 DynamicTool "
        "calling an inventory API with fetch + AbortSignal.timeout(1000); "
        "the API serves 3 at a time",
        logging="pino (fastify's logger; errors by fastify's default error handler)",
        twin="node-tool-timeout-fixed",
        rule=TIMEOUT_RULE,
        judge=_timeout_rule,
    ),
    Scenario(
        name="node-tool-timeout-fixed",
        cmd=[NODE, "services/tool-timeout.js"],
        port=18321,
        env={"TOOL_CONCURRENCY": "3"},
        sidecar=[NODE, "services/inventory-api.js"],
        sidecar_port=18393,
        sidecar_env={"CAPACITY": "3", "SERVICE_MS": "150"},
        stack="fastify 5.12 (built-in pino logger), one process + @langchain/core 1.4 DynamicTool; "
        "at most 3 API calls in flight (queue in the tool), timeout per call",
        logging="pino (fastify's logger; errors by fastify's default error handler)",
        twin="node-tool-timeout",
        rule=TIMEOUT_RULE,
        judge=_timeout_rule,
    ),
    Scenario(
        name="node-shared-history",
        cmd=[NODE, "services/history.js"],
        port=18322,
        stack="express 5.3 + bunyan 2.0, one process + @langchain/core 1.4; the chat memory is "
        "one module-level array for all sessions",
        logging="bunyan (JSON, req_id child loggers)",
        twin="node-shared-history-fixed",
        rule=HISTORY_RULE,
        judge=_history_rule,
    ),
    Scenario(
        name="node-shared-history-fixed",
        cmd=[NODE, "services/history.js"],
        port=18323,
        env={"PER_SESSION": "1"},
        stack="express 5.3 + bunyan 2.0, one process + @langchain/core 1.4; chat memory per "
        "session (Map)",
        logging="bunyan (JSON, req_id child loggers)",
        twin="node-shared-history",
        rule=HISTORY_RULE,
        judge=_history_rule,
    ),
    Scenario(
        name="node-context-reset",
        cmd=[NODE, "services/context-reset.js"],
        port=18324,
        stack="express 5.3, one process + @langchain/core 1.4; a new agent per request, started "
        "with an empty history",
        logging="default framework output (console.log text lines, morgan tiny request lines)",
        twin="node-context-reset-fixed",
        rule=RESET_RULE,
        judge=_reset_rule,
    ),
    Scenario(
        name="node-context-reset-fixed",
        cmd=[NODE, "services/context-reset.js"],
        port=18325,
        env={"LOAD_HISTORY": "1"},
        stack="express 5.3, one process + @langchain/core 1.4; a new agent per request, given "
        "the session's turns",
        logging="default framework output (console.log text lines, morgan tiny request lines)",
        twin="node-context-reset",
        rule=RESET_RULE,
        judge=_reset_rule,
    ),
    Scenario(
        name="node-reentrant-run",
        cmd=[NODE, "services/reentrant.js"],
        port=18326,
        stack="express 5.3 + pino-http 11, one process + @langchain/core 1.4; the agent's reply "
        "callback starts a follow-up run on the same agent",
        logging="pino (JSON) + pino-http access logs",
        twin="node-reentrant-run-fixed",
        rule=REENTRANT_RULE,
        judge=_reentrant_rule,
    ),
    Scenario(
        name="node-reentrant-run-fixed",
        cmd=[NODE, "services/reentrant.js"],
        port=18327,
        env={"FOLLOWUP_AFTER": "1"},
        stack="express 5.3 + pino-http 11, one process + @langchain/core 1.4; the follow-up run "
        "starts after the first has returned",
        logging="pino (JSON) + pino-http access logs",
        twin="node-reentrant-run",
        rule=REENTRANT_RULE,
        judge=_reentrant_rule,
    ),
    Scenario(
        name="node-healthy-fastify",
        cmd=[NODE, "services/healthy-fastify.js"],
        port=18313,
        stack="fastify 5.12 (built-in pino logger) + Node 20 cluster (2 workers) + "
        "@langchain/core 1.4; "
        "a new ChatAgent per request, no state between requests",
        logging="pino (fastify's logger: incoming request / request completed with reqId)",
        twin="node-shared-instance",
        rule=OVERLAP_RULE.format(cause="shared-instance"),
        judge=_overlap_rule("shared-instance"),
    ),
]


def main(argv: list[str]) -> int:
    wanted = set(argv)
    unknown = wanted - {s.name for s in SCENARIOS}
    if unknown:
        print(f"unknown scenario(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for sc in SCENARIOS:
        if wanted and sc.name not in wanted:
            continue
        truth = run_scenario(sc)
        m = truth["measured"]
        brief = {
            k: m[k]
            for k in m
            if k
            in (
                "requests",
                "statuses",
                "client_5xx",
                "client_no_response",
                "app_overlaps",
                "app_overlapsSameSession",
                "app_worker_deaths",
                "stderr_v8_heap_fatal_lines",
                "app_jobsOverlapping",
                "app_circularFailures",
                "service_started",
            )
        }
        print(f"{sc.name}: expected={truth['expected']} {json.dumps(brief)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
