"""``kubectl describe pod`` text → the Pod and Event dicts the rest of the probe reads.

Operators paste describe output into tickets far more often than JSON, and several real
captures exist only in that form (an eviction with exit 137, OOM kills with their
BackOff events). The text is lossy: event times are relative ages, so events keep their
printed order and no absolute time; captures cut short (GitHub excerpts) yield whatever
fields were complete. Field names map through ``_CONTAINER_FIELDS`` /
``_TERMINATED_FIELDS``, one line each.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import Any

from probes.evidence import iso_ns

_TOP = re.compile(r"^(?P<key>[A-Z][A-Za-z -]*?):(?:\s+(?P<value>.*))?$")
_FIELD = re.compile(r"^(?P<indent> +)(?P<key>[A-Za-z#][A-Za-z./ -]*?):(?:\s+(?P<value>.*))?$")
_EVENT_ROW = re.compile(r"^\s{2}(?P<type>Normal|Warning)\s{2,}(?P<reason>\S+)\s{2,}"
                        r"(?P<age>.+?)\s{2,}(?P<source>\S.*?)\s{2,}(?P<message>.*)$")
_REPEAT = re.compile(r"\(x(\d+) over")
# describe's "Conditions:" table rows: "  PodScheduled   False" (the header row says Type)
_CONDITION_ROW = re.compile(r"^\s+(?P<type>[A-Z][A-Za-z]+)\s+(?P<status>True|False|Unknown)\b")
_PROBE_OPT = re.compile(r"\b(delay|timeout|period)=(\d+)s|#(success|failure)=(\d+)")


def looks_like_describe(text: str) -> bool:
    head = text[:4000]
    return (head.startswith("Name:") and "\nNamespace:" in head
            and ("\nContainers:" in text or "\nStatus:" in head))


def _time(text: str) -> str | None:
    """RFC 1123 time as printed by describe → RFC 3339; None for Go's zero time."""
    if re.search(r"\b0001\b", text):
        return None
    try:
        dt = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if dt.year <= 1:
        return None
    return iso_ns(int(dt.timestamp()) * 1_000_000_000)


def _probe(text: str) -> dict[str, Any]:
    """"http-get http://:8079/ delay=300s timeout=1s period=10s #success=1 #failure=3"."""
    probe: dict[str, Any] = {}
    words = text.split()
    if words and words[0] == "http-get" and len(words) > 1:
        m = re.match(r"(?P<scheme>https?)://(?P<host>[^:/]*):(?P<port>[^/]+)(?P<path>/\S*)?",
                     words[1])
        if m:
            port: Any = int(m["port"]) if m["port"].isdigit() else m["port"]
            probe["httpGet"] = {"scheme": m["scheme"].upper(), "host": m["host"] or None,
                                "port": port, "path": m["path"] or "/"}
    elif words and words[0] == "tcp-socket" and len(words) > 1:
        port_text = words[1].rsplit(":", 1)[-1]
        probe["tcpSocket"] = {"port": int(port_text) if port_text.isdigit() else port_text}
    elif words and words[0] == "exec":
        inner = re.search(r"\[(.*?)\]", text)
        probe["exec"] = {"command": inner.group(1).split() if inner else []}
    names = {"delay": "initialDelaySeconds", "timeout": "timeoutSeconds",
             "period": "periodSeconds", "success": "successThreshold",
             "failure": "failureThreshold"}
    for m in _PROBE_OPT.finditer(text):
        key, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        probe[names[key]] = int(value)
    return probe


_TERMINATED_FIELDS = {"Reason": "reason", "Message": "message", "Exit Code": "exitCode",
                      "Started": "startedAt", "Finished": "finishedAt", "Signal": "signal"}


def _container(name: str, lines: list[tuple[int, str, str]]) -> tuple[dict[str, Any],
                                                                    dict[str, Any]]:
    """One container block: (spec, status) from its indented field lines."""
    spec: dict[str, Any] = {"name": name}
    status: dict[str, Any] = {"name": name}
    block: str | None = None  # "state" | "lastState" | "limits" | "requests"
    for indent, key, value in lines:
        if indent <= 4:
            block = None
            if key in ("State", "Last State"):
                block = "state" if key == "State" else "lastState"
                state = value.strip().lower()
                if state in ("terminated", "waiting", "running"):
                    status.setdefault(block, {})[state] = {}
            elif key in ("Limits", "Requests"):
                block = key.lower()
            elif key == "Image":
                spec["image"] = value
                status["image"] = value
            elif key == "Image ID":
                status["imageID"] = value
            elif key == "Ready":
                status["ready"] = value.strip() == "True"
            elif key == "Restart Count" and value.strip().isdigit():
                status["restartCount"] = int(value)
            elif key in ("Liveness", "Readiness", "Startup"):
                spec[f"{key.lower()}Probe"] = _probe(value)
            continue
        if block in ("state", "lastState"):
            states = status.get(block, {})
            if not states:
                continue
            state_name, detail = next(iter(states.items()))
            field = _TERMINATED_FIELDS.get(key)
            if field is None:
                continue
            if field == "exitCode" and value.strip().lstrip("-").isdigit():
                detail[field] = int(value)
            elif field in ("startedAt", "finishedAt"):
                detail[field if state_name != "running" else "startedAt"] = _time(value)
            else:
                detail[field] = value.strip()
        elif block in ("limits", "requests"):
            res = spec.setdefault("resources", {}).setdefault(block, {})
            res[key] = value.strip()
    return spec, status


