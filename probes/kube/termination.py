"""Why did a container stop? The termination rules, as an ordered table.

Exit code 137 means "SIGKILL", not "out of memory": the kubelet SIGKILLs a container
after the grace period of a liveness kill, an eviction, or a deletion, and the runtime
reports ``ContainerStatusUnknown``/137 for containers it lost (the k8s#122932 capture is
an ephemeral-storage eviction with exit 137). Only ``terminated.reason == OOMKilled``
says the cgroup OOM killer did it; only events say a probe did. So the rules look at
the reason first, then the pod's eviction status, then the events, and the exit code
last. The first matching rule wins; each says in words why it matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from probes.kube.objects import (
    ContainerView,
    EventView,
    as_map,
    int_field,
    iso_time,
    time_ns,
)


class Ended(StrEnum):
    """The classes of termination the tree distinguishes."""

    OOM_KILLED = "oom-killed"
    PROBE_KILL = "probe-kill"
    EVICTED = "evicted"
    START_FAILURE = "start-failure"
    LOST = "lost"  # the runtime lost the container (node restart, pod deleted)
    KILLED = "killed"  # SIGKILL/SIGTERM from outside, no record of who sent it
    CLEAN_EXIT = "clean-exit"
    APP_EXIT = "app-exit"


@dataclass(frozen=True, slots=True)
class Termination:
    """One recorded termination of one container (``state`` or ``lastState``)."""

    pod: str
    namespace: str
    container: str
    init: bool
    which: str  # "state" | "lastState"
    reason: str
    exit_code: int | None
    started_ns: int | None
    finished_ns: int | None
    finished_raw: str
    message: str
    ended: Ended
    why: str

    def text(self) -> str:
        """The excerpt used as evidence: the status fields as kubectl shows them."""
        parts = [f"{self.which}.terminated: reason={self.reason or '-'}"]
        if self.exit_code is not None:
            parts.append(f"exitCode={self.exit_code}")
        if self.finished_raw:
            parts.append(f"finishedAt={self.finished_raw}")
        return " ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "pod": self.pod, "namespace": self.namespace, "container": self.container,
            "init": self.init, "which": self.which, "reason": self.reason,
            "exit_code": self.exit_code,
            "started": iso_time(self.started_ns) if self.started_ns else None,
            "finished": (iso_time(self.finished_ns) if self.finished_ns
                         else self.finished_raw or None),
            "ended": self.ended.value, "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class _Facts:
    reason: str
    exit_code: int | None
    pod_reason: str
    pod_message: str
    probe_kill: str  # the event text proving a probe kill of this container, or ""


_START_FAILURES = {"StartError", "ContainerCannotRun", "CreateContainerError",
                   "RunContainerError", "CreateContainerConfigError"}

# (class, test, why). Ordered: the first match wins.
RULES: tuple[tuple[Ended, Callable[[_Facts], bool], Callable[[_Facts], str]], ...] = (
    (Ended.OOM_KILLED, lambda f: f.reason == "OOMKilled",
     lambda f: "reason OOMKilled: the kernel OOM killer ended it at its memory limit"),
    (Ended.EVICTED, lambda f: f.pod_reason == "Evicted",
     lambda f: f"the pod was evicted ({f.pod_message or 'status.reason=Evicted'}); "
               f"exit code {f.exit_code} comes from the eviction, not from an OOM kill"),
    (Ended.PROBE_KILL, lambda f: bool(f.probe_kill),
     lambda f: f"the kubelet restarted it after failed probes ({f.probe_kill})"),
    (Ended.START_FAILURE,
     lambda f: f.reason in _START_FAILURES or f.exit_code in (126, 127, 128),
     lambda f: f"the container could not start (reason {f.reason}, exit code {f.exit_code})"),
    (Ended.LOST, lambda f: f.reason in ("ContainerStatusUnknown", "Unknown"),
     lambda f: f"the runtime lost the container (reason {f.reason}, e.g. node restart); "
               f"exit code {f.exit_code} is not evidence of an OOM kill"),
    (Ended.KILLED, lambda f: f.exit_code in (137, 143),
     lambda f: f"killed by signal {'SIGKILL' if f.exit_code == 137 else 'SIGTERM'} from "
               f"outside; reason {f.reason or '-'} does not say OOMKilled and no probe or "
               f"eviction event explains it"),
    (Ended.CLEAN_EXIT, lambda f: f.exit_code == 0,
     lambda f: "the process exited with code 0"),
    (Ended.APP_EXIT, lambda f: True,
     lambda f: f"the application exited with code {f.exit_code} (reason {f.reason or '-'})"),
)

_KILLING_PROBE = re.compile(r"Container (\S+) failed (liveness|startup) probe", re.I)
_PROBE_FAILED = re.compile(r"^(Liveness|Startup) probe failed", re.I)
_BACKOFF = re.compile(r"^Back-off restarting failed container", re.I)


def probe_kills(events: Iterable[EventView]) -> dict[str, str]:
    """Which containers of one pod were restarted by probes, from its events.

    Direct: ``Killing`` "Container X failed liveness probe, will be restarted".
    Indirect: "Liveness probe failed" (``Unhealthy``) followed by a ``Killing`` of the
    pod, or repeated (``failureThreshold``, 3 by default, is what makes the kubelet
    restart) beside a ``BackOff`` "Back-off restarting failed container" of the pod;
    recorded under the key ``"*"`` (container not named). Returns container → the
    event text that proves it.
    """
    kills: dict[str, str] = {}
    first_failure: EventView | None = None
    ordered = sorted(events, key=lambda e: (e.first_ns is None, e.first_ns or 0))
    backoff = next((b for b in ordered if b.reason == "BackOff" and _BACKOFF.match(b.message)),
                   None)
    for ev in ordered:
        if ev.reason == "Unhealthy" and _PROBE_FAILED.match(ev.message):
            if first_failure is None:
                first_failure = ev
            if ev.count >= 3 and backoff is not None:
                kills.setdefault("*", f"{ev.describe()} and {backoff.describe()}")
        elif ev.reason == "Killing":
            m = _KILLING_PROBE.search(ev.message)
            if m:
                kills.setdefault(m.group(1), ev.describe())
            elif first_failure is not None and (
                    ev.time_ns is None or first_failure.first_ns is None
                    or ev.time_ns >= first_failure.first_ns):
                kills.setdefault("*", f"{first_failure.describe()} then {ev.describe()}")
    return kills


def terminations(c: ContainerView, pod_status: object,
                 kills: dict[str, str]) -> list[Termination]:
    """Every termination recorded on one container, each classified by ``RULES``."""
    status = as_map(pod_status)
    pod_reason = str(status.get("reason") or "")
    pod_message = str(status.get("message") or "").strip()
    probe_kill = kills.get(c.name, "")
    if not probe_kill and "*" in kills and c.spec.get("livenessProbe") is not None:
        probe_kill = kills["*"]
    out = []
    for which, state in (("state", c.state), ("lastState", c.last_state)):
        term = as_map(state.get("terminated"))
        if not term:
            continue
        exit_code = term.get("exitCode")
        exit_code = exit_code if isinstance(exit_code, int) else None
        reason = str(term.get("reason") or "")
        facts = _Facts(reason, exit_code, pod_reason, pod_message, probe_kill)
        ended, why = next((cls, why(facts)) for cls, test, why in RULES if test(facts))
        finished_raw = term.get("finishedAt")
        out.append(Termination(
            pod=c.pod, namespace=c.namespace, container=c.name, init=c.init, which=which,
            reason=reason, exit_code=exit_code, started_ns=time_ns(term.get("startedAt")),
            finished_ns=time_ns(finished_raw),
            finished_raw=str(finished_raw) if isinstance(finished_raw, str) else "",
            message=str(term.get("message") or "").strip(), ended=ended, why=why))
    return out


def lifetime_seconds(t: Termination) -> float | None:
    """How long the terminated instance ran, when both times are real timestamps."""
    if t.started_ns is None or t.finished_ns is None or t.finished_ns < t.started_ns:
        return None
    return (t.finished_ns - t.started_ns) / 1e9


def kill_window_seconds(probe: object) -> int:
    """Seconds after start before failing liveness checks can first kill a container:
    initialDelaySeconds + periodSeconds x failureThreshold."""
    p = as_map(probe)
    return (int_field(p, "initialDelaySeconds", 0)
            + int_field(p, "periodSeconds", 10) * int_field(p, "failureThreshold", 3))
