"""The log analysis on lines real programs print: runtimes running out of memory, workers
dying, a proxy giving up on its upstream, writes losing races, dependency resolvers.

Where the lines come from (each constant says which):

* CAPTURED: printed on this project's dev machine by the real program, run bounded on
  127.0.0.1 (node v20.20.2, CPython 3.11.7, gunicorn 27.0.1, uvicorn 0.55.0, nginx from
  Debian, pip 24, npm 10), copied byte for byte;
* QUOTED: pasted into a public thread or documented by the project, with its address.

The ingestion of these formats (access lines as REQUEST_END with status, duration and
``fields["access"]``; fatal lines as events with their text) is being built beside this;
until it lands, the events here carry exactly what those readers are specified to set,
and nothing more: the raw line as ``text`` and ``message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_analysis_support import T0, analyse, ev, sig

from probes.analysis import LogAnalysis, classify
from probes.analysis.runs import excerpt
from probes.analysis.runtime import match_runtime
from probes.diagnose import diagnose
from probes.events import ERROR, INFO, EventKind, LogEvent
from probes.evidence import Answer, Case, Evidence
from probes.ingest import IngestConfig, InputFile, LogReader, merge_by_time

K = EventKind

# CAPTURED: `node --max-old-space-size=24 -e "const a=[];while(true){a.push(new Array(1e5)...)}"`
V8_OOM = ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory")
V8_GC = ("[14446:0x3126bca0]       64 ms: Mark-Compact 23.9 (40.8) -> 23.9 (40.8) MB, 14.56 / "
         "0.00 ms  (average mu = 0.259, current mu = 0.259) allocation failure; scavenge might "
         "not succeed")
# CAPTURED: `ulimit -v 200000; python3 -c "x=bytearray(1<<30)"` (the traceback's last line)
PY_MEMORY_ERROR = "MemoryError"
# QUOTED: https://github.com/ContainerSolutions/runbooks/issues/45 (kernel log via kubelet)
KERNEL_OOM = ("Memory cgroup out of memory: Kill process 1557026 (stress) score 1957 or "
              "sacrifice child")
KERNEL_KILLED = ("Killed process 1557026 (stress) total-vm:256780kB, anon-rss:100056kB, "
                 "file-rss:264kB, shmem-rss:0kB")
# QUOTED: a pod summary in a public README (k-cli diagnose sample output), and the
# kubectl describe block in https://github.com/hmcts/cnp-flux-config/pull/28772
LAST_REASON = "⚠️  Restarts:     5 (last reason: OOMKilled)"
DESCRIBE_REASON = "      Reason:       OOMKilled"

# CAPTURED: `gunicorn -w 2 --timeout 2 app:app`, one worker killed with SIGKILL, then a
# request sleeping past the timeout, then SIGTERM to the master.
GUNICORN_LOG = """\
[2026-12-06 15:39:45 +0000] [15288] [INFO] Starting gunicorn 27.0.1
[2026-12-06 15:39:45 +0000] [15288] [INFO] Listening at: http://127.0.0.1:18931 (15288)
[2026-12-06 15:39:45 +0000] [15288] [INFO] Using worker: sync
[2026-12-06 15:39:45 +0000] [15329] [INFO] Booting worker with pid: 15329
[2026-12-06 15:39:45 +0000] [15330] [INFO] Booting worker with pid: 15330
[2026-12-06 15:39:48 +0000] [15288] [ERROR] Worker (pid:15329) was sent SIGKILL! Perhaps out of memory?
[2026-12-06 15:39:48 +0000] [15354] [INFO] Booting worker with pid: 15354
[2026-12-06 15:39:52 +0000] [15288] [CRITICAL] WORKER TIMEOUT (pid:15354)
[2026-12-06 15:39:52 +0000] [15354] [ERROR] Error handling request GET /slow
[2026-12-06 15:39:52 +0000] [15354] [INFO] Worker exiting (pid: 15354)
[2026-12-06 15:39:52 +0000] [15376] [INFO] Booting worker with pid: 15376
[2026-12-06 15:39:55 +0000] [15288] [INFO] Handling signal: term
[2026-12-06 15:39:55 +0000] [15330] [INFO] Worker exiting (pid: 15330)
[2026-12-06 15:39:55 +0000] [15376] [INFO] Worker exiting (pid: 15376)
[2026-12-06 15:39:55 +0000] [15288] [INFO] Shutting down: Master"""  # noqa: E501

# CAPTURED: `uvicorn --workers 2 app:asgi`, one child killed with SIGKILL, then SIGTERM.
UVICORN_LOG = """\
INFO:     Started parent process [15419]
INFO:     Started server process [15485]
INFO:     Started server process [15486]
INFO:     Waiting for child process [15486]
INFO:     Child process [15486] died
INFO:     Started server process [15825]
INFO:     127.0.0.1:43124 - "GET / HTTP/1.1" 200 OK
INFO:     Received SIGTERM, exiting.
INFO:     Terminated child process [15485]
INFO:     Terminated child process [15825]
INFO:     Waiting for child process [15485]
INFO:     Stopping parent process [15419]"""

# CAPTURED: a Node cluster primary with the handler of the Node docs
# (https://nodejs.org/api/cluster.html: `worker ${worker.process.pid} died`), one worker
# sent SIGKILL.
NODE_CLUSTER = ["Primary 16050 is running", "Worker 16058 started", "Worker 16057 started",
                "worker 16057 died (SIGKILL). restarting...", "Worker 16078 started"]

# CAPTURED: nginx (proxy_read_timeout 1s) in front of a one-worker gunicorn with a 5 s
# handler; log_format with rt=$request_time.
NGINX_TIMED = [
    ('127.0.0.1 - - [06/Dec/2026:15:40:22 +0000] "GET /slow HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.001 uct=0.000 urt=1.001', 504, 1001.0),
    ('127.0.0.1 - - [06/Dec/2026:15:40:23 +0000] "GET / HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.001 uct=0.000 urt=1.002', 504, 1001.0),
    ('127.0.0.1 - - [06/Dec/2026:15:40:24 +0000] "GET /slow HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.002 uct=0.000 urt=1.001', 504, 1002.0),
    ('127.0.0.1 - - [06/Dec/2026:15:40:25 +0000] "GET / HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.002 uct=0.000 urt=1.002', 504, 1002.0),
    ('127.0.0.1 - - [06/Dec/2026:15:40:26 +0000] "GET /slow HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.001 uct=0.000 urt=1.002', 504, 1001.0),
    ('127.0.0.1 - - [06/Dec/2026:15:40:27 +0000] "GET / HTTP/1.1" 504 167 "-" '
     '"curl/7.88.1" rt=1.001 uct=0.000 urt=1.001', 504, 1001.0),
]
NGINX_TIMEOUT_ERROR = (
    "2026/12/06 15:40:22 [error] 16453#16453: *1 upstream timed out (110: Connection timed "
    "out) while reading response header from upstream, client: 127.0.0.1, server: , "
    'request: "GET /slow HTTP/1.1", upstream: "http://127.0.0.1:18934/slow", host: '
    '"127.0.0.1:18935"')
# CAPTURED: the same nginx, the gunicorn worker killed mid-request, then the master stopped.
NGINX_502 = [
    ('127.0.0.1 - - [06/Dec/2026:15:40:40 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/7.88.1"', 200),
    ('127.0.0.1 - - [06/Dec/2026:15:40:41 +0000] "GET /slow HTTP/1.1" 502 157 "-" '
     '"curl/7.88.1"', 502),
    ('127.0.0.1 - - [06/Dec/2026:15:40:44 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1"',
     502),
]
NGINX_CLOSED = (
    "2026/12/06 15:40:41 [error] 17506#17506: *3 upstream prematurely closed connection while "
    'reading response header from upstream, client: 127.0.0.1, server: , request: "GET /slow '
    'HTTP/1.1", upstream: "http://127.0.0.1:18934/slow", host: "127.0.0.1:18935"')
NGINX_REFUSED = (
    "2026/12/06 15:40:44 [error] 17506#17506: *5 connect() failed (111: Connection refused) "
    'while connecting to upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", '
    'upstream: "http://127.0.0.1:18934/", host: "127.0.0.1:18935"')

# CAPTURED: `pip install --dry-run autogen-agentchat==0.4.0 autogen-core==0.5.0` (pip 24)
PIP_CONFLICT = ("ERROR: Cannot install autogen-agentchat==0.4.0 and autogen-core==0.5.0 because "
                "these package versions have conflicting dependencies.")
PIP_IMPOSSIBLE = ("ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/"
                  "topics/dependency-resolution/#dealing-with-dependency-conflicts")
# QUOTED: pip's post-install check as pasted in public READMEs of LangChain projects
PIP_HAVE = ("langchain-openai 0.3.16 requires langchain-core<1.0.0,>=0.3.58, but you have "
            "langchain-core 1.2.9 which is incompatible.")
PIP_HAVE_NEW = ("langgraph-prebuilt 1.0.2 requires langchain-core>=1.0.0, but you have "
                "langchain-core 0.3.63")
# CAPTURED: `npm install --dry-run` of {"@langchain/openai":"0.3.0","@langchain/core":"0.1.0"}
NPM_ERESOLVE = ["npm error code ERESOLVE", "npm error ERESOLVE unable to resolve dependency tree",
                'npm error peer @langchain/core@">=0.2.26 <0.4.0" from @langchain/openai@0.3.0']
# QUOTED: npm output pasted in a public deployment note (Vercel build log)
NPM_PEER = "npm error Conflicting peer dependency: @langchain/core@0.3.79"

# QUOTED: PostgreSQL docs, "Transaction Isolation" (13.2.2 Repeatable Read)
PG_SERIALIZE = "ERROR:  could not serialize access due to concurrent update"
# QUOTED: redis-py client.py, Pipeline._execute_transaction: raise WatchError(...)
REDIS_WATCH = "redis.exceptions.WatchError: Watched variable changed."
# QUOTED: Elasticsearch docs, optimistic concurrency control (409 body)
ES_CONFLICT = ("version_conflict_engine_exception: [1]: version conflict, required seqNo [10], "
               "primary term [1]. current document has seqNo [11] and primary term [1]")
# CAPTURED format: uvicorn's access line (the GET / 200 above) with a 409 from the app
UVICORN_409 = 'INFO:     127.0.0.1:43130 - "POST /counter HTTP/1.1" 409 Conflict'
# QUOTED: CPython asyncio/base_events.py _check_running: RuntimeError('This event loop is
# already running'), raised by a nested loop.run_until_complete
NESTED_LOOP = "RuntimeError: This event loop is already running"


def raw(t_ms: float, text: str, **kw: Any) -> LogEvent:
    """A line as the plain-text readers give it: the text is the message, no level."""
    return ev(t_ms, kw.pop("kind", K.OTHER), text=text, message=text, **kw)


def access(t_ms: float, text: str, status: int, dur: float | None = None,
           who: str = "nginx") -> LogEvent:
    """An access line as the access-log readers give it: a REQUEST_END with its status,
    duration (where the format has one) and the format's name in fields["access"]."""
    return ev(t_ms, K.REQUEST_END, text=text, message=text, status=status, duration_ms=dur,
              fields={"access": who}, level=INFO)


