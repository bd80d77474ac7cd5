"""`analyze --chrome-trace`: runs as async slices Perfetto accepts, overlaps kept.

Real inputs (a golden incident with overlapping runs) through the real CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def _export(tmp_path: Path, case: str) -> dict[str, object]:
    out = tmp_path / "trace.json"
    done = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", str(GOLDEN / case),
                           "--chrome-trace", str(out)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    doc: dict[str, object] = json.loads(out.read_text())
    return doc


def test_overlapping_runs_are_async_slices_on_their_instance_track(tmp_path: Path) -> None:
    doc = _export(tmp_path, "shared-instance-autogen-ts")
    events = doc["traceEvents"]
    assert isinstance(events, list)
    begins = {e["id"]: e for e in events if e["ph"] == "b"}
    ends = {e["id"]: e for e in events if e["ph"] == "e"}
    assert begins and set(ends) <= set(begins)
    for run_id, end in ends.items():
        begin = begins[run_id]
        assert (end["pid"], end["tid"], end["cat"]) == (begin["pid"], begin["tid"], begin["cat"])
        assert end["ts"] >= begin["ts"]
    # No B/E/X slices: those must nest per thread, and our runs overlap.
    assert not any(e["ph"] in ("B", "E", "X") for e in events)
    # Some instance track really holds overlapping runs, and its counter shows it.
    by_track: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for run_id, end in ends.items():
        by_track[(end["pid"], end["tid"])].append((begins[run_id]["ts"], end["ts"]))
    assert any(any(a[0] < b[0] < a[1] for a in spans for b in spans)
               for spans in by_track.values())
    assert max(e["args"]["runs"] for e in events if e["ph"] == "C") >= 2
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert all(n.startswith("instance ") for n in names)
    other = doc["otherData"]
    assert isinstance(other, dict) and other["verdict"] == "shared-instance"


def test_no_runs_says_so(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    done = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze",
                           str(GOLDEN / "inconclusive-access-log-only"), "--chrome-trace",
                           str(out)], capture_output=True, timeout=60)
    assert b"no runs with start times to export" in done.stderr
    assert json.loads(out.read_text())["traceEvents"] == []
