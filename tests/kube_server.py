"""A local fake Kubernetes API server for tests: real HTTP on 127.0.0.1, port 0.

It serves the REST paths the official client uses for reading: pods and events (list
with ``limit``/``continue`` pagination, label and field selectors, all-namespaces), get
pod, apps/v1 deployments/replicasets/statefulsets (list and get), and pod logs with
``previous``, ``timestamps``, ``tailLines``, ``sinceSeconds`` and ``limitBytes``. It is
backed by plain dicts, which tests fill from the real captures in tests/kube_fixtures.

Modes: ``forbidden`` (a set of (resource, namespace-or-None) that answer 403 with the
API server's Status body), ``delay`` (seconds to sleep before answering, to trigger
client timeouts). Every request is recorded (method, path, query) so tests can assert
that only GETs were sent; any other verb answers 405.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

APPS = ("deployments", "replicasets", "statefulsets")
KIND = {"deployments": "Deployment", "replicasets": "ReplicaSet", "statefulsets": "StatefulSet"}


def _labels_match(labels: dict[str, str], selector: str) -> bool:
    """Kubernetes label selector semantics: =, ==, !=, in, notin, exists, !exists."""
    if not selector:
        return True
    for req in re.findall(r"[^,(]+(?:\([^)]*\))?", selector):
        req = req.strip()
        if not req:
            continue
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", req)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if (op == "in") != (labels.get(key) in values):
                return False
            continue
        if "!=" in req:
            k, v = req.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in req:
            k, v = req.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif req.startswith("!"):
            if req[1:] in labels:
                return False
        elif req not in labels:
            return False
    return True


def _field(obj: dict[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _fields_match(obj: dict[str, Any], selector: str) -> bool:
    for req in filter(None, (r.strip() for r in selector.split(","))):
        if "!=" in req:
            k, v = req.split("!=", 1)
            if str(_field(obj, k)) == v:
                return False
        else:
            k, v = req.replace("==", "=").split("=", 1)
            if str(_field(obj, k)) != v:
                return False
    return True


class FakeKube:
    """The server's state and its lifecycle (use as a context manager)."""

    HANDLER: type[BaseHTTPRequestHandler]  # set below, once _Handler is defined

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.apps: dict[str, list[dict[str, Any]]] = {r: [] for r in APPS}
        # (namespace, pod, container, previous) -> log text, one RFC3339 stamp per line
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.forbidden: set[tuple[str, str | None]] = set()
        self.delay = 0.0
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        # serialised list results per (path, labelSelector, fieldSelector); built on the
        # first request, so tests must change objects before the first list of them
        self._pages: dict[tuple[str, str, str], list[bytes]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- state -------------------------------------------------------------------
    def add(self, objs: Iterable[dict[str, Any]]) -> None:
        self._pages.clear()
        for obj in objs:
            kind = str(obj.get("kind") or "")
            if kind == "Event" or "involvedObject" in obj:
                self.events.append(obj)
            elif kind in KIND.values():
                self.apps[{v: k for k, v in KIND.items()}[kind]].append(obj)
            else:
                self.pods.append(obj)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def write_kubeconfig(self, path: Path, namespace: str = "default",
                         context: str = "fake") -> Path:
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "fake-token-for-tests"}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "tester",
                                                       "namespace": namespace}}],
        }))
        return path

    def verbs(self) -> set[str]:
        with self._lock:
            return {m for m, _, _ in self.requests}

    def count(self, path_part: str) -> int:
        with self._lock:
            return sum(1 for _, p, _ in self.requests if path_part in p)

    # --- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> FakeKube:
        handler = type("Handler", (type(self).HANDLER,), {"kube": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    kube: FakeKube
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        pass  # keep test output clean

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up (timeout tests): nothing left to answer then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _status(self, code: int, reason: str, message: str) -> None:
        self._send(code, json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                     "status": "Failure", "message": message,
                                     "reason": reason, "code": code}).encode())

    def _record(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.kube._lock:
            self.kube.requests.append((self.command, parts.path, query))
        return parts.path, query

    def _refuse(self) -> None:
        self._record()
        self._status(405, "MethodNotAllowed", f"{self.command} is not allowed here")

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def do_GET(self) -> None:
        path, q = self._record()
        if self.kube.delay:
            time.sleep(self.kube.delay)
        m = re.match(r"^/api/v1(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>pods|events)"
                     r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$", path)
        a = re.match(r"^/apis/apps/v1(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>"
                     + "|".join(APPS) + r")(?:/(?P<name>[^/]+))?$", path)
        match = m or a
        if match is None:
            self._status(404, "NotFound", f"the server could not find {path}")
            return
        ns, res, name = match["ns"], match["res"], match["name"]
        sub = m["sub"] if m else None
        resource = "pods/log" if sub else res
        if (resource, ns) in self.kube.forbidden or (resource, None) in self.kube.forbidden:
            verb = "get" if name else "list"
            where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
            self._status(403, "Forbidden",
                         f'{resource} is forbidden: User "system:serviceaccount:test:reader" '
                         f'cannot {verb} resource "{resource}" in API group '
                         f'"{"apps" if a else ""}" {where}')
            return
        store = (self.kube.pods if res == "pods" else self.kube.events if res == "events"
                 else self.kube.apps[res])
        items = [o for o in store if ns is None or o.get("metadata", {}).get("namespace") == ns]
        if sub:
            self._log(ns or "", name or "", q)
            return
        if name:
            found = [o for o in items if o.get("metadata", {}).get("name") == name]
            if not found:
                self._status(404, "NotFound", f'{res} "{name}" not found')
                return
            self._send(200, json.dumps(found[0]).encode())
            return
        label = q.get("labelSelector", [""])[0]
        field = q.get("fieldSelector", [""])[0]
        # Filter and serialise once per query, not once per page: a 10,000-pod list is
        # read in 20 pages and the server shares the GIL with the client under test.
        key = (path, label, field)
        with self.kube._lock:
            cached = self.kube._pages.get(key)
        if cached is None:
            cached = [json.dumps(o).encode() for o in items
                      if _labels_match(o.get("metadata", {}).get("labels") or {}, label)
                      and _fields_match(o, field)]
            with self.kube._lock:
                self.kube._pages[key] = cached
        start = int(base64.b64decode(q["continue"][0]).decode()) if "continue" in q else 0
        limit = int(q.get("limit", ["0"])[0]) or len(cached) or 1
        page = cached[start:start + limit]
        meta: dict[str, Any] = {"resourceVersion": "1"}
        if start + limit < len(cached):
            meta["continue"] = base64.b64encode(str(start + limit).encode()).decode()
            meta["remainingItemCount"] = len(cached) - start - limit
        kind = {"pods": "PodList", "events": "EventList"}.get(res) or KIND[res] + "List"
        head = json.dumps({"kind": kind, "apiVersion": "v1", "metadata": meta})[:-1]
        self._send(200, head.encode() + b', "items": [' + b", ".join(page) + b"]}")

    def _log(self, ns: str, name: str, q: dict[str, list[str]]) -> None:
        container = q.get("container", [""])[0]
        previous = q.get("previous", ["false"])[0] == "true"
        text = self.kube.logs.get((ns, name, container, previous))
        if text is None:
            what = "previous terminated container" if previous else "container"
            self._status(400, "BadRequest",
                         f'{what} "{container}" in pod "{name}" not found')
            return
        lines = text.splitlines()
        if "sinceSeconds" in q:
            cutoff = time.time() - int(q["sinceSeconds"][0])
            lines = [ln for ln in lines
                     if datetime.fromisoformat(ln.split(" ", 1)[0].replace("Z", "+00:00"))
                     .astimezone(UTC).timestamp() >= cutoff]
        if "tailLines" in q:
            lines = lines[-int(q["tailLines"][0]):]
        if q.get("timestamps", ["false"])[0] != "true":
            lines = [ln.split(" ", 1)[1] if " " in ln else "" for ln in lines]
        body = "".join(ln + "\n" for ln in lines).encode()
        if "limitBytes" in q:
            body = body[: int(q["limitBytes"][0])]
        self._send(200, body, "text/plain")


# --- a scenario built from the real captures ------------------------------------------

FIXTURES = Path(__file__).parent / "kube_fixtures"
NS = "agents"
RS_HASH = "5d8f7c9b6d"


def _fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return doc


def agent_pod(i: int, *, oom: bool = False) -> dict[str, Any]:
    """Replica ``i`` of deploy/agent, from the production EKS pod of the is-healthy
    capture (pod-oomkilled-137-restarts101, Apache-2.0): its spec, probes, limits and
    status as captured; renamed into our namespace. Only replica with ``oom`` keeps the
    OOMKilled lastState and restart count; the others are as it would be freshly started.
    """
    pod = _fixture("pod-oomkilled-137-restarts101-is-healthy.converted.json")
    meta = pod["metadata"]
    meta.update(name=f"agent-{RS_HASH}-{i:05d}"[:40], namespace=NS,
                uid=f"00000000-0000-0000-0000-{i:012d}",
                labels={"app": "agent", "pod-template-hash": RS_HASH},
                ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                  "name": f"agent-{RS_HASH}", "controller": True,
                                  "uid": "rs-uid"}])
    meta.pop("generateName", None)
    cs = pod["status"]["containerStatuses"][0]
    if not oom:
        cs["restartCount"] = 0
        cs.pop("lastState", None)
    return pod


