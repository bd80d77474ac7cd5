"""Process identity and pressure, read live with psutil: who serves the app, and how.

Why this probe: several scaling faults are visible only on the running processes. An
app served by several workers or replicas keeps a separate copy of any in-memory state
in each (``process.multiple_workers``); a service that leaks sockets or fans out
without a limit runs into its file-descriptor limit (``process.fd_pressure``,
``errors.socket_exhaustion``); one that accumulates context grows its resident memory
(``process.rss_growth``).

How processes are found (``ProcessTarget``):

* by port: the processes holding a TCP socket that listens on it, plus their
  supervisor parent (gunicorn / uvicorn / pm2 / node cluster primary, see
  ``SUPERVISORS``) and every descendant of it (the workers);
* by pid: that process, its descendants, and its parent when the parent is a supervisor;
* by command pattern: every process whose command line matches the regular expression
  (never this probe's own process or its ancestors, whose command lines contain the
  pattern too), plus their descendants.

Identity is ``(pid, create_time)`` because a pid alone can be reused. Each process
reports parent, command line (redacted), container id and pod uid from
``/proc/PID/cgroup``, pod name from its ``HOSTNAME`` environment variable where
readable, RSS over the sampling window, open fds against the soft limit, sockets by
state, threads and CPU.

Limits: every child of a supervisor is taken as one of its workers, so a pm2 daemon
that runs several apps brings all of them; TIME_WAIT sockets have no owner, so only
those on the served port are counted (outbound churn to a model API is not attributed);
sampling is capped at ``MAX_SAMPLE_SECONDS``.

Errors are data: another user's process we may not read gives UNKNOWN signals whose
reason names the pid ("permission denied reading pid N"); a process that exits while
we sample keeps what was read. Only an unusable target or nothing found at all sets
``Evidence.error``.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil

from probes.evidence import Evidence, Example, InputReport, Signal, example, failed, no, now_utc
from probes.evidence import unknown as unknown_signal
from probes.evidence import yes as yes_signal
from probes.redact import redact_text

NAME = "process"
SIGNAL_KEYS = frozenset({"process.multiple_workers", "process.fd_pressure",
                         "process.rss_growth", "errors.socket_exhaustion"})

# --- thresholds: each one a named, documented number -----------------------------------
FD_PRESSURE_RATIO = 0.80
"""Open fds at or above this share of the soft limit is pressure."""
FD_EXHAUSTED_RATIO = 0.95
"""At or above this share, ``open()``/``accept()`` are about to fail with EMFILE."""
CLOSE_WAIT_PRESSURE = 32
"""CLOSE_WAIT sockets in one process: the peer closed, the app never did (a leak)."""
TIME_WAIT_PRESSURE = 256
"""TIME_WAIT sockets on the served port: connections churned instead of reused."""
RSS_GROWTH_MIN_BYTES = 4 * 1024 * 1024
RSS_GROWTH_MIN_RATIO = 0.05
"""RSS growth counts when it is both this many bytes and this share of the first sample."""
RSS_GROWTH_MONOTONIC = 0.7
"""...and at least this share of sample-to-sample steps did not shrink (a trend, not noise)."""
SAMPLE_INTERVAL_S = 0.2
MAX_SAMPLE_SECONDS = 60.0

SUPERVISORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gunicorn", re.compile(r"\bgunicorn\b")),
    ("uvicorn", re.compile(r"\buvicorn\b")),
    ("hypercorn", re.compile(r"\bhypercorn\b")),
    ("pm2", re.compile(r"\bPM2\b|\bpm2\b|God Daemon")),
    ("celery", re.compile(r"\bcelery\b")),
)
"""Programs (matched in the first ``SUPERVISOR_ARGS`` arguments) whose children are workers.

