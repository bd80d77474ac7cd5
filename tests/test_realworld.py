"""The verdicts on material the team did not write: the lab's captures of real services
and the corpus of real public material (``tests/score.py`` prints the full score).

What is asserted, and why only this:
- every lab scenario reaches the cause its run measured, and every fixed twin is healthy
  (the issue's bar). The lab's held-back part was last scored unseen at 16/23 right, with
  3 broken services called healthy; the cases it missed were then examined and fixed, so
  it is asserted here and no longer counts as unseen. The corpus's
  held-back part stays unseen: the score reports it, no test asserts it;
- no broken case in any set or part is called healthy: the one error never tolerated;
- no report contradicts its own evidence, in any set or part.
Nothing is mocked: every case goes through ``analyze_paths`` like ``scaledoc analyze``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("score", HERE / "score.py")
assert _spec and _spec.loader
score = importlib.util.module_from_spec(_spec)
sys.modules["score"] = score
_spec.loader.exec_module(score)

ALL = list(score.discover())
LAB = [c for c in ALL if c.set == "lab"]
_results: dict[str, object] = {}


def _result(case: object) -> object:
    key = f"{case.set}/{case.name}"  # type: ignore[attr-defined]
    if key not in _results:
        _results[key] = score.run(case)
    return _results[key]


def test_the_real_sets_exist() -> None:
    """The lab and the corpus are what this file is about: an empty set proves nothing."""
    counts = {s: sum(c.set == s for c in ALL) for s in score.SETS}
    assert counts["lab"] >= 10, counts
    assert counts["corpus"] >= 20, counts
    assert any(c.part == "held-back" for c in ALL if c.set == "lab")
    assert any(c.part == "held-back" for c in ALL if c.set == "corpus")


@pytest.mark.parametrize("case", LAB, ids=lambda c: c.name)
def test_lab_scenario_reaches_its_measured_cause(case: object) -> None:
    r = _result(case)
    assert r.right, (f"{case.name}: measured {r.expected}, got {r.verdict} {r.score} "  # type: ignore[attr-defined]
                     f"(2nd {r.runner_up})")  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", ALL, ids=lambda c: f"{c.set}/{c.name}")
def test_no_broken_case_is_called_healthy_and_no_report_contradicts_itself(case: object) -> None:
    r = _result(case)
    assert not r.broken_called_healthy, f"{case.name}: expected {r.expected}, called healthy"  # type: ignore[attr-defined]
    assert r.contradictions == [], r.contradictions  # type: ignore[attr-defined]


def test_held_back_rule_is_fixed_and_splits_about_a_third() -> None:
    names = [c.name for c in ALL]
    hidden = [n for n in names if score.held_back(n)]
    assert score.held_back("x") == score.held_back("x")
    assert 0.15 < len(hidden) / len(names) < 0.5


def test_score_prints_the_table_for_a_set() -> None:
    out = subprocess.run([sys.executable, str(HERE / "score.py"), "--set", "golden"],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    assert out.splitlines()[0].split()[:3] == ["set", "part", "right"]
    assert "golden   tune" in out and "golden   held-back" in out
    assert "expected → verdicts given" in out
