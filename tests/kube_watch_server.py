"""The fake API server of ``tests/kube_server.py`` with the streaming endpoints of
``kubectl scaledoc -f``: ``watch=true`` lists (chunked NDJSON watch events) and
``log?follow=true`` (a chunked body that stays open). Real HTTP on 127.0.0.1.

Tests drive it: ``push(kind, type, obj)`` sends a watch event to open watches,
``append_log(ns, pod, container, text)`` writes to followed logs, ``expire_next`` makes
the next watch answer an ERROR event with code 410 (Gone), ``drop_watches()`` cuts every
open watch connection without a proper end (a dropped connection).
"""

from __future__ import annotations

import json
import queue
import re
import threading
from typing import Any

from tests.kube_server import FakeKube, _Handler

_END = object()
_DROP = object()


class WatchKube(FakeKube):
    def __init__(self) -> None:
        super().__init__()
        self.expire_next = False
        self._watchers: dict[str, list[queue.Queue[Any]]] = {"pods": [], "events": []}
        self._followers: dict[tuple[str, str, str], list[queue.Queue[Any]]] = {}
        self._wlock = threading.Lock()
        self.rv = 100

    def __exit__(self, *exc: object) -> None:
        with self._wlock:
            for qs in [*self._watchers.values(), *self._followers.values()]:
                for q in qs:
                    q.put(_END)
        super().__exit__(*exc)

    def push(self, kind: str, type_: str, obj: dict[str, Any]) -> None:
        """Change the stored object and tell open watches."""
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        store = self.pods if kind == "pods" else self.events
        name = obj["metadata"]["name"]
        store[:] = [o for o in store if o["metadata"]["name"] != name]
        if type_ != "DELETED":
            store.append(obj)
        self._pages.clear()
        line = json.dumps({"type": type_, "object": obj}).encode() + b"\n"
        with self._wlock:
            for q in self._watchers[kind]:
                q.put(line)

    def append_log(self, ns: str, pod: str, container: str, text: str) -> None:
        key = (ns, pod, container, False)
        self.logs[key] = self.logs.get(key, "") + text
        with self._wlock:
            for q in self._followers.get((ns, pod, container), []):
                q.put(text.encode())

    def drop_watches(self) -> None:
        with self._wlock:
            for q in self._watchers["pods"] + self._watchers["events"]:
                q.put(_DROP)

    def watching(self, kind: str) -> int:
        with self._wlock:
            return len(self._watchers[kind])

    def following(self, ns: str, pod: str, container: str) -> int:
        with self._wlock:
            return len(self._followers.get((ns, pod, container), []))


class _WatchHandler(_Handler):
    kube: WatchKube

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(self.path)
        q = parse_qs(parts.query)
        m = re.match(r"^/api/v1/namespaces/(?P<ns>[^/]+)/(?P<res>pods|events)"
                     r"(?:/(?P<name>[^/]+)/log)?$", parts.path)
        if m and q.get("watch", [""])[0] == "true":
            self._record()
            self._watch(m["res"])
            return
        if m and m["name"] and q.get("follow", [""])[0] == "true":
            self._record()
            self._follow(m["ns"], m["name"], q.get("container", [""])[0])
            return
        super().do_GET()

    def _start_chunked(self, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, q: queue.Queue[Any]) -> None:
        while True:
            item = q.get()
            if item is _END:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            if item is _DROP:
                self.close_connection = True
                self.connection.shutdown(2)  # cut mid-body: no final chunk
                return
            self._chunk(item)

    def _watch(self, res: str) -> None:
        kube = self.kube
        self._start_chunked("application/json")
        if kube.expire_next:
            kube.expire_next = False
            self._chunk(json.dumps({"type": "ERROR", "object": {
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
                "reason": "Expired", "message": "too old resource version"}}).encode() + b"\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        q: queue.Queue[Any] = queue.Queue()
        with kube._wlock:
            kube._watchers[res].append(q)
        try:
            self._stream(q)
        finally:
            with kube._wlock:
                kube._watchers[res].remove(q)

    def _follow(self, ns: str, pod: str, container: str) -> None:
        kube = self.kube
        self._start_chunked("text/plain")
        q: queue.Queue[Any] = queue.Queue()
        with kube._wlock:
            kube._followers.setdefault((ns, pod, container), []).append(q)
        now = kube.logs.get((ns, pod, container, False), "")
        if now:
            self._chunk(now.encode())
        try:
            self._stream(q)
        finally:
            with kube._wlock:
                kube._followers[(ns, pod, container)].remove(q)


WatchKube.HANDLER = _WatchHandler
