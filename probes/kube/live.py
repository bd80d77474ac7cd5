"""Live, read-only collection from a cluster with the official kubernetes client.

Shape of the traffic, on purpose:

* only GET requests (list, get, log): nothing here can change a cluster;
* one paginated list per kind (``limit``/``continue``, 500 per page like ``kubectl
  --chunk-size``), never one call per pod, and filtering done client-side so a
  10,000-pod namespace costs about 20 pod pages plus the event pages;
* a whole-request deadline on every call (connect, headers and every byte of the body
  within ``request_timeout``; past it the socket is shut down) and no urllib3 retries,
  so an unreachable or trickling API server is reported within the timeout instead of
  after minutes; a body is read up to ``MAX_RESPONSE_BYTES``;
* raw JSON (``_preload_content=False``): the dicts are exactly what ``kubectl get -o
  json`` prints, which is what the pure signal code reads, and parsing is several times
  faster than building client model objects;
* logs (current and previous, with timestamps) fetched by a pool of ``LOG_WORKERS``
  threads, bounded by ``--since``, a tail, ``limitBytes`` and a per-run budget (count,
  bytes, time: ``LOG_BUDGET_*``); logs past the budget are named, not fetched;
* a server that answers every call with an error (500s) gives nothing usable: that is
  ``Unreachable`` (exit 3), never an empty cluster.

Failures are data. A 403 on one kind is recorded in ``Evidence.data["denied"]`` (verb,
resource, namespace, the API server's message) and in the input report's notes; the
rest is still collected. If nothing at all can be reached, ``Evidence.error`` says why
in one line.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec

from probes.evidence import Evidence, InputReport, failed, parse_iso_ns
from probes.kube.objects import as_list, as_map, gc_paused, meta, name_of, namespace_of

PROBE = "kube"
PAGE_SIZE = 500
LOG_WORKERS = 4
DEFAULT_TAIL_LINES = 5000
DEFAULT_LIMIT_BYTES = 8 * 1024 * 1024
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
"""Largest list page read (500 objects are a few MB); a longer body is cut there."""
LOG_BUDGET_COUNT = 2000
"""Most container logs fetched in one run (current and previous count one each)."""
LOG_BUDGET_BYTES = 512 * 1024 * 1024
"""Most log bytes kept in one run, all logs together."""
LOG_BUDGET_SECONDS = 120.0
"""Longest time spent fetching logs in one run."""
TARGET_KINDS = {
    "deploy": "deployments", "deployment": "deployments", "deployments": "deployments",
    "sts": "statefulsets", "statefulset": "statefulsets", "statefulsets": "statefulsets",
    "rs": "replicasets", "replicaset": "replicasets", "replicasets": "replicasets",
    "po": "pods", "pod": "pods", "pods": "pods",
}


@dataclass
class KubeTarget:
    """What to look at, in kubectl's own terms (flags of the same names).

    ``targets`` are ``TYPE/NAME`` (deploy, sts, rs, pod); a workload fans out to all of
    its replicas through its own label selector. With neither targets nor a selector,
    every pod of the namespace is read.
    """

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    container: str | None = None
    since_seconds: int | None = None
    since_time_ns: int | None = None
    """``--since-time`` (RFC 3339), as UTC nanoseconds; exclusive with ``since_seconds``."""
    previous_only: bool = False
    """``--previous``: only the logs of containers' previous instances, as kubectl logs -p."""
    request_timeout: float = 10.0
    targets: tuple[str, ...] = ()
    tail_lines: int | None = DEFAULT_TAIL_LINES
    limit_bytes: int | None = DEFAULT_LIMIT_BYTES
    log_budget_count: int = LOG_BUDGET_COUNT
    log_budget_bytes: int = LOG_BUDGET_BYTES
    log_budget_seconds: float = LOG_BUDGET_SECONDS

    def log_since(self, now_s: float | None = None) -> int | None:
        """The ``sinceSeconds`` to ask: ``--since``, or ``--since-time`` as seconds before
        now rounded up (the client has no ``sinceTime``; lines older than it are dropped
        by ``after_since_time`` once read, so the result is exact)."""
        if self.since_seconds:
            return int(self.since_seconds)
        if self.since_time_ns is None:
            return None
        now = time.time() if now_s is None else now_s
        return max(1, math.ceil(now - self.since_time_ns / 1e9))

    def after_since_time(self, lines: list[str]) -> list[str]:
        """Lines at or after ``--since-time`` (they start with the kubelet's timestamp);
        a line without one is kept (a continuation of the line before)."""
        cut = self.since_time_ns
        if cut is None:
            return lines
        out: list[str] = []
        keep = True
        for line in lines:
            stamp = parse_iso_ns(line.split(" ", 1)[0]) if line[:4].isdigit() else None
            if stamp is not None:
                keep = stamp >= cut
            if keep:
                out.append(line)
        return out

    def describe(self) -> str:
        where = "all namespaces" if self.all_namespaces else f"namespace {self.namespace or '?'}"
        what = ", ".join(self.targets) or (f"-l {self.selector}" if self.selector else "all pods")
        ctx = f"context {self.context}, " if self.context else ""
        return f"{ctx}{where}: {what}"


