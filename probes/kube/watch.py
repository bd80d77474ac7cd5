"""``kubectl scaledoc -f``: list then watch pods and events, follow every container's log.

Read-only, like ``probes.kube.live`` (whose ``Session`` loads the kubeconfig the same
way): only GETs (list, ``watch=true`` lists, ``log?follow=true``).

* **List then watch.** Pods and events are listed once (their ``resourceVersion``), then
  watched from it (``watch=true&resourceVersion=RV``, ``allowWatchBookmarks``). A watch
  the server closes is resumed from the last version seen; a watch that expired (HTTP 410
  or an ``ERROR`` event with code 410 "Gone") relists; a dropped connection retries with
  backoff (0.5 s doubling to 10 s) and says so through ``say`` (stderr in the CLI).
* **Logs.** Each container of each pod is followed (``follow=true&timestamps=true``,
  starting from the last ``tail_lines`` lines), new pods of the selection as the watch
  shows them; when a container's ``restartCount`` grows, its previous log is read once
  and its new instance followed. Each log is a ``LiveStream`` fed to the same
  ``probes.follow.Follower`` as files, named ``pod/NAME/CONTAINER``.
* **Evidence.** After each pod or event change the kube evidence is rebuilt from the
  current objects (``probes.kube.offline.evidence_from``) and handed to the follower
  (``set_static``), which re-ranks.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from probes.follow import Follower, LiveStream
from probes.kube.live import KubeTarget, Session

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 10.0
WATCH_TIMEOUT_S = 300
"""Asked of the server per watch call (it may close sooner); the watch then resumes."""
LOG_READ_TIMEOUT_S = 3600
"""A followed log silent this long ends (the client needs a finite read timeout)."""


class HttpLogStream(LiveStream):
    """A streaming HTTP body (a followed log) as a ``LiveStream``: each chunk as it
    arrives; the body's end (the container stopped) ends the stream."""

    blocking = True

    def __init__(self, resp: Any, cancel: threading.Event) -> None:
        super().__init__(cancel)
        self._resp = resp
        self._chunks: Iterator[bytes] = resp.stream(None, decode_content=True)
        self._ended = False

    def _chunk(self, n: int) -> bytes | None:
        if self._ended:
            return None
        if self._pushback_extra:
            data, self._pushback_extra = self._pushback_extra[:n], self._pushback_extra[n:]
            return data
        try:
            data = next(self._chunks)
        except (StopIteration, OSError, ValueError, AttributeError):
            self._ended = True  # closed by stop(), or the log ended
            return None
        except Exception:  # noqa: BLE001 - urllib3 protocol errors end this log only
            self._ended = True
            return None
        if len(data) > n:
            data, self._pushback_extra = data[:n], data[n:]
        return data

    _pushback_extra = b""

    def _wait(self) -> None:
        pass  # _chunk blocks on the socket itself

    def close(self) -> None:
        _shutdown(self._resp)
        super().close()


