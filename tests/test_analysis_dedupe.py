"""A run or request seen in two sources (the service's log and its trace export) is one.

Real files through the real reader and analysis: a pino log line pair and the OTLP span
the same service exported for the same run (same run id and request id attributes).
"""

from __future__ import annotations

import json
from pathlib import Path

from probes.analysis import LogAnalysis
from probes.ingest import IngestConfig, InputFile, LogReader, merge_by_time

HOST, PID = "agent-7d9f8b6c4-x2k9p", 25910
T0 = 1_795_315_449_536


def _log(path: Path, runs: list[tuple[str, str, int, int]]) -> None:
    lines = []
    for run, req, start, end in runs:
        base = {"hostname": HOST, "pid": PID, "instanceId": "team-1", "sessionId": f"s-{run}",
                "requestId": req, "runId": run}
        lines.append({"level": 30, "time": start, **base, "msg": "run started"})
        lines.append({"level": 30, "time": end, **base, "msg": "run finished"})
    path.write_text("\n".join(json.dumps(x) for x in sorted(lines, key=lambda d: d["time"])))


def _spans(path: Path, runs: list[tuple[str, str, int, int]]) -> None:
    spans = [{
        "traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "agent.run", "kind": 1,
        "startTimeUnixNano": str(start * 1_000_000 + 400), "endTimeUnixNano": str(end * 1_000_000),
        "attributes": [{"key": "agent.instance.id", "value": {"stringValue": "team-1"}},
                       {"key": "agent.run.id", "value": {"stringValue": run}},
                       {"key": "request.id", "value": {"stringValue": req}}],
        "status": {"code": 1}} for n, (run, req, start, end) in enumerate(runs, 1)]
    doc = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "host.name", "value": {"stringValue": HOST}},
        {"key": "process.pid", "value": {"intValue": str(PID)}}]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}
    path.write_text(json.dumps(doc) + "\n")


def _analyse(*paths: Path) -> LogAnalysis:
    readers = [LogReader(InputFile(p.name, p), IngestConfig()) for p in paths]
    analysis = LogAnalysis()
    for ev in merge_by_time([r.events() for r in readers]):
        analysis.feed(ev)
    return analysis


def test_log_and_trace_of_the_same_sequential_runs_do_not_overlap(tmp_path: Path) -> None:
    runs = [(f"run-{n:04d}abcdef", f"req-{n}", T0 + n * 1000, T0 + n * 1000 + 500)
            for n in range(5)]
    _log(tmp_path / "a.log", runs)
    _spans(tmp_path / "t.jsonl", runs)
    ev = _analyse(tmp_path / "a.log", tmp_path / "t.jsonl").finish()
    overlap = next(s for s in ev.signals if s.key == "runs.overlap_instance")
    assert overlap.answer.value == "no", overlap.detail
    assert ev.data["runs_total"] == 5
    assert ev.data["duplicate_observations"] == 10


def test_real_overlap_still_counts_with_both_sources(tmp_path: Path) -> None:
    runs = [("run-a-abcdef12", "req-1", T0, T0 + 900), ("run-b-abcdef12", "req-2", T0 + 100,
                                                          T0 + 500)]
    _log(tmp_path / "a.log", runs)
    _spans(tmp_path / "t.jsonl", runs)
    ev = _analyse(tmp_path / "a.log", tmp_path / "t.jsonl").finish()
    overlap = next(s for s in ev.signals if s.key == "runs.overlap_instance")
    assert overlap.answer.value == "yes"
    assert ev.data["runs_total"] == 2