def agent_workload() -> list[dict[str, Any]]:
    """Deployment and ReplicaSet objects for the replicas (apps/v1 shapes)."""
    selector = {"matchLabels": {"app": "agent"}}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "agent", "namespace": NS, "uid": "deploy-uid"},
         "spec": {"replicas": 3, "selector": selector}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": f"agent-{RS_HASH}", "namespace": NS, "uid": "rs-uid",
                      "ownerReferences": [{"kind": "Deployment", "name": "agent",
                                           "controller": True}]},
         "spec": {"replicas": 3, "selector": {"matchLabels": {
             "app": "agent", "pod-template-hash": RS_HASH}}}},
    ]


def liveness_events_for(pod_name: str) -> list[dict[str, Any]]:
    """The real ``failing-liveness-pod`` events of the troubleshoot minikube EventList
    (Apache-2.0), pointed at ``pod_name`` in our namespace."""
    doc = _fixture("eventlist-liveness-failed-killing-imagepull-minikube-troubleshoot.json")
    out = []
    for ev in doc["items"]:
        if ev["involvedObject"].get("name") != "failing-liveness-pod":
            continue
        ev = json.loads(json.dumps(ev))
        ev["metadata"]["namespace"] = NS
        ev["involvedObject"].update(name=pod_name, namespace=NS)
        out.append(ev)
    return out


