"""Export the runs as a Chrome trace (Perfetto, chrome://tracing), overlaps intact.

Perfetto rejects overlapping ``B/E``/``X`` slices on one thread, and overlapping runs on
one agent instance are exactly what we want to show. So each run is an *async* slice
(``ph: b`` / ``e``, paired by ``id`` = run id) on a track per instance, inside a process
per replica; a counter track (``ph: C``) per instance shows how many runs were active.
Names come from logs: they are redacted and made visible like every other report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from probes.evidence import parse_iso_ns
from probes.pipeline import Analysis
from tui.render.report import clean


def chrome_trace(analysis: Analysis) -> dict[str, Any]:
    """The trace document for the runs the log analysis kept."""
    runs = _runs(analysis)
    pids: dict[str, int] = {}
    tids: dict[tuple[int, str], int] = {}
    track_names: dict[tuple[int, int], str] = {}
    events: list[dict[str, Any]] = []
    deltas: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for run in runs:
        start = _us(run.get("start"))
        if start is None:
            continue
        end = _us(run.get("end"))
        process = clean(str(run.get("process") or "unknown process"))
        instance = clean(str(run.get("instance") or "no instance id"))
        pid = pids.get(process)
        if pid is None:
            pid = pids[process] = len(pids) + 1
            events.append({"name": "process_name", "ph": "M", "pid": pid,
                           "args": {"name": process}})
        tid = tids.get((pid, instance))
        if tid is None:
            tid = tids[(pid, instance)] = len(tids) + 1
            track_names[(pid, tid)] = f"instance {instance}"
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                           "args": {"name": track_names[(pid, tid)]}})
        run_id = clean(str(run.get("id")))
        args = {k: clean(str(run[k])) for k in ("session", "request", "outcome", "start_at",
                                                "end_at") if run.get(k)}
        common = {"name": f"run {run_id}", "cat": "run", "id": run_id, "pid": pid, "tid": tid}
        events.append({**common, "ph": "b", "ts": start, "args": args})
        if end is not None:
            events.append({**common, "ph": "e", "ts": end})
            deltas.setdefault((pid, tid), []).extend([(start, 1), (end, -1)])
    for (pid, tid), marks in deltas.items():
        active = 0
        name = track_names[(pid, tid)]
        for ts, step in sorted(marks, key=lambda m: (m[0], m[1])):
            active += step
            events.append({"name": f"active runs ({name})", "ph": "C", "pid": pid,
                           "ts": ts, "args": {"runs": active}})
    data = _log_data(analysis)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "tool": "scaledoc",
            "verdict": analysis.verdict.verdict,
            "runs_exported": len(runs),
            "runs_total": data.get("runs_total", len(runs)),
        },
    }


def write_chrome_trace(analysis: Analysis, path: str) -> int:
    """Write the trace; returns how many runs were exported."""
    doc = chrome_trace(analysis)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return int(doc["otherData"]["runs_exported"])


def _log_data(analysis: Analysis) -> Mapping[str, Any]:
    for ev in analysis.case.evidence:
        if ev.probe == "logs":
            return ev.data
    return {}


def _runs(analysis: Analysis) -> list[Mapping[str, Any]]:
    runs: Iterable[Any] = _log_data(analysis).get("runs") or ()
    return [r for r in runs if isinstance(r, Mapping)]


def _us(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    ns = parse_iso_ns(value)
    return None if ns is None else ns / 1000