A parent running the same command line as its child (node cluster primary and its
workers both run ``node server.js``) counts as a supervisor too.
"""

HELPERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"multiprocessing\.resource_tracker"),
    re.compile(r"multiprocessing\.forkserver"),
    re.compile(r"multiprocessing\.semaphore_tracker"),
)
"""Children that serve no requests (Python's multiprocessing bookkeeping processes)."""

CGROUP_IDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # containerd / CRI-O / docker under systemd: cri-containerd-<id>.scope, crio-<id>.scope,
    # docker-<id>.scope; cgroupfs layouts: /docker/<id>, /kubepods/.../<id>
    ("container_id", re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)")),
    # systemd slice: kubepods-burstable-pod<uid with _>.slice;
    # cgroupfs: /kubepods/besteffort/pod<uid>/
    ("pod_uid", re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}"
                           r"[-_][0-9a-f]{12})")),
)
"""What ``/proc/PID/cgroup`` says about the container: (field, pattern) rules."""


@dataclass
class ProcessTarget:
    """What to look at. Give at least one of ``port``, ``pid`` or ``pattern``."""

    port: int | None = None
    pid: int | None = None
    pattern: str | None = None
    """A regular expression searched in the space-joined command line."""
    sample_seconds: float = 2.0
    """How long RSS and CPU are sampled; 0 takes a single sample."""

    def describe(self) -> str:
        parts = []
        if self.port is not None:
            parts.append(f"port {self.port}")
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        if self.pattern is not None:
            parts.append(f"match {self.pattern!r}")
        return ", ".join(parts) or "no target"


@dataclass
class _Found:
    """One process we look at, why it was included, and what reading it gave."""

    proc: psutil.Process
    how: str  # "listens on :3000", "pid given", "matches pattern", "parent (uvicorn)", "child"
    facts: dict[str, Any] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)  # what could not be read
    rss: list[int] = field(default_factory=list)
    cpu_start: float | None = None
    gone: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def source(self) -> str:
        return f"pid {self.pid}"


T = TypeVar("T")


def _read(found: _Found, what: str, read: Callable[[], T]) -> T | None:
    """Read one attribute; permission and exit are recorded on the process, not raised."""
    try:
        return read()
    except psutil.AccessDenied:
        found.denied.append(what)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        found.gone = True
    except OSError as exc:  # a /proc file vanished or is unreadable
        found.denied.append(f"{what} ({exc.strerror or exc})")
    return None


def collect(target: ProcessTarget, cancel: threading.Event | None = None) -> Evidence:
    """Find the target's processes, sample them, and turn what was seen into signals."""
    described = target.describe()
    if target.port is None and target.pid is None and not target.pattern:
        return failed(NAME, described, "give a port, a pid or a command pattern to look for")
    if target.port is not None and not 0 < target.port < 65536:
        return failed(NAME, described, f"port {target.port} is out of range 1-65535")
    pattern: re.Pattern[str] | None = None
    if target.pattern:
        try:
            pattern = re.compile(target.pattern)
        except re.error as exc:
            return failed(NAME, described, f"bad pattern {target.pattern!r}: {exc}")

    notes: list[str] = []
    found: dict[int, _Found] = {}
    listeners: set[int] = set()
    hidden = False
    if target.port is not None:
        listeners, hidden = _listeners(target.port)
        for pid in sorted(listeners):
            _add(found, pid, f"listens on :{target.port}")
        if hidden:
            notes.append(f"a socket listens on :{target.port} but its process is not readable "
                         "(permission denied)")
    if target.pid is not None:
        if not psutil.pid_exists(target.pid):
            notes.append(f"no process with pid {target.pid}")
        else:
            _add(found, target.pid, "pid given")
    if pattern is not None:
        for pid in _matching(pattern):
            _add(found, pid, f"matches {target.pattern!r}")
    if not found:
        if hidden:
            return _denied_evidence(described, notes)
        why = "; ".join(notes) or f"no process found for {described}"
        return failed(NAME, described, why)

    _expand(found, target.port, listeners, _ancestors_of_self())
    _sample(list(found.values()), target.sample_seconds, cancel)
    for f in found.values():
        _describe(f)

    processes = sorted(found.values(), key=lambda f: f.pid)
    _assign_roles(processes)
    port_sockets = _port_socket_states(target.port) if target.port is not None else {}
    signals = (
        _multiple_workers(processes, target.port),
        _fd_pressure(processes, target.port, port_sockets),
        _rss_growth(processes, target.sample_seconds),
        _socket_exhaustion(processes),
    )
    stopped = cancel is not None and cancel.is_set()
    if stopped:
        notes.append("sampling stopped early: cancelled")
    report = InputReport(name=described, kind="process", format="psutil",
                         events=len(processes), notes=tuple(notes),
                         error="cancelled" if stopped else None)
    data = {
        "target": {"port": target.port, "pid": target.pid, "pattern": target.pattern,
                   "sample_seconds": target.sample_seconds},
        "processes": [f.facts for f in processes],
        "port_sockets": port_sockets,
        "notes": notes,
    }
    return Evidence(probe=NAME, target=described, signals=signals, inputs=(report,),
                    collected_at=now_utc(), data=data)


