"""Read the parts of Pod and Event objects that diagnosis needs, in one place.

Input is always the plain dict ``kubectl get -o json`` prints (the live path turns the
client's models into the same shape with ``sanitize_for_serialization``). Real captures
are ragged: the insights archive drops ``apiVersion``/``kind``, is-healthy fixtures hold
placeholders such as ``"@now-5m"`` where a time belongs, events come as core/v1
(``involvedObject``/``message``) or events.k8s.io/v1 (``regarding``/``note``), and older
events have ``firstTimestamp``/``lastTimestamp`` while newer ones only ``eventTime``. So
every accessor here tolerates missing or malformed fields and returns None rather than
raising: a bad field costs one fact, never the whole input.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from probes.evidence import iso_ns, parse_iso_ns

Obj = Mapping[str, Any]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while many objects are built (a dump read, a page
    of a list decoded, evidence built): each collection walks every container made so
    far, and with 10,000 pods and 50,000 events that cost more than the decoding
    itself. Reference counting still frees what is dropped, the few cycles made
    meanwhile wait for the collector's next run; a collector that was off stays off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def as_map(value: Any) -> Obj:
    """``value`` when it is a mapping, else an empty one (ragged input)."""
    if type(value) is dict:  # the common case, without the slower ABC check
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def meta(obj: Obj) -> Obj:
    return as_map(obj.get("metadata"))


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name") or "?")


def namespace_of(obj: Obj) -> str:
    return str(meta(obj).get("namespace") or "")


def time_ns(value: Any) -> int | None:
    """Integer UTC nanoseconds from an RFC3339 field; None for null or placeholders."""
    if value is None:
        return None
    if type(value) is str:
        return _parse_time(value)
    if isinstance(value, datetime):  # YAML loaded with timestamp resolution
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp()) * 1_000_000_000 + aware.microsecond * 1000
    return parse_iso_ns(value) if isinstance(value, str) else None


@lru_cache(maxsize=16384)
def _parse_time(text: str) -> int | None:
    """Cached: events live an hour and carry whole seconds, so a dump of 50,000 events
    holds a few thousand distinct times, and replicas share their rollout's."""
    return parse_iso_ns(text)


@lru_cache(maxsize=16384)
def iso_time(ns: int | None) -> str | None:
    """``probes.evidence.iso_ns`` (None stays None), cached, and its seconds cached
    apart: an event's first and last time are often one, events spread over an hour
    share their seconds (not their microseconds), replicas their rollout's."""
    if ns is None:
        return None
    seconds, frac = divmod(ns, 1_000_000_000)
    return f"{_iso_seconds(seconds)}.{frac // 1000:06d}Z"


@lru_cache(maxsize=16384)
def _iso_seconds(seconds: int) -> str:
    return iso_ns(seconds * 1_000_000_000)[:-8]  # without ".ffffffZ"


def is_pod(obj: Obj) -> bool:
    """A Pod, also without apiVersion/kind (insights archives keep only
    metadata/spec/status): recognised by spec.containers."""
    kind = obj.get("kind")
    if kind is not None:
        return kind == "Pod"
    return isinstance(as_map(obj.get("spec")).get("containers"), list) and "metadata" in obj


def is_event(obj: Obj) -> bool:
    kind = obj.get("kind")
    if kind is not None:
        return kind == "Event"
    return "involvedObject" in obj or ("regarding" in obj and "reason" in obj)


# ContainerView and EventView are made once per container and per event (10,000 pods,
# 50,000 events): not frozen, since a frozen dataclass sets each field through
# object.__setattr__ and was four times slower to build. Treat them as immutable; they
# hash by value (unsafe_hash) as the frozen ones did.
@dataclass(slots=True, unsafe_hash=True)
class ContainerView:
    """One container of a pod: its spec and its status side by side."""

    pod: str
    namespace: str
    name: str
    init: bool
    spec: Obj
    status: Obj

    @property
    def restart_count(self) -> int:
        n = self.status.get("restartCount")
        return n if isinstance(n, int) else 0

    @property
    def state(self) -> Obj:
        return as_map(self.status.get("state"))

    @property
    def last_state(self) -> Obj:
        return as_map(self.status.get("lastState"))

    @property
    def memory_limit(self) -> str | None:
        limits = as_map(as_map(self.spec.get("resources")).get("limits"))
        value = limits.get("memory")
        return str(value) if value not in (None, "") else None

    @property
    def image_digest(self) -> str:
        image_id = str(self.status.get("imageID") or "")
        at = image_id.rfind("@")
        return image_id[at + 1:] if at != -1 else image_id


def containers(pod: Obj) -> Iterator[ContainerView]:
    """Init containers then app containers, each with its status (or {} if none)."""
    spec = as_map(pod.get("spec"))
    status = as_map(pod.get("status"))
    pod_name, ns = name_of(pod), namespace_of(pod)
    for spec_key, status_key, init in (("initContainers", "initContainerStatuses", True),
                                       ("containers", "containerStatuses", False)):
        statuses = {str(as_map(s).get("name")): as_map(s) for s in as_list(status.get(status_key))}
        for c in as_list(spec.get(spec_key)):
            c = as_map(c)
            cname = str(c.get("name") or "?")
            yield ContainerView(pod_name, ns, cname, init, c, statuses.get(cname, {}))


