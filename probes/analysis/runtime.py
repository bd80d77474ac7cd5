"""What the runtime and the servers around the service said: out of memory, a worker
died, a proxy gave up on its upstream, a write lost a race, a run ended in failure.

Why a module of tables: these lines are printed by V8, CPython, the kernel, gunicorn,
uvicorn, Node's cluster module and nginx, not by the service, so they carry no level a
service logger would set (uvicorn prints "Child process [N] died" at INFO) and no ids.
Each table row names where its wording comes from; ``tests/test_analysis_realworld.py``
checks every row against a line captured from the real program or quoted from a public
thread.

Cost: messages repeat, so the answer for a short message is remembered (bounded, like
``error_families.classify``); a long or new message costs one regex search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from probes.analysis.concurrency import Request, RequestTracker
from probes.analysis.runs import excerpt
from probes.events import EventKind, LogEvent
from probes.evidence import Example

# ------------------------------------------------------------------ out of memory

OOM_PATTERNS: tuple[tuple[str, str], ...] = (
    # V8 / Node: "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of
    # memory" (node 20 with --max-old-space-size), older "Ineffective mark-compacts near heap
    # limit", "CALL_AND_RETRY_LAST Allocation failed".
    ("v8_heap", r"JavaScript heap out of memory|Reached heap limit|"
                r"Ineffective mark-compacts near heap limit"),
    # CPython: the traceback's last line is "MemoryError" (or "MemoryError: ...").
    ("python_memory_error", r"\bMemoryError\b"),
    # Linux OOM killer (mm/oom_kill.c): "Out of memory: Killed process 1557026 (stress)
    # total-vm:..." and the cgroup form "Memory cgroup out of memory: Kill process ...".
    ("kernel_oom_killer", r"Out of memory: Kill(?:ed)? process|"
                          r"Memory cgroup out of memory|invoked oom-killer|\boom-kill:"),
    # Kubernetes / Docker: reason OOMKilled ("(last reason: OOMKilled)", "Reason: OOMKilled",
    # docker inspect's "OOMKilled": true, older kubelets' "OOM Killed").
    ("oomkilled", r"OOM ?Killed"),
    # Go runtime and the JVM, cheap to recognise where a sidecar prints them.
    ("go_runtime", r"fatal error: runtime: out of memory"),
    ("jvm", r"java\.lang\.OutOfMemoryError"),
    # ENOMEM from fork/mmap: "OSError: [Errno 12] Cannot allocate memory".
    ("enomem", r"\[Errno 12\] Cannot allocate memory|\bENOMEM\b"),
)
"""(name, pattern): a runtime saying it ran out of memory, at any level."""

# ------------------------------------------------------------------ worker deaths

WORKER_DEATH_PATTERNS: tuple[tuple[str, str], ...] = (
    # gunicorn arbiter.py: "Worker (pid:15329) was sent SIGKILL! Perhaps out of memory?",
    # "Worker (pid:%s) was sent %s!" for other signals (SIGTERM is a graceful stop: left out),
    # "Worker (pid:%s) exited with code %s." (non-zero only), "WORKER TIMEOUT (pid:%s)".
    ("gunicorn_signal", r"Worker \(pid:(?P<p1>\d+)\) was sent (?!SIGTERM)(?:SIG\w+|signal \d+)"),
    ("gunicorn_exit", r"Worker \(pid:(?P<p2>\d+)\) exited with code (?!0\b)\d+"),
    ("gunicorn_timeout", r"WORKER TIMEOUT \(pid:(?P<p3>\d+)\)"),
    # gunicorn before 21: "Worker with pid %s was terminated due to signal %s" (15 is a stop)
    ("gunicorn_old_signal", r"Worker with pid (?P<p7>\d+) was terminated due to signal "
                            r"(?!15\b)\d+"),
    # uvicorn supervisors/multiprocess.py: "Child process [15486] died" (logged at INFO).
    ("uvicorn_child_died", r"Child process \[(?P<p4>\d+)\] died"),
    # Node's cluster docs: cluster.on('exit', ...) logs "worker ${worker.process.pid} died";
    # PM2: "App [web:0] exited with code [1] via signal [SIGKILL]".
    ("node_cluster", r"\bworker (?P<p5>\d+) died"),
    ("pm2", r"App \[[^\]]*\] exited with code \[(?!0\])\d+\]"),
    # Structured exit events from a cluster primary ({"msg":"worker exited","pid":..,"code":..})
    # and other supervisors: "worker exited" / "Worker exited" with the pid where given.
    ("worker_exited", r"\bworker (?:process )?(?:(?P<p6>\d+) )?(?:exited|died|crashed|was killed)"),
)
"""(name, pattern): a worker process died (and, under a supervisor, was replaced). The
named groups ``p1``..``p7`` hold the pid where the line gives one."""

OOM_TAGS = frozenset({"heap_oom", "kernel_oom", "memory_error", "oomkilled"})
WORKER_DEATH_TAGS = frozenset({"worker_timeout", "worker_killed", "worker_died", "worker_exit"})
"""``fields["fatal"]`` tags the text readers (``probes.ingest.textshapes``) set; counted
when no row of the tables above matched the line's own words."""

