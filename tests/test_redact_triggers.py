"""The redaction pre-check and the per-rule triggers give what every rule gives.

``redact_text`` looks for any trigger in one pass (``_is_candidate``), then runs only the
rules whose own trigger is in the text (``_redact_triggered``). Both are speed only: on
every text here the result must be ``_redact_all``'s (all rules, in order). A rule whose
trigger missed a text it changes would stop redacting silently, so each rule is also
tried alone on each corpus text it changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from probes import redact
from probes.redact import _redact_all, _redact_triggered, redact_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "secrets" / "corpus.json").read_text(encoding="utf-8"))["kinds"]
KUBE = ROOT / "tests" / "kube_fixtures"


def _embeddings(text: str) -> list[str]:
    line = json.dumps({"level": 50, "msg": f"[case] {text}"})
    return [text, line, json.dumps(line)]


def _corpus_texts() -> list[str]:
    return [t for kind in CORPUS for t in _embeddings(kind["text"])]


def _event_texts() -> list[str]:
    """Every event message of the real EventLists, alone and as ``describe`` shows it."""
    out = []
    for path in sorted(KUBE.glob("eventlist-*.json")):
        for ev in json.loads(path.read_text())["items"]:
            msg = str(ev.get("message") or "")
            out += [msg, f"event {ev.get('type')} {ev.get('reason')}: {msg}"]
    return out


def _log_lines() -> list[str]:
    lines: list[str] = []
    for base in ("tests/lab/scenarios", "tests/corpus"):
        for path in sorted((ROOT / base).rglob("*.log")):
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()[::7]
    return lines


def test_each_rule_alone_is_triggered_by_every_text_it_changes() -> None:
    exercised = set()
    for text in _corpus_texts():
        triggered = redact._triggered(text)
        for i, (name, apply, _) in enumerate(redact._STEPS):
            if apply(text) != text:
                exercised.add(name)
                assert i in triggered, (name, text[:120])
    assert "pairs" in exercised and len(exercised) > 30, sorted(exercised)


@pytest.mark.parametrize("source", ["corpus", "events", "logs"])
def test_only_triggered_rules_give_what_all_rules_give(source: str) -> None:
    texts = {"corpus": _corpus_texts, "events": _event_texts, "logs": _log_lines}[source]()
    assert texts
    for text in texts:
        assert _redact_triggered(text) == _redact_all(text), text[:200]
        assert redact_text(text) == _redact_all(text), text[:200]


def test_one_pattern_precheck_is_the_needles_and_the_shapes() -> None:
    """``_CANDIDATE`` (one trie pattern on the lowered text) finds a needle exactly when
    one of the needles is in it; ``_SHAPES`` (one alternation) a shape exactly when one
    of them matches."""
    shapes = [re.compile(s) for s in redact._BY_SHAPE]
    texts = [*_corpus_texts(), *_event_texts(), *_log_lines()[:3000],
             *(f"x {n} y" for n in redact._BY_NEEDLE), *(f"{n}" for n in redact._BY_NEEDLE)]
    for text in texts:
        low = text.lower()
        needle = any(n in low for n in redact._BY_NEEDLE) or bool(redact._SIG_KEY.search(low))
        assert bool(redact._CANDIDATE.search(low)) == needle, text[:200]
        assert redact._SHAPES is not None
        shape = any(s.search(text) for s in shapes)
        assert bool(redact._SHAPES.search(text)) == shape, text[:200]
        assert redact._is_candidate(text) == (needle or shape)


def test_assigned_is_no_secret_word_but_a_sig_key_is() -> None:
    """The needle "sig" sent every Scheduled event ("Successfully assigned ...") through
    every rule; the SAS signature key "sig" is found by its shape, in every quoting the
    pairs rule reads."""
    scheduled = "Successfully assigned team-3/agent-03-5d8f-000a to ip-10-0-3-7.internal"
    assert not redact._is_candidate(scheduled)
    assert redact_text(scheduled) == scheduled
    for text, masked in (
            ("https://x.blob.core.windows.net/c?sv=2022&sig=AbC123xyz%3D", "sig=***"),
            ("SIG: AbC123xyz", "SIG: ***"),
            ('{"sig": "AbC123xyz"}', '{"sig": "***"}'),
            ('{\\"sig\\": \\"AbC123xyz\\"}', '{\\"sig\\": \\"***\\"}'),
            ("sig = 'AbC123xyz'", "sig = '***'")):
        assert redact._is_candidate(text), text
        assert masked in redact_text(text), (text, redact_text(text))
        assert redact_text(text) == _redact_all(text)
    assert redact_text("design=ok assigned=yes") == "design=ok assigned=yes"


def test_a_vendored_plugin_without_listed_triggers_keeps_its_flags(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin missing from ``_VENDOR_TRIGGERS`` (a newer table) is triggered by its own
    patterns, compiled with the plugin's flags (a case-insensitive pattern must still
    trigger on upper case)."""
    monkeypatch.delitem(redact._VENDOR_TRIGGERS, "softlayer")
    rules, _ = redact._load_vendored()
    rule = next(r for r in rules if r[0] == "detect-secrets softlayer")
    shapes = [re.compile(s) for s in rule[3][1]]
    assert shapes and rule[3][0] == ()
    text = "SOFTLAYER_API_KEY = " + "a" * 64  # upper case: the plugin ignores case
    assert rule[1].search(text)
    assert any(s.search(text) for s in shapes)