@dataclass(slots=True, unsafe_hash=True)
class EventView:
    """One event, normalised across core/v1 and events.k8s.io/v1 shapes."""

    kind: str
    name: str
    namespace: str
    reason: str
    message: str
    type: str
    count: int
    first_ns: int | None
    last_ns: int | None
    ident: str = ""  # metadata.uid or name when the event came from the API

    @property
    def time_ns(self) -> int | None:
        return self.last_ns if self.last_ns is not None else self.first_ns

    def describe(self) -> str:
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"event {self.type} {self.reason}{times}: {self.message}".rstrip()


def event_view(ev: Obj) -> EventView:
    get = ev.get  # 50,000 events in a dump: each lookup counts
    target = as_map(get("involvedObject") or get("regarding"))
    message = get("message")
    if message is None:
        message = get("note")
    series = as_map(get("series"))
    md = as_map(get("metadata"))
    count = get("count") or series.get("count") or get("deprecatedCount") or 1
    first = (time_ns(get("firstTimestamp")) or time_ns(get("eventTime"))
             or time_ns(get("deprecatedFirstTimestamp"))
             or time_ns(md.get("creationTimestamp")))
    last = (time_ns(get("lastTimestamp")) or time_ns(series.get("lastObservedTime"))
            or time_ns(get("deprecatedLastTimestamp")) or first)
    return EventView(
        kind=str(target.get("kind") or ""),
        name=str(target.get("name") or ""),
        namespace=str(target.get("namespace") or md.get("namespace") or ""),
        reason=str(get("reason") or ""),
        message=str(message or "").strip(),
        type=str(get("type") or ""),
        count=count if isinstance(count, int) and count > 0 else 1,
        first_ns=first,
        last_ns=last,
        ident=str(md.get("uid") or md.get("name") or ""),
    )


# --- probes ------------------------------------------------------------------------

_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


def probe_check(probe: Any) -> tuple[str, ...] | None:
    """What a probe checks, without its timing: equal tuples mean the same check.

    httpGet → (scheme, host, port, path); tcpSocket → (port); exec → the command;
    grpc → (port, service). Named and numbered ports are compared as written.
    """
    p = as_map(probe)
    for handler in _HANDLERS:
        h = p.get(handler)
        if h is None:
            continue
        h = as_map(h)
        if handler == "httpGet":
            return (handler, str(h.get("scheme") or "HTTP").upper(), str(h.get("host") or ""),
                    str(h.get("port")), str(h.get("path") or "/"))
        if handler == "tcpSocket":
            return (handler, str(h.get("host") or ""), str(h.get("port")))
        if handler == "exec":
            return (handler, *[str(a) for a in as_list(h.get("command"))])
        return (handler, str(h.get("port")), str(h.get("service") or ""))
    return None


def probe_text(probe: Any) -> str:
    """A probe as ``kubectl describe`` writes it: "http-get https://:5443/healthz delay=0s..."."""
    p = as_map(probe)
    check = probe_check(p)
    if check is None:
        return "none"
    kind = check[0]
    if kind == "httpGet":
        what = f"http-get {check[1].lower()}://{check[2]}:{check[3]}{check[4]}"
    elif kind == "tcpSocket":
        what = f"tcp-socket {check[1]}:{check[2]}"
    elif kind == "exec":
        what = "exec [" + " ".join(check[1:]) + "]"
    else:
        what = f"grpc {check[1]} {check[2]}".rstrip()
    return (f"{what} delay={int_field(p, 'initialDelaySeconds', 0)}s "
            f"timeout={int_field(p, 'timeoutSeconds', 1)}s "
            f"period={int_field(p, 'periodSeconds', 10)}s "
            f"#failure={int_field(p, 'failureThreshold', 3)}")


def int_field(obj: Obj, key: str, default: int) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) else default


# --- owners ------------------------------------------------------------------------

def owner_of(pod: Obj) -> str | None:
    """The workload a pod belongs to, as "deploy/NAME", "sts/NAME", "rs/NAME", "ds/NAME",
    "job/NAME", or None for a bare pod.

    A ReplicaSet named ``<deployment>-<pod-template-hash>`` is reported as its Deployment
    (the hash is in the pod's ``pod-template-hash`` label), so replicas from two rollouts
    of one Deployment are compared together.
    """
    for ref in as_list(meta(pod).get("ownerReferences")):
        ref = as_map(ref)
        if ref.get("controller") is False:
            continue
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        if kind == "ReplicaSet":
            template_hash = as_map(meta(pod).get("labels")).get("pod-template-hash")
            if template_hash and name.endswith(f"-{template_hash}"):
                return "deploy/" + name[: -len(template_hash) - 1]
            return "rs/" + name
        short = {"StatefulSet": "sts", "DaemonSet": "ds", "Job": "job",
                 "ReplicationController": "rc"}.get(kind, kind.lower())
        return f"{short}/{name}"
    return None