# ------------------------------------------------------------------ proxies and gateways

PROXY_NAMES: tuple[str, ...] = ("nginx", "envoy", "traefik", "apache", "httpd", "haproxy",
                                "caddy", "ingress", "istio", "kong", "alb", "elb", "gateway")
"""Access-log formats (``fields["access"]``) written by a proxy, not by the service."""

GATEWAY_STATUSES = frozenset({502, 504})

GATEWAY_LINE_PATTERNS: tuple[tuple[str, str], ...] = (
    # nginx error log: "upstream timed out (110: Connection timed out) while reading response
    # header from upstream", "upstream prematurely closed connection while reading response
    # header from upstream", "no live upstreams while connecting to upstream",
    # "connect() failed (111: Connection refused) while connecting to upstream".
    ("nginx_upstream_timeout", r"upstream timed out"),
    ("nginx_upstream_closed", r"upstream prematurely closed"),
    ("nginx_no_live", r"no live upstreams"),
    ("nginx_connect_failed", r"\) while connecting to upstream"),
    # Envoy's local replies: "upstream request timeout", "upstream connect error or
    # disconnect/reset before headers".
    ("envoy_upstream", r"upstream request timeout|upstream connect error or disconnect"),
    # The error page a proxy serves instead of the answer, as a client pastes it: nginx's
    # "<title>504 Gateway Time-out</title>", HAProxy's "<h1>504 Gateway Time-out</h1>".
    # (the text reader drops the tags: the page's title is then a line of its own)
    ("proxy_page_504", r"(?:^|<(?:title|h1)>)\s*504 Gateway Time-?out"),
    ("proxy_page_502", r"(?:^|<(?:title|h1)>)\s*502 Bad Gateway"),
)
"""(name, pattern): a proxy's own error line about its upstream."""

GATEWAY_TIMEOUT_NAMES = frozenset({"nginx_upstream_timeout", "envoy_upstream", "504",
                                   "proxy_page_504"})
"""Gateway failures that are timeouts (the platform-timeout smoking gun), not refusals."""

# ------------------------------------------------------------------ run ends named otherwise

FAILED_RUN_END_NAMES = frozenset({
    "run_error", "run_failed", "run.error", "run.failed", "run error", "run errored",
    "agent.error", "agent_error", "agent.failed", "agent_failed", "team.error", "team_error",
    "crew.error", "kickoff_failed", "kickoff failed", "kickoff error", "task_failed",
})
"""Messages / event names that end a run in failure though no run-end phrase matches them
(structlog ``event="run_error"``, OpenTelemetry-style ``agent.error``). A failed run is still
a run that ended: it counts in the overlap sweep, it does not stay open."""


def failed_run_end(ev: LogEvent) -> bool:
    """Does this event end a run in failure under another name?"""
    msg = ev.message
    return bool(msg) and len(msg) <= 32 and msg.strip().lower() in FAILED_RUN_END_NAMES