def lines(block: str) -> list[LogEvent]:
    return [raw(i * 100, line) for i, line in enumerate(block.splitlines())]


# ---------------------------------------------------------------- the tables, row by row

@pytest.mark.parametrize(("text", "table", "name", "pid"), [
    (V8_OOM, "oom", "v8_heap", None),
    (PY_MEMORY_ERROR, "oom", "python_memory_error", None),
    (KERNEL_OOM, "oom", "kernel_oom_killer", None),
    (LAST_REASON, "oom", "oomkilled", None),
    (DESCRIBE_REASON, "oom", "oomkilled", None),
    (GUNICORN_LOG.splitlines()[5], "worker", "gunicorn_signal", "15329"),
    (GUNICORN_LOG.splitlines()[7], "worker", "gunicorn_timeout", "15354"),
    ("INFO:     Child process [15486] died", "worker", "uvicorn_child_died", "15486"),
    (NODE_CLUSTER[3], "worker", "node_cluster", "16057"),
    (NGINX_TIMEOUT_ERROR, "gateway", "nginx_upstream_timeout", None),
    (NGINX_CLOSED, "gateway", "nginx_upstream_closed", None),
    (NGINX_REFUSED, "gateway", "nginx_connect_failed", None),
])
def test_runtime_tables_match_real_lines(text: str, table: str, name: str, pid: str | None
                                         ) -> None:
    assert (table, name, pid) in match_runtime(text, {})


