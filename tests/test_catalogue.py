"""The cause catalogue ships in the project: ``docs/causes.md`` is generated from
``probes/causes.py`` and the tree, and must match them; the README links it."""

from __future__ import annotations

from pathlib import Path

from probes.causes import CAUSES, HEALTHY, INCONCLUSIVE
from probes.signals import SIGNALS
from tui.render.catalogue import catalogue, render_markdown, signals_for

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "causes.md"


def test_docs_page_is_up_to_date() -> None:
    assert PAGE.read_text() == render_markdown(), (
        "docs/causes.md is stale: run python3 -m tui.render.catalogue > docs/causes.md")


def test_every_cause_has_a_section_signals_and_a_fix() -> None:
    page = PAGE.read_text()
    for c in catalogue():
        assert f"\n## {c['id']}\n" in page
        if c["id"] in (HEALTHY, INCONCLUSIVE):
            continue
        assert c["signals"], c["id"]
        assert all(s["key"] in SIGNALS for s in c["signals"])
        assert c["fix"]["next_steps"], c["id"]
    assert [c["id"] for c in catalogue()] == list(CAUSES)


def test_signals_come_from_the_tree() -> None:
    # The OOM kill is a direct signal of oom; the restart gate is above it, listed after.
    oom = signals_for("oom")
    assert oom.index("pods.oomkilled") < oom.index("pods.restarts")
    assert "runs.overlap_instance" not in oom


def test_readme_links_the_page() -> None:
    assert "](docs/causes.md)" in (ROOT / "README.md").read_text()
