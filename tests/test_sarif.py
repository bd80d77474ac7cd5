"""``scaledoc code -o sarif``: SARIF 2.1.0 that the OASIS schema accepts (vendored in
``schemas/vendor/``, no network), with one result per finding at its file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = json.loads((ROOT / "schemas" / "vendor" / "sarif-2.1.0-rtm.5.json").read_text())
CASES = ROOT / "tests" / "code_cases"


def sarif(*paths: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "tui.commands.cli", "code", "-o", "sarif", *paths],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def test_sarif_validates_and_points_at_the_findings() -> None:
    folders = [str(p / "broken") for p in sorted(CASES.iterdir()) if (p / "broken").is_dir()]
    doc = sarif(*folders)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]  # type: ignore[index]
    results = run["results"]
    assert len(results) >= len(folders)
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rules) == len(set(rules))
    from probes.causes import CAUSES

    for r in results:
        assert r["ruleId"] in CAUSES and rules[r["ruleIndex"]] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        path = ROOT / loc["artifactLocation"]["uri"]
        line = loc["region"]["startLine"]
        # The region names a real line of a real file, and its snippet is that line.
        assert path.is_file()
        lines = path.read_text().splitlines()
        assert 1 <= line <= len(lines)
        if path.suffix in (".py", ".ts", ".tsx", ".js", ".mjs", ".cjs"):  # manifests: a summary
            assert loc["region"]["snippet"]["text"].strip()[:20] in lines[line - 1]


def test_fixed_code_gives_a_valid_log_with_no_results() -> None:
    doc = sarif(str(CASES / "in_memory_state" / "fixed"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["runs"][0]["results"] == []  # type: ignore[index]


def test_schema_rejects_a_broken_log() -> None:
    doc = sarif(str(CASES / "in_memory_state" / "broken"))
    doc["runs"][0]["results"][0]["level"] = "fatal"  # type: ignore[index]
    assert list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(doc))