@pytest.mark.parametrize("text", [
    V8_GC, GUNICORN_LOG.splitlines()[9],  # "Worker exiting (pid: 15354)": a clean stop
    "[2025-12-16 16:52:59 +0000] [54] [ERROR] Worker (pid:59) was sent SIGTERM!",  # a deploy
    "INFO:     Terminated child process [15485]", "INFO:     Stopping parent process [15419]",
    NODE_CLUSTER[1], KERNEL_KILLED,
])
def test_normal_lifecycle_lines_are_not_deaths_or_oom(text: str) -> None:
    found = match_runtime(text, {})
    assert not [f for f in found if f[0] in ("worker",)], found
    if text is not KERNEL_KILLED:  # the kill's second line; the first one names the OOM
        assert not [f for f in found if f[0] == "oom"], found


# ---------------------------------------------------------------- out of memory, workers

def test_v8_heap_fatal_is_decisive_for_oom() -> None:
    events = [raw(0, "Server listening at http://0.0.0.0:3000"), raw(900, V8_GC),
              raw(950, V8_OOM)]
    evidence = analyse(events)
    s = sig(evidence, "runtime.out_of_memory")
    assert s.answer is Answer.YES and s.strength == 1.0 and "v8_heap" in s.detail
    assert s.examples[0].line == events[2].line
    verdict = diagnose(Case((evidence,)))
    assert verdict.verdict == "oom", verdict.summary


def test_python_memory_error_and_oomkilled_in_pasted_text() -> None:
    for text in (PY_MEMORY_ERROR, LAST_REASON, KERNEL_OOM):
        s = sig(analyse([raw(0, text)]), "runtime.out_of_memory")
        assert s.answer is Answer.YES, text
    clean = sig(analyse([raw(0, "INFO:     Application startup complete.")]),
                "runtime.out_of_memory")
    assert clean.answer is Answer.NO


def test_gunicorn_worker_deaths_counted_once_per_pid_and_not_on_shutdown() -> None:
    s = sig(analyse(lines(GUNICORN_LOG)), "process.worker_died")
    assert s.answer is Answer.YES
    assert s.value == 2 and s.data["pids"] == ["15329", "15354"], s.detail
    assert "SIGKILL" in s.examples[0].text


def test_uvicorn_child_death_and_node_cluster_exit() -> None:
    s = sig(analyse(lines(UVICORN_LOG)), "process.worker_died")
    assert s.answer is Answer.YES and s.data["pids"] == ["15486"] and s.value == 1
    node = sig(analyse(lines("\n".join(NODE_CLUSTER))), "process.worker_died")
    assert node.answer is Answer.YES and node.data["pids"] == ["16057"]


