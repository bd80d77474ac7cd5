"""A real Prometheus for tests: backfilled fleet history, variants, and a scraped service.

Why it exists: the Prometheus probe must be tested against what Prometheus really answers
(its JSON, its errors, its escaping, its staleness and counter semantics), so these fixtures
run Debian's ``prometheus`` binary (2.42 on bookworm) on 127.0.0.1 with a temporary TSDB.

Use the fixtures by registering this module as a plugin, so that every test module shares
ONE session of each (importing the fixture functions into a module would set them up again
for that module)::

    pytest_plugins = ["prom_server"]          # tests/ is on sys.path under pytest
    from prom_fleet import Scenario           # not tests.prom_fleet: one module, one class

Fixtures (all session-scoped; each skips when ``prometheus`` or ``promtool`` is missing):

* ``prom_fleet`` -> ``PromFleet``: tests/prom_fleet.py's history backfilled with promtool.
  Query it at ``time=fleet.end`` (or ranges inside [start, end]): the last sample is at
  now - 60 s and Prometheus looks back 5 minutes, so "now" stops seeing it after a while.
* ``prom_basic_auth`` -> ``PromFleet`` whose server wants basic auth (``username``,
  ``password``); same data.
* ``prom_query_timeout`` -> ``PromFleet`` whose server runs with ``--query.timeout``
  (``query_timeout``); ``heavy_query`` times out there, light queries answer; same data.
* ``prom_scraped`` -> ``PromScraped``: tests/services/metrics_app.py under uvicorn, scraped
  every second by its own Prometheus (job "agent") while httpx drives it one request at a
  time, then ten at a time; ``measured`` is what the client saw.

The blocks are in place before a server starts, so no flag is needed for them to be
queried at once: 2.42 loads every block it finds at startup (and has allowed overlapping
blocks by default since 2.39). Each server gets its own hard links to the blocks.

Everything listens on 127.0.0.1 only. Servers are stopped at teardown (SIGTERM, then
SIGKILL) and teardown fails if one is still there; on Linux each Prometheus also gets
SIGTERM if the process that started it dies (PR_SET_PDEATHSIG), so a killed test run
leaves nothing behind either.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import prom_fleet as history  # noqa: E402 (the fixture below is named prom_fleet)
from prom_fleet import Scenario  # noqa: E402
from services import launch  # noqa: E402

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
INSTALL_HINT = (".ci/run installs Debian's prometheus package (apt-get install prometheus), "
                "which ships both prometheus and promtool")

# Basic auth: the password and its bcrypt hash (cost 10), made once with
#   python3.11 -c "import crypt; print(crypt.crypt('scaledoc-test-password',
#                  crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))"
# (glibc's libxcrypt; `htpasswd -nbBC 10 scaledoc scaledoc-test-password` makes an
# equivalent $2y$ hash). A test password for a server on 127.0.0.1 that lives for one test
# session, nothing else.
AUTH_USER = "scaledoc"
AUTH_PASSWORD = "scaledoc-test-password"
AUTH_BCRYPT = "$2b$10$hQTjEtHIplym78M1eZKHsuhQiOVbkrDcLvBbGFsD4I43eG/eAJkE."

# Prometheus checks its deadline when it starts evaluating a node of the expression, so a
# timeout needs a slow first operand: 1.2M steps of a subquery take 0.6 s on the 2-core CI
# machine, six times the limit; then the second operand's evaluation sees the deadline.
QUERY_TIMEOUT = "100ms"
HEAVY_QUERY = "count_over_time(vector(1)[14d:1s]) + count_over_time(vector(1)[14d:1s])"

SCRAPE_INTERVAL_S = 1.0
PHASE_SECONDS_ENV = "SCALEDOC_PROM_PHASE_SECONDS"  # the driven phases' length (default 15)
REQUEST_INTERVAL_S = 0.1  # each client sends one request every 100 ms
MODEL_DELAY_S = 0.08  # agent_app's model call: shorter than the interval, longer than 0


def missing_binaries() -> str | None:
    """Why the Prometheus tests cannot run here, or None when they can."""
    missing = [name for name in ("prometheus", "promtool") if shutil.which(name) is None]
    if not missing:
        return None
    return f"{' and '.join(missing)} not found on PATH; {INSTALL_HINT}"


def require_binaries() -> None:
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)


# ---------------------------------------------------------------- one Prometheus process


@dataclass
class PromProcess:
    """A running Prometheus: its process, where it listens, its TSDB and its log."""

    proc: subprocess.Popen[bytes]
    port: int
    tsdb: Path
    log: Path
    auth: tuple[str, str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _pdeathsig() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux for SIGTERM when the parent thread dies. prctl is
    looked up here, in the parent: the child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


_PREEXEC = _pdeathsig()


def start_prometheus(workdir: Path, tsdb: Path, *, config: str = "global: {}\n",
                     web_config: str | None = None, extra_args: tuple[str, ...] = (),
                     auth: tuple[str, str] | None = None) -> PromProcess:
    """Start ``prometheus`` on a free 127.0.0.1 port with ``tsdb`` as its storage and wait
    until ``/-/ready`` answers and ``/api/v1/status/flags`` shows it is this process (another
    server on a reused port would answer /-/ready too). Retries on a port taken meanwhile."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise FileNotFoundError(f"prometheus not found on PATH; {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    tsdb.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(config, encoding="utf-8")
    args = [f"--config.file={config_file}", f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=30d", "--log.level=info", *extra_args]
    if web_config is not None:
        web_file = workdir / "web.yml"
        web_file.write_text(web_config, encoding="utf-8")
        args.append(f"--web.config.file={web_file}")
    log = workdir / "prometheus.log"
    last_error = ""
    for _attempt in range(3):
        port = launch.free_port()
        with open(log, "ab") as out:
            out.write(f"--- starting on 127.0.0.1:{port}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                [binary, *args, f"--web.listen-address=127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                preexec_fn=_PREEXEC)
        server = PromProcess(proc, port, tsdb, log, auth)
        try:
            _wait_ready(server)
            return server
        except _PortTaken as exc:
            last_error = str(exc)
            stop_prometheus(server)
        except BaseException:
            stop_prometheus(server)
            raise
    raise RuntimeError(f"prometheus could not get a port: {last_error}\n{log_tail(log)}")


class _PortTaken(RuntimeError):
    pass


def _wait_ready(server: PromProcess) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(trust_env=False, timeout=2.0, auth=server.auth) as client:
        while time.monotonic() < deadline:
            code = server.proc.poll()
            if code is not None:
                tail = log_tail(server.log)
                if "address already in use" in tail:
                    raise _PortTaken(f"port {server.port} taken")
                raise RuntimeError(f"prometheus exited with {code} before it was ready; "
                                   f"its log ({server.log}) ends:\n{tail}")
            try:
                ready = client.get(f"{server.url}/-/ready").status_code == 200
                if ready:
                    flags = client.get(f"{server.url}/api/v1/status/flags").json()["data"]
                    if flags.get("storage.tsdb.path") != str(server.tsdb):
                        raise _PortTaken(f"another server answers on port {server.port}")
                    return
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.1)
    raise RuntimeError(f"prometheus not ready in {READY_TIMEOUT_S} s; its log "
                       f"({server.log}) ends:\n{log_tail(server.log)}")


def stop_prometheus(server: PromProcess) -> None:
    """SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``; the process is reaped either way."""
    proc = server.proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def assert_gone(pids: dict[str, int]) -> None:
    """Fail when one of these processes is still running (a zombie counts as gone)."""
    alive = []
    for what, pid in pids.items():
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{what} (pid {pid})")
    if alive:
        raise AssertionError(f"still running after teardown: {', '.join(alive)}")


@contextlib.contextmanager
def running_prometheus(workdir: Path, tsdb: Path, **kwargs: Any) -> Iterator[PromProcess]:
    server = start_prometheus(workdir, tsdb, **kwargs)
    try:
        yield server
    finally:
        stop_prometheus(server)
        assert_gone({"prometheus": server.pid})


def query(url: str, promql: str, at: float | None = None,
          auth: tuple[str, str] | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """``/api/v1/query`` as Prometheus answers it (the whole JSON document, errors too)."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    response = httpx.post(f"{url}/api/v1/query", data=params, auth=auth, timeout=timeout,
                          trust_env=False)
    doc: dict[str, Any] = response.json()
    return doc


# ---------------------------------------------------------------- backfilled fleet


@dataclass(frozen=True)
class FleetBlocks:
    """The fleet history as TSDB blocks, made once per session and linked into each server."""

    blocks: Path
    now: int
    start: int
    end: int
    scenarios: dict[str, Scenario]
    timings: dict[str, float]
    openmetrics_bytes: int


@dataclass(frozen=True)
class PromFleet:
    """What ``prom_fleet``, ``prom_basic_auth`` and ``prom_query_timeout`` yield.

    ``url``: the server's base URL (``http://127.0.0.1:<port>``); ``now``: the Unix second
    the history was written for; ``start``/``end``: the first and last sample (``now - 2 h``
    and ``now - 60 s``); ``step_s``: the sample interval (60 s); ``scenarios``: namespace ->
    ``prom_fleet.Scenario``; ``pid``: the server's process; ``timings``: seconds spent
    generating, backfilling, starting; ``username``/``password``: set on the basic-auth
    server only; ``query_timeout``/``heavy_query``: set on the timeout server only.
    """

    url: str
    now: int
    start: int
    end: int
    step_s: int
    scenarios: dict[str, Scenario]
    pid: int
    timings: dict[str, float]
    username: str | None = None
    password: str | None = None
    query_timeout: str | None = None
    heavy_query: str | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password)


def backfill(openmetrics: Path, blocks: Path) -> None:
    """``promtool tsdb create-blocks-from openmetrics`` into ``blocks``. The window fits one
    6 h block range, so promtool reads the text twice instead of three times."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise FileNotFoundError(f"promtool not found on PATH; {INSTALL_HINT}")
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=6h",
         str(openmetrics), str(blocks)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"promtool failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                           f"{done.stderr[-2000:]}")


def make_fleet_blocks(folder: Path, now: int | None = None) -> FleetBlocks:
    """Generate the history, backfill it, and delete the text (347 MB)."""
    now = int(time.time()) if now is None else now
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "fleet.om"
    t0 = time.perf_counter()
    scenarios = history.write_openmetrics(text, now)
    t1 = time.perf_counter()
    size = text.stat().st_size
    blocks = folder / "blocks"
    try:
        backfill(text, blocks)
    finally:
        text.unlink(missing_ok=True)
    t2 = time.perf_counter()
    start, end = history.window(now)
    return FleetBlocks(blocks, now, start, end, scenarios,
                       {"generate": t1 - t0, "backfill": t2 - t1}, size)


def link_blocks(blocks: Path, tsdb: Path) -> None:
    """Hard-link the (immutable) blocks into a server's own TSDB folder; Prometheus replaces
    files by renaming and deletes blocks by unlinking, so servers never see each other's
    changes. Copies where links are not possible."""
    tsdb.mkdir(parents=True, exist_ok=True)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for block in blocks.iterdir():
        if block.is_dir():
            shutil.copytree(block, tsdb / block.name, copy_function=link)


@contextlib.contextmanager
def fleet_server(blocks: FleetBlocks, workdir: Path, **kwargs: Any) -> Iterator[PromFleet]:
    """A Prometheus on its own link of the blocks; ``kwargs`` go to ``start_prometheus``
    (``extra`` keys: username, password, query_timeout, heavy_query for the result)."""
    extra = {k: kwargs.pop(k) for k in ("username", "password", "query_timeout",
                                        "heavy_query") if k in kwargs}
    t0 = time.perf_counter()
    link_blocks(blocks.blocks, workdir / "tsdb")
    with running_prometheus(workdir, workdir / "tsdb", **kwargs) as server:
        timings = {**blocks.timings, "start": time.perf_counter() - t0}
        yield PromFleet(server.url, blocks.now, blocks.start, blocks.end, history.STEP_S,
                        blocks.scenarios, server.pid, timings, **extra)


@pytest.fixture(scope="session")
def prom_fleet_blocks(tmp_path_factory: pytest.TempPathFactory) -> FleetBlocks:
    require_binaries()
    return make_fleet_blocks(tmp_path_factory.mktemp("prom-fleet"))


@pytest.fixture(scope="session")
def prom_fleet(prom_fleet_blocks: FleetBlocks,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromFleet]:
    """The backfilled fleet on a plain Prometheus."""
    with fleet_server(prom_fleet_blocks, tmp_path_factory.mktemp("prom-plain")) as fleet:
        yield fleet


@pytest.fixture(scope="session")
def prom_basic_auth(prom_fleet_blocks: FleetBlocks,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromFleet]:
    """The same fleet behind basic auth (``--web.config.file``): 401 without credentials."""
    web = f"basic_auth_users:\n  {AUTH_USER}: '{AUTH_BCRYPT}'\n"
    with fleet_server(prom_fleet_blocks, tmp_path_factory.mktemp("prom-auth"), web_config=web,
                      auth=(AUTH_USER, AUTH_PASSWORD), username=AUTH_USER,
                      password=AUTH_PASSWORD) as fleet:
        yield fleet


@pytest.fixture(scope="session")
def prom_query_timeout(prom_fleet_blocks: FleetBlocks,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromFleet]:
    """The same fleet with ``--query.timeout=100ms``: ``heavy_query`` answers errorType
    "timeout" (HTTP 503), ordinary queries answer."""
    with fleet_server(prom_fleet_blocks, tmp_path_factory.mktemp("prom-timeout"),
                      extra_args=(f"--query.timeout={QUERY_TIMEOUT}",),
                      query_timeout=QUERY_TIMEOUT, heavy_query=HEAVY_QUERY) as fleet:
        yield fleet


# ---------------------------------------------------------------- a scraped service


@dataclass(frozen=True)
class Phase:
    """What the client measured at one concurrency level (never what it meant to do).

    ``sent``: requests sent; ``ok``: answered 2xx; ``failed``: answered 5xx or not answered
    at all; ``no_answer``: the part of ``failed`` that got no answer (a transport error: the
    server may or may not have counted it); ``other``: any other status; ``start``/``end``:
    Unix seconds of the first send and of the last answer.
    """

    concurrency: int
    sent: int
    ok: int
    failed: int
    no_answer: int
    other: int
    start: float
    end: float


@dataclass(frozen=True)
class PromScraped:
    """What ``prom_scraped`` yields.

    ``url``: Prometheus's base URL; ``selector``: ``job="agent"``, the label matcher that
    picks the service's series; ``start``/``end``: Unix seconds of the first request sent
    and of the last answer; ``measured``: concurrency -> ``Phase`` (1 and 10);
    ``scrape_interval_s``: 1.0; ``service_url``: the service itself; ``pid``,
    ``service_pid``: the two processes; ``timings``: seconds spent starting and driving.
    Prometheus has scraped at least twice after ``end`` when the fixture yields.
    """

    url: str
    selector: str
    start: float
    end: float
    measured: dict[int, Phase]
    scrape_interval_s: float
    service_url: str
    pid: int
    service_pid: int
    timings: dict[str, float] = field(default_factory=dict)
    log_path: Path | None = None
    """The service's own JSON log lines (agent_app's ``AGENT_LOG_FILE``)."""


def drive(service_url: str, concurrency: int, per_client: int,
          interval: float = REQUEST_INTERVAL_S) -> Phase:
    """``concurrency`` clients, each sending ``per_client`` POST /chat one after another,
    one every ``interval`` seconds (staggered between clients), to 127.0.0.1 only."""
    if not service_url.startswith("http://127.0.0.1:"):
        raise ValueError(f"drive sends to 127.0.0.1 only, not {service_url}")
    lock = threading.Lock()
    tally = {"sent": 0, "ok": 0, "failed": 0, "no_answer": 0, "other": 0}
    ends: list[float] = []
    base = time.monotonic() + 0.05
    started = time.time() + 0.05

    def client(j: int) -> None:
        with httpx.Client(trust_env=False, timeout=10.0) as http:
            for i in range(per_client):
                delay = base + (i + j / concurrency) * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                outcome = "no_answer"
                try:
                    response = http.post(f"{service_url}/chat", json={
                        "message": f"question {i}", "sessionId": f"drive-{concurrency}-{j}"},
                        headers={"x-request-id": f"drive-{concurrency}-{j}-{i}"})
                    status = response.status_code
                    outcome = "ok" if status < 300 else "failed" if status >= 500 else "other"
                except httpx.TransportError:
                    pass
                with lock:
                    tally["sent"] += 1
                    tally[outcome] += 1
                    if outcome == "no_answer":
                        tally["failed"] += 1
                    ends.append(time.time())

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    return Phase(concurrency, tally["sent"], tally["ok"], tally["failed"], tally["no_answer"],
                 tally["other"], started, max(ends, default=started))


def _wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not seen in {timeout} s")


def _last_scrape(url: str) -> float | None:
    """When Prometheus last scraped the service successfully. ``timestamp()`` gives a
    sample's own time only when applied to a selector itself (``timestamp(up == 1)`` is
    the evaluation time), hence the two steps."""
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError):
        result = query(url, 'up{job="agent"}', timeout=5)["data"]["result"]
        if result and result[0]["value"][1] == "1":
            stamp = query(url, 'timestamp(up{job="agent"})', timeout=5)["data"]["result"]
            return float(stamp[0]["value"][1])
    return None


@contextlib.contextmanager
def scraped_service(workdir: Path, phase_seconds: float = 15.0) -> Iterator[PromScraped]:
    """metrics_app under uvicorn, a Prometheus scraping it every second, and two driven
    phases: one client, then ten, ``phase_seconds`` each with a fixed number of requests."""
    t0 = time.perf_counter()
    log_path = workdir / "agent.log"  # the service's own JSON log, to join with metrics
    service = launch.start("metrics_app:app", mode="buggy",
                           env={"AGENT_MODEL_DELAY": str(MODEL_DELAY_S),
                                "AGENT_LOG_FILE": str(log_path)})
    try:
        config = ("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                  "scrape_configs:\n  - job_name: agent\n    static_configs:\n"
                  f"      - targets: ['127.0.0.1:{service.port}']\n")
        with running_prometheus(workdir, workdir / "tsdb", config=config) as server:
            _wait_for("a first scrape of the service",
                      lambda: _last_scrape(server.url) is not None, READY_TIMEOUT_S)
            t1 = time.perf_counter()
            per_client = max(1, round(phase_seconds / REQUEST_INTERVAL_S))
            one = drive(service.url, 1, per_client)
            # a gap of more than two scrapes, so each phase's counts are scraped apart
            time.sleep(2.5 * SCRAPE_INTERVAL_S)
            ten = drive(service.url, 10, per_client)
            seen: set[float] = set()

            def two_more_scrapes() -> bool:
                last = _last_scrape(server.url)
                if last is not None and last > ten.end:
                    seen.add(last)
                return len(seen) >= 2

            _wait_for("two scrapes after the traffic", two_more_scrapes, 15.0)
            t2 = time.perf_counter()
            yield PromScraped(server.url, 'job="agent"', one.start, ten.end,
                              {1: one, 10: ten}, SCRAPE_INTERVAL_S, service.url, server.pid,
                              service.proc.pid, {"start": t1 - t0, "drive": t2 - t1},
                              log_path)
    finally:
        launch.stop(service)
        assert_gone({"uvicorn": service.proc.pid})


@pytest.fixture(scope="session")
def prom_scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromScraped]:
    """tests/services/metrics_app.py scraped by a real Prometheus while driven at
    concurrency 1, then 10 (``SCALEDOC_PROM_PHASE_SECONDS`` seconds each, default 15)."""
    require_binaries()
    phase = float(os.environ.get(PHASE_SECONDS_ENV, "15"))
    with scraped_service(tmp_path_factory.mktemp("prom-scraped"), phase) as scraped:
        yield scraped
