"""The JSON report's published schema (``schemas/report.schema.json``) holds for every
golden case, a sample of the lab's scenarios, and what the real CLI prints (JSON and YAML).
Keys the README documents and the schema must stay in step with ``tui.render.report.to_json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from probes.pipeline import analyze_paths
from tui.render.report import to_json

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
GOLDEN = ROOT / "tests" / "golden"
GOLDEN_CASES = sorted(p for p in GOLDEN.iterdir() if (p / "expected.json").exists())
LAB = ROOT / "tests" / "lab" / "scenarios"
LAB_SAMPLE = sorted(p for p in LAB.iterdir() if p.is_dir())[::6]
"""Every sixth scenario by name: broken and fixed twins of several stacks."""

VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _inputs(folder: Path) -> list[str]:
    skip = {"expected.json", "truth.json", "README.md"}
    return [str(p) for p in sorted(folder.iterdir()) if p.name not in skip]


def _errors(doc: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATOR.iter_errors(doc)]


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert len(GOLDEN_CASES) >= 20 and len(LAB_SAMPLE) >= 8


@pytest.mark.parametrize("folder", GOLDEN_CASES + LAB_SAMPLE, ids=lambda p: p.name)
def test_report_matches_schema(folder: Path) -> None:
    doc = json.loads(json.dumps(to_json(analyze_paths(_inputs(folder)))))
    assert _errors(doc) == []


def test_schema_rejects_what_it_should() -> None:
    """The schema is not a rubber stamp: a missing key, a bad answer, a score above 1."""
    doc = json.loads(json.dumps(to_json(analyze_paths(_inputs(GOLDEN_CASES[0])))))
    broken = dict(doc)
    del broken["verdict"]
    assert _errors(broken)
    bad_answer = json.loads(json.dumps(doc))
    bad_answer["path"][0]["answer"] = "maybe"
    assert _errors(bad_answer)
    bad_score = json.loads(json.dumps(doc))
    bad_score["causes"][0]["score"] = 1.5
    assert _errors(bad_score)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cli_output_matches_schema(fmt: str) -> None:
    folder = GOLDEN / "shared-instance-autogen-ts"
    proc = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", "-o", fmt,
                           *_inputs(folder)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout) if fmt == "json" else yaml.safe_load(proc.stdout)
    assert doc["verdict"] == "shared-instance"
    assert _errors(doc) == []
