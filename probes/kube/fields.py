"""The fields of Pods, Events and workloads that diagnosis reads, as a decoding schema.

A ``kubectl get pods,events -o json`` dump is mostly what no signal reads:
``metadata.managedFields``, annotations (a whole ``last-applied-configuration``), env,
volumes, mounts. Decoding it all into Python dicts cost more than everything the probe
does afterwards (10,000 pods and 50,000 events: 2.5 s in ``json``, and 1.9 s more to
walk the result for its depth). ``decode_dump`` decodes with msgspec into plain dicts
holding only the keys below; everything else is skipped by the decoder without being
built.

The result is the same dicts the general path gives, less keys nobody reads, so every
accessor in ``objects``, ``pods`` and ``termination`` works unchanged. Input this schema
does not describe exactly (a list where a name belongs, several documents back to back,
NaN, a top-level array) raises one of ``DecodeFailed``, and the caller takes the
general path (``offline._parse_text``), which reads anything ``json`` reads: the same
result, only slower. A key read by a new signal must be added here:
``tests/test_kube_fields.py`` compares both paths on every real capture.

Depth (``MAX_DEPTH``, kept by the caller with ``kept_too_deep``): most kept values are
scalars or flat mappings by type, so their depth is fixed by this schema; only the
values typed ``Any`` (a pod's status, a container's resources and probes) are walked.
Skipped fields are never built, and past Python's recursion limit the decoder refuses
the document (``RecursionError``, so the general path reports it as too deep).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

import msgspec

# total=False: a key absent from the input stays absent from the dict, as with json.
_Scalar = str | int | float | bool | None
_Flat = dict[str, _Scalar]


class _Meta(TypedDict, total=False):
    name: _Scalar
    namespace: _Scalar
    uid: _Scalar
    creationTimestamp: _Scalar
    deletionTimestamp: _Scalar
    labels: _Flat
    ownerReferences: list[_Flat]


class _Container(TypedDict, total=False):
    name: _Scalar
    image: _Scalar
    resources: Any
    livenessProbe: Any
    readinessProbe: Any
    startupProbe: Any


class _Spec(TypedDict, total=False):
    # Pod
    containers: list[_Container]
    initContainers: list[_Container]
    nodeName: _Scalar
    restartPolicy: _Scalar
    # Deployment / ReplicaSet / StatefulSet
    replicas: _Scalar


class _Item(TypedDict, total=False):
    kind: _Scalar
    apiVersion: _Scalar
    metadata: _Meta
    spec: _Spec
    # Pod status (phase, reason, message, qosClass, conditions, container statuses)
    # and a workload's (readyReplicas): small, kept whole
    status: Any
    # Event, core/v1 and events.k8s.io/v1
    involvedObject: _Flat
    regarding: _Flat
    reason: _Scalar
    message: _Scalar
    note: _Scalar
    type: _Scalar
    count: _Scalar
    deprecatedCount: _Scalar
    series: _Flat
    firstTimestamp: _Scalar
    lastTimestamp: _Scalar
    eventTime: _Scalar
    deprecatedFirstTimestamp: _Scalar
    deprecatedLastTimestamp: _Scalar
    # keys of pasted objects (probes.kube.paste), honoured when a dump carries them
    _from: _Scalar
    _row: _Scalar
    _age_s: _Scalar
    age: _Scalar


class _Doc(_Item, total=False):
    """A List (items) or a single object."""

    items: list[_Item]


ANY_IN_ITEM = ("status",)
"""The keys of ``_Item`` typed ``Any``: the only values of an item ``kept_too_deep``
walks, with those of ``ANY_IN_CONTAINER`` (a test checks both against the schema)."""
ANY_IN_CONTAINER = ("resources", "livenessProbe", "readinessProbe", "startupProbe")

_DECODER = msgspec.json.Decoder(_Doc)

DecodeFailed = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
"""What ``decode_dump`` raises on input outside its schema: take the general path."""


def decode_dump(data: bytes) -> dict[str, Any]:
    """One JSON document (a List or one object) as dicts holding only the keys read.

    Raises one of ``DecodeFailed`` when the bytes are not exactly one JSON object of
    this schema's shape."""
    return cast(dict[str, Any], _DECODER.decode(data))


def kept_too_deep(doc: Mapping[str, Any], limit: int) -> bool:
    """``too_deep(doc, limit)`` for a document ``decode_dump`` made, walking only the
    values its schema leaves untyped: every other list or dict sits at a level the
    schema fixes (six at most: item, spec, containers, container; or item, metadata,
    ownerReferences, reference), far under any limit worth having."""
    if limit < 6:
        return too_deep(doc, limit)
    return _item_too_deep(doc, limit - 1) or any(
        _item_too_deep(item, limit - 3) for item in doc.get("items", ()))


def _item_too_deep(item: Mapping[str, Any], left: int) -> bool:
    """Whether an item's untyped values nest deeper than ``left`` levels below it."""
    for key in ANY_IN_ITEM:  # a value one level below the item
        if too_deep(item.get(key), left):
            return True
    spec = item.get("spec")
    if not spec:
        return False
    for key in ("initContainers", "containers"):
        for c in spec.get(key, ()):
            # item, spec, the list, the container: its values are 4 levels below
            for field in ANY_IN_CONTAINER:
                if too_deep(c.get(field), left - 3):
                    return True
    return False


def too_deep(obj: Any, limit: int) -> bool:
    """``probes.ingest.limits.obj_too_deep`` (a list or dict at nesting level
    ``limit + 1`` or deeper, the top being level 1) for decoded JSON (plain dicts and
    lists), about five times faster: the recursion is bounded by ``limit`` itself, so
    it is safe on any input."""
    kind = type(obj)
    if kind is not dict and kind is not list:
        return False
    return _deeper(obj, limit)


def _deeper(value: Any, left: int) -> bool:
    if left == 0:
        return True
    for child in (value.values() if type(value) is dict else value):
        kind = type(child)
        if (kind is dict or kind is list) and _deeper(child, left - 1):
            return True
    return False
