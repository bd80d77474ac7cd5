"""Hostile input files (issue 12, part 1): each one used to crash or run away; each now
gives a bounded, named refusal. Real files on disk, the real pipeline and, for the
command line, a real subprocess (``python -m tui.commands.cli``). Nothing is mocked.

The counts of inputs tried and refused are printed (``-s``) for the issue's closing note.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from probes.evidence import Case, Evidence
from probes.ingest.limits import DEEP_REASON, MAX_DEPTH, obj_too_deep, text_too_deep
from probes.pipeline import analyze_paths
from probes.redact import NON_FINITE_NOTE, json_out

ROOT = Path(__file__).resolve().parent.parent
DEEP = 60_000  # far past Python's recursion limit (1,000)


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """A Pod whose image expands to width**levels strings through aliases."""
    lines = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: lol",
             "a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"spec: {{containers: [{{name: c, image: *a{levels}}}]}}")
    return "\n".join(lines) + "\n"


CRASHERS: dict[str, tuple[str, str]] = {
    # name -> (file content, what the report must say)
    "case_str.json": (json.dumps({"evidence": ["oops"], "answers": {}}),
                      "evidence item 0 is a str"),
    "case_int.json": (json.dumps({"evidence": [{"probe": "logs"}, 7], "answers": {}}),
                      "evidence item 1 is a int"),
    "case_nan.json": ('{"evidence": [{"probe": "logs", "signals": [{"key": "x", "answer": '
                      '"yes", "value": NaN}]}], "answers": {}}', "NaN or Infinity"),
    "deep_line.jsonl": ('{"msg": "hi", "a": ' + "[" * DEEP + "]" * DEEP + "}\n", DEEP_REASON),
    "deep_pods.json": ('{"kind": "PodList", "apiVersion": "v1", "items": ['
                       + '{"a":' * DEEP + "1" + "}" * DEEP + "]}", DEEP_REASON),
    "deep_pod.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec: "
                      + "[" * DEEP + "]" * DEEP + "\n", "YAML nested deeper"),
    "deep_indent.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n"
                        + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(150))
                        + "  " * 151 + "v: 1\n", "YAML nested deeper"),
    "laughs.yaml": (billion_laughs(), "YAML aliases expand past"),
    "trace_deep.jsonl": ('{"resourceSpans": [{"scopeSpans": ' + "[" * DEEP + "]" * DEEP
                         + "}]}\n", DEEP_REASON),
}


def _said(analysis_inputs: list, needle: str) -> bool:
    text = json.dumps([i.to_json() for i in analysis_inputs])
    return needle in text


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_crasher_is_refused_with_its_reason(tmp_path: Path, name: str) -> None:
    content, needle = CRASHERS[name]
    path = tmp_path / name
    path.write_text(content)
    t0 = time.monotonic()
    analysis = analyze_paths([str(path)])  # must not raise (RecursionError, AttributeError)
    assert time.monotonic() - t0 < 20
    assert _said(analysis.inputs, needle), [i.to_json() for i in analysis.inputs]


def test_billion_laughs_with_save_case_is_quick_and_named(tmp_path: Path) -> None:
    """The issue's case: 9 levels of 9-way aliases with --save-case ran for minutes."""
    pod = tmp_path / "laughs.yaml"
    pod.write_text(billion_laughs())
    t0 = time.monotonic()
    proc = _cli("analyze", str(pod), "--save-case", str(tmp_path / "case.json"), "--json")
    took = time.monotonic() - t0
    print(f"billion laughs with --save-case: exit {proc.returncode} in {took:.1f}s")
    assert took < 30
    assert "Traceback" not in proc.stderr
    assert "YAML aliases expand past" in proc.stderr
    assert proc.returncode == 1  # nothing usable


