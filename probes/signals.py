"""The signal keys: the contract between probes and the decision tree.

Each probe emits ``Signal``s with these keys (yes / no / unknown-with-reason); the tree's
questions are keyed by them. A probe may emit a key owned by another probe as well (the
ramp and the logs both measure ``errors.rise_with_concurrency``); ``Case.signals`` merges
them. ``tests/test_signals_contract.py`` checks that every key the tree asks about is
listed here and that every key listed here is asked about by the tree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SignalSpec:
    key: str
    probes: tuple[str, ...]
    meaning: str


_SPECS = (
    # --- instances and runs (logs, traces) ---
    SignalSpec("instance.many_sessions", ("logs", "traces"),
               "one agent/team/runtime instance id is seen with two or more sessions or requests"),
    SignalSpec("runs.overlap_instance", ("logs", "traces"),
               "runs on one instance overlap in time (start A, start B, end A)"),
    SignalSpec("runs.parallel_same_session", ("logs", "traces"),
               "overlapping runs share one session id and were started by one request"),
    SignalSpec("runs.nested_same_request", ("logs", "traces"),
               "a run starts on an instance inside another run on it, from the same request"),
    SignalSpec("runs.periodic_overlap", ("logs", "traces"),
               "runs with no request id start at a fixed period and overlap each other"),
    SignalSpec("instance.per_request", ("logs", "traces"),
               "a new instance is created for (nearly) every request"),
    SignalSpec("context.forgotten", ("logs",),
               "later turns of a session show no earlier context (history restarts)"),
    SignalSpec("instance.long_lived", ("logs",),
               "the same instance id serves invocations far apart in time or different "
               "users on a serverless / hot-reload platform"),
    # --- errors (logs, traces, ramp bodies) ---
    SignalSpec("errors.already_running", ("logs", "traces", "ramp"),
               "errors like 'already running', 'another task is active', "
               "'event loop already running'"),
    SignalSpec("errors.max_call_stack", ("logs",),
               "'Maximum call stack size exceeded' / RecursionError"),
    SignalSpec("errors.rise_with_concurrency", ("logs", "ramp", "prometheus"),
               "error rate rises with in-flight concurrency while single requests pass"),
    SignalSpec("errors.rate_limit", ("logs", "ramp", "prometheus"),
               "429 / 503 / 'rate limit' from the model provider"),
    SignalSpec("errors.timeout", ("logs", "ramp"),
               "ETIMEDOUT, AbortError, 'timed out' errors"),
    SignalSpec("latency.ceiling", ("logs", "ramp", "prometheus"),
               "failing requests end at one fixed duration, or 502/504 platform timeouts"),
    SignalSpec("errors.duplicate_write", ("logs",),
               "duplicate key / already exists errors, or one write repeated for one request"),
    SignalSpec("errors.serialization", ("logs",),
               "'Converting circular structure', 'not JSON serializable' errors"),
    SignalSpec("errors.version_mismatch", ("logs",),
               "'is not a function', 'not initialized', 'cannot import name' errors"),
    SignalSpec("errors.socket_exhaustion", ("logs", "process"),
               "EMFILE, ECONNRESET, too many open files, many TIME_WAIT sockets"),
    SignalSpec("errors.conflict", ("logs",),
               "409 Conflict, version conflict or concurrent-modification errors"),
    SignalSpec("proxy.gateway_errors", ("logs",),
               "a proxy or gateway answered 502/504 or logged 'upstream timed out' "
               "(nginx, Envoy, Traefik, a load balancer)"),
    SignalSpec("requests.failed", ("logs", "ramp", "prometheus"),
               "requests or runs failed (5xx, failed runs, tracebacks) in more than a "
               "noise share: a symptom that some cause must explain"),
    SignalSpec("runtime.out_of_memory", ("logs",),
               "a runtime said it ran out of memory: V8 'heap out of memory', Python "
               "MemoryError, the kernel's 'Out of memory: Killed process', "
               "'(last reason: OOMKilled)'"),
    SignalSpec("process.worker_died", ("logs",),
               "a worker process died and was replaced: gunicorn 'Worker (pid:N) was sent "
               "SIGKILL', Node cluster 'worker N died', exit events"),
    SignalSpec("fanout.concurrent_calls", ("logs", "traces"),
               "one request has many outbound model/tool calls in flight at once"),
    # --- cross-request contamination (logs) ---
    SignalSpec("history.cross_session", ("logs",),
               "conversation history grows across requests of different sessions"),
    SignalSpec("requests.contamination", ("logs",),
               "one request's ids appear in another request's lines, or a tool reads a "
               "value its own request did not set"),
    # --- state across replicas (logs, processes, pods) ---
    SignalSpec("state.session_multi_process", ("logs", "traces"),
               "one session/workflow is served by several pids or pods"),
    SignalSpec("state.stale_read", ("logs",),
               "a state read by one process lacks a write made by another"),
    SignalSpec("state.session_missing", ("logs",),
               "a request for a known session answered 'not found' (a 404 on a session "
               "path, 'Could not find session', 'session not found')"),
    SignalSpec("state.lost_update", ("logs",),
               "two writers read the same version and both write the next one"),
    SignalSpec("process.multiple_workers", ("process", "kube", "prometheus"),
               "several worker processes or replicas serve one app"),
    # --- processes (psutil) ---
    SignalSpec("process.rss_growth", ("process", "prometheus"),
               "resident memory (a container's working set) grows during the window, "
               "towards its limit"),
    SignalSpec("process.fd_pressure", ("process",),
               "open file descriptors near the limit, or many sockets in TIME_WAIT/CLOSE_WAIT"),
    # --- pods (Kubernetes) ---
    SignalSpec("pods.restarts", ("kube", "prometheus"),
               "containers restarted or terminated (restartCount > 0, lastState set)"),
    SignalSpec("pods.oomkilled", ("kube", "prometheus"),
               "a container was OOMKilled (reason, not exit code alone)"),
    SignalSpec("pods.probe_killed", ("kube",),
               "liveness probe failures followed by Killing / restarts"),
    SignalSpec("pods.probe_config_risky", ("kube",),
               "identical liveness and readiness checks, or initialDelaySeconds shorter "
               "than the observed start-up"),
    SignalSpec("pods.unschedulable", ("kube",),
               "a pod is Pending: FailedScheduling, Unschedulable, insufficient cpu/memory"),
    SignalSpec("pods.not_ready", ("kube",),
               "a container is Running but not Ready (its readiness check fails)"),
    SignalSpec("pods.no_memory_limit", ("kube", "prometheus"),
               "containers run with no memory limit"),
    # --- the fleet (Prometheus) ---
    SignalSpec("fleet.replica_outlier", ("prometheus",),
               "one replica's 5xx share or memory is far from its siblings' (a bad node, a "
               "replica stuck in a state the others are not in)"),
    # --- source code and dependencies (risk, weaker than runtime evidence) ---
    SignalSpec("code.shared_instance", ("code",),
               "an agent/team/client created at module scope is used inside request handlers"),
    SignalSpec("code.shared_history", ("code",),
               "a module-level list/array is appended to inside handlers"),
    SignalSpec("code.stateful_tool", ("code",),
               "per-request data assigned to fields of a long-lived tool/agent object"),
    SignalSpec("code.unbounded_fanout", ("code",),
               "Promise.all / asyncio.gather over agent/model calls with no limiter"),
    SignalSpec("code.reentrant_run", ("code",),
               "run()/kickoff() awaited inside a message callback of the same team"),
    SignalSpec("code.overlapping_timer", ("code",),
               "async work in setInterval without an in-progress guard"),
    SignalSpec("code.in_memory_state", ("code",),
               "module-level dicts keyed by session/workflow id"),
    SignalSpec("code.non_atomic_update", ("code",),
               "read-modify-write of store values without a version or atomic op"),
    SignalSpec("code.version_mismatch", ("code",),
               "packages of one framework family at different versions in manifests/locks"),
)

SIGNALS: dict[str, SignalSpec] = {s.key: s for s in _SPECS}