def _denied_evidence(described: str, notes: list[str]) -> Evidence:
    """A listener exists but we may not read it: every signal is UNKNOWN, with the reason."""
    reason = "permission denied reading the process that listens on the port"
    return Evidence(
        probe=NAME, target=described,
        signals=tuple(unknown_signal(k, NAME, reason) for k in sorted(SIGNAL_KEYS)),
        inputs=(InputReport(name=described, kind="process", format="psutil",
                            notes=tuple(notes)),),
        collected_at=now_utc(), data={"processes": [], "notes": notes},
    )


# --- finding processes ------------------------------------------------------------------


def _listening_on(proc: psutil.Process, port: int) -> bool | None:
    """Whether ``proc`` holds a socket listening on ``port``; None when unreadable."""
    try:
        conns = proc.net_connections(kind="tcp")
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
               for c in conns)


def _listeners(port: int) -> tuple[set[int], bool]:
    """Pids holding a socket that listens on ``port``, and whether one was unreadable.

    The system-wide table names one pid per socket even when a master and its workers
    share it, so the family of each pid found (parent, siblings, children) is checked
    as well: that is how all gunicorn/uvicorn workers are found.
    """
    pids: set[int] = set()
    hidden = False
    try:
        table = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        table = []
        for proc in psutil.process_iter():
            if _listening_on(proc, port):
                pids.add(proc.pid)
    for conn in table:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                hidden = True
            else:
                pids.add(conn.pid)
    family: set[int] = set()
    for pid in list(pids):
        try:
            proc = psutil.Process(pid)
            parent = proc.parent()
            kin = [*proc.children(), *(parent.children() if parent else ()),
                   *([parent] if parent else ())]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        family.update(p.pid for p in kin if p.pid not in pids and _listening_on(p, port))
    return pids | family, hidden and not pids


def _ancestors_of_self() -> set[int]:
    """This process and its ancestors: their command lines hold the pattern we search."""
    out = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        out.update(p.pid for p in psutil.Process().parents())
    return out


def _matching(pattern: re.Pattern[str]) -> list[int]:
    skip = _ancestors_of_self()
    pids = []
    for proc in psutil.process_iter(["cmdline", "name"]):
        if proc.pid in skip:
            continue
        cmdline = proc.info.get("cmdline") or [proc.info.get("name") or ""]
        if pattern.search(" ".join(cmdline)):
            pids.append(proc.pid)
    return pids


def _add(found: dict[int, _Found], pid: int, how: str) -> None:
    if pid in found:
        return
    try:
        found[pid] = _Found(psutil.Process(pid), how)
    except psutil.NoSuchProcess:
        return


