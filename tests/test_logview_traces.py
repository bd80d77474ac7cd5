"""The Logs view shows each span of a trace export, not the whole resourceSpans line.

Real files: the bundled demo's OTLP export and one replica's log, through the real reader
and the real log index.
"""

from __future__ import annotations

from probes.pipeline import demo_paths
from tui.app.logview import build_index


def test_trace_rows_show_their_span_and_log_rows_their_line() -> None:
    traces = [p for p in demo_paths() if p.endswith("traces.jsonl")]
    logs = [p for p in demo_paths() if p.endswith("x2k9p.log")]
    index = build_index(traces + logs)
    texts = [index.text(row) for row in range(len(index.line))]
    spans = [t for t in texts if t.startswith("span ")]
    assert spans and all("resourceSpans" not in t for t in spans)
    assert any(t.startswith("span agent.run") and "run_start" in t for t in spans)
    assert any("status=" in t for t in spans if "request_end" in t)
    assert any(t.startswith("{") and '"msg":"run started"' in t for t in texts)
