"""The pipeline joins every kind of evidence into one case: code, logs, pods, cancel.

Real files only: golden log folders, real kubectl captures, golden source trees.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from probes.evidence import Answer
from probes.pipeline import analyze_paths, demo_paths

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
CODE = TESTS / "code_cases"


def _supports(analysis: object, cause: str) -> set[str]:
    top = next(c for c in analysis.verdict.causes if c.id == cause)  # type: ignore[attr-defined]
    return {s.key for s in top.supports}


def test_code_findings_join_runtime_evidence_in_one_verdict() -> None:
    a = analyze_paths([str(CODE / "shared_instance" / "broken"),
                       str(GOLDEN / "shared-instance-autogen-ts")])
    assert {ev.probe for ev in a.case.evidence} >= {"logs", "code"}
    assert a.verdict.verdict == "shared-instance"
    assert {"code.shared_instance", "runs.overlap_instance"} <= _supports(a, "shared-instance")


def test_code_alone_is_a_weak_verdict_that_says_so() -> None:
    a = analyze_paths([str(CODE / "shared_instance" / "broken")])
    assert a.verdict.verdict == "shared-instance"
    top = a.verdict.causes[0]
    assert top.score < 0.6
    assert a.verdict.summary.startswith("Likely")
    assert all(s.strength < 1 for s in top.supports)


def test_pods_and_logs_rank_both_faults() -> None:
    a = analyze_paths([str(GOLDEN / "oom-config-db-restarts101"),
                       str(GOLDEN / "shared-instance-autogen-ts")])
    ids = [c.id for c in a.verdict.causes]
    assert "oom" in ids and "shared-instance" in ids
    assert a.case.signals()["pods.oomkilled"].answer is Answer.YES


def test_fixed_code_twin_stays_quiet_next_to_healthy_logs() -> None:
    a = analyze_paths([str(CODE / "shared_instance" / "fixed"),
                       str(GOLDEN / "healthy-per-session-agents")])
    assert a.verdict.verdict == "healthy"
    assert a.case.signals()["code.shared_instance"].answer is Answer.NO


def test_cancel_stops_and_says_so() -> None:
    cancel = threading.Event()
    cancel.set()
    a = analyze_paths(demo_paths(), cancel=cancel)
    assert a.cancelled


def test_progress_is_reported_in_bytes() -> None:
    seen: list[tuple[str, int, int]] = []
    paths = demo_paths()
    analyze_paths(paths, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert "sniffing" in {s for s, _, _ in seen}
    reading = [(d, t) for s, d, t in seen if s == "reading logs"]
    assert reading and all(t == sum(Path(p).stat().st_size for p in paths) for _, t in reading)
    assert all(0 < d <= t for d, t in reading)


def test_clean_code_alone_is_not_called_healthy() -> None:
    a = analyze_paths([str(CODE / "shared_instance" / "fixed")])
    assert a.case.signals()["code.shared_instance"].answer is Answer.NO
    assert a.verdict.verdict == "inconclusive"


def test_a_kubectl_dump_is_not_decoded_whole_to_learn_it_is_not_a_saved_case(
        tmp_path: Path) -> None:
    """Only the top-level keys are looked at (values kept raw) before a .json input is
    decoded as a case: a dump's keys are apiVersion/items/kind, so it is not one; a real
    saved case's are evidence/answers; a NaN-holding file msgspec refuses still goes to
    the full check, which says why it cannot be a case."""
    from probes.pipeline import _saved_case_keys

    dump = json.dumps({"apiVersion": "v1", "kind": "List", "items": [{"x": [1] * 100}]})
    assert not _saved_case_keys(dump.encode())
    case = json.dumps({"evidence": [{"probe": "logs"}], "answers": {}})
    assert _saved_case_keys(case.encode())
    assert _saved_case_keys(b'{"evidence": [NaN], "answers": {}}')