# ------------------------------------------------------------------ the matcher


def _combined(table: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{name}>{pat})" for name, pat in table), re.IGNORECASE)


_TABLES: dict[str, re.Pattern[str]] = {
    "oom": _combined(OOM_PATTERNS),
    "worker": _combined(WORKER_DEATH_PATTERNS),
    "gateway": _combined(GATEWAY_LINE_PATTERNS),
}
_PREFILTER = re.compile(
    r"memory|heap|oom|died|worker|sigkill|exited|upstream|killed|enomem|errno 12|gateway",
    re.IGNORECASE)
"""Every pattern above holds one of these words: one cheap search rules most lines out."""

_CACHE_SIZE = 1 << 14
_CACHE_TEXT = 512
_EMPTY: tuple[tuple[str, str, str | None], ...] = ()


def match_runtime(text: str, cache: dict[str, tuple[tuple[str, str, str | None], ...]]
                  ) -> tuple[tuple[str, str, str | None], ...]:
    """(table, pattern name, pid or None) for every table that matches ``text``."""
    found = cache.get(text)
    if found is not None:
        return found
    out: list[tuple[str, str, str | None]] = []
    if _PREFILTER.search(text):
        for table, rx in _TABLES.items():
            m = rx.search(text)
            if m is None:
                continue
            # the row's own group encloses its pid group and closes last: lastgroup names it
            pid = next((v for k, v in m.groupdict().items()
                        if v and k.startswith("p") and k[1:].isdigit()), None)
            out.append((table, m.lastgroup or "?", pid))
    found = tuple(out) if out else _EMPTY
    if len(text) <= _CACHE_TEXT and len(cache) < _CACHE_SIZE:
        cache[text] = found
    return found


def proxy_of(ev: LogEvent) -> str | None:
    """The proxy that wrote an access line (``fields["access"]`` names it), else None."""
    fields = ev.fields
    if not fields:
        return None
    access = fields.get("access")
    if not isinstance(access, str) or not access:
        return None
    low = access.lower()
    return next((p for p in PROXY_NAMES if p in low), None)


# ------------------------------------------------------------------ the tracker


@dataclass(slots=True)
class Sightings:
    """Lines of one kind: how many, which pids, which pattern names, a few examples."""

    count: int = 0
    without_pid: int = 0
    pids: set[str] = field(default_factory=set)
    names: dict[str, int] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)

    def add(self, ev: LogEvent, name: str, pid: str | None, note: str, keep: int) -> None:
        self.count += 1
        self.names[name] = self.names.get(name, 0) + 1
        if not pid:
            self.without_pid += 1
        elif len(self.pids) < 256:
            self.pids.add(pid)
        if len(self.examples) < keep:
            self.examples.append(excerpt(ev, note))

    @property
    def distinct(self) -> int:
        """Things seen, not lines: one worker's timeout and its SIGKILL are one death."""
        return len(self.pids) + self.without_pid if self.pids else self.count

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "distinct": self.distinct, "pids": sorted(self.pids)[:32],
                "patterns": self.names}