def test_structured_worker_exit_with_code_zero_is_a_clean_stop() -> None:
    died = raw(0, "worker exited", fields={"worker_pid": 41, "code": None, "signal": "SIGKILL"})
    clean = raw(10, "worker exited", fields={"worker_pid": 42, "code": 0, "signal": None})
    s = sig(analyse([died, clean]), "process.worker_died")
    assert s.answer is Answer.YES and s.data["pids"] == ["41"]


# ---------------------------------------------------------------- proxies and ceilings

def test_nginx_504s_cluster_at_proxy_read_timeout() -> None:
    events = [access(1000 * i + 1001, text, st, d) for i, (text, st, d) in enumerate(NGINX_TIMED)]
    # the app behind it answered every request, slowly, after the proxy gave up
    events += [ev(1000 * i + 5000, K.REQUEST_END, status=200, duration_ms=5000.0,
                  request=f"app-{i}", message="request completed") for i in range(6)]
    events.append(raw(1001, NGINX_TIMEOUT_ERROR, level=ERROR))
    evidence = analyse(events)
    ceiling = sig(evidence, "latency.ceiling")
    assert ceiling.answer is Answer.YES and ceiling.strength == 1.0
    assert "at the proxy (nginx)" in ceiling.detail and "~1001 ms" in ceiling.detail
    gw = sig(evidence, "proxy.gateway_errors")
    # six access lines and one error line: the same failures told twice, counted once
    assert gw.answer is Answer.YES and gw.value == 6 and gw.data["timeouts"] == 6
    failed = sig(evidence, "requests.failed")
    assert failed.answer is Answer.YES
    assert sig(evidence, "errors.timeout").answer is Answer.NO  # the proxy's, not a tool's
    assert diagnose(Case((evidence,))).verdict == "platform-timeout"


def test_502s_alone_are_not_the_platform_timeout_smoking_gun() -> None:
    events = [access(1000 * i, text, st) for i, (text, st) in enumerate(NGINX_502)]
    events += [raw(1000, NGINX_CLOSED, level=ERROR), raw(3000, NGINX_REFUSED, level=ERROR)]
    evidence = analyse(events)
    ceiling = sig(evidence, "latency.ceiling")
    assert ceiling.answer is Answer.YES and ceiling.strength < 0.9
    assert "not a timeout" in ceiling.detail
    gw = sig(evidence, "proxy.gateway_errors")
    assert gw.answer is Answer.YES and gw.data["timeouts"] == 0
    assert diagnose(Case((evidence,))).verdict != "healthy"


def test_clean_proxy_traffic_is_a_no() -> None:
    events = [access(i * 10, NGINX_502[0][0], 200) for i in range(5)]
    evidence = analyse(events)
    assert sig(evidence, "proxy.gateway_errors").answer is Answer.NO
    assert sig(evidence, "requests.failed").answer is Answer.NO


# ---------------------------------------------------------------- conflicts

def test_409_statuses_and_store_conflicts_are_conflicts_not_duplicates() -> None:
    events = [access(i * 100, UVICORN_409, 409, 3.0, who="uvicorn") for i in range(4)]
    evidence = analyse(events)
    s = sig(evidence, "errors.conflict")
    assert s.answer is Answer.YES and s.value == 4 and s.strength == 1.0
    assert sig(evidence, "errors.duplicate_write").answer is Answer.NO
    for text in (PG_SERIALIZE, REDIS_WATCH, ES_CONFLICT):
        assert {f.name for f in classify(text)} == {"conflict"}, text


# ---------------------------------------------------------------- dependency resolvers

@pytest.mark.parametrize("text", [PIP_CONFLICT, PIP_IMPOSSIBLE, PIP_HAVE, PIP_HAVE_NEW,
                                  *NPM_ERESOLVE[:2], NPM_PEER])
def test_resolver_output_is_a_version_mismatch(text: str) -> None:
    assert "version_mismatch" in {f.name for f in classify(text)}


def test_families_on_the_real_lines_above_stay_in_their_lane() -> None:
    assert {f.name for f in classify(NGINX_TIMEOUT_ERROR)} == {"platform_timeout"}
    assert {f.name for f in classify(V8_OOM)} == set()  # the OOM table's, not a family's
    assert {f.name for f in classify(NESTED_LOOP)} == {"already_running"}
    assert {f.name for f in classify(NPM_ERESOLVE[2])} == set()


# ---------------------------------------------------------------- requests.failed

def test_requests_failed_yes_no_unknown() -> None:
    ok = [ev(i * 100, K.REQUEST_END, request=f"r{i}", status=200, duration_ms=20.0)
          for i in range(200)]
    bad = [ev(i * 100 + 50, K.REQUEST_END, request=f"b{i}", status=500, duration_ms=20.0,
              error="Internal Server Error") for i in range(3)]
    s = sig(analyse(ok + bad), "requests.failed")
    assert s.answer is Answer.YES and s.value == 3 and "3 of 203" in s.detail
    two = sig(analyse(ok + bad[:2]), "requests.failed")
    assert two.answer is Answer.NO and "2 of 202" in two.detail
    none = sig(analyse([raw(0, "INFO:     Application startup complete.")]), "requests.failed")
    assert none.answer is Answer.UNKNOWN and "no request or run outcome" in none.reason


