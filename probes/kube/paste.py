"""kubectl text as people paste it → Pod and Event dicts, like a JSON dump gives.

What an on-call engineer pastes into a ticket is rarely ``-o json``: it is ``kubectl
get pods`` (plain, ``-o wide``, ``-A``, or the ``pod/NAME`` rows of ``get all``),
``get deploy`` / ``get rs``, ``top pods``, event rows copied **without** their header
line, ``describe pod`` of several pods at once, the prompt lines between them, and
loose fragments ("Last State: Terminated / Reason: OOMKilled", "(last reason:
OOMKilled)"). ``parse_paste`` reads all of these from one text, block by block, and
counts every line it does not use with the reason.

A ``get pods`` row becomes a Pod whose status says what the row says (phase,
containers running/ready, waiting or terminated reason, restart count, node) and
whose spec is unknown: such pods carry ``_from: "table"`` and ``_row`` (the pasted
row), and the spec-reading signals skip them. Restarts are put on the first
container, since the row sums them over containers. Names that follow the
Deployment pattern (``NAME-<template hash>-<5 chars>``, kubectl's safe alphabet)
get their ReplicaSet as owner, as the API would show.

Line rules, in order (first match wins; each is one regex in ``_RULES`` or a
header in ``_HEADERS``): prompt lines (``$ kubectl ...``), table headers, a
describe block (``Name:`` at the left margin with ``Namespace:`` close below), rows
of the current table, pod / deployment / replicaset / top / event rows without a
header, wrapped event messages, fragments. Limits: ``MAX_LINES`` lines and
``MAX_LINE`` characters per line; the rest is counted as skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from probes.kube import describe, events_text

MAX_LINES = 200_000
MAX_LINE = 8_192
MAX_WRAPPED = 20
"""Lines joined to one event's message, at most (the rest are counted as skipped)."""

# --- table headers: (kind, regex on the header line) ---------------------------------
_HEADERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pods", re.compile(r"^\s*(?:NAMESPACE\s+)?NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\b")),
    ("deploy", re.compile(r"^\s*(?:NAMESPACE\s+)?NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+"
                          r"AGE\b")),
    ("rs", re.compile(r"^\s*(?:NAMESPACE\s+)?NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\b")),
    ("top", re.compile(r"^\s*(?:NAMESPACE\s+)?(?:POD\s+)?NAME\s+CPU\(cores\)\s+"
                       r"(?:CPU%?\s+|CPU\(%\)\s+)?MEMORY\(bytes\)")),
    ("events", re.compile(r"^\s*(?:NAMESPACE\s+)?(?:LAST SEEN|TIME|FIRST SEEN|Type)\s+.*"
                          r"\b(?:REASON|Reason)\b")),
    # other kubectl tables: their rows are skipped as such, never read as pods
    ("other", re.compile(r"^\s*(?:NAMESPACE\s+)?NAME\s+(?:TYPE\s+CLUSTER-IP|STATUS\s+ROLES|"
                         r"REFERENCE\s+TARGETS|STATUS\s+AGE|DATA\s+AGE|ENDPOINTS|"
                         r"COMPLETIONS|SCHEDULE|CLASS\s+HOSTS|TYPE\s+DATA|READY\s+AGE)\b")),
)
_PROMPT = re.compile(r"^\s*(?:[\w@.:~/-]*[$#%>❯➜]\s*|>\s*|\$\s*)*(?:sudo\s+)?"
                     r"(?:kubectl|oc|k|watch|Every\s)\b")

# --- rows without a header ------------------------------------------------------------
_POD_ROW = re.compile(
    r"^\s*(?:(?P<ns>[a-z0-9][a-z0-9.-]*)\s+)?(?:pod/)?(?P<name>[a-z0-9{][\w.{}-]*)\s+"
    r"(?P<ready>\d+/\d+)\s+(?P<status>[A-Za-z][\w:/-]*)\s+"
    r"(?P<restarts>\d+(?:\s+\([^)]*\))?)\s+(?P<age>\d[\w.]*|<unknown>)"
    r"(?P<wide>(?:\s+\S+)*)\s*$")