@dataclass
class Denied:
    """One read the cluster refused (or failed), as the bundle manifest records it."""

    verb: str
    resource: str
    namespace: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"verb": self.verb, "resource": self.resource, "namespace": self.namespace,
                "reason": self.reason}

    def text(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        return f"{self.verb} {self.resource} in {where}: {self.reason}"


class Unreachable(Exception):
    """The API server could not be reached at all (network, TLS, timeout)."""


class NoConfig(Unreachable):
    """No usable kubeconfig (or context), and not running inside a cluster."""


class Cancelled(Exception):
    """The caller set the cancel event."""


@dataclass
class Collected:
    """Everything one collection gathered: objects, logs, and what was refused."""

    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)
    logs: list[tuple[str, list[str]]] = field(default_factory=list)
    log_files: list[dict[str, Any]] = field(default_factory=list)
    not_fetched: dict[str, int] = field(default_factory=dict)
    """Logs left out by the run's budget, by reason."""
    denied: list[Denied] = field(default_factory=list)
    api_calls: int = 0
    context: str | None = None
    namespace: str | None = None
    server: str | None = None
    started: float = 0.0
    finished: float = 0.0


def _status_message(exc: Any) -> str:
    """The API server's own message from an ApiException body, else its reason."""
    body = getattr(exc, "body", None)
    if body:
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("message"):
                return str(doc["message"])
        except (ValueError, TypeError):
            pass
    return f"HTTP {getattr(exc, 'status', '?')} {getattr(exc, 'reason', '')}".strip()