def parse_describe(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod and its events from one ``kubectl describe pod`` output."""
    lines = text.splitlines()
    top: dict[str, str] = {}
    labels: dict[str, str] = {}
    sections: dict[str, list[tuple[int, str, str]]] = {}
    container_order: list[tuple[str, str]] = []
    section: str | None = None
    current: str | None = None
    last_top: str | None = None
    events: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    for line in lines:
        m = _TOP.match(line)
        if m:
            last_top = m["key"]
            section = m["key"] if m["key"] in ("Containers", "Init Containers", "Events",
                                               "Conditions") else None
            current = None
            top[m["key"]] = (m["value"] or "").strip()
            if m["key"] == "Labels" and "=" in top[m["key"]]:
                k, _, v = top[m["key"]].partition("=")
                labels[k] = v
            continue
        if last_top == "Labels" and section is None and line.startswith(" ") and "=" in line:
            k, _, v = line.strip().partition("=")
            if k and ":" not in k:
                labels[k] = v
            continue
        if section in ("Containers", "Init Containers"):
            cm = re.match(r"^  (?P<name>[a-z0-9][a-z0-9.-]*):\s*$", line)
            if cm:
                current = f"{section}/{cm['name']}"
                container_order.append((section, cm["name"]))
                sections[current] = []
                continue
            fm = _FIELD.match(line)
            if fm and current is not None:
                sections[current].append((len(fm["indent"]), fm["key"], fm["value"] or ""))
        elif section == "Conditions":
            cm = _CONDITION_ROW.match(line)
            if cm:
                conditions.append({"type": cm["type"], "status": cm["status"]})
        elif section == "Events":
            em = _EVENT_ROW.match(line)
            if em:
                repeat = _REPEAT.search(em["age"])
                events.append({
                    "kind": "Event", "apiVersion": "v1",
                    "metadata": {"namespace": top.get("Namespace", "")},
                    "involvedObject": {"kind": "Pod", "name": top.get("Name", ""),
                                       "namespace": top.get("Namespace", "")},
                    "type": em["type"], "reason": em["reason"], "message": em["message"],
                    "count": int(repeat.group(1)) if repeat else 1,
                    "source": {"component": em["source"]}, "age": em["age"].strip(),
                })
    if "Name" not in top:
        return [], []
    spec: dict[str, Any] = {"containers": [], "initContainers": []}
    status: dict[str, Any] = {"containerStatuses": [], "initContainerStatuses": []}
    for sect, name in container_order:
        c_spec, c_status = _container(name, sections[f"{sect}/{name}"])
        init = sect == "Init Containers"
        spec["initContainers" if init else "containers"].append(c_spec)
        status["initContainerStatuses" if init else "containerStatuses"].append(c_status)
    node = top.get("Node", "").split("/")[0]
    if node and node != "<none>":
        spec["nodeName"] = node
    for key, field in (("Status", "phase"), ("Reason", "reason"), ("Message", "message"),
                       ("QoS Class", "qosClass")):
        if top.get(key):
            status[field] = top[key]
    if conditions:
        status["conditions"] = conditions
    start = _time(top.get("Start Time", ""))
    if start:
        status["startTime"] = start
    metadata: dict[str, Any] = {"name": top["Name"], "namespace": top.get("Namespace", ""),
                                "labels": labels}
    owner = top.get("Controlled By", "")
    if "/" in owner:
        kind, _, oname = owner.partition("/")
        metadata["ownerReferences"] = [{"kind": kind, "name": oname, "controller": True}]
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                           "spec": spec, "status": status}
    if not container_order:
        # an excerpt cut before "Containers:": the spec (limits, probes) is unknown
        pod["_from"] = "describe-cut"
    return [pod], events
