"""``kubectl get events`` / ``kubectl events`` tables → Event dicts.

Events are often all an operator kept (pods get replaced; events expire after an hour),
and they are pasted as the table kubectl prints. Columns are found from the header by
name and position, so the default table, ``kubectl events --for``, ``-o wide``,
custom-columns (``TIME REASON MSG``) and a bare describe ``Events:`` block all read the
same way. A message that wraps onto lines without a leading column value is joined to
its row. Relative ages ("4m44s") give no absolute time: such rows keep their printed
order; RFC3339 times are kept. Without an OBJECT column the pod is unknown ("?").
"""

from __future__ import annotations

import re
from typing import Any

from probes.evidence import parse_iso_ns

# header name -> field it fills
_COLUMNS = {
    "LAST SEEN": "time", "TIME": "time", "AGE": "time", "FIRST SEEN": "first",
    "TYPE": "type", "REASON": "reason", "OBJECT": "object", "SUBOBJECT": "subobject",
    "MESSAGE": "message", "MSG": "message", "COUNT": "count", "NAMESPACE": "namespace",
    "FROM": "source", "SOURCE": "source", "NAME": "name",
}
_HEADER = re.compile(r"^\s*[A-Z][A-Z ]*[A-Z]\s*$")
_REPEAT = re.compile(r"\(x(\d+) over")
_KINDS = {"pod": "Pod", "replicaset": "ReplicaSet", "deployment": "Deployment",
          "statefulset": "StatefulSet", "node": "Node", "job": "Job", "daemonset": "DaemonSet"}


def _header(line: str) -> list[tuple[int, str]] | None:
    """Column (start offset, name) pairs, when ``line`` is an events table header
    (upper case as ``kubectl get events`` prints it, or describe's "Type  Reason")."""
    upper = line.upper()
    if not _HEADER.match(upper):
        return None
    cols = [(m.start(), m.group(0)) for m in re.finditer(r"[A-Z]+(?: [A-Z]+)*", upper)]
    names = {n for _, n in cols}
    if "REASON" in names and names & {"MESSAGE", "MSG"} and all(n in _COLUMNS for n in names):
        return cols
    return None


def looks_like_events_table(text: str) -> bool:
    return any(_header(line) for line in text.splitlines()[:5])


def parse_events_table(text: str) -> list[dict[str, Any]]:
    """Event dicts (core/v1 shape) from every events table in ``text``."""
    events: list[dict[str, Any]] = []
    cols: list[tuple[int, str]] | None = None
    for line in text.splitlines():
        found = _header(line)
        if found:
            cols = found
            continue
        if cols is None or not line.strip() or set(line.strip()) <= {"-", " "}:
            continue
        row = _row(line, cols)
        if _is_row(row, cols):
            events.append(row)
        elif events:  # a wrapped message line
            events[-1]["message"] += "\n" + line.strip()
    return events


def _is_row(ev: dict[str, Any], cols: list[tuple[int, str]]) -> bool:
    """A new row, not the wrapped tail of a message: its TYPE is Normal/Warning, or
    (tables without TYPE) its REASON is one CamelCase word."""
    if any(name == "TYPE" for _, name in cols):
        return ev["type"] in ("Normal", "Warning")
    return bool(re.fullmatch(r"[A-Z][A-Za-z]+", ev["reason"]))


def _row(line: str, cols: list[tuple[int, str]]) -> dict[str, Any]:
    """Slice one line at the header's column offsets (kubectl aligns with tabwriter)."""
    values: dict[str, str] = {}
    for i, (start, name) in enumerate(cols):
        end = cols[i + 1][0] if i + 1 < len(cols) else len(line)
        values[_COLUMNS[name]] = line[start:end].strip()
    kind, name = "Pod", "?"
    if values.get("object"):
        k, _, n = values["object"].partition("/")
        kind, name = _KINDS.get(k.lower(), k), n or k
    when = values.get("time", "")
    repeat = _REPEAT.search(when)
    count = int(values["count"]) if values.get("count", "").isdigit() else \
        int(repeat.group(1)) if repeat else 1
    stamp = when.split(" ")[0] if when else ""
    ns = values.get("namespace", "")
    ev: dict[str, Any] = {
        "kind": "Event", "apiVersion": "v1", "metadata": {"namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "type": values.get("type", ""), "reason": values.get("reason", ""),
        "message": values.get("message", ""), "count": count,
    }
    if parse_iso_ns(stamp) is not None:
        ev["lastTimestamp"] = stamp
    elif when:
        ev["age"] = when
    return ev
