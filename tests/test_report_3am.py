"""Reports worth reading at 3 a.m., read as a pipe reads them (the real CLI): a first block
of at most ten lines (verdict, the fact that proves it, what to do now), each evidence line
once, the unanswered questions as one sentence naming what to collect, and contradictions
said as a warning (text) and a key (JSON), with contradicting causes never both offered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from probes.evidence import Answer, Case, Evidence, Signal, example

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
# Cases whose top causes share evidence lines (an overlap is evidence for several causes).
SHARED_EVIDENCE = ["overlapping-timer-winston", "reentrant-run-callback-py",
                   "tool-timeout-otlp"]
CASES = [*SHARED_EVIDENCE, "inconclusive-access-log-only", "healthy-per-session-agents",
         "oom-busybox-describe"]


def inputs(name: str) -> list[str]:
    folder = GOLDEN / name
    return [str(p) for p in sorted(folder.iterdir()) if p.name != "expected.json"]


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def first_block(text: str) -> list[str]:
    return text.split("\n\n", 1)[0].splitlines()


@pytest.mark.parametrize("name", CASES)
def test_first_block_says_verdict_proof_and_what_to_do(name: str) -> None:
    proc = analyze(*inputs(name))
    block = first_block(proc.stdout)
    expected = json.loads((GOLDEN / name / "expected.json").read_text())["verdict"]
    assert len(block) <= 10
    assert block[0].startswith(f"verdict: {expected}")
    label = "seen: " if expected == "inconclusive" else "proof: "
    assert sum(ln.startswith(label) for ln in block) == 1
    assert sum(ln.startswith("do now: ") for ln in block) == 1
    assert all(ln == ln.rstrip() for ln in proc.stdout.splitlines())


@pytest.mark.parametrize("name", SHARED_EVIDENCE)
def test_each_evidence_line_appears_once(name: str) -> None:
    for fmt in ("text", "markdown"):
        out = analyze("-o", fmt, *inputs(name)).stdout
        body = out.split("decision path", 1)[0].split("Decision path", 1)[0]
        lines = body.splitlines()
        if fmt == "text":  # an evidence line: '  where  [signal]' then '    excerpt'
            shown = [(h, x) for h, x in zip(lines, lines[1:], strict=False)
                     if h.startswith("  ") and not h.startswith("   ") and h.endswith("]")
                     and x.startswith("    ")]
        else:  # '- `where` (signal) `excerpt` — note'
            shown = [(ln, "") for ln in lines if ln.startswith("- `")]
        assert shown
        repeated = {e for e in shown if shown.count(e) > 1}
        assert not repeated, (fmt, sorted(repeated)[:2])
    assert "line(s) shown above" in analyze(*inputs(name)).stdout


def test_unanswered_questions_are_one_sentence_naming_what_to_collect() -> None:
    text = analyze(*inputs("inconclusive-access-log-only")).stdout
    doc = json.loads(analyze("--json", *inputs("inconclusive-access-log-only")).stdout)
    assert doc["open_questions"], "the case leaves questions open"
    sentence = doc["not_checked"]
    assert sentence.count(". ") == 0 and sentence.endswith(".")
    assert f"{len(doc['open_questions'])} questions were not checked" in sentence
    assert doc["collect_next"][0] in sentence
    assert sentence in text
    assert "not checked (" not in text  # no list of keys any more
    assert not any(k in text.split("decision path", 1)[1].split("inputs", 1)[0]
                   for k in doc["open_questions"] if k not in sentence)


def _contradicting_case(tmp_path: Path) -> Path:
    """A case whose evidence contradicts itself (no overlap, yet already-running errors)
    and whose two best causes contradict each other (one shared agent; an agent per
    request that forgets), saved as 'scaledoc analyze --save-case' writes one."""
    def sig(key: str, answer: Answer, detail: str) -> Signal:
        ex = (example("app.log", 3, text=f"line for {key}"),) if answer is Answer.YES else ()
        return Signal(key, answer, detail, "logs", examples=ex)

    ev = Evidence("logs", "app.log", signals=(
        sig("runs.overlap_instance", Answer.NO, "no two runs overlap"),
        sig("errors.already_running", Answer.YES, "40 already-running errors"),
        sig("instance.many_sessions", Answer.YES, "one instance serves 9 sessions"),
        sig("instance.per_request", Answer.YES, "a new agent for every request"),
        sig("context.forgotten", Answer.YES, "sessions forget their turns")))
    path = tmp_path / "case.json"
    path.write_text(json.dumps(Case(evidence=(ev,)).to_json()))
    return path


def test_contradictions_are_a_json_key_and_a_text_warning(tmp_path: Path) -> None:
    case = _contradicting_case(tmp_path)
    doc = json.loads(analyze("--json", str(case)).stdout)
    assert doc["verdict"] == "context-reset"
    assert len(doc["contradictions"]) == 1
    assert "errors.already_running" in doc["contradictions"][0]
    # The two causes contradict each other: only the better-ranked one is offered.
    assert [c["id"] for c in doc["causes"]] == ["context-reset"]
    assert [w["id"] for w in doc["withheld"]] == ["shared-instance"]
    text = analyze(str(case)).stdout
    block = first_block(text)
    assert any(ln.startswith("warning: runs.overlap_instance is no") for ln in block)
    assert "shared-instance is not offered" in text
    assert "\n2  shared-instance" not in text
    md = analyze("-o", "markdown", str(case)).stdout
    assert "**Warning:** runs.overlap\\_instance is no" in md
    assert "| `shared-instance` |" not in md


def test_json_report_is_strict_even_with_a_non_finite_number(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """A NaN reaching the report (a probe's float, an edited case) must not print ``NaN``:
    no JSON parser reads it. ``to_json`` is replaced here only to put the NaN in."""
    import json as _json

    from probes.pipeline import analyze_paths, demo_paths
    from tui.render import report

    analysis = analyze_paths(demo_paths())
    real = report.to_json(analysis)
    monkeypatch.setattr(report, "to_json", lambda a: {**real, "score": float("nan"),
                                                      "extra": [float("inf")]})
    text = report.render_json(analysis)
    doc = _json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc["score"] is None and doc["extra"] == [None]
    assert "2 non-finite" in doc["json_note"]


def test_piped_tables_are_kubectl_lines_never_folded() -> None:
    """Into a pipe the ranked causes and the inputs are one line per row, padded columns,
    however long the names (the inputs table used to fold paths at 80 columns)."""
    folder = Path(__file__).parent / "lab" / "scenarios" / "py-non-idempotent-postgres"
    proc = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze",
                           str(folder / "app.log"), str(folder / "spans-worker1.json")],
                          capture_output=True, text=True, check=False)
    out = proc.stdout
    lines = out.splitlines()
    for name in ("app.log", "spans-worker1.json"):
        row = [ln for ln in lines if ln.endswith(")") and name in ln and "lab/scenarios" in ln]
        assert row, out
        assert str(folder.relative_to(Path.cwd()) / name) in row[0] if folder.is_relative_to(
            Path.cwd()) else str(folder / name) in row[0]
    head = next(ln for ln in lines if ln.startswith("input "))
    assert head.split() == ["input", "format", "lines", "events", "skipped"]
    assert not any(ln != ln.rstrip() for ln in lines)
    causes = lines.index(next(ln for ln in lines if ln.startswith("#  cause")))
    assert lines[causes + 1].lstrip().startswith("1  ")  # one row per cause