class KubeFollow:
    """Watches pods and events of ``target`` and feeds ``follower`` (module docstring)."""

    def __init__(self, target: KubeTarget, follower: Follower,
                 say: Callable[[str], None] = lambda _msg: None) -> None:
        self.target = target
        self.follower = follower
        self.say = say
        self.cancel = follower.cancel
        self.session = Session(target, follower.cancel)
        self.namespace = self.session.collected.namespace or "default"
        self.pods: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self._followed: dict[tuple[str, str], int] = {}  # (pod, container) -> restarts
        self._lock = threading.Lock()
        self.relists = 0
        self.retries = 0
        self._threads: list[threading.Thread] = []
        self._open: dict[str, Any] = {}  # kind -> the watch response being read

    # -- lifecycle
    def start(self) -> None:
        for kind in ("pods", "events"):
            t = threading.Thread(target=self._list_watch, args=(kind,), daemon=True,
                                 name=f"scaledoc-watch-{kind}")
            t.start()
            self._threads.append(t)

    def _list_fn(self, kind: str) -> Callable[..., Any]:
        core = self.session.core
        return core.list_namespaced_pod if kind == "pods" else core.list_namespaced_event

    def _kwargs(self, kind: str) -> dict[str, Any]:
        if kind == "pods" and self.target.selector:
            return {"label_selector": self.target.selector}
        return {}

    def _list_watch(self, kind: str) -> None:
        from kubernetes.client.exceptions import ApiException

        backoff = BACKOFF_START_S
        rv: str | None = None
        while not self.cancel.is_set():
            try:
                if rv is None:
                    rv = self._list(kind)
                rv = self._watch(kind, rv)
                backoff = BACKOFF_START_S
            except ApiException as exc:
                if exc.status == 410:
                    self.relists += 1
                    self.say(f"watch {kind}: expired (410 Gone); listing again")
                    rv = None
                    continue
                self._retry(kind, f"HTTP {exc.status} {exc.reason}", backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except Exception as exc:  # noqa: BLE001 - any dropped connection: retry
                if self.cancel.is_set():
                    return
                self._retry(kind, f"{type(exc).__name__}: {str(exc)[:120]}", backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _retry(self, kind: str, why: str, backoff: float) -> None:
        self.retries += 1
        self.say(f"watch {kind}: connection lost ({why}); retrying in {backoff:g}s")
        self.cancel.wait(backoff)

    def _list(self, kind: str) -> str:
        resp = self._list_fn(kind)(self.namespace, _preload_content=False,
                                   _request_timeout=self.target.request_timeout,
                                   **self._kwargs(kind))
        doc = json.loads(resp.data)
        store = self.pods if kind == "pods" else self.events
        with self._lock:
            store.clear()
            for obj in doc.get("items") or []:
                store[_uid(obj)] = obj
        self._changed(kind)
        return str((doc.get("metadata") or {}).get("resourceVersion") or "")

    def _watch(self, kind: str, rv: str) -> str:
        from kubernetes.client.exceptions import ApiException

        resp = self._list_fn(kind)(self.namespace, watch=True, resource_version=rv,
                                   allow_watch_bookmarks=True, timeout_seconds=WATCH_TIMEOUT_S,
                                   _preload_content=False,
                                   _request_timeout=(self.target.request_timeout,
                                                     WATCH_TIMEOUT_S + 30),
                                   **self._kwargs(kind))
        store = self.pods if kind == "pods" else self.events
        buf = b""
        self._open[kind] = resp
        try:
            for chunk in resp.stream(None, decode_content=True):
                if self.cancel.is_set():
                    return rv
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    ev = json.loads(line)
                    obj = ev.get("object") or {}
                    kind_of = ev.get("type")
                    if kind_of == "ERROR":
                        code = obj.get("code")
                        raise ApiException(status=code or 500, reason=obj.get("message", ""))
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if kind_of == "BOOKMARK":
                        continue
                    with self._lock:
                        if kind_of == "DELETED":
                            store.pop(_uid(obj), None)
                        else:
                            store[_uid(obj)] = obj
                    self._changed(kind)
        finally:
            self._open.pop(kind, None)
            resp.release_conn()
        return rv

    # -- reactions
    def _changed(self, kind: str) -> None:
        if kind == "pods":
            self._follow_logs()
        self._update_evidence()

    def _update_evidence(self) -> None:
        from probes.evidence import InputReport
        from probes.kube.offline import evidence_from

        with self._lock:
            pods = list(self.pods.values())
            events = list(self.events.values())
        report = InputReport(name=f"cluster {self.session.collected.context or '?'} (watch)",
                             kind="kube", format="kubernetes-api",
                             events=len(pods) + len(events),
                             notes=(f"{len(pods)} pod(s), {len(events)} event(s) watched; "
                                    f"{self.relists} relist(s), {self.retries} retry(ies)",))
        # the namespace the kubeconfig chose when none was given, not '?'
        target = self.target if self.target.namespace or self.target.all_namespaces \
            else replace(self.target, namespace=self.namespace)
        ev = evidence_from(target.describe(), pods, events, [report])
        self.follower.set_static("kube", ev, report)

    def _follow_logs(self) -> None:
        with self._lock:
            pods = list(self.pods.values())
        for pod in pods:
            name = (pod.get("metadata") or {}).get("name") or ""
            statuses = {s.get("name"): s for s in
                        (pod.get("status") or {}).get("containerStatuses") or []}
            for c in (pod.get("spec") or {}).get("containers") or []:
                cname = c.get("name") or ""
                if self.target.container and cname != self.target.container:
                    continue
                st = statuses.get(cname) or {}
                if "running" not in (st.get("state") or {}):
                    continue
                restarts = int(st.get("restartCount") or 0)
                seen = self._followed.get((name, cname))
                if seen is not None and seen >= restarts:
                    continue
                self._followed[(name, cname)] = restarts
                if restarts and (seen is None or restarts > seen):
                    self._open_log(name, cname, previous=True)
                if not self.target.previous_only:  # --previous: kubectl logs -p
                    self._open_log(name, cname, previous=False)

    def _open_log(self, pod: str, container: str, *, previous: bool) -> None:
        kw: dict[str, Any] = {"container": container, "timestamps": True,
                              "_preload_content": False,
                              "_request_timeout": (self.target.request_timeout,
                                                   LOG_READ_TIMEOUT_S)}
        if previous:
            kw["previous"] = True
        else:
            kw["follow"] = True
            if self.target.tail_lines is not None:
                kw["tail_lines"] = self.target.tail_lines
        since = self.target.log_since()  # --since / --since-time, as kubectl logs -f
        if since:
            kw["since_seconds"] = since
        try:
            resp = self.session.core.read_namespaced_pod_log(pod, self.namespace, **kw)
        except Exception as exc:  # noqa: BLE001 - one log that cannot be read is said, not fatal
            self.say(f"log {pod}/{container}{' (previous)' if previous else ''}: "
                     f"{type(exc).__name__}: {str(exc)[:120]}")
            return
        name = f"pod/{pod}/{container}" + ("/previous" if previous else "")
        self.follower.add(name, HttpLogStream(resp, self.cancel))

    def stop(self) -> None:
        self.cancel.set()
        for resp in list(self._open.values()):
            _shutdown(resp)
        for t in self._threads:
            t.join(2)


def _shutdown(resp: Any) -> None:
    """End a streaming response another thread is blocked reading: shut its socket down
    (``resp.close()`` from a second thread waits for the reader)."""
    sock = getattr(getattr(resp, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _uid(obj: dict[str, Any]) -> str:
    m = obj.get("metadata") or {}
    return str(m.get("uid") or f"{m.get('namespace')}/{m.get('name')}")