_DEPLOY_ROW = re.compile(
    r"^\s*(?:(?P<ns>[a-z0-9][a-z0-9.-]*)\s+)?(?:deployment(?:\.apps)?/)?"
    r"(?P<name>[a-z0-9][\w.-]*)\s+(?P<ready>\d+/\d+)\s+(?P<uptodate>\d+)\s+"
    r"(?P<available>\d+)\s+(?P<age>\d[\w.]*)(?:\s+\S+)*\s*$")
_RS_ROW = re.compile(
    r"^\s*(?:(?P<ns>[a-z0-9][a-z0-9.-]*)\s+)?(?:replicaset(?:\.apps)?/)?"
    r"(?P<name>[a-z0-9][\w.-]*)\s+(?P<desired>\d+)\s+(?P<current>\d+)\s+(?P<ready>\d+)\s+"
    r"(?P<age>\d[\w.]*)(?:\s+\S+)*\s*$")
_TOP_ROW = re.compile(
    r"^\s*(?P<names>(?:[\w{}.-]+\s+){1,3}?)(?P<cpu>\d+m|<unknown>)\s+(?:\d+%\s+)?"
    r"(?P<mem>\d+(?:Ki|Mi|Gi|Ti)|<unknown>)(?:\s+\d+%)?\s*$")
_AGE = r"(?:<unknown>|<invalid>|\d[\dsmhdy]*(?: \(x\d+ over \S+\))?)"
_EVENT_ROW = re.compile(
    rf"^\s*(?:(?P<ns>[a-z0-9][a-z0-9.-]*)\s+)?(?P<age>{_AGE})\s+(?P<type>Normal|Warning)\s+"
    r"(?P<reason>[A-Za-z]+)\s+(?P<object>[a-z][\w.]*/\S+)(?:\s+(?P<rest>\S.*?))?\s*$")
_DESCRIBE_EVENT_ROW = re.compile(
    r"^\s*(?P<type>Normal|Warning)\s+(?P<reason>[A-Za-z]+)\s+"
    rf"(?P<age>{_AGE}(?: ago)?)\s+(?P<source>\S.*?)\s{{2,}}(?P<message>\S.*?)\s*$")
_WIDE_TAIL = re.compile(r"\s{2,}(?P<first>\S+)\s{2,}(?P<count>\d+)\s{2,}"
                        r"(?P<evname>\S+\.[0-9a-f]{8,})$")

# --- fragments: a few lines of describe with no pod around them -----------------------
_STATE_LINE = re.compile(r"^\s*(?P<which>Last State|State):\s+"
                         r"(?P<state>Terminated|Waiting|Running)\b")
_STATE_FIELD = re.compile(r"^\s*(?P<key>Reason|Exit Code|Signal|Started|Finished|Message):"
                          r"\s*(?P<value>.*?)\s*$")
_LAST_REASON = re.compile(r"\(last reason: (?P<reason>[A-Za-z]+)\)")
_RESTART_AGO = re.compile(r"^(?P<n>\d+)(?:\s+\((?P<ago>[^)]*) ago\))?$")

# kubectl's pod-name alphabet for generated suffixes (k8s.io/apimachinery rand.String)
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_DEPLOY_POD = re.compile(rf"^(?P<deploy>[a-z0-9][a-z0-9.-]*?)-(?P<hash>[{_SAFE}]{{6,10}})"
                         rf"-(?P<suffix>[{_SAFE}]{{5}})$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 31536000}

# STATUS column → (phase, container state, reason)
_PENDING_WAITING = {"ContainerCreating", "PodInitializing", "ImagePullBackOff", "ErrImagePull",
                    "CreateContainerConfigError", "CreateContainerError", "InvalidImageName",
                    "ErrImageNeverPull", "RunContainerError"}
_TERMINATED = {"OOMKilled", "Error", "Completed", "ContainerCannotRun", "StartError",
               "DeadlineExceeded", "ContainerStatusUnknown"}


def age_seconds(text: str) -> int | None:
    """kubectl's short duration ("9m51s", "2d6h", "118s") in seconds; None otherwise."""
    parts = re.findall(r"(\d+)([smhdy])", text or "")
    if not parts or "".join(n + u for n, u in parts) != text.split(" ")[0]:
        return None
    return sum(int(n) * _UNIT[u] for n, u in parts)


@dataclass
class Paste:
    """What one pasted text held, as API-shaped dicts, and what was skipped."""

    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)  # deploy/rs rows
    usage: list[dict[str, Any]] = field(default_factory=list)  # top rows
    skipped: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    lines: int = 0

    @property
    def found(self) -> bool:
        return bool(self.pods or self.events or self.owners or self.usage)


