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