def _args(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline() or [proc.name()]
    except psutil.Error:
        return []


SUPERVISOR_ARGS = 3
"""How many leading arguments name the program (``python3 -m uvicorn``): a wrapper such
as ``timeout 60 python3 -m uvicorn`` mentions uvicorn later and is no supervisor."""


def supervisor_kind(parent_args: list[str], child_args: list[str]) -> str | None:
    """The kind of supervisor the parent is for the child, or None when it is not one."""
    program = " ".join(parent_args[:SUPERVISOR_ARGS])
    for kind, rule in SUPERVISORS:
        if rule.search(program):
            return kind
    if parent_args and parent_args == child_args:
        return "same command (cluster primary)"
    return None


def _expand(found: dict[int, _Found], port: int | None, listeners: set[int],
            skip: set[int]) -> None:
    """Add supervisor parents and all descendants: the whole serving family.

    ``skip`` is this probe's own process and its ancestors, never part of the target.
    """
    for f in list(found.values()):
        try:
            parent = f.proc.parent()
        except psutil.Error:
            continue
        if parent is None or parent.pid in found or parent.pid in skip:
            continue
        kind = supervisor_kind(_args(parent), _args(f.proc))
        if kind is not None:
            _add(found, parent.pid, f"parent ({kind})")
    for f in list(found.values()):
        try:
            children = f.proc.children(recursive=True)
        except psutil.Error:
            continue
        for child in children:
            if child.pid in skip:
                continue
            how = f"listens on :{port}" if child.pid in listeners else f"child of pid {f.pid}"
            _add(found, child.pid, how)


# --- sampling and describing ------------------------------------------------------------


def _sample(procs: list[_Found], seconds: float, cancel: threading.Event | None) -> None:
    """Sample RSS every ``SAMPLE_INTERVAL_S`` for ``seconds``; CPU over the whole window."""
    seconds = max(0.0, min(seconds, MAX_SAMPLE_SECONDS))
    started = time.monotonic()
    for f in procs:
        times = _read(f, "cpu", f.proc.cpu_times)
        f.cpu_start = (times.user + times.system) if times else None
    deadline = started + seconds
    while True:
        for f in procs:
            if not f.gone:
                mem = _read(f, "memory", f.proc.memory_info)
                if mem is not None:
                    f.rss.append(mem.rss)
        now = time.monotonic()
        if now >= deadline:
            break
        wait = min(SAMPLE_INTERVAL_S, deadline - now)
        if cancel is not None:
            if cancel.wait(wait):
                break
        else:
            time.sleep(wait)
    elapsed = max(time.monotonic() - started, 1e-6)
    for f in procs:
        times = _read(f, "cpu", f.proc.cpu_times) if not f.gone else None
        if times is not None and f.cpu_start is not None and seconds > 0:
            f.facts["cpu_percent"] = round(
                100.0 * (times.user + times.system - f.cpu_start) / elapsed, 1)
        else:
            f.facts["cpu_percent"] = None
        f.facts["sampled_seconds"] = round(elapsed, 2)


def cgroup_ids(text: str) -> dict[str, str]:
    """Container id and pod uid named in a ``/proc/PID/cgroup`` text (``CGROUP_IDS``)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        for name, rule in CGROUP_IDS:
            m = rule.search(path)
            if m and name not in out:
                out[name] = m.group(1).replace("_", "-")
    return out


def nofile_limits_from_proc(text: str) -> tuple[int | None, int | None]:
    """Soft and hard open-file limits from a ``/proc/PID/limits`` text."""
    for line in text.splitlines():
        if line.startswith("Max open files"):
            parts = line.split()
            soft, hard = parts[3], parts[4]
            return (None if soft == "unlimited" else int(soft),
                    None if hard == "unlimited" else int(hard))
    return None, None


def _limits(f: _Found) -> tuple[int | None, int | None]:
    try:
        soft, hard = f.proc.rlimit(psutil.RLIMIT_NOFILE)
        inf = psutil.RLIM_INFINITY
        return (None if soft == inf else soft, None if hard == inf else hard)
    except (psutil.AccessDenied, OSError, AttributeError):
        pass
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        f.gone = True
        return None, None
    text = _read(f, "limits", lambda: Path(f"/proc/{f.pid}/limits").read_text())
    return nofile_limits_from_proc(text) if text else (None, None)


def _describe(f: _Found) -> None:
    """Fill ``f.facts`` with plain JSON-able values for the front ends."""
    p = f.proc
    facts = f.facts
    create_time = _read(f, "create_time", p.create_time)
    facts.update({
        "pid": f.pid,
        "identity": f"{f.pid}@{create_time:.2f}" if create_time else str(f.pid),
        "started": (datetime.fromtimestamp(create_time, UTC).isoformat()
                    if create_time else None),
        "found_by": f.how,
        "ppid": _read(f, "ppid", p.ppid),
        "name": _read(f, "name", p.name),
        "cmdline": redact_text(" ".join(_read(f, "cmdline", p.cmdline) or [])),
        "user": _read(f, "user", p.username),
        "status": _read(f, "status", p.status),
        "threads": _read(f, "threads", p.num_threads),
    })
    cgroup = _read(f, "cgroup", lambda: Path(f"/proc/{f.pid}/cgroup").read_text())
    facts.update(cgroup_ids(cgroup or ""))
    env = _read(f, "environ", p.environ)
    facts["pod"] = env.get("HOSTNAME") if env else None
    facts["rss_bytes"] = f.rss[-1] if f.rss else None
    facts["rss_first_bytes"] = f.rss[0] if f.rss else None
    facts["rss_growth_bytes"] = (f.rss[-1] - f.rss[0]) if len(f.rss) > 1 else 0
    facts["rss_samples"] = len(f.rss)
    facts["fds"] = _read(f, "fds", p.num_fds)
    facts["fd_soft_limit"], facts["fd_hard_limit"] = _limits(f)
    conns = _read(f, "sockets", lambda: p.net_connections(kind="inet"))
    if conns is not None:
        states = Counter(c.status if c.status != psutil.CONN_NONE else "UDP" for c in conns)
        facts["sockets"] = dict(sorted(states.items()))
        facts["listening"] = sorted({c.laddr.port for c in conns
                                     if c.status == psutil.CONN_LISTEN and c.laddr})
    else:
        facts["sockets"] = None
        facts["listening"] = None
    facts["denied"] = sorted(set(f.denied))
    facts["gone"] = f.gone


def _assign_roles(processes: list[_Found]) -> None:
    """master (has children here), helper (bookkeeping child), worker (serves), single."""
    pids = {f.pid for f in processes}
    parents = {f.facts.get("ppid") for f in processes}
    for f in processes:
        if f.pid in parents and f.pid in pids:
            role = "master"
        elif any(h.search(f.facts.get("cmdline") or "") for h in HELPERS):
            role = "helper"
        else:
            role = "worker"
        f.facts["role"] = role
    workers = [f for f in processes if f.facts["role"] == "worker"]
    if len(workers) == 1 and len(processes) == 1:
        workers[0].facts["role"] = "single"


def _port_socket_states(port: int) -> dict[str, int]:
    """Sockets whose local port is the served port, by state (TIME_WAIT has no owner pid)."""
    try:
        table = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return {}
    states = Counter(c.status for c in table if c.laddr and c.laddr.port == port)
    return dict(sorted(states.items()))


# --- signals ----------------------------------------------------------------------------


def _excerpt(f: _Found) -> str:
    return f.facts.get("cmdline") or f.facts.get("name") or ""


def _denied_reason(processes: Iterable[_Found], needs: set[str]) -> str | None:
    denied = [f.pid for f in processes if needs & {d.split(" ")[0] for d in f.denied}]
    if not denied:
        return None
    return "permission denied reading pid " + ", ".join(str(p) for p in denied)


def _multiple_workers(processes: list[_Found], port: int | None) -> Signal:
    key = "process.multiple_workers"
    workers = [f for f in processes if f.facts["role"] in ("worker", "single")]
    where = f" on :{port}" if port is not None else ""
    if len(workers) >= 2:
        masters = [f for f in processes if f.facts["role"] == "master"]
        examples = [example(f.source, text=_excerpt(f), note=f"worker ({f.how})")
                    for f in workers[:8]]
        examples += [example(m.source, text=_excerpt(m), note="master") for m in masters[:2]]
        detail = (f"{len(workers)} worker processes serve the app{where}: each keeps its "
                  "own in-memory state")
        return yes_signal(key, NAME, detail, examples, value=len(workers),
                          data={"workers": [f.pid for f in workers],
                                "masters": [m.pid for m in masters]})
    return no(key, NAME, f"one process serves the app{where}", value=len(workers),
              examples=[example(f.source, text=_excerpt(f)) for f in workers])


def _fd_pressure(processes: list[_Found], port: int | None,
                 port_sockets: dict[str, int]) -> Signal:
    key = "process.fd_pressure"
    examples: list[Example] = []
    worst = 0.0
    for f in processes:
        fds, soft = f.facts.get("fds"), f.facts.get("fd_soft_limit")
        if fds is not None and soft:
            ratio = fds / soft
            worst = max(worst, ratio)
            if ratio >= FD_PRESSURE_RATIO:
                examples.append(example(f.source, text=f"{fds} open fds of soft limit {soft}",
                                        note=f"{ratio:.0%} of the fd limit"))
        close_wait = (f.facts.get("sockets") or {}).get(psutil.CONN_CLOSE_WAIT, 0)
        if close_wait >= CLOSE_WAIT_PRESSURE:
            examples.append(example(f.source, text=f"{close_wait} sockets in CLOSE_WAIT",
                                    note="the peer closed and the app never did"))
    time_wait = port_sockets.get(psutil.CONN_TIME_WAIT, 0)
    if port is not None and time_wait >= TIME_WAIT_PRESSURE:
        examples.append(example(f"tcp :{port}", text=f"{time_wait} sockets in TIME_WAIT",
                                note="connections churned instead of kept alive"))
    if examples:
        return yes_signal(key, NAME, f"fd/socket pressure in {len(examples)} place(s)",
                          examples, value=round(worst, 3))
    reason = _denied_reason(processes, {"fds", "limits", "sockets"})
    if reason and not any(f.facts.get("fds") is not None for f in processes):
        return unknown_signal(key, NAME, reason)
    detail = f"highest fd use {worst:.0%} of the soft limit; no CLOSE_WAIT/TIME_WAIT pile-up"
    if reason:
        detail += f" (partial: {reason})"
    return no(key, NAME, detail, value=round(worst, 3))


def rss_trend(samples: list[int]) -> tuple[int, float, float]:
    """(growth in bytes, growth as a share of the first sample, share of non-shrinking steps)."""
    if len(samples) < 2 or samples[0] <= 0:
        return 0, 0.0, 0.0
    growth = samples[-1] - samples[0]
    steps = list(zip(samples, samples[1:], strict=False))
    rising = sum(1 for a, b in steps if b >= a) / len(steps)
    return growth, growth / samples[0], rising


def _rss_growth(processes: list[_Found], seconds: float) -> Signal:
    key = "process.rss_growth"
    examples = []
    worst = 0
    sampled = [f for f in processes if len(f.rss) >= 2]
    for f in sampled:
        growth, ratio, rising = rss_trend(f.rss)
        worst = max(worst, growth)
        if (growth >= RSS_GROWTH_MIN_BYTES and ratio >= RSS_GROWTH_MIN_RATIO
                and rising >= RSS_GROWTH_MONOTONIC):
            mib = 1024 * 1024
            examples.append(example(
                f.source, text=f"RSS {f.rss[0] / mib:.1f} MiB -> {f.rss[-1] / mib:.1f} MiB "
                               f"in {f.facts.get('sampled_seconds')} s",
                note=f"+{ratio:.0%} over {len(f.rss)} samples"))
    if examples:
        return yes_signal(key, NAME, f"resident memory grew in {len(examples)} process(es)",
                          examples, value=worst)
    if not sampled:
        reason = _denied_reason(processes, {"memory"})
        if reason:
            return unknown_signal(key, NAME, reason)
        if seconds <= 0:
            return unknown_signal(key, NAME, "sampling window is 0 s: one sample only")
        return unknown_signal(key, NAME, "fewer than two RSS samples (processes exited)")
    return no(key, NAME, f"no steady RSS growth over {seconds:g} s "
                         f"(largest change {worst / 1024 / 1024:+.1f} MiB)", value=worst)


def _socket_exhaustion(processes: list[_Found]) -> Signal:
    key = "errors.socket_exhaustion"
    examples = []
    for f in processes:
        fds, soft = f.facts.get("fds"), f.facts.get("fd_soft_limit")
        if fds is not None and soft and fds / soft >= FD_EXHAUSTED_RATIO:
            examples.append(example(f.source, text=f"{fds} open fds of soft limit {soft}",
                                    note="new sockets and files fail with EMFILE"))
    if examples:
        return yes_signal(key, NAME, "file descriptors exhausted", examples,
                          value=len(examples))
    reason = _denied_reason(processes, {"fds", "limits"})
    if reason and not any(f.facts.get("fds") is not None for f in processes):
        return unknown_signal(key, NAME, reason)
    return no(key, NAME, "no process is at its fd limit")