def _table_pod(m: re.Match[str], wide_cols: list[str] | None) -> dict[str, Any]:
    """A Pod dict from one ``get pods`` row (see the module doc)."""
    name = m["name"]
    ready_n, total = (int(x) for x in m["ready"].split("/"))
    status = m["status"]
    restart = _RESTART_AGO.match(re.sub(r"\s+", " ", m["restarts"]))
    restarts = int(restart["n"]) if restart else 0
    wide = m["wide"].split()
    node = ip = None
    if wide_cols:
        cells = dict(zip(wide_cols, wide, strict=False))
        node, ip = cells.get("NODE"), cells.get("IP")
    elif len(wide) >= 2:
        ip, node = wide[0], wide[1]
    elif len(wide) == 1:
        node = wide[0]
    phase = "Running"
    pod_reason = None
    state: dict[str, Any]
    if status in ("Pending",) or status in _PENDING_WAITING or status.startswith("Init:"):
        phase = "Pending"
    elif status == "Completed":
        phase = "Succeeded"
    elif status in ("Evicted", "OutOfmemory", "OutOfcpu", "NodeAffinity", "Shutdown"):
        phase, pod_reason = "Failed", status
    statuses: list[dict[str, Any]] = []
    init_statuses: list[dict[str, Any]] = []
    if status == "Pending" and (node in (None, "<none>")):
        statuses = []
    else:
        for i in range(total):
            ready = i < ready_n
            if ready or status == "Running":
                state = {"running": {}}
            elif status in _TERMINATED:
                state = {"terminated": {"reason": status}}
            elif status.startswith("Init:"):
                state = {"waiting": {"reason": "PodInitializing"}}
            else:
                state = {"waiting": {"reason": status}}
            statuses.append({"name": f"container-{i + 1}", "ready": ready,
                             "restartCount": restarts if i == 0 else 0, "state": state})
        if status.startswith("Init:") and not re.match(r"Init:\d+/\d+$", status):
            init_statuses = [{"name": "init", "ready": False, "restartCount": restarts,
                              "state": {"waiting": {"reason": status.split(":", 1)[1]}}}]
            statuses[0]["restartCount"] = 0
    metadata: dict[str, Any] = {"name": name, "namespace": m["ns"] or ""}
    owner = _DEPLOY_POD.match(name)
    if owner:
        metadata["labels"] = {"pod-template-hash": owner["hash"]}
        metadata["ownerReferences"] = [{"kind": "ReplicaSet", "controller": True,
                                        "name": f"{owner['deploy']}-{owner['hash']}"}]
    if status == "Terminating":
        metadata["deletionTimestamp"] = "unknown (Terminating in kubectl get)"
    spec: dict[str, Any] = {
        "containers": [{"name": s["name"]} for s in statuses] or [{"name": "container-1"}],
        "initContainers": [{"name": s["name"]} for s in init_statuses]}
    if node and node != "<none>":
        spec["nodeName"] = node
    pod_status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses,
                                  "initContainerStatuses": init_statuses}
    if pod_reason:
        pod_status["reason"] = pod_reason
    if ip and ip != "<none>":
        pod_status["podIP"] = ip
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": pod_status, "_from": "table", "_row": m.group(0).strip(),
            "_age_s": age_seconds(m["age"])}