def test_failed_runs_count_when_no_request_lines() -> None:
    events: list[LogEvent] = []
    for i in range(5):
        events += [ev(i * 1000, K.RUN_START, instance=f"a{i}", run=f"run-{i}"),
                   ev(i * 1000 + 10, K.RUN_END, instance=f"a{i}", run=f"run-{i}",
                      error="TypeError: modelClient.create is not a function" if i < 3
                      else None)]
    s = sig(analyse(events), "requests.failed")
    assert s.answer is Answer.YES and "runs: 3 failed of 5" in s.detail


# ---------------------------------------------------------------- the already-running guard

def _requests(pairs: list[tuple[float, float, bool]]) -> list[LogEvent]:
    out = []
    for i, (start, end, fail) in enumerate(pairs):
        out.append(ev(start, K.REQUEST_START, request=f"q{i}"))
        if fail:
            out.append(ev(end - 1, K.ERROR, request=f"q{i}", level=ERROR, error=NESTED_LOOP))
        out.append(ev(end, K.REQUEST_END, request=f"q{i}", status=500 if fail else 200))
    return out


def test_already_running_at_concurrency_one_is_a_bug_not_a_shared_instance() -> None:
    # one request at a time, every third fails with a nested run_until_complete
    events = _requests([(i * 1000, i * 1000 + 200, i % 3 == 0) for i in range(30)])
    evidence = analyse(events)
    s = sig(evidence, "errors.already_running")
    assert s.answer is Answer.YES and s.strength < 0.6
    assert "no other request in flight" in s.detail and s.data["alone"] == 10
    assert sig(evidence, "requests.failed").answer is Answer.YES
    verdict = diagnose(Case((evidence,)))
    assert verdict.verdict not in ("shared-instance", "healthy"), verdict.summary


def test_already_running_with_others_in_flight_keeps_full_strength() -> None:
    pairs: list[tuple[float, float, bool]] = []
    for b in range(10):  # bursts of three overlapping requests: the later two fail
        pairs += [(b * 5000 + j * 50, b * 5000 + 1000, j > 0) for j in range(3)]
    s = sig(analyse(_requests(pairs)), "errors.already_running")
    assert s.answer is Answer.YES and s.strength == 1.0 and s.data["alone"] == 0


# ---------------------------------------------------------------- no self-contradiction

def test_no_two_runs_overlap_is_not_said_beside_failing_already_running_errors() -> None:
    # Runs are logged one after another on one instance; the colliding attempts fail
    # before they log a start (AutoGen raises in run_stream before any event).
    events: list[LogEvent] = []
    for i in range(6):
        events += [ev(i * 1000, K.RUN_START, instance="team-1", request=f"r{i}"),
                   ev(i * 1000 + 500, K.RUN_END, instance="team-1", request=f"r{i}")]
        events.append(ev(i * 1000 + 100, K.ERROR, level=ERROR, instance="team-1",
                         request=f"x{i}", error="RuntimeError: The team is already running, "
                                                "it cannot run again until it is stopped."))
    evidence = analyse(events)
    ar = sig(evidence, "errors.already_running")
    assert ar.answer is Answer.YES and ar.strength >= 0.9
    overlap = sig(evidence, "runs.overlap_instance")
    assert overlap.answer is Answer.UNKNOWN
    assert "do not show the overlap" in overlap.reason
    assert sig(evidence, "runs.parallel_same_session").answer is not Answer.NO


# ---------------------------------------------------------------- run ends named otherwise

def test_run_error_event_ends_the_run_and_counts_in_the_sweep() -> None:
    # structlog: {"event": "run_error", ...} at level error; no run-end phrase in it
    events = [ev(0, K.RUN_START, instance="team-1", request="r1", session="s1"),
              ev(100, K.RUN_START, instance="team-1", request="r2", session="s2"),
              ev(300, K.ERROR, instance="team-1", request="r2", level=ERROR,
                 message="run_error", error="RuntimeError: The team is already running"),
              ev(900, K.RUN_END, instance="team-1", request="r1", session="s1")]
    evidence = analyse(events)
    overlap = sig(evidence, "runs.overlap_instance")
    assert overlap.answer is Answer.YES, overlap.detail
    assert evidence.data["runs_open"] == 0 and evidence.data["outcomes"]["renamed_run_ends"] == 1


# ---------------------------------------------------------------- one object, two ids

def test_a_span_naming_the_logged_run_under_its_own_ids_counts_once() -> None:
    log: list[LogEvent] = []
    spans: list[LogEvent] = []
    for i in range(4):
        t = i * 1000
        log += [ev(t, K.RUN_START, instance="team-1", request=f"req-{i}", run=f"run-{i}"),
                ev(t + 500, K.RUN_END, instance="team-1", request=f"req-{i}", run=f"run-{i}")]
        # the trace export: the span's id as run, the object's repr as instance
        spans += [ev(t + 0.4, K.RUN_START, source="spans.jsonl", instance="RoundRobinGroupChat"
                     "@0x7f3a9c", request=f"req-{i}", run=f"{i:016x}"),
                  ev(t + 499, K.RUN_END, source="spans.jsonl", instance="RoundRobinGroupChat"
                     "@0x7f3a9c", request=f"req-{i}", run=f"{i:016x}")]
    evidence = analyse(log + spans)
    assert evidence.data["runs_total"] == 4
    assert evidence.data["instance_aliases"] == {"RoundRobinGroupChat@0x7f3a9c": "team-1"}
    assert sig(evidence, "runs.overlap_instance").answer is Answer.NO