class Session:
    """One read-only conversation with the API server: client, counters, refusals."""

    def __init__(self, target: KubeTarget, cancel: threading.Event | None = None) -> None:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        self.target = target
        self.cancel = cancel
        self.collected = Collected(started=time.time())
        self._lock = threading.Lock()
        self.ok_calls = 0
        self.cut = 0
        self.failures: list[int | None] = []  # HTTP status of each failed call
        cfg = client.Configuration()
        try:
            config.load_kube_config(config_file=target.kubeconfig, context=target.context,
                                    client_configuration=cfg, persist_config=False)
            contexts, active = config.list_kube_config_contexts(config_file=target.kubeconfig)
            chosen = next((c for c in contexts if c.get("name") == target.context), active)
            self.collected.context = chosen.get("name") if chosen else target.context
            default_ns = as_map(as_map(chosen).get("context")).get("namespace")
        except (ConfigException, OSError, TypeError, ValueError) as kube_exc:
            if target.kubeconfig or target.context:
                raise NoConfig(f"cannot load kubeconfig: {kube_exc}") from kube_exc
            try:
                config.load_incluster_config(client_configuration=cfg)
            except ConfigException as in_exc:
                raise NoConfig(
                    f"no usable kubeconfig ({kube_exc}) and not running in a cluster "
                    f"({in_exc})") from in_exc
            self.collected.context = "in-cluster"
            default_ns = _incluster_namespace()
        cfg.retries = False  # fail within the timeout; never retry for minutes
        self.collected.server = cfg.host
        self.collected.namespace = None if target.all_namespaces else (
            target.namespace or default_ns or "default")
        self.api = client.ApiClient(cfg)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self._in_use: dict[int, Any] = {}
        self._track_connections()

    def close(self) -> None:
        self.api.close()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def call(self, fn: Callable[..., Any], *args: Any, max_bytes: int = MAX_RESPONSE_BYTES,
             **kwargs: Any) -> bytes:
        """One GET under a whole-request deadline (connect, headers and every byte of the
        body within ``request_timeout``, not per read: a server trickling a byte every
        half second is cut off). ``ApiException`` passes through; network errors and
        the deadline become ``Unreachable`` with a one-line message. A body past
        ``max_bytes`` is cut there (``self.cut`` counts it)."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        self._check_cancel()
        with self._lock:
            self.collected.api_calls += 1
        timeout = self.target.request_timeout
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                resp = fn(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
                chunks, size = [], 0
                for chunk in resp.stream(64 * 1024, decode_content=True):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes or "late" in box:
                        box["cut"] = size > max_bytes
                        break
                resp.release_conn()
                box["data"] = b"".join(chunks)[:max_bytes]
            except BaseException as exc:  # handed to the caller's thread below
                box["exc"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=run, name="kube-call", daemon=True)
        worker.start()
        deadline = time.monotonic() + timeout
        while not done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or (self.cancel is not None
                                                 and self.cancel.is_set()):
                box["late"] = True
                self._abort(worker)
                self._check_cancel()
                self.failed(None)
                raise Unreachable(
                    f"cannot reach the API server at {self.collected.server}: no complete "
                    f"answer within {timeout:g}s (--request-timeout bounds each whole "
                    "request: connect, headers and body)")
        exc = box.get("exc")
        if exc is None:
            with self._lock:
                self.ok_calls += 1
                self.cut += bool(box.get("cut"))
            return bytes(box["data"])
        try:
            raise exc
        except ApiException as exc:
            self.failed(exc.status)
            if exc.status == 0:
                raise Unreachable(f"cannot reach the API server at {self.collected.server}: "
                                  f"{exc.reason}") from exc
            raise
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.failed(None)
            raise Unreachable(
                f"cannot reach the API server at {self.collected.server} within "
                f"{timeout:g}s: {_short(exc)}") from exc

    def _track_connections(self) -> None:
        """Make the client's connections findable by the thread using them, so a call
        past its deadline can have its socket shut down (headers or body half read)."""
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        in_use = self._in_use

        def tracked(base: type[HTTPConnection]) -> type:
            def request(conn: Any, *args: Any, **kwargs: Any) -> Any:
                in_use[threading.get_ident()] = conn
                return base.request(conn, *args, **kwargs)
            return type(f"Tracked{base.__name__}", (base,), {"request": request})

        pm = self.api.rest_client.pool_manager
        pm.pool_classes_by_scheme = {
            "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": tracked(HTTPConnection)}),
            "https": type("Pools", (HTTPSConnectionPool,),
                          {"ConnectionCls": tracked(HTTPSConnection)}),
        }

    def _abort(self, worker: threading.Thread) -> None:
        """Shut down the socket of a call past its deadline: its thread's read fails at
        once and the thread ends (it never lingers on a trickling server)."""
        import socket

        conn = self._in_use.pop(worker.ident or 0, None)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        worker.join(2.0)

    def failed(self, status: int | None) -> None:
        with self._lock:
            self.failures.append(status)

    def list_all(self, fn: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (limit/continue), page by page."""
        token: str | None = None
        while True:
            page = _decode(self.call(fn, *args, limit=PAGE_SIZE, _continue=token, **kwargs))
            for item in as_list(page.get("items")):
                if isinstance(item, dict):
                    yield item
            token = as_map(page.get("metadata")).get("continue") or None
            if not token:
                return

    def deny(self, verb: str, resource: str, namespace: str | None, exc: Any) -> None:
        with self._lock:
            self.collected.denied.append(Denied(verb, resource, namespace,
                                                _status_message(exc)))


