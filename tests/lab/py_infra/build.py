"""Rebuild the py_infra lab scenarios: real Python services on Redis, PostgreSQL and nginx.

    sudo-free, as root:  bash tests/lab/py_infra/rebuild.sh [SCENARIO ...]

Each scenario starts its servers on 127.0.0.1 (ports 18200-18299, data in a temp dir),
drives them with the bounded ramp of driver.py (levels 1, 5, 10, 25), stops them, copies
the logs the servers wrote into tests/lab/scenarios/<name>/ and writes truth.json from
what the run measured. `expected` follows from `measured` by the scenario's rule, in
code; a broken run that measured no fault, or a fixed run that measured one, stops the
build instead of being labelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import infra  # noqa: E402
from driver import Ramp  # noqa: E402

APPS = HERE / "apps"
SCENARIOS = HERE.parent / "scenarios"
PY = sys.executable


def versions(*names: str) -> str:
    return ", ".join(f"{n} {version(n)}" for n in names)


def gunicorn_cmd(module: str, port: int, tmp: Path, *extra: str) -> list[str]:
    """gunicorn with two uvicorn workers; its control socket in our temp dir, not ~/.gunicorn."""
    return [PY, "-m", "gunicorn", module, "-w", "2", "-k", "uvicorn.workers.UvicornWorker",
            "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
            "--control-socket", str(tmp / "gunicorn.ctl"), *extra]


def uvicorn_cmd(module: str, port: int, workers: int = 1) -> list[str]:
    cmd = [PY, "-m", "uvicorn", module, "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    return cmd


class Scenario:
    """One run: a temp dir for the servers, the capture files, and the truth it measured."""

    def __init__(self, name: str, twin: str, stack: str, logging: str):
        self.name, self.twin, self.stack, self.logging = name, twin, stack, logging
        self.tmp = Path(tempfile.mkdtemp(prefix=f"pyinfra-{name}-"))
        self.cap = self.tmp / "capture"
        self.cap.mkdir()

    def finish(self, measured: dict, rule: str, decide: Callable[[dict], str],
               want_fault: bool, inputs: list[str] | None = None) -> dict:
        expected = decide(measured)
        if want_fault and expected == "healthy":
            raise SystemExit(f"{self.name}: the broken run measured no fault: {measured}; "
                             f"its capture is left in {self.cap}")
        if not want_fault and expected != "healthy":
            raise SystemExit(f"{self.name}: the fixed run measured a fault: {measured}; "
                             f"its capture is left in {self.cap}")
        out = SCENARIOS / self.name
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        files = sorted(p.name for p in self.cap.iterdir() if p.is_file() and p.stat().st_size)
        for f in files:
            shutil.copy(self.cap / f, out / f)
        truth = {
            "expected": expected,
            "measured": measured,
            "rule": rule,
            "twin": self.twin,
            "stack": self.stack,
            "logging": self.logging,
            "inputs": inputs or files,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rebuild": "bash tests/lab/py_infra/rebuild.sh " + self.name,
        }
        (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
        shutil.rmtree(self.tmp, ignore_errors=True)
        print(f"{self.name}: expected={expected} measured={json.dumps(measured)[:400]}")
        return truth


def clean_or_inconclusive(m: dict) -> str:
    """No fault measured: healthy only if no request failed either (else nothing explains it)."""
    return "healthy" if m["client_5xx"] == 0 and m["client_no_response"] == 0 else "inconclusive"


# --- the rules: measured -> expected (each scenario's truth.json states its rule in words) --

def decide_sessions(m: dict) -> str:
    return "in-memory-state" if m["stale_reads"] > 0 else clean_or_inconclusive(m)


def decide_counter(m: dict) -> str:
    if m["final_counter"] < m["increments_acknowledged"]:
        return "non-atomic-update"
    return clean_or_inconclusive(m)


def decide_platform_timeout(m: dict) -> str:
    return "platform-timeout" if m["nginx_504"] > 0 else clean_or_inconclusive(m)


def decide_orders(m: dict) -> str:
    if m["db_duplicate_key_errors"] > 0:
        return "non-idempotent-side-effect"
    ok = m["client_5xx"] == 0 and m["orders_failed_for_client"] == 0
    return "healthy" if ok else "inconclusive"


def decide_oom(m: dict) -> str:
    if m["cgroup_oom_kills"] or m["gunicorn_worker_sigkill_lines"] or m["memory_error_lines"]:
        return "oom"
    return clean_or_inconclusive(m)


def decide_for(name: str) -> Callable[[dict], str]:
    """The rule of a scenario folder, by its name (used by the build and by the tests)."""
    for prefix, fn in (("py-in-memory-state", decide_sessions),
                       ("py-non-atomic-update", decide_counter),
                       ("py-platform-timeout", decide_platform_timeout),
                       ("py-non-idempotent", decide_orders), ("py-oom", decide_oom)):
        if name.startswith(prefix):
            return fn
    raise KeyError(name)


def ramp_levels() -> tuple[int, ...]:
    from driver import LEVELS

    return LEVELS


def count_lines(path: Path, pattern: str) -> int:
    if not path.exists():
        return 0
    rx = re.compile(pattern)
    return sum(1 for line in path.read_text(errors="replace").splitlines() if rx.search(line))


# --- 1. in-memory session state across gunicorn workers (and behind nginx) ---------------

def sessions(name: str, fixed: bool, behind_nginx: bool) -> dict:
    port = 18202 if behind_nginx else 18201
    twin = name[: -len("-fixed")] if fixed else name + "-fixed"
    state = "Redis list per session" if fixed else "module-level dict"
    sc = Scenario(
        name, twin,
        f"FastAPI + gunicorn -w 2 -k uvicorn.workers.UvicornWorker"
        f"{' behind nginx' if behind_nginx else ''}; session state in a {state} "
        f"({versions('fastapi', 'gunicorn', 'uvicorn', 'redis')})",
        "python logging text with pid (basicConfig), gunicorn error log"
        + (", nginx access/error log" if behind_nginx else ", gunicorn access log"),
    )
    infra.redis_cmd("FLUSHALL")
    env = {"STATE": "redis" if fixed else "memory", "REDIS_PORT": str(infra.REDIS_PORT)}
    extra = [] if behind_nginx else ["--access-logfile", "-"]
    app = infra.start(gunicorn_cmd("sessions_app:app", port, sc.tmp, *extra),
                      sc.cap / "gunicorn.log", cwd=APPS, env=env)
    infra.wait_port(port)
    time.sleep(1.5)  # both workers booted
    proxy = None
    if behind_nginx:
        proxy = infra.start_nginx(sc.tmp, port, sc.cap / "nginx-access.log",
                                  sc.cap / "nginx-error.log")
    base = f"http://127.0.0.1:{infra.NGINX_PORT if behind_nginx else port}"
    stale: list[dict] = []

    async def user(r: Ramp, level: int, u: int) -> None:
        sid = f"c{level}-u{u}"
        for turn in range(1, 4):
            w = await r.request("POST", f"/sessions/{sid}/turns",
                                json={"turn": turn, "text": f"message {turn} from {sid}"})
            if w is None or w.status_code != 200:
                continue
            got = await r.request("GET", f"/sessions/{sid}")
            if got is not None and got.status_code == 200:
                n = len(got.json()["turns"])
                if n < turn:
                    stale.append({"session": sid, "wrote_turn": turn, "read_turns": n})

    ramp = Ramp(base, timeout=10)
    asyncio.run(ramp.run(user))
    time.sleep(0.5)
    if proxy:
        infra.stop_nginx(proxy)
    infra.stop(app)
    measured = ramp.summary()
    measured["stale_reads"] = len(stale)
    measured["stale_examples"] = stale[:3]
    measured["sessions"] = len({o.path.split("/")[2] for o in ramp.outcomes})
    measured["pids_in_app_log"] = len(set(re.findall(
        r"\[pid (\d+)\]", (sc.cap / "gunicorn.log").read_text(errors="replace"))))
    if behind_nginx:
        measured["nginx_statuses"] = nginx_statuses(sc.cap / "nginx-access.log")
    return sc.finish(
        measured,
        "stale_reads > 0 (the client wrote turn n, then read the session back with fewer "
        "than n turns) => in-memory-state; else healthy if no request failed",
        decide_sessions,
        want_fault=not fixed,
    )


def nginx_statuses(path: Path) -> dict:
    """Status codes counted from nginx's access log (the field after the quoted request)."""
    counts: dict[str, int] = {}
    rx = re.compile(r'"[A-Z]+ [^"]*" (\d{3}) ')
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        m = rx.search(line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return dict(sorted(counts.items()))


# --- 2. read-modify-write counter in Redis from two workers ------------------------------

def counter(name: str, fixed: bool) -> dict:
    port = 18203
    twin = name[: -len("-fixed")] if fixed else name + "-fixed"
    sc = Scenario(
        name, twin,
        "FastAPI + uvicorn --workers 2 + Redis 7 (redis-py asyncio); usage counter "
        + ("INCR" if fixed else "GET, +1, SET")
        + f" ({versions('fastapi', 'uvicorn', 'redis', 'structlog')})",
        "structlog JSON (request_id, tenant, pid) + uvicorn default output",
    )
    infra.redis_cmd("FLUSHALL")
    app = infra.start(uvicorn_cmd("counter_app:app", port, workers=2), sc.cap / "app.log",
                      cwd=APPS, env={"ATOMIC": "1" if fixed else "0",
                                     "REDIS_PORT": str(infra.REDIS_PORT)})
    infra.wait_port(port)
    time.sleep(1.5)

    async def user(r: Ramp, level: int, u: int) -> None:
        for k in range(4):
            await r.request("POST", "/tenants/acme/usage",
                            headers={"x-request-id": f"req-{level}-{u}-{k}"})

    ramp = Ramp(f"http://127.0.0.1:{port}", timeout=10)
    asyncio.run(ramp.run(user))
    acked = sum(1 for o in ramp.outcomes if o.method == "POST" and o.status == 200)
    final = int(infra.redis_cmd("GET", "usage:acme") or 0)
    infra.stop(app)
    measured = ramp.summary()
    measured.update(increments_acknowledged=acked, final_counter=final,
                    lost_updates=acked - final)
    return sc.finish(
        measured,
        "final_counter (read from Redis after the run) < increments_acknowledged (200 answers "
        "to POST /usage) => non-atomic-update; else healthy if no request failed",
        decide_counter,
        want_fault=not fixed,
    )


# --- 3. nginx proxy_read_timeout below the latency under load ---------------------------

def platform_timeout(name: str, fixed: bool) -> dict:
    port = 18204
    twin = name[: -len("-fixed")] if fixed else name + "-fixed"
    read_timeout = "30s" if fixed else "2s"
    sc = Scenario(
        name, twin,
        f"nginx {nginx_version()} (proxy_read_timeout {read_timeout}) -> uvicorn (1 process) "
        f"FastAPI; model call limited to 2 at a time, 0.5 s each "
        f"({versions('fastapi', 'uvicorn')})",
        "uvicorn default output (no timestamps); nginx access log (combined + request_time "
        "upstream_response_time) and error log",
    )
    app = infra.start(uvicorn_cmd("chat_app:app", port), sc.cap / "uvicorn.log", cwd=APPS,
                      env={"MODEL_SLOTS": "2", "MODEL_SECONDS": "0.5"})
    infra.wait_port(port)
    proxy = infra.start_nginx(sc.tmp, port, sc.cap / "nginx-access.log",
                              sc.cap / "nginx-error.log", read_timeout=read_timeout)

    async def user(r: Ramp, level: int, u: int) -> None:
        for k in range(2):
            await r.request("POST", "/chat",
                            json={"session": f"s-{level}-{u}", "message": f"question {k}"})

    ramp = Ramp(f"http://127.0.0.1:{infra.NGINX_PORT}", timeout=40)
    asyncio.run(ramp.run(user))
    time.sleep(8)  # let the app finish the requests nginx gave up on
    infra.stop_nginx(proxy)
    infra.stop(app)
    measured = ramp.summary()
    measured["nginx_statuses"] = nginx_statuses(sc.cap / "nginx-access.log")
    measured["nginx_504"] = measured["nginx_statuses"].get("504", 0)
    measured["nginx_upstream_timed_out"] = count_lines(sc.cap / "nginx-error.log",
                                                       r"upstream timed out")
    return sc.finish(
        measured,
        "nginx_504 (counted from nginx's access log) > 0 => platform-timeout; else healthy "
        "if the client saw no 5xx",
        decide_platform_timeout,
        want_fault=not fixed,
    )


def nginx_version() -> str:
    import subprocess

    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    return out.strip().split("/")[-1]


# --- 4. client retries re-insert an order in PostgreSQL ----------------------------------

def orders(name: str, fixed: bool) -> dict:
    port = 18205
    twin = name[: -len("-fixed")] if fixed else name + "-fixed"
    sc = Scenario(
        name, twin,
        "FastAPI + uvicorn --workers 2 + PostgreSQL 15 (psycopg 3 async); order insert "
        + ("ON CONFLICT DO NOTHING" if fixed else "plain INSERT")
        + ", client retries once after a 1 s timeout "
        + f"({versions('fastapi', 'uvicorn', 'psycopg', 'opentelemetry-sdk')})",
        "python logging text + uvicorn default output (tracebacks); PostgreSQL server log "
        "(Debian log_line_prefix); OTel ConsoleSpanExporter JSON per worker",
    )
    pg = infra.start_postgres(sc.tmp, sc.cap / "postgresql.log")
    infra.psql("CREATE DATABASE shop")
    infra.psql("CREATE TABLE orders (order_id text PRIMARY KEY, customer text NOT NULL, "
               "amount_cents int NOT NULL, status text NOT NULL, charge_id text, "
               "created_at timestamptz DEFAULT now())", db="shop")
    spans = sc.tmp / "spans"
    spans.mkdir()
    app = infra.start(uvicorn_cmd("orders_app:app", port, workers=2), sc.cap / "app.log",
                      cwd=APPS, env={"IDEMPOTENT": "1" if fixed else "0",
                                     "PG_DSN": f"host=127.0.0.1 port={infra.PG_PORT} "
                                               "user=postgres dbname=shop",
                                     "SPANS_DIR": str(spans),
                                     "PAYMENT_SLOTS": "3", "PAYMENT_SECONDS": "0.3"})
    infra.wait_port(port)
    time.sleep(1.5)
    retries = 0
    failed: list[str] = []

    async def user(r: Ramp, level: int, u: int) -> None:
        nonlocal retries
        for k in range(2):
            body = {"order_id": f"ord-{level}-{u}-{k}", "customer": f"cust-{u}",
                    "amount_cents": 1000 + k}
            resp = await r.request("POST", "/orders", json=body, seconds=1.0)
            if resp is None:  # timed out: the client sends the same order again
                retries += 1
                resp = await r.request("POST", "/orders", json=body, seconds=15)
            if resp is None or resp.status_code != 200:
                failed.append(body["order_id"])

    ramp = Ramp(f"http://127.0.0.1:{port}", timeout=15)
    asyncio.run(ramp.run(user))
    time.sleep(3)
    rows = int(infra.psql("SELECT count(*) FROM orders", db="shop"))
    paid = int(infra.psql("SELECT count(*) FROM orders WHERE status = 'paid'", db="shop"))
    infra.stop(app)
    infra.stop(pg, timeout=20)
    for i, f in enumerate(sorted(spans.iterdir())):
        if f.stat().st_size:
            shutil.copy(f, sc.cap / f"spans-worker{i + 1}.json")
    measured = ramp.summary()
    measured.update(
        client_retries_after_timeout=retries,
        orders_sent=2 * sum(ramp_levels()),
        orders_failed_for_client=len(failed),
        orders_in_table=rows, orders_paid=paid,
        db_duplicate_key_errors=count_lines(
            sc.cap / "postgresql.log", r"ERROR:\s+duplicate key value violates unique constraint"),
        app_unique_violation_tracebacks=count_lines(sc.cap / "app.log",
                                                    r"^psycopg\.errors\.UniqueViolation"),
    )
    return sc.finish(
        measured,
        "db_duplicate_key_errors (counted from the PostgreSQL log) > 0 => "
        "non-idempotent-side-effect; else healthy if every order ended with a 200 for the "
        "client (a first attempt that timed out and was retried successfully is not a fault)",
        decide_orders,
        want_fault=not fixed,
    )


# --- 5. per-request memory growth until the kernel OOM-kills a worker ---------------------

OOM_LIMIT_MB = 230


WORKER_HEADROOM_MB = 96


def oom(name: str, fixed: bool, rlimit: bool = False) -> dict:
    """Kernel OOM kill in a memory cgroup, or (rlimit) MemoryError under RLIMIT_AS per worker."""
    port = 18206
    twin = name[: -len("-fixed")] if fixed else name + "-fixed"
    limit = (f"each worker's address space capped (RLIMIT_AS, post_fork hook) at its size "
             f"+ {WORKER_HEADROOM_MB} MB" if rlimit else
             f"in a memory cgroup limited to {OOM_LIMIT_MB} MB (kernel OOM killer)")
    sc = Scenario(
        name, twin,
        f"FastAPI + gunicorn -w 2 -k uvicorn.workers.UvicornWorker, {limit}; transcript per "
        "session kept in a " + ("deque(maxlen=2)" if fixed else "growing dict of lists")
        + f" ({versions('fastapi', 'gunicorn', 'uvicorn')})",
        "gunicorn default error and access log on stderr/stdout + python logging text with pid",
    )
    cg = None if rlimit else infra.memory_cgroup(f"sdlab-{name}", OOM_LIMIT_MB * 1024 * 1024)

    def enter_cgroup() -> None:
        if cg is not None:
            (cg / "cgroup.procs").write_text(str(os.getpid()))

    extra = ["--access-logfile", "-"] + (["-c", "gunicorn_rlimit.py"] if rlimit else [])
    app = infra.start(gunicorn_cmd("history_app:app", port, sc.tmp, *extra),
                      sc.cap / "gunicorn.log", cwd=APPS, preexec=enter_cgroup,
                      env={"MAX_TURNS": "2" if fixed else "0", "CONTEXT_KB": "1024",
                           "WORKER_HEADROOM_MB": str(WORKER_HEADROOM_MB)})
    infra.wait_port(port)
    time.sleep(2)

    async def user(r: Ramp, level: int, u: int) -> None:
        for k in range(5):
            await r.request("POST", "/ask", json={"session": f"user-{u}",
                                                  "question": f"question {k} at {level}"})

    ramp = Ramp(f"http://127.0.0.1:{port}", timeout=20)
    asyncio.run(ramp.run(user))
    time.sleep(2)
    kills = infra.oom_kills(cg) if cg else 0
    peak = infra.peak_mb(cg) if cg else None
    infra.stop(app)
    rc = app.returncode
    if cg is not None:
        with contextlib.suppress(OSError):
            cg.rmdir()
    log = sc.cap / "gunicorn.log"
    measured = ramp.summary()
    if cg is not None:
        measured.update(cgroup_limit_mb=OOM_LIMIT_MB, cgroup_oom_kills=kills, cgroup_peak_mb=peak)
    else:
        measured.update(worker_headroom_mb=WORKER_HEADROOM_MB, cgroup_oom_kills=0)
    measured.update(
        gunicorn_worker_sigkill_lines=count_lines(log, r"Worker \(pid:\d+\) was sent SIGKILL"),
        gunicorn_worker_exit_lines=count_lines(
            log, r"Worker \(pid:\d+\) exited with code|WORKER TIMEOUT"),
        memory_error_lines=count_lines(log, r"^MemoryError"),
        master_exit_status=rc,
    )
    return sc.finish(
        measured,
        "cgroup_oom_kills (the kernel's oom_kill counter of the app's memory cgroup) > 0 or "
        "gunicorn_worker_sigkill_lines > 0 or memory_error_lines (a line 'MemoryError' ending "
        "a traceback) > 0 => oom; else healthy if no request failed",
        decide_oom,
        want_fault=not fixed,
    )


BUILDERS: dict[str, Callable[[], dict]] = {
    "py-in-memory-state": lambda: sessions("py-in-memory-state", False, False),
    "py-in-memory-state-fixed": lambda: sessions("py-in-memory-state-fixed", True, False),
    "py-non-atomic-update-redis": lambda: counter("py-non-atomic-update-redis", False),
    "py-non-atomic-update-redis-fixed":
        lambda: counter("py-non-atomic-update-redis-fixed", True),
    "py-platform-timeout-nginx": lambda: platform_timeout("py-platform-timeout-nginx", False),
    "py-platform-timeout-nginx-fixed":
        lambda: platform_timeout("py-platform-timeout-nginx-fixed", True),
    "py-non-idempotent-postgres": lambda: orders("py-non-idempotent-postgres", False),
    "py-non-idempotent-postgres-fixed":
        lambda: orders("py-non-idempotent-postgres-fixed", True),
    "py-oom": lambda: oom("py-oom", False),
    "py-oom-fixed": lambda: oom("py-oom-fixed", True),
    "py-oom-rlimit": lambda: oom("py-oom-rlimit", False, rlimit=True),
    "py-oom-rlimit-fixed": lambda: oom("py-oom-rlimit-fixed", True, rlimit=True),
    "py-in-memory-state-nginx": lambda: sessions("py-in-memory-state-nginx", False, True),
    "py-in-memory-state-nginx-fixed":
        lambda: sessions("py-in-memory-state-nginx-fixed", True, True),
}


def main(argv: list[str]) -> int:
    names = argv or list(BUILDERS)
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        print(f"unknown scenario(s): {unknown}; known: {list(BUILDERS)}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="pyinfra-redis-"))
    try:
        infra.start_redis(tmp)
        for n in names:
            BUILDERS[n]()
    finally:
        infra.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