# ---------------------------------------------------------------- excerpts

def test_long_line_excerpt_shows_the_proving_fields_not_the_stack() -> None:
    stack = "\\n    at AssistantAgent.onMessages (/app/node_modules/@autogen/core/x.js:88:41)" * 8
    text = ('{"level":50,"time":1795183203629,"pid":7,"hostname":"helpdesk-agent-7hkjfcwkz",'
            '"reqId":"5b1e","instanceId":"agent-69efa25a","err":{"type":"TypeError","message":'
            '"modelClient.create is not a function","stack":"TypeError: modelClient.create is '
            f'not a function{stack}"}},"msg":"run failed"}}')
    e = LogEvent(T0, "helpdesk.log", 7, 50, "run failed", K.RUN_END, "helpdesk", "7",
                 "agent-69efa25a", None, "5b1e", None,
                 "TypeError: modelClient.create is not a function", None, None, None, text)
    ex = excerpt(e)
    assert ex.text.startswith('{"level":50,')  # the line as written opens it
    assert 'msg="run failed"' in ex.text and "error=\"TypeError: modelClient" in ex.text
    assert ex.text.index("msg=") < 200
    short = LogEvent(T0, "u.log", 1, None, "INFO:     Child process [15486] died",
                     text="INFO:     Child process [15486] died")
    assert excerpt(short).text == "INFO:     Child process [15486] died"


# ---------------------------------------------------------------- through the real readers

def _read(tmp: Path, files: dict[str, str]) -> Evidence:
    """The captured text written back to files and read by the project's own readers."""
    readers = []
    for name, text in files.items():
        path = tmp / name
        path.write_text(text + "\n", encoding="utf-8")
        readers.append(LogReader(InputFile(name, path), IngestConfig()))
    analysis = LogAnalysis()
    for e in merge_by_time([r.events() for r in readers]):
        analysis.feed(e)
    return analysis.finish()


def test_captured_gunicorn_log_through_the_readers(tmp_path: Path) -> None:
    evidence = _read(tmp_path, {"gunicorn.log": GUNICORN_LOG})
    died = sig(evidence, "process.worker_died")
    assert died.answer is Answer.YES and died.data["pids"] == ["15329", "15354"]
    assert sig(evidence, "runtime.out_of_memory").answer is Answer.NO  # "Perhaps" is a guess
    # the SIGKILL, the timeout and the request's error: failures with no request lines
    failed = sig(evidence, "requests.failed")
    assert failed.answer is Answer.YES and failed.strength < 1.0


def test_captured_nginx_logs_through_the_readers(tmp_path: Path) -> None:
    evidence = _read(tmp_path, {
        "access.log": "\n".join(line for line, _ in NGINX_502),
        "error.log": "\n".join((NGINX_CLOSED, NGINX_REFUSED))})
    gw = sig(evidence, "proxy.gateway_errors")
    assert gw.answer is Answer.YES and gw.value == 2 and gw.data["proxy_requests"] == 3
    ceiling = sig(evidence, "latency.ceiling")
    assert ceiling.answer is Answer.YES and ceiling.strength < 0.9  # 502s: not a timeout
    assert diagnose(Case((evidence,))).verdict != "healthy"


LAB = Path(__file__).parent / "lab" / "scenarios"


@pytest.mark.skipif(not (LAB / "py-healthy-gunicorn-autogen" / "gunicorn.log").exists(),
                    reason="lab capture not present")
def test_runs_stand_in_when_access_lines_carry_no_duration() -> None:
    """The lab's healthy gunicorn+uvicorn AutoGen service: uvicorn's access lines give a
    status but no duration, the app's run lines give start and end. The runs make the
    concurrency table, and with nothing failing the error rate cannot rise."""
    path = LAB / "py-healthy-gunicorn-autogen" / "gunicorn.log"
    analysis = LogAnalysis()
    for e in LogReader(InputFile(path.name, path), IngestConfig()).events():
        analysis.feed(e)
    evidence = analysis.finish()
    rise = sig(evidence, "errors.rise_with_concurrency")
    assert rise.answer is Answer.NO, rise.detail
    assert sum(r["requests"] for r in evidence.data["concurrency"]) > 0
    assert sig(evidence, "requests.failed").answer is Answer.NO
    assert diagnose(Case((evidence,))).verdict == "healthy"


def test_asyncio_loop_wording_alone_is_not_a_shared_instance() -> None:
    # QUOTED: https://github.com/Marker-Inc-Korea/AutoRAG/issues/609 (every single request
    # failed; fixed in code as a nested run_until_complete), as stored in tests/corpus/
    evidence = analyse([raw(0, NESTED_LOOP, kind=K.ERROR, level=ERROR, error=NESTED_LOOP)])
    s = sig(evidence, "errors.already_running")
    assert s.answer is Answer.YES and s.strength < 0.6 and "asyncio's own words" in s.detail
    assert diagnose(Case((evidence,))).verdict != "shared-instance"
    # AutoGen's own wording, with no timing either, keeps its weight
    team = "RuntimeError: The team is already running, it cannot run again until it is stopped."
    s2 = sig(analyse([raw(i, team, kind=K.ERROR, level=ERROR, error=team) for i in range(3)]),
             "errors.already_running")
    assert s2.strength == 1.0