def test_deep_inputs_through_the_cli_never_trace_back(tmp_path: Path) -> None:
    paths = []
    for name in ("deep_line.jsonl", "deep_pods.json", "deep_pod.yaml", "case_str.json"):
        (tmp_path / name).write_text(CRASHERS[name][0])
        paths.append(str(tmp_path / name))
    proc = _cli("analyze", *paths, "--json")
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    errors = " ".join(str(i.get("error")) + json.dumps(i.get("skipped")) for i in doc["inputs"])
    for name in ("deep_line.jsonl", "deep_pods.json", "deep_pod.yaml", "case_str.json"):
        assert CRASHERS[name][1] in errors, name
    print(f"crashers tried: {len(CRASHERS) + 1}, crashed: 0")


def test_small_aliases_and_moderate_nesting_still_read(tmp_path: Path) -> None:
    """The bounds must not refuse ordinary material: a few anchors, 20 levels."""
    doc = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent-1\n  labels: &l {app: agent}\n"
           "spec:\n  containers: [{name: app, image: x}]\n  x: *l\n"
           "status: {phase: Running}\n")
    path = tmp_path / "pod.yaml"
    path.write_text(doc)
    analysis = analyze_paths([str(path)])
    assert any(r["pod"] == "agent-1" for ev in analysis.case.evidence
               for r in ev.data.get("pods", []))
    nested = '{"msg": "ok", "level": "info", "a": ' + "[" * 20 + "]" * 20 + "}\n"
    log = tmp_path / "ok.jsonl"
    log.write_text(nested * 3)
    analysis = analyze_paths([str(log)])
    assert analysis.inputs[0].events == 3 and not analysis.inputs[0].skipped


def test_depth_checks() -> None:
    assert not text_too_deep('{"a": "' + "[" * 500 + '"}')  # brackets in a string
    assert text_too_deep("[" * (MAX_DEPTH + 1))
    assert not text_too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    deep: object = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    assert obj_too_deep(deep) and not obj_too_deep([[1]])


def test_json_out_is_strict_and_notes_non_finite() -> None:
    doc = {"a": float("nan"), "b": [float("inf"), 1.5, -math.inf], "token": "s3cr3t-value"}
    text = json_out(doc)
    back = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in output"))
    assert back["a"] is None and back["b"] == [None, 1.5, None]
    assert back[NON_FINITE_NOTE].startswith("3 non-finite")
    assert "s3cr3t" not in text
    assert NON_FINITE_NOTE not in json.loads(json_out({"a": 1.0}))


def test_kube_json_of_evidence_with_nan_is_strict() -> None:
    """The Evidence a front end prints with --json (tui/commands/kubectl, live and code all
    print through json_out)."""
    ev = Evidence(probe="ramp", target="x", data={"p95": float("nan")})
    back = json.loads(json_out(Case(evidence=(ev,)).to_json()))
    assert back["evidence"][0]["data"]["p95"] is None


def test_json_keys_with_control_characters_are_read(tmp_path: Path) -> None:
    """Found by tests/test_fuzz.py: a sample key holding a tab made msgspec refuse the
    typed layout (ValueError out of the reader). Such lines take the untyped decoder."""
    log = tmp_path / "tab.jsonl"
    log.write_text("".join(json.dumps({"level": 30, "msg": f"m{i}", "reques\tId": "r1",
                                       'q"k': 1}) + "\n" for i in range(5)))
    analysis = analyze_paths([str(log)])
    assert analysis.inputs[0].events == 5 and analysis.inputs[0].error is None


def test_owner_with_metadata_not_a_mapping() -> None:
    """Found by tests/test_fuzz.py: a Deployment whose metadata is a string (a cut YAML
    dump) raised AttributeError while listing owners."""
    from probes.kube.offline import read_kube_text

    ev = read_kube_text("cut.yaml", "apiVersion: v1\nkind: Deployment\nmetadata: oops\n")
    assert ev is not None and ev.data["owners"] == [
        {"kind": "Deployment", "name": None, "namespace": None}]
