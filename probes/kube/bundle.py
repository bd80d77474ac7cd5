"""Capture bundles: one self-describing .tar.gz to diagnose later with no cluster.

Layout (``read_kube_path`` and ``bundle_log_members`` read it back)::

    manifest.json      format, tool version, context, server, namespace, time window,
                       what was collected (counts, log files) and what was denied, why
    pods.json          PodList, as ``kubectl get pods -o json``
    events.json        EventList of the pods and their owners
    owners.json        List of the Deployments / ReplicaSets / StatefulSets targeted
    logs/<pod>/<container>.log            current log, ``--timestamps`` lines
    logs/<pod>/<container>.previous.log   the previous (terminated) instance
    (with -A: logs/<namespace>/<pod>/...)

Everything is redacted before it is written (``probes.redact``): env values with
secret-looking names, tokens, API keys, passwords in URLs, Authorization headers, in
objects and in every log line. The bundle is written to a temporary name and renamed,
so a half-written bundle never carries the final name.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import threading
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from probes.kube.live import Collected, KubeTarget, gather
from probes.kube.offline import BUNDLE_FORMAT, MANIFEST
from probes.redact import json_out, redact_text


class CaptureError(Exception):
    """The capture could not be made (cluster unreachable, bad target, cancelled)."""


def tool_version() -> str:
    try:
        return metadata.version("scaledoc")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def member_part(text: str) -> str:
    """One path component of a bundle member from cluster text (a pod, container or
    namespace name). Real names (DNS-1123: ``a-z0-9.-``) pass unchanged; anything else
    (escapes, ``/``, spaces, invisible characters) becomes ``_``, and ``.``/``..``/empty
    become ``_``, so ``tar tzf`` never prints a raw escape and no member leaves ``logs/``."""
    part = _UNSAFE.sub("_", str(text))[:253]
    return part if part.strip(".") else "_" + part


def _log_path(entry: dict[str, Any], by_namespace: bool) -> str:
    name = member_part(entry["container"]) + (".previous.log" if entry["previous"] else ".log")
    pod = member_part(entry["pod"])
    parts = ["logs", member_part(entry["namespace"]), pod, name] if by_namespace else \
        ["logs", pod, name]
    return "/".join(parts)


def manifest_for(got: Collected, target: KubeTarget, log_paths: dict[str, str]) -> dict[str, Any]:
    """The manifest: enough to know, months later, what this bundle is and is not."""
    since = target.since_seconds
    logs = []
    for entry in got.log_files:
        item = dict(entry)
        if entry["source"] in log_paths:
            item["path"] = log_paths[entry["source"]]
        logs.append(item)
    return {
        "format": BUNDLE_FORMAT,
        "tool": "scaledoc",
        "tool_version": tool_version(),
        "created": _iso(got.finished or time.time()),
        "context": got.context,
        "server": redact_text(got.server or ""),
        "namespace": got.namespace,
        "all_namespaces": target.all_namespaces,
        "targets": list(target.targets),
        "selector": target.selector,
        "container": target.container,
        "time_window": {
            "collected_from": _iso(got.started),
            "collected_to": _iso(got.finished),
            "logs_since_seconds": since,
            "logs_from": _iso(got.started - since) if since else None,
            "tail_lines": target.tail_lines,
            "limit_bytes": target.limit_bytes,
            "events_note": "events older than the API server's --event-ttl (1 h by default) "
                           "are gone and cannot be in this bundle",
        },
        "collected": {"pods": len(got.pods), "events": len(got.events),
                      "owners": len(got.owners), "logs": len(log_paths),
                      "api_calls": got.api_calls},
        "denied": [d.to_json() for d in got.denied],
        "logs": logs,
        "redaction": "secret-looking env values, tokens, API keys, URL passwords and "
                     "Authorization headers were masked before writing",
    }


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _json_bytes(doc: Any) -> bytes:
    """Redacted, strict JSON (``json_out``): every object member goes through it."""
    return (json_out(doc, indent=1, ensure_ascii=False) + "\n").encode()


def write_bundle(got: Collected, target: KubeTarget, out: Path) -> Path:
    """Write collected objects and logs as a redacted bundle at ``out``."""
    out = Path(out)
    by_namespace = len({e["namespace"] for e in got.log_files}) > 1 or target.all_namespaces
    log_paths = {source: _log_path(entry, by_namespace)
                 for entry in got.log_files if "lines" in entry
                 for source in [entry["source"]]}
    manifest = manifest_for(got, target, log_paths)
    now = got.finished or time.time()
    partial = out.with_name(out.name + ".partial")
    try:
        with tarfile.open(partial, "w:gz") as tar:
            _add(tar, MANIFEST, _json_bytes(manifest), now)
            _add(tar, "pods.json", _json_bytes(
                {"apiVersion": "v1", "kind": "PodList", "metadata": {},
                 "items": got.pods}), now)
            _add(tar, "events.json", _json_bytes(
                {"apiVersion": "v1", "kind": "EventList", "metadata": {},
                 "items": got.events}), now)
            if got.owners:
                _add(tar, "owners.json", _json_bytes(
                    {"apiVersion": "v1", "kind": "List", "metadata": {},
                     "items": got.owners}), now)
            for source, lines in got.logs:
                path = log_paths.get(source)
                if path is not None:
                    text = "".join(redact_text(line) + "\n" for line in lines)
                    _add(tar, path, text.encode("utf-8"), now)
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    return out


def capture(target: KubeTarget, out: Path, cancel: threading.Event | None = None, *,
            logs: bool = True) -> Path:
    """Collect (read-only) and write the bundle. Raises ``CaptureError`` with a one-line
    message when nothing could be collected; refusals of single kinds are recorded in
    the manifest instead."""
    from probes.kube.live import Cancelled, Unreachable

    try:
        got = gather(target, cancel, logs=logs)
    except Unreachable as exc:
        raise CaptureError(str(exc)) from exc
    except Cancelled as exc:
        raise CaptureError("cancelled") from exc
    except ValueError as exc:
        raise CaptureError(str(exc)) from exc
    return write_bundle(got, target, out)