# QUOTED: https://github.com/Mintplex-Labs/anything-llm/issues/1722 (HAProxy's page, as the
# reporter pasted it; the maintainers located the 504 in the proxy), and
# https://github.com/AUTOMATIC1111/stable-diffusion-webui/issues/9722 (nginx's page)
HAPROXY_PAGE = ("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in "
                "time.\n</body></html>")
NGINX_PAGE = ("[Errno Expecting value] <html>\n<head><title>504 Gateway Time-out</title></head>"
              "\n<body>\n<center><h1>504 Gateway Time-out</h1></center>\n</body>\n</html>")


@pytest.mark.parametrize("page", [HAPROXY_PAGE, NGINX_PAGE])
def test_a_pasted_proxy_504_page_is_a_platform_timeout(tmp_path: Path, page: str) -> None:
    evidence = _read(tmp_path, {"response.html": page})
    gw = sig(evidence, "proxy.gateway_errors")
    assert gw.answer is Answer.YES and gw.value == 1  # one page, though <title> and <h1>
    assert sig(evidence, "latency.ceiling").answer is Answer.YES
    assert diagnose(Case((evidence,))).verdict == "platform-timeout"


def test_pip_conflict_report_lines_are_a_version_mismatch(tmp_path: Path) -> None:
    # QUOTED: pip's report as pasted in https://github.com/talhadar90/agentzero/issues/1
    # (stored in tests/corpus/pip-conflict-langchain-0.3-crewai-0.11-agentzero-1)
    report = ("The conflict is caused by:\n    The user requested langchain==0.3.1\n"
              "    crewai 0.11.2 depends on langchain<0.2.0 and >=0.1.0")
    first, requested, depends = report.splitlines()
    for line in (first, depends):
        assert "version_mismatch" in {f.name for f in classify(line)}, line
    # "The user requested ..." alone names no conflict; the reader tags it a resolver line
    evidence = _read(tmp_path, {"pip-install.txt": report})
    s = sig(evidence, "errors.version_mismatch")
    assert s.answer is Answer.YES and s.value == 3


def test_pyo3_already_borrowed_is_a_collision_on_a_shared_object() -> None:
    # QUOTED: https://github.com/weaviate/t2v-transformers-models/issues/123 ("Under
    # concurrent requests, POST /vectors intermittently returns HTTP 500 ... Already
    # borrowed": one tokenizer shared by concurrent requests)
    assert {f.name for f in classify("['fail with status 500: Already borrowed']")} == \
        {"already_running"}
    assert {f.name for f in classify("RuntimeError: Already mutably borrowed")} == \
        {"already_running"}


def test_a_lone_import_error_is_weak_version_mismatch_evidence() -> None:
    # QUOTED: https://github.com/microsoft/autogen/issues/705 (maintainer: "This can happen
    # if there is a file named autogen.py in your current folder")
    text = ("ImportError: cannot import name 'AssistantAgent' from 'autogen' (C:\\Users\\"
            "Administrator\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\\"
            "autogen\\__init__.py)")
    evidence = analyse([raw(0, text, kind=K.ERROR, level=ERROR, error=text)])
    s = sig(evidence, "errors.version_mismatch")
    assert s.answer is Answer.YES and s.strength < 0.6 and "import errors only" in s.detail
    assert diagnose(Case((evidence,))).verdict != "version-mismatch"
    # the API of one package not matching another's is the mismatch itself (seed 001)
    api = "TypeError: modelClient.create is not a function"
    s2 = sig(analyse([raw(0, api, kind=K.ERROR, level=ERROR, error=api)]),
             "errors.version_mismatch")
    assert s2.strength == 0.6


@pytest.mark.skipif(not (LAB / "node-in-memory-state" / "app.log").exists(),
                    reason="lab capture not present")
def test_history_shorter_on_another_process_is_a_stale_read_not_a_reset() -> None:
    """The lab's Node cluster (2 workers, pino) keeping conversations in a module Map: a
    session's "turn saved" historyLength on one worker is below what the other worker
    already had. That is state per process (decisive for in-memory-state), not an agent
    that forgets (context-reset)."""
    path = LAB / "node-in-memory-state" / "app.log"
    analysis = LogAnalysis()
    for e in LogReader(InputFile(path.name, path), IngestConfig()).events():
        analysis.feed(e)
    evidence = analysis.finish()
    stale = sig(evidence, "state.stale_read")
    assert stale.answer is Answer.YES and "another process already held" in stale.detail
    assert diagnose(Case((evidence,))).verdict == "in-memory-state"


def test_one_process_history_restart_stays_a_context_reset() -> None:
    events = [ev(i * 100, K.HISTORY, session="s1", process="web/7",
                 fields={"history_len": n}) for i, n in enumerate([1, 2, 3, 1, 2])]
    evidence = analyse(events)
    assert sig(evidence, "context.forgotten").answer is Answer.YES
    assert sig(evidence, "state.stale_read").answer is not Answer.YES