def _event(ns: str, age: str, type_: str, reason: str, obj: str, message: str,
           source: str = "") -> dict[str, Any]:
    kind, _, name = obj.partition("/")
    kind = events_text._KINDS.get(kind.lower().split(".")[0], kind) if name else "Pod"
    name = name or obj or "?"
    repeat = re.search(r"\(x(\d+) over", age)
    ev: dict[str, Any] = {
        "kind": "Event", "apiVersion": "v1", "metadata": {"namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "type": type_, "reason": reason, "message": message,
        "count": int(repeat.group(1)) if repeat else 1, "age": age}
    if source:
        ev["source"] = {"component": source}
    return ev


def _event_from_row(m: re.Match[str]) -> dict[str, Any]:
    """An event from a ``get events`` / ``kubectl events`` row without its header; the
    ``-o wide`` columns (SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME) are told apart
    by the event name at the end of the row."""
    rest = m["rest"] or ""
    source = ""
    tail = _WIDE_TAIL.search(rest)
    if tail:
        cells = re.split(r"\s{2,}", rest[:tail.start()].strip())
        rest = cells[-1] if cells else ""
        source = cells[-2] if len(cells) >= 2 else ""
    return _event(m["ns"] or "", m["age"], m["type"], m["reason"], m["object"], rest.strip(),
                  source)


def _blocks_of_describe(lines: list[str], i: int) -> int:
    """End (exclusive) of the describe block starting at line ``i``: it runs while lines
    are indented, blank, or ``Key:`` at the margin, up to the next ``Name:`` block."""
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if _starts_describe(lines, j):
            break
        if line.strip() and not line[0].isspace() and not describe._TOP.match(line.rstrip()):
            break
        j += 1
    return j


def _starts_describe(lines: list[str], i: int) -> bool:
    return (lines[i].startswith("Name:") and len(lines[i].split()) >= 2
            and any(ln.startswith("Namespace:") for ln in lines[i + 1:i + 4]))


def _is_node_describe(block: str) -> bool:
    return "\nRoles:" in block[:2000] or ("\nTaints:" in block[:4000]
                                          and "\nContainers:" not in block)


def parse_paste(text: str) -> Paste:
    """Everything kubectl-shaped in one pasted text (see the module doc). Never raises."""
    out = Paste()
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        out.skipped[f"lines past the first {MAX_LINES}"] += len(lines) - MAX_LINES
        lines = lines[:MAX_LINES]
    out.lines = len(lines)
    table: str | None = None
    wide_cols: list[str] | None = None
    ns_col = False
    events_block: list[str] = []
    last_event: dict[str, Any] | None = None
    fragments: list[tuple[str, dict[str, Any]]] = []
    i = 0

    def flush_events() -> None:
        if events_block:
            got = events_text.parse_events_table("\n".join(events_block))
            out.events.extend(got)
            out.formats["kubectl-events-table"] += 1
            events_block.clear()

    while i < len(lines):
        raw = lines[i]
        line = raw[:MAX_LINE].rstrip()
        if len(raw) > MAX_LINE:
            out.skipped[f"line cut at {MAX_LINE} characters"] += 1
        i += 1
        if not line.strip():
            if table == "events":
                flush_events()
                table = None
            last_event = None
            continue
        if _starts_describe(lines, i - 1):
            flush_events()
            table = None
            end = _blocks_of_describe(lines, i - 1)
            block = "\n".join(lines[i - 1:end])
            i = end
            if _is_node_describe(block):
                out.skipped["kubectl describe node (nodes are not read here)"] += (
                    block.count("\n") + 1)
                continue
            pods, events = describe.parse_describe(block)
            out.pods.extend(pods)
            out.events.extend(events)
            out.formats["kubectl-describe"] += 1
            continue
        header = next((kind for kind, rx in _HEADERS if rx.match(line)), None)
        if header is not None:
            flush_events()
            table = header
            ns_col = line.lstrip().startswith("NAMESPACE")
            cols = [c for c in re.split(r"\s{2,}", line.strip())]
            wide_cols = cols[cols.index("AGE") + 1:] if header == "pods" and "AGE" in cols else None
            if header == "events":
                events_block.append(line)
            elif header == "other":
                out.formats["kubectl-get (other kinds)"] += 1
            last_event = None
            continue
        if table == "events":
            events_block.append(line)
            continue
        if table == "other" and not _PROMPT.match(line):
            out.skipped["rows of a kubectl get table not read (services, nodes, hpa...)"] += 1
            continue
        m = _POD_ROW.match(line)
        if m and (table in (None, "pods") or line.lstrip().startswith("pod/")):
            out.pods.append(_table_pod(m, wide_cols if table == "pods" else None))
            out.formats["kubectl-get-pods"] += 1
            last_event = None
            continue
        m = _DEPLOY_ROW.match(line)
        if m and (table in (None, "deploy") or line.lstrip().startswith("deployment")):
            ready, desired = (int(x) for x in m["ready"].split("/"))
            out.owners.append({"kind": "Deployment", "name": m["name"], "namespace": m["ns"] or "",
                               "desired": desired, "ready": ready,
                               "available": int(m["available"]), "row": line.strip()})
            out.formats["kubectl-get-deploy"] += 1
            continue
        m = _RS_ROW.match(line)
        if m and (table in (None, "rs") or line.lstrip().startswith("replicaset")):
            out.owners.append({"kind": "ReplicaSet", "name": m["name"], "namespace": m["ns"] or "",
                               "desired": int(m["desired"]), "ready": int(m["ready"]),
                               "row": line.strip()})
            out.formats["kubectl-get-rs"] += 1
            continue
        m = _EVENT_ROW.match(line)
        if m:
            last_event = _event_from_row(m)
            out.events.append(last_event)
            out.formats["kubectl-events-rows"] += 1
            continue
        m = _DESCRIBE_EVENT_ROW.match(line)
        if m:
            last_event = _event("", m["age"], m["type"], m["reason"], "", m["message"],
                                m["source"])
            last_event["_no_object"] = True
            out.events.append(last_event)
            out.formats["describe-events-rows"] += 1
            continue
        m = _TOP_ROW.match(line)
        if m and table in (None, "top"):
            names = m["names"].split()
            row: dict[str, Any] = {"cpu": m["cpu"], "memory": m["mem"], "row": line.strip()}
            if ns_col and len(names) >= 2:
                row["namespace"], names = names[0], names[1:]
            row["pod"] = names[0]
            if len(names) > 1:
                row["container"] = names[1]
            out.usage.append(row)
            out.formats["kubectl-top"] += 1
            continue
        if _PROMPT.match(line):
            out.skipped["command line"] += 1
            table = None
            continue
        sm = _STATE_LINE.match(line)
        if sm:
            detail: dict[str, Any] = {}
            state = sm["state"].lower()
            while i < len(lines) and _STATE_FIELD.match(lines[i]):
                fm = _STATE_FIELD.match(lines[i])
                assert fm is not None
                if fm["key"] == "Reason":
                    detail["reason"] = fm["value"]
                elif fm["key"] == "Exit Code" and fm["value"].lstrip("-").isdigit():
                    detail["exitCode"] = int(fm["value"])
                i += 1
            which = "lastState" if sm["which"] == "Last State" else "state"
            fragments.append((which, {state: detail}))
            out.formats["describe fragment"] += 1
            continue
        lr = _LAST_REASON.search(line)
        if lr:
            fragments.append(("lastState", {"terminated": {"reason": lr["reason"]}}))
            out.formats["'(last reason: ...)' text"] += 1
            continue
        if last_event is not None and last_event["message"].count("\n") < MAX_WRAPPED:
            # a message that wrapped (or holds newlines, like a probe's output): the
            # lines up to the next row or blank line are its tail
            msg = last_event["message"]
            last_event["message"] = f"{msg}\n{line.strip()}" if msg else line.strip()
            continue
        out.skipped["not kubectl output"] += 1
    flush_events()
    out.pods = _merge_same_pods(out.pods, out.skipped)
    _attach_fragments(out, fragments)
    if len(out.pods) == 1:
        # describe's event rows name no object: with one pod in the paste they are its
        meta = out.pods[0].get("metadata") or {}
        for ev in out.events:
            if ev.pop("_no_object", False):
                ev["involvedObject"].update(name=meta.get("name", "?"),
                                            namespace=meta.get("namespace", ""))
                ev["metadata"]["namespace"] = meta.get("namespace", "")
    for ev in out.events:
        ev.pop("_no_object", None)
    return out


def _merge_same_pods(pods: list[dict[str, Any]], skipped: Counter[str]) -> list[dict[str, Any]]:
    """One pod per (namespace, name): a ``get pods`` row and a describe of the same pod
    are one pod. The describe is kept (it has the spec); what it lacks (phase,
    container statuses, a cut-off excerpt) is taken from the row. Of two rows of one
    pod (``--watch``), the later is kept."""
    out: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        name = str(meta.get("name") or "?")
        at = index.get(name)
        if at is None:
            index[name] = len(out)
            out.append(pod)
            continue
        kept, other = out[at], pod
        ns_a = (kept.get("metadata") or {}).get("namespace") or ""
        ns_b = meta.get("namespace") or ""
        if ns_a and ns_b and ns_a != ns_b:
            out.append(pod)  # same name in two namespaces: two pods
            continue
        if kept.get("_from") == "table" and other.get("_from") == "table":
            # `kubectl get pods --watch` prints a pod again on each change: the last row
            # is its latest state
            out[at] = other
            skipped["pod row repeated (--watch): the later row kept"] += 1
            continue
        if kept.get("_from") and not other.get("_from"):
            kept, other = other, kept
            out[at] = kept
        status = kept.setdefault("status", {})
        for key, value in (other.get("status") or {}).items():
            if value and not status.get(key):
                status[key] = value
        if not (kept.get("spec") or {}).get("containers") and other.get("spec"):
            kept.setdefault("spec", {})["containers"] = other["spec"].get("containers", [])
        if not (kept.get("metadata") or {}).get("namespace") and ns_b:
            kept["metadata"]["namespace"] = ns_b
        if other.get("_row") and not kept.get("_row"):
            kept["_row"] = other["_row"]
        skipped["pod seen twice (a get row and a describe): merged"] += 1
    return out


def _attach_fragments(out: Paste, fragments: list[tuple[str, dict[str, Any]]]) -> None:
    """Describe fragments name no pod: with exactly one pod in the paste they are that
    pod's first container's; otherwise they make a pod named "?" (``_from: fragment``)."""
    if not fragments:
        return
    target: dict[str, Any] | None = out.pods[0] if len({id(p) for p in out.pods}) == 1 else None
    if target is None:
        target = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "?", "namespace": ""},
                  "spec": {"containers": [{"name": "?"}]},
                  "status": {"containerStatuses": [{"name": "?"}]}, "_from": "fragment"}
        out.pods.append(target)
    statuses = target.setdefault("status", {}).setdefault("containerStatuses", [])
    if not statuses:
        first = (target.get("spec", {}).get("containers") or [{"name": "?"}])[0]
        statuses.append({"name": first.get("name", "?")})
    status = statuses[0]
    for which, state in fragments:
        # a fragment fills a state the pod does not show yet; it never overwrites one
        has = status.get(which) or {}
        if not has or (which == "lastState" and "terminated" not in has):
            status[which] = state


def iter_formats(p: Paste) -> Iterator[str]:
    for name, n in p.formats.most_common():
        yield f"{name} x{n}"


def looks_like_paste(head: str) -> bool:
    """Whether the start of a text holds a kubectl get/top table, a describe block (also
    after a prompt line), or pod or event rows without a header (two or more, or one
    after a ``kubectl`` command line)."""
    lines = head.splitlines()[:200]
    if any(rx.match(ln) for ln in lines for kind, rx in _HEADERS if kind != "other"):
        return True
    if any(_starts_describe(lines, i) for i in range(len(lines))):
        return True
    rows = sum(1 for ln in lines if _POD_ROW.match(ln) or _EVENT_ROW.match(ln)
               or _DESCRIBE_EVENT_ROW.match(ln))
    return rows >= 2 or (rows == 1 and any(_PROMPT.match(ln) for ln in lines))