def _decode(body: bytes) -> dict[str, Any]:
    """A list response: msgspec parses the large pages several times faster than json,
    and with the cyclic collector paused (``gc_paused``) faster still."""
    try:
        with gc_paused():
            doc = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise Unreachable(f"the API server sent a response that is not JSON: {exc}") from exc
    return doc if isinstance(doc, dict) else {}


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known",
                   "No route to host", "certificate verify failed"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _incluster_namespace() -> str | None:
    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _selector_from(workload: dict[str, Any]) -> str:
    """A workload's ``spec.selector`` as a label-selector string."""
    sel = as_map(as_map(workload.get("spec")).get("selector"))
    parts = [f"{k}={v}" for k, v in as_map(sel.get("matchLabels")).items()]
    for expr in as_list(sel.get("matchExpressions")):
        expr = as_map(expr)
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        if op == "In":
            parts.append(f"{key} in ({','.join(map(str, values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(map(str, values))})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def _resolve_pods(s: Session) -> list[dict[str, Any]]:
    """Pods of the targets (fanned out through each owner's selector), or of the
    selector / namespace. Duplicates (a pod matched twice) are kept once."""
    from kubernetes.client.exceptions import ApiException

    t, ns = s.target, s.collected.namespace
    selectors: list[tuple[str | None, str | None]] = []  # (label selector, field selector)
    for spec in t.targets:
        kind, _, name = spec.partition("/")
        resource = TARGET_KINDS.get(kind.lower())
        if resource is None or not name:
            raise ValueError(f"unsupported target {spec!r}: use deploy/NAME, sts/NAME, "
                             "rs/NAME or pod/NAME")
        if resource == "pods":
            selectors.append((t.selector, f"metadata.name={name}"))
            continue
        if ns is None:
            raise ValueError(f"target {spec} needs a namespace (-n), not -A")
        reader = {"deployments": s.apps.read_namespaced_deployment,
                  "statefulsets": s.apps.read_namespaced_stateful_set,
                  "replicasets": s.apps.read_namespaced_replica_set}[resource]
        try:
            workload = json.loads(s.call(reader, name, ns))
        except ApiException as exc:
            if exc.status == 404:
                raise ValueError(f"{spec} not found in namespace {ns}") from exc
            s.deny("get", resource, ns, exc)
            continue
        s.collected.owners.append(workload)
        selector = _selector_from(workload)
        if t.selector:
            selector = f"{selector},{t.selector}" if selector else t.selector
        selectors.append((selector, None))
    if not t.targets:
        selectors.append((t.selector, None))
    seen: set[tuple[str, str]] = set()
    pods: list[dict[str, Any]] = []
    for label_selector, field_selector in selectors:
        kwargs: dict[str, Any] = {}
        if label_selector:
            kwargs["label_selector"] = label_selector
        if field_selector:
            kwargs["field_selector"] = field_selector
        try:
            if ns is None:
                items = s.list_all(s.core.list_pod_for_all_namespaces, **kwargs)
            else:
                items = s.list_all(s.core.list_namespaced_pod, ns, **kwargs)
            for pod in items:
                key = (namespace_of(pod), name_of(pod))
                if key not in seen:
                    seen.add(key)
                    pods.append(pod)
        except ApiException as exc:
            s.deny("list", "pods", ns, exc)
    return pods


def _owner_names(pods: list[dict[str, Any]], owners: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of every owner of the pods, two levels up (RS → Deployment)."""
    names = {(str(o.get("kind")), name_of(o)) for o in owners}
    for pod in pods:
        for ref in as_list(meta(pod).get("ownerReferences")):
            ref = as_map(ref)
            names.add((str(ref.get("kind")), str(ref.get("name"))))
            if ref.get("kind") == "ReplicaSet":
                template_hash = as_map(meta(pod).get("labels")).get("pod-template-hash")
                rs = str(ref.get("name"))
                if template_hash and rs.endswith(f"-{template_hash}"):
                    names.add(("Deployment", rs[: -len(template_hash) - 1]))
    return names


def _events(s: Session, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events of the pods and of their owners: one paginated list per namespace (or
    cluster-wide with -A), filtered here, rather than one list per pod."""
    from kubernetes.client.exceptions import ApiException

    ns = s.collected.namespace
    wanted_pods = {(namespace_of(p), name_of(p)) for p in pods}
    wanted_owners = _owner_names(pods, s.collected.owners)
    namespaces = [ns] if ns is not None else [None]
    out = []
    for namespace in namespaces:
        try:
            items = (s.list_all(s.core.list_event_for_all_namespaces) if namespace is None
                     else s.list_all(s.core.list_namespaced_event, namespace))
            for ev in items:
                obj = as_map(ev.get("involvedObject"))
                kind, name = str(obj.get("kind")), str(obj.get("name"))
                obj_ns = str(obj.get("namespace") or namespace_of(ev))
                if (kind == "Pod" and (obj_ns, name) in wanted_pods) or (
                        kind != "Pod" and (kind, name) in wanted_owners):
                    out.append(ev)
        except ApiException as exc:
            s.deny("list", "events", namespace, exc)
    return out


def _log_jobs(s: Session, pods: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, bool]]:
    """(pod, container, previous) for every container log worth reading: current logs
    of started containers, previous logs where an earlier instance terminated."""
    jobs = []
    for pod in pods:
        status = as_map(pod.get("status"))
        for key in ("initContainerStatuses", "containerStatuses"):
            for cs in as_list(status.get(key)):
                cs = as_map(cs)
                cname = str(cs.get("name") or "")
                if s.target.container and cname != s.target.container:
                    continue
                state = as_map(cs.get("state"))
                if (state.get("running") or state.get("terminated")) and \
                        not s.target.previous_only:
                    jobs.append((pod, cname, False))
                if as_map(cs.get("lastState")).get("terminated"):
                    jobs.append((pod, cname, True))
    return jobs


def _fetch_log(s: Session, pod: dict[str, Any], container: str, previous: bool
               ) -> tuple[dict[str, Any], str, bool, list[str] | None, str | None]:
    from kubernetes.client.exceptions import ApiException

    kwargs: dict[str, Any] = {"container": container, "timestamps": True}
    if previous:
        kwargs["previous"] = True
    since = s.target.log_since()
    if since:
        kwargs["since_seconds"] = since
    if s.target.tail_lines:
        kwargs["tail_lines"] = s.target.tail_lines
    if s.target.limit_bytes:
        kwargs["limit_bytes"] = s.target.limit_bytes
    cap = (s.target.limit_bytes or MAX_RESPONSE_BYTES) + 64 * 1024  # limitBytes ignored?
    try:
        raw = s.call(s.core.read_namespaced_pod_log, name_of(pod), namespace_of(pod),
                     max_bytes=cap, **kwargs)
    except ApiException as exc:
        return pod, container, previous, None, _status_message(exc)
    lines = s.target.after_since_time(raw.decode("utf-8", errors="replace").splitlines())
    return pod, container, previous, lines, None


class _LogBudget:
    """The run's budget for logs: how many, how many bytes, how long. Checked before
    each fetch (by the pool's threads), so what was not fetched is known and named."""

    def __init__(self, target: KubeTarget) -> None:
        self.count = target.log_budget_count
        self.bytes = target.log_budget_bytes
        self.until = time.monotonic() + target.log_budget_seconds
        self.seconds = target.log_budget_seconds
        self.used_count = 0
        self.used_bytes = 0
        self._lock = threading.Lock()

    def take(self) -> str | None:
        """None when one more log may be fetched, else the reason it may not."""
        with self._lock:
            if self.used_count >= self.count:
                return f"log budget: {self.count} logs per run"
            if self.used_bytes >= self.bytes:
                return f"log budget: {self.bytes // (1024 * 1024)} MiB per run"
            if time.monotonic() >= self.until:
                return f"log budget: {self.seconds:g}s per run"
            self.used_count += 1
            return None

    def spend(self, nbytes: int) -> None:
        with self._lock:
            self.used_bytes += nbytes


def _logs(s: Session, pods: list[dict[str, Any]]) -> None:
    """Current and previous logs, ``LOG_WORKERS`` at a time, within the run's budget
    (count, bytes, time): logs past it are listed with the reason, not fetched. A
    refused log (403) is a denial; a missing previous log (400, the instance is gone)
    is a note on that file; a log that could not be fetched in time is an error on it."""
    jobs = _log_jobs(s, pods)
    if not jobs:
        return
    budget = _LogBudget(s.target)

    def fetch(job: tuple[dict[str, Any], str, bool]
              ) -> tuple[dict[str, Any], str, bool, list[str] | None, str | None, str | None]:
        over = budget.take()
        if over is not None or (s.cancel is not None and s.cancel.is_set()):
            return (*job, None, None, over or "cancelled")
        try:
            got = _fetch_log(s, *job)
        except Unreachable as exc:
            return (*job, None, str(exc), None)
        if got[3] is not None:
            budget.spend(sum(len(line) + 1 for line in got[3]))
        return (*got, None)

    with ThreadPoolExecutor(max_workers=LOG_WORKERS, thread_name_prefix="kube-logs") as pool:
        results = list(pool.map(fetch, jobs))
    s._check_cancel()
    forbidden_namespaces: set[str] = set()
    for pod, container, previous, lines, error, skipped in results:
        source = f"pod/{name_of(pod)}/{container}" + (" (previous)" if previous else "")
        entry = {"namespace": namespace_of(pod), "pod": name_of(pod), "container": container,
                 "previous": previous, "source": source}
        if skipped is not None:
            entry["not_fetched"] = skipped
            s.collected.not_fetched[skipped] = s.collected.not_fetched.get(skipped, 0) + 1
        elif lines is None:
            entry["error"] = error
            if error and "forbidden" in error.lower() and namespace_of(pod) not in \
                    forbidden_namespaces:
                forbidden_namespaces.add(namespace_of(pod))
                s.collected.denied.append(Denied("get", "pods/log", namespace_of(pod), error))
        else:
            entry["lines"] = len(lines)
            s.collected.logs.append((source, lines))
        s.collected.log_files.append(entry)


def gather(target: KubeTarget, cancel: threading.Event | None = None, *,
           logs: bool = True) -> Collected:
    """Collect pods, events, owners and (optionally) logs. Raises ``Unreachable``,
    ``Cancelled`` or ``ValueError`` (bad target); ``collect`` turns them into data."""
    s = Session(target, cancel)
    try:
        pods = _resolve_pods(s)
        s.collected.pods = pods
        s.collected.events = _events(s, pods)
        if logs:
            _logs(s, pods)
        _answered_something(s)
    finally:
        s.collected.finished = time.time()
        s.close()
    return s.collected


def _answered_something(s: Session) -> None:
    """Raise ``Unreachable`` when every call failed for a reason other than a refusal:
    a server answering 500 to everything gave nothing, and that must not read as an
    empty, clean cluster (a 403 is an answer: it names the missing permission)."""
    if s.ok_calls or not s.failures or all(f == 403 for f in s.failures):
        return
    statuses = sorted({f"HTTP {f}" if f else "no answer" for f in s.failures})
    first = s.collected.denied[0].reason if s.collected.denied else ", ".join(statuses)
    raise Unreachable(
        f"the API server at {s.collected.server} answered none of {len(s.failures)} "
        f"call(s) usefully ({', '.join(statuses)}): {first}")


def collect(target: KubeTarget, cancel: threading.Event | None = None, *,
            logs: bool = True) -> tuple[Evidence, list[tuple[str, list[str]]]]:
    """Live evidence for a target plus the pods' log lines for the log analysis.

    Log sources are named ``pod/NAME/CONTAINER`` and ``pod/NAME/CONTAINER (previous)``;
    lines keep kubectl's ``--timestamps`` RFC3339 prefix. Never raises for expected
    failures: an unreachable cluster or a bad target is ``Evidence.error``.
    """
    label = target.describe()
    try:
        got = gather(target, cancel, logs=logs)
    except Unreachable as exc:
        return failed(PROBE, label, str(exc)), []
    except Cancelled:
        return failed(PROBE, label, "cancelled"), []
    except ValueError as exc:
        return failed(PROBE, label, str(exc)), []
    return evidence_of(got, target), got.logs


def evidence_of(got: Collected, target: KubeTarget) -> Evidence:
    """Evidence for collected objects, with refusals as notes and UNKNOWN reasons."""
    from probes.kube.offline import evidence_from

    notes = tuple(f"not collected: {d.text()}" for d in got.denied) + tuple(
        f"logs not fetched: {n} ({reason})" for reason, n in got.not_fetched.items())
    report = InputReport(
        name=f"cluster {got.context or '?'} ({got.server or '?'})", kind="kube",
        format="kubernetes-api", events=len(got.pods) + len(got.events),
        notes=(f"{len(got.pods)} pod(s), {len(got.events)} event(s), {len(got.logs)} log(s), "
               f"{got.api_calls} API call(s)", *notes))
    from dataclasses import replace as _replace

    label = _replace(target, namespace=got.namespace).describe() if got.namespace else \
        target.describe()
    ev = evidence_from(label, got.pods, got.events, [report], owners=got.owners,
                       notes={"denied": [d.to_json() for d in got.denied],
                              "api_calls": got.api_calls, "context": got.context,
                              "namespace": got.namespace, "logs": got.log_files,
                              "logs_not_fetched": dict(got.not_fetched)})
    pods_denied = [d for d in got.denied if d.resource == "pods"]
    events_denied = [d for d in got.denied if d.resource == "events"]
    if not pods_denied and not events_denied:
        return ev
    from dataclasses import replace

    from probes.evidence import Answer, unknown

    restarted = any(s.key == "pods.restarts" and s.answer is Answer.YES for s in ev.signals)
    signals = []
    for sig in ev.signals:
        if pods_denied and not got.pods and sig.answer is not Answer.YES:
            sig = unknown(sig.key, PROBE, f"not collected: {pods_denied[0].text()}")
        elif (events_denied and sig.key == "pods.probe_killed" and restarted
              and sig.answer is not Answer.YES):
            sig = unknown(sig.key, PROBE, f"events not collected: {events_denied[0].text()}")
        signals.append(sig)
    return replace(ev, signals=tuple(signals))