@dataclass
class RuntimeTracker:
    """Out-of-memory lines, worker deaths, and failures at a proxy (with its requests'
    durations, for the latency ceiling)."""

    max_examples: int = 8
    oom: Sightings = field(default_factory=Sightings)
    workers: Sightings = field(default_factory=Sightings)
    gateway: Sightings = field(default_factory=Sightings)
    # the proxy's access lines (502/504) and its error lines ("upstream timed out") tell of
    # the same failures: counted apart, and the larger count is the number of failures
    gateway_access: int = 0
    gateway_access_timeouts: int = 0
    gateway_lines: int = 0
    gateway_line_timeouts: int = 0
    process_starts: int = 0  # the server's own start lines: its lifecycle is in the input
    proxy_requests: int = 0  # REQUEST_END lines written by a proxy
    proxies: set[str] = field(default_factory=set)
    proxy_reqs: RequestTracker = field(default_factory=RequestTracker)
    _last_page: tuple[str, int] | None = None
    _cache: dict[str, tuple[tuple[str, str, str | None], ...]] = field(default_factory=dict)

    def feed(self, ev: LogEvent) -> None:
        if ev.kind is EventKind.PROCESS_START:
            self.process_starts += 1
        elif ev.kind is EventKind.REQUEST_END:
            proxy = proxy_of(ev)
            if proxy is not None:
                self.proxy_requests += 1
                self.proxies.add(proxy)
                self.proxy_reqs.end(ev)
                if ev.status in GATEWAY_STATUSES:
                    self.gateway.add(ev, str(ev.status), None,
                                     f"{proxy} answered {ev.status}"
                                     + (f" after {ev.duration_ms:.0f} ms"
                                        if ev.duration_ms is not None else ""),
                                     self.max_examples)
                    self.gateway_access += 1
                    if ev.status == 504:
                        self.gateway_access_timeouts += 1
        self.sight(ev)

    def sight(self, ev: LogEvent) -> None:
        """One event's runtime sightings: the tables (OOM, worker deaths, gateway lines)
        matched on its error, else its message or text, else the readers' fatal tag.
        (``probes.columnar.bulk`` calls it for the few lines the tables may match.)"""
        matched = False
        for text in (ev.error, ev.message or ev.text):
            if not text:
                continue
            for table, name, pid in match_runtime(text, self._cache):
                self._sighted(ev, table, name, pid)
                matched = True
            if matched:
                # an error field and a message usually say the same thing; count once
                break
        if not matched and ev.fields:
            # the readers' own tag for a fatal line whose wording the tables above lack
            tag = ev.fields.get("fatal")
            if tag in OOM_TAGS:
                self._sighted(ev, "oom", f"tag:{tag}", None)
            elif tag in WORKER_DEATH_TAGS:
                self._sighted(ev, "worker", f"tag:{tag}", ev.pid)

    @property
    def gateway_failures(self) -> int:
        return max(self.gateway_access, self.gateway_lines)

    @property
    def gateway_timeouts(self) -> int:
        return max(self.gateway_access_timeouts, self.gateway_line_timeouts)

    @property
    def proxy_requests_list(self) -> Sequence[Request]:
        """The proxy's own requests with a start and end (durations from its access log)."""
        return self.proxy_reqs.requests

    def _sighted(self, ev: LogEvent, table: str, name: str, pid: str | None) -> None:
        keep = self.max_examples
        if table == "oom":
            self.oom.add(ev, name, pid, f"out of memory ({name})", keep)
        elif table == "worker":
            if name == "worker_exited" and _clean_exit(ev):
                return
            pid = pid or _pid_field(ev)
            self.workers.add(ev, name, pid,
                             f"worker {pid} died ({name})" if pid else f"a worker died ({name})",
                             keep)
        elif table == "gateway":
            if name.startswith("proxy_page"):
                # one page has its status in its <title> and again in its <h1>
                last = self._last_page
                self._last_page = (ev.source, ev.line)
                if last is not None and last[0] == ev.source and 0 <= ev.line - last[1] <= 8:
                    return
            self.gateway.add(ev, name, None, f"proxy error line ({name})", keep)
            self.gateway_lines += 1
            if name in GATEWAY_TIMEOUT_NAMES:
                self.gateway_line_timeouts += 1


def _clean_exit(ev: LogEvent) -> bool:
    """A structured exit event saying code 0 and no signal: a worker stopped on purpose."""
    f = ev.fields
    if not f:
        return False
    code = next((f[k] for k in ("code", "exitCode", "exit_code") if k in f), None)
    sig = next((f[k] for k in ("signal", "signal_name") if k in f), None)
    return code in (0, "0") and not sig


def _pid_field(ev: LogEvent) -> str | None:
    """A structured exit event's worker pid (``{"msg":"worker exited","pid":...}`` names the
    worker in a field of its own; the line's pid is the primary's)."""
    if ev.fields:
        for k in ("worker_pid", "workerPid", "worker"):
            v = ev.fields.get(k)
            if isinstance(v, int | str) and str(v).isdigit():
                return str(v)
    return None