@pytest.mark.skipif(not (LAB / "node-shared-history" / "app.log").exists(),
                    reason="lab capture not present")
def test_concurrent_sessions_sharing_one_history_buffer() -> None:
    """The lab's Node service with a module-level history array (pino, "turn done" with
    historyLength): five sessions run at once, so each new session starts where the
    buffer stands, level with its neighbours, not above "the previous session"."""
    path = LAB / "node-shared-history" / "app.log"
    analysis = LogAnalysis()
    for e in LogReader(InputFile(path.name, path), IngestConfig()).events():
        analysis.feed(e)
    evidence = analysis.finish()
    assert sig(evidence, "history.cross_session").answer is Answer.YES
    assert diagnose(Case((evidence,))).verdict == "shared-history"


def test_per_session_histories_interleaved_do_not_start_high() -> None:
    events = []
    for turn in range(4):
        for sid in range(5):
            events.append(ev(turn * 1000 + sid, K.HISTORY, session=f"s{sid}", process="web/1",
                             fields={"history_len": 2 * turn + 2}))
    assert sig(analyse(events), "history.cross_session").answer is Answer.NO


@pytest.mark.skipif(not (LAB / "node-stateful-tool" / "app.log").exists(),
                    reason="lab capture not present")
def test_tool_answering_another_requests_id_is_contamination() -> None:
    """The lab's Node order bot (winston JSON) whose tool keeps the last order id on its
    own field: "requestedOrderId" differs from the result's "orderId" exactly as often as
    the client measured (truth.json: client_wrong_order)."""
    import json

    folder = LAB / "node-stateful-tool"
    wrong = json.loads((folder / "truth.json").read_text())["measured"]["client_wrong_order"]
    analysis = LogAnalysis()
    for e in LogReader(InputFile("app.log", folder / "app.log"), IngestConfig()).events():
        analysis.feed(e)
    evidence = analysis.finish()
    s = sig(evidence, "requests.contamination")
    assert s.answer is Answer.YES and s.value == wrong
    assert diagnose(Case((evidence,))).verdict == "stateful-tool"


@pytest.mark.skipif(not (LAB / "py-shared-instance-agent-gunicorn-fixed").exists(),
                    reason="lab capture not present")
def test_overlap_under_a_process_wide_id_is_not_overlap_on_one_agent() -> None:
    """The lab's fixed AutoGen service (an agent per request) exports OTel spans with no
    agent id: the readers fall back to the resource's service.instance.id, the worker's
    pid. 78 create_agent spans under 2 ids: runs "overlapping on one instance" there are
    runs of different agents in one process, so nothing may be claimed about one agent."""
    folder = LAB / "py-shared-instance-agent-gunicorn-fixed"
    readers = [LogReader(InputFile(p.name, p), IngestConfig())
               for p in sorted(folder.iterdir()) if p.name != "truth.json"]
    analysis = LogAnalysis()
    for e in merge_by_time([r.events() for r in readers]):
        analysis.feed(e)
    evidence = analysis.finish()
    for key in ("runs.overlap_instance", "instance.many_sessions"):
        s = sig(evidence, key)
        assert s.answer is Answer.UNKNOWN and "names the process" in s.reason, key
    assert diagnose(Case((evidence,))).verdict != "shared-instance"


@pytest.mark.skipif(not (LAB / "py-non-atomic-update-redis").exists(),
                    reason="lab capture not present")
def test_counter_new_values_written_twice_are_lost_updates() -> None:
    """The lab's FastAPI service doing GET/SET on a Redis counter from two uvicorn workers
    (structlog JSON: {"old": 0, "new": 1, "event": "usage recorded", "tenant": "acme"}):
    two writers producing the same new value is an increment lost, as often as the run
    measured it (increments acknowledged minus the final counter), give or take one; its
    fixed twin (INCR) never writes one value twice."""
    import json

    def read(name: str) -> tuple[Evidence, dict[str, Any]]:
        folder = LAB / name
        analysis = LogAnalysis()
        for e in LogReader(InputFile("app.log", folder / "app.log"), IngestConfig()).events():
            analysis.feed(e)
        return analysis.finish(), json.loads((folder / "truth.json").read_text())["measured"]

    broken, measured = read("py-non-atomic-update-redis")
    lost = sig(broken, "state.lost_update")
    assert lost.answer is Answer.YES
    assert abs(int(lost.value or 0) - measured["lost_updates"]) <= 2, (lost.value, measured)
    assert diagnose(Case((broken,))).verdict == "non-atomic-update"
    fixed, _ = read("py-non-atomic-update-redis-fixed")
    assert sig(fixed, "state.lost_update").answer is Answer.NO


def test_counter_line_shapes() -> None:
    from probes.analysis.state import counter_write

    # the lab's structlog line (see above) and a key=value form
    js = ('{"old": 0, "new": 1, "event": "usage recorded", "request_id": "req-1-0-0", '
          '"pid": 4673, "tenant": "acme", "level": "info"}')
    assert counter_write(raw(0, js)) == ("tenant:acme", 1)
    assert counter_write(raw(0, "usage recorded tenant=acme old=4 new=5")) == ("tenant:acme", 5)
    assert counter_write(raw(0, '{"new": true, "event": "flag"}')) is None
