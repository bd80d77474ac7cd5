"""Code findings as SARIF 2.1.0 (``scaledoc code -o sarif``), so CI systems annotate lines.

One run, one tool (``scaledoc``) whose rules are the cause ids of the findings (title,
meaning and fix from the catalogue); one result per finding, at ``warning`` level: a code
finding is a risk seen in source, weaker than a fault seen at run time. Paths under the
working directory are relative to ``%SRCROOT%`` (the working directory), as code-scanning
uploads expect; others are absolute ``file://`` URIs. The document is checked against the
OASIS schema in ``tests/test_sarif.py`` (vendored under ``schemas/vendor/``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from probes import __version__
from probes.causes import cause
from probes.evidence import Evidence
from probes.safe_text import visible

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def _location(path: str, root: Path) -> dict[str, Any]:
    p = Path(path)
    absolute = p if p.is_absolute() else (root / p)
    try:
        rel = absolute.resolve().relative_to(root.resolve())
    except ValueError:
        return {"uri": absolute.resolve().as_uri()}
    return {"uri": rel.as_posix(), "uriBaseId": "%SRCROOT%"}


def _rule(cause_id: str) -> dict[str, Any]:
    c = cause(cause_id)
    help_text = " ".join(c.next_steps)
    return {
        "id": cause_id,
        "name": "".join(w.capitalize() for w in cause_id.replace("/", "-").split("-")),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.summary},
        "help": {"text": help_text or c.summary},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["scaling", "concurrency"]},
    }


def to_sarif(ev: Evidence, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log of one code scan (``probes.code.scan``'s Evidence)."""
    root = root or Path(os.getcwd())
    findings = list(ev.data.get("findings", []))
    rule_ids = list(dict.fromkeys(str(f["cause"]) for f in findings))
    results: list[dict[str, Any]] = []
    for f in findings:
        region: dict[str, Any] = {"startLine": max(1, int(f.get("line") or 1))}
        column = f.get("column")
        if isinstance(column, int) and column >= 1:
            region["startColumn"] = column
        if f.get("excerpt"):
            region["snippet"] = {"text": visible(str(f["excerpt"]))}
        results.append({
            "ruleId": str(f["cause"]),
            "ruleIndex": rule_ids.index(str(f["cause"])),
            "level": "warning",
            "message": {"text": visible(str(f.get("why") or cause(str(f["cause"])).title))},
            "locations": [{"physicalLocation": {
                "artifactLocation": _location(str(f["path"]), root),
                "region": region,
            }}],
            "properties": {"signal": str(f.get("signal", ""))},
        })
    notes = [visible(f"{r.name}: {r.error}") for r in ev.inputs if r.error]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "scaledoc",
            "version": __version__,
            "rules": [_rule(r) for r in rule_ids],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
        "results": results,
        "invocations": [{
            "executionSuccessful": ev.error is None,
            "toolExecutionNotifications": [{"level": "warning", "message": {"text": n}}
                                           for n in notes],
        }],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