def load_agent_scenario(kube: FakeKube, replicas: int = 3) -> list[str]:
    """Three replicas (one OOM-killed, one liveness-killed), their workload, an
    unrelated pod in the same namespace, events, and current/previous logs. Returns the
    replica pod names."""
    pods = [agent_pod(i, oom=(i == 0)) for i in range(replicas)]
    kube.add(pods)
    kube.add(agent_workload())
    other = _fixture("pod-healthy-guaranteed-nginx-gke-k9s.json")
    other["metadata"].update(namespace=NS, labels={"app": "other"})
    kube.add([other])
    names = [p["metadata"]["name"] for p in pods]
    kube.add(liveness_events_for(names[1]))
    elsewhere = _fixture("eventlist-imagepull-backofflimit-oomjob-troubleshoot.json")["items"]
    kube.add(elsewhere)  # other namespaces: must be filtered out
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for name in names:
        kube.logs[(NS, name, "config-db", False)] = (
            f"{now}.000000001Z {{\"level\":30,\"msg\":\"incoming request\",\"pod\":\"{name}\"}}\n"
            f"{now}.000000002Z {{\"level\":30,\"msg\":\"request completed\"}}\n")
    kube.logs[(NS, names[0], "config-db", True)] = (
        "2024-07-18T09:59:58.000000000Z a line from long ago (outside any --since window)\n"
        f"{now}.000000000Z starting config-db\n"
        f"{now}.000000003Z Authorization: Bearer sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\n")
    return names


FakeKube.HANDLER = _Handler
