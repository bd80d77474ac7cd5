"""Kubernetes evidence: pods, events and container logs, live or from saved dumps.

Public API (what front ends and the pipeline call):

* ``pod_signals(pods, events)``: pure; dicts as ``kubectl get -o json`` prints them.
* ``looks_like_kube(doc)`` / ``looks_like_kube_text(head)`` / ``read_kube_path(path)`` /
  ``bundle_log_members(path)`` / ``bundle_log_inputs(path)``: offline inputs
  (``kubectl get -o json|yaml``, ``describe`` text, events tables, ``cluster-info dump``
  folders and stdout dumps, capture bundles); ``read_kube_text(name, text)`` for text
  already read (stdin). Pasted kubectl text (get/top tables, rows without a header,
  several describes, fragments) is read by ``paste``.
* ``KubeTarget`` / ``collect(target)`` / ``capture(target, out)``: live, read-only.

Module map: ``objects`` (tolerant accessors), ``termination`` (why a container
stopped), ``pods`` (signals and tables), ``describe`` (describe text), ``events_text``
(events tables), ``paste`` (pasted kubectl text), ``offline`` (files, folders,
bundles), ``live`` (the API), ``bundle`` (writing captures).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time they load on first use
    from probes.kube.bundle import CaptureError, capture
    from probes.kube.live import KubeTarget, collect
    from probes.kube.offline import (
        LogMember,
        bundle_log_inputs,
        bundle_log_members,
        looks_like_kube,
        looks_like_kube_text,
        read_kube_path,
        read_kube_text,
    )
    from probes.kube.pods import PodFacts, pod_data, pod_signals

# Loaded on first use (PEP 562): importing one submodule (probes.kube.live for the CLI's
# parser) must not load the offline readers, the bundle writer and the ingest stack.
_EXPORTS: dict[str, str] = {
    "CaptureError": "bundle", "capture": "bundle",
    "KubeTarget": "live", "collect": "live",
    "LogMember": "offline", "bundle_log_inputs": "offline", "bundle_log_members": "offline",
    "looks_like_kube": "offline", "looks_like_kube_text": "offline",
    "read_kube_path": "offline", "read_kube_text": "offline",
    "PodFacts": "pods", "pod_data": "pods", "pod_signals": "pods",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'probes.kube' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"probes.kube.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CaptureError",
    "KubeTarget",
    "LogMember",
    "PodFacts",
    "bundle_log_inputs",
    "bundle_log_members",
    "capture",
    "collect",
    "looks_like_kube",
    "looks_like_kube_text",
    "pod_data",
    "pod_signals",
    "read_kube_path",
    "read_kube_text",
]
