"""The decision tree, as typed data, built from the seeds' debug steps.

Reading order follows what an on-call engineer does (the seeds' "How to debug it"):
check the pods (OOM, probe kills), then whether one instance serves many requests and
whether its runs overlap, then whether failures rise with concurrency and what the
errors say, then where state lives, then contamination between requests.

A ``Question`` is keyed by a signal (``probes.signals``). Its ``weight`` says how much a
YES supports the causes below it; the walker multiplies it by the signal's strength (code
findings are weaker than runtime evidence). ``gate=True`` means a NO rules out the causes
below (they cannot hold if this is false: no OOM without a restart); a gate's UNKNOWN
still explores below, because a finer question may be answerable on its own.

Each question appears once. A cause may sit under several questions: its support is
pooled from all of them (noisy-or), see ``probes.diagnose``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Leaf:
    cause: str


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    ask: str
    weight: float
    collect: str  # what evidence would answer it, for "collect next"
    yes: tuple[Node, ...] = ()
    gate: bool = False
    decisive: bool = False
    """A smoking gun: a YES from runtime evidence at full strength decides its causes on
    its own (their score is lifted to ``DECISIVE_FLOOR`` and no gate's NO refutes them).
    A read that misses another process's write is in-memory state whatever else holds."""


Node = Question | Leaf


def _q(key: str, ask: str, weight: float, collect: str, *yes: Node, gate: bool = False,
       decisive: bool = False) -> Question:
    return Question(key, ask, weight, collect, tuple(yes), gate, decisive)


def _leaf(cause: str) -> Leaf:
    return Leaf(cause)


LOGS_WITH_IDS = "structured logs with instance, session, request and run ids around every run"
KUBE = "pod status and events (kubectl scaledoc, or kubectl get pods,events -o json)"
SOURCE = "the service's source and manifests (scaledoc code ./service)"
PROCESS = "a process sample under load (scaledoc ps --port PORT)"
RAMP = "request logs with status and duration, or a ramp (scaledoc ramp URL)"
FLEET = "the fleet's metrics (scaledoc analyze --prometheus URL --selector MATCHERS)"

TREE: tuple[Node, ...] = (
    # 1. Pods: is the platform killing containers? (seeds: "Check pod/container termination logs")
    _q("pods.restarts", "Are containers restarting or being terminated?", 0.1, KUBE,
       _q("pods.oomkilled", "Was a container OOMKilled (by reason, not exit code 137 alone)?",
          0.9, KUBE, _leaf("oom"), gate=True),
       _q("pods.probe_killed", "Did liveness-probe failures come before the kills?", 0.85, KUBE,
          _leaf("probe-kill"), gate=True),
       _q("pods.probe_config_risky",
          "Are liveness and readiness the same check, or is start-up longer than the probe delay?",
          0.3, KUBE, _leaf("probe-kill")),
       gate=True),
    _q("runtime.out_of_memory",
       "Did a runtime say it ran out of memory (V8 heap limit, MemoryError, OOM killer)?", 0.85,
       "the service's stderr and the previous container's logs (kubectl logs --previous)",
       _leaf("oom"), decisive=True),
    _q("process.worker_died", "Did worker processes die and get replaced?", 0.3,
       "the server's own log (gunicorn/uvicorn master, Node cluster primary)", _leaf("oom")),
    _q("pods.unschedulable", "Is a pod stuck Pending (FailedScheduling, insufficient resources)?",
       0.0, KUBE),
    _q("pods.not_ready", "Is a container Running but not Ready?", 0.2, KUBE,
       _leaf("probe-kill")),
    _q("process.rss_growth", "Does resident memory grow while the service works?", 0.45,
       PROCESS, _leaf("oom")),
    _q("pods.no_memory_limit", "Do containers run without a memory limit?", 0.15, KUBE,
       _leaf("oom")),
    # 2. Start-up errors: mixed framework versions.
    _q("errors.version_mismatch",
       "Do errors say 'is not a function', 'not initialized' or 'cannot import name'?", 0.75,
       "the service's start-up logs (kubectl logs --previous)", _leaf("version-mismatch")),
    _q("code.version_mismatch", "Do the manifests mix versions of one framework family?", 0.9,
       SOURCE,
       _leaf("version-mismatch")),
    # 3. One instance, many requests (seeds: "Log session IDs and agent instance creation").
    _q("instance.many_sessions", "Does one agent instance serve many sessions or requests?", 0.3,
       LOGS_WITH_IDS,
       _q("runs.overlap_instance", "Do runs on one instance overlap in time?", 0.6,
          "run start/end logs or spans with the instance id",
          _q("runs.parallel_same_session",
             "Do overlapping runs share one session and come from one request?", 0.75,
             "run logs with session and request ids", _leaf("parallel-run-same-session")),
          _q("runs.nested_same_request",
             "Does a run start inside another run on the same instance, from the same request?",
             0.75, "run logs with request ids", _leaf("reentrant-run")),
          _q("runs.periodic_overlap",
             "Do runs without a request start on a fixed period and overlap?", 0.75,
             "run logs of scheduled jobs", _leaf("overlapping-timer")),
          _leaf("shared-instance")),
       _q("errors.already_running",
          "Do errors say the agent or loop is already running?", 0.55,
          "error logs with the exception text", _leaf("shared-instance")),
       _q("instance.long_lived",
          "On a serverless or hot-reload platform, does one instance live across invocations "
          "or users?", 0.75, "invocation logs with the instance id and user",
          _leaf("stale-module-state")),
       _leaf("shared-instance")),
    _q("errors.max_call_stack", "Do errors show unbounded recursion (maximum call stack)?", 0.5,
       "error logs with stack traces", _leaf("reentrant-run")),
    _q("code.shared_instance",
       "Does the source create an agent at module scope and use it in request handlers?", 0.8,
       SOURCE, _leaf("shared-instance")),
    _q("code.reentrant_run", "Does the source call run() inside the same team's callback?", 0.8,
       SOURCE, _leaf("reentrant-run")),
    _q("code.overlapping_timer", "Does the source run agents in setInterval without a guard?",
       0.8, SOURCE, _leaf("overlapping-timer")),
    # 4. Load: do failures rise with concurrency? (seeds: "Run 1, then 10, 25 and 50 at once")
    _q("errors.rise_with_concurrency",
       "Do failures rise with concurrency while single requests pass?", 0.25,
       RAMP,
       _q("errors.rate_limit", "Do 429/503 or rate-limit errors come back from the provider?",
          0.75, "error logs with the provider's status", _leaf("upstream-rate-limit")),
       _q("errors.timeout", "Do timeout errors (ETIMEDOUT, AbortError, 'timed out') appear?",
          0.7, "error logs of tool calls", _leaf("tool-timeout")),
       _q("fanout.concurrent_calls",
          "Does one request keep many model or tool calls in flight at once?", 0.7,
          "logs or spans of outbound calls with the request id", _leaf("unbounded-fanout")),
       _q("errors.socket_exhaustion",
          "Do sockets run out (EMFILE, ECONNRESET, many TIME_WAIT)?", 0.5,
          "error logs, or a process sample", _leaf("unbounded-fanout")),
       _q("process.fd_pressure", "Are file descriptors or sockets near their limit?", 0.35,
          PROCESS, _leaf("unbounded-fanout")),
       _leaf("shared-instance")),
    _q("latency.ceiling", "Do failing requests end at one fixed duration, or with 502/504?",
       0.8, "request logs with durations (the proxy's access log), or a ramp",
       _leaf("platform-timeout"), decisive=True),
    _q("proxy.gateway_errors", "Does a proxy or gateway answer 502/504 or time out upstream?",
       0.5, "the proxy's access and error logs (nginx, Envoy, the ingress controller)",
       _leaf("platform-timeout")),
    _q("code.unbounded_fanout",
       "Does the source fan out with Promise.all / gather and no limiter?", 0.8,
       SOURCE, _leaf("unbounded-fanout")),
    # 5. State across replicas (seeds: "Log the workflow ID and process identity").
    _q("state.session_multi_process",
       "Is one session or workflow served by several processes or pods?", 0.15,
       "logs with session id, pid and pod name on every turn",
       _q("state.stale_read", "Does a process read state that lacks another process's write?",
          0.8, "logs of every state read and write with its version", _leaf("in-memory-state"),
          decisive=True),
       _q("process.multiple_workers", "Do several workers or replicas serve the app?", 0.2,
          "a process sample or the pod list", _leaf("in-memory-state")),
       _leaf("in-memory-state")),
    _q("state.session_missing",
       "Do requests for a session come back 'not found' (404, 'Could not find session')?", 0.5,
       "access logs of session requests and the app's errors, with the worker pid",
       _leaf("in-memory-state")),
    _q("code.in_memory_state",
       "Does the source keep session state in module-level maps keyed by session id?", 0.8,
       SOURCE, _leaf("in-memory-state")),
    _q("state.lost_update", "Did two writers read one version and both write the next?", 0.85,
       "logs of state reads and writes with versions", _leaf("non-atomic-update"),
       decisive=True),
    _q("errors.conflict", "Do writes fail with 409 Conflict or version conflicts?", 0.35,
       "error logs of writes with the request id",
       _leaf("non-atomic-update"), _leaf("non-idempotent-side-effect")),
    _q("code.non_atomic_update",
       "Does the source read-modify-write store values without a version?", 0.8,
       SOURCE, _leaf("non-atomic-update")),
    # 6. Requests contaminating each other.
    _q("history.cross_session", "Does history grow across requests of different sessions?",
       0.85, "logs of history length with the session id", _leaf("shared-history")),
    _q("code.shared_history", "Does the source append to a module-level history in handlers?",
       0.8, SOURCE, _leaf("shared-history")),
    _q("requests.contamination",
       "Do one request's ids or values show up in another request's lines?", 0.8,
       "logs with request ids on every line, including tool calls", _leaf("stateful-tool")),
    _q("code.stateful_tool", "Does the source store request data on a shared tool's fields?",
       0.8, SOURCE, _leaf("stateful-tool")),
    _q("instance.per_request", "Is a new agent created for every request?", 0.2,
       "logs of agent creation with the request id",
       _q("context.forgotten", "Do later turns of a session show no earlier context?", 0.8,
          "logs of history length per turn with the session id", _leaf("context-reset"),
          gate=True),
       gate=False),
    # 7. Side effects and payloads.
    _q("errors.duplicate_write",
       "Do duplicate-key / already-exists errors, or repeated writes, appear?", 0.85,
       "error logs of writes with the request id", _leaf("non-idempotent-side-effect")),
    _q("errors.serialization",
       "Do errors say 'circular structure' or 'not JSON serializable'?", 0.85,
       "error logs with the exception text", _leaf("serialization")),
    # 8. The symptom itself: something must explain failing requests before "healthy".
    _q("requests.failed", "Do requests or runs fail in more than a noise share?", 0.0,
       "request logs with status codes, or a ramp (scaledoc ramp URL)"),
    _q("fleet.replica_outlier",
       "Does one replica fail, or hold memory, far more than its siblings?", 0.0, FLEET),
)

STRUCTURAL: frozenset[str] = frozenset({
    "instance.many_sessions", "instance.per_request", "state.session_multi_process",
    "process.multiple_workers", "pods.no_memory_limit", "pods.probe_config_risky",
})
"""YES answers that describe how a service is built, not that it is failing: one agent
serving many sessions, several workers, no memory limit. Every other runtime YES is a
symptom: with one left and no cause above the threshold the verdict is inconclusive
(naming it), never healthy. ``healthy`` is earned, not the absence of a verdict."""


HEALTH_NEEDS: dict[str, tuple[str, ...]] = {
    "state.session_multi_process": ("state.stale_read",),
    "instance.per_request": ("context.forgotten",),
}
"""Checks that 'healthy' cannot skip once the service shows what they are about. When one
session is served by several processes, state must be shown to survive the hop (a read
that sees the other process's write); when an agent is built per request, later turns
must be shown to keep their context. These faults answer 200: a clean error rate proves
nothing about them. With the check unanswered the verdict is inconclusive, naming it, when
the service is seen keeping session state (``STATE_KEPT``); a service that shows none may be
stateless, so it can still be healthy, and the summary names what was not checked."""

STATE_KEPT: tuple[str, ...] = ("code.in_memory_state", "state.lost_update",
                               "history.cross_session", "context.forgotten")
"""Answers that show the service keeps session state of its own (a code finding of state
in process memory; versioned writes; a history size in its lines), whatever they say."""


def iter_questions(nodes: tuple[Node, ...] = TREE, depth: int = 0
                   ) -> Iterator[tuple[Question, int]]:
    """Every question in reading order, with its depth."""
    for node in nodes:
        if isinstance(node, Question):
            yield node, depth
            yield from iter_questions(node.yes, depth + 1)


def leaves_below(node: Node) -> tuple[str, ...]:
    """Cause ids reachable below a node, in tree order, without repeats."""
    if isinstance(node, Leaf):
        return (node.cause,)
    out: dict[str, None] = {}
    for child in node.yes:
        for c in leaves_below(child):
            out[c] = None
    return tuple(out)
