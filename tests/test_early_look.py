"""The early look: while a long log is read, the evidence so far is walked now and then
and its leading cause is shown as a hint (``probes.pipeline.EarlyLook``).

It rests on one property: ``LogAnalysis.finish`` can be called mid-stream and the analysis
goes on as if it had not been. That is checked on every lab, corpus and golden case (the
evidence after looks every fifth of the way equals the evidence of a straight pass), and
the pipeline's own looks on a generated pino log change nothing in the final verdict and
never say "healthy".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from probes import pipeline
from probes.analysis import LogAnalysis
from probes.pipeline import EarlyLook, analyze_paths, iter_events
from tests import score
from tests.bench_ingest import generate

CASES = [c for c in score.discover()]


def _json(ev: object) -> str:
    text = json.dumps(ev.to_json(), sort_keys=True, default=str)  # type: ignore[attr-defined]
    return re.sub(r'"collected_at": "[^"]*"', "", text)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_finish_mid_stream_leaves_the_analysis_unchanged(case: score.Case) -> None:
    events = list(iter_events(case.inputs))
    straight = LogAnalysis()
    for ev in events:
        straight.feed(ev)
    looked = LogAnalysis()
    step = max(1, len(events) // 5)
    for n, ev in enumerate(events):
        looked.feed(ev)
        if n % step == 0:
            looked.finish()
    assert _json(looked.finish()) == _json(straight.finish())


def test_the_pipeline_looks_early_and_the_verdict_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pino.log"
    generate(log, 3_000_000)  # about 12,000 lines of 4 replicas sharing agent instances
    # Early looks belong to the per-event path (inputs too big or too unusual for the
    # columnar one, which gives its verdict in about the time a first look would take).
    monkeypatch.setenv("SCALEDOC_COLUMNAR", "0")
    plain = analyze_paths([str(log)])
    monkeypatch.setattr(pipeline, "EARLY_FIRST_S", 0.0)  # look at every check (4096 events)
    monkeypatch.setattr(pipeline, "EARLY_EVERY_S", 0.0)
    monkeypatch.setattr(pipeline, "EARLY_COST_SHARE", 1e9)
    looks: list[EarlyLook] = []
    seen = analyze_paths([str(log)], preview=looks.append)
    assert len(looks) >= 2
    assert [lk.events for lk in looks] == sorted(lk.events for lk in looks)
    assert all(lk.top is None or lk.top[0] not in ("healthy", "inconclusive") for lk in looks)
    assert looks[-1].top is not None and looks[-1].top[0] == plain.verdict.verdict
    assert 0 < looks[-1].done <= looks[-1].total
    assert seen.verdict == plain.verdict
    assert _json(seen.case.evidence[0]) == _json(plain.case.evidence[0])
