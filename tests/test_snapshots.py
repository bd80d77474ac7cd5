"""Pictures of each view on the fixed incident, compared with accepted SVG snapshots.

The incident is the fixed data of ``tests/test_app.py`` (log times, paths relative to
the folder the test runs in, no clock shown), so a picture only changes when the UI
does. Review ``snapshot_report.html`` before accepting a change with
``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_app import HOSTILE, incident_analysis, ready, settle
from textual.pilot import Pilot
from textual.widgets import DataTable

from tui.app.main import ScaledocApp
from tui.app.screens.logs import LogsScreen

SIZE = (120, 36)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScaledocApp:
    folder = tmp_path / "incident"
    analysis = incident_analysis(folder, relative=True)
    monkeypatch.chdir(folder)
    return ScaledocApp(analysis=analysis, save_dir=tmp_path / "out")


def keys(*pressed: str) -> Callable[[Pilot[Any]], Any]:
    """Wait for the analysis and the log index, press keys, wait for workers again."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app: ScaledocApp = pilot.app  # type: ignore[assignment]
        await ready(pilot, app)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot, app)

    return run_before


class TestViews:
    def test_verdict(self, app: ScaledocApp, snap_compare: Any) -> None:
        """Opens on the verdict: the ranked causes, the top cause's why, fix and evidence."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys())

    def test_tree(self, app: ScaledocApp, snap_compare: Any) -> None:
        """The walked path: yes / no / not checked, who answered, the value and the key."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("2"))

    def test_tree_after_operator_answers(self, app: ScaledocApp, snap_compare: Any) -> None:
        """The operator answered 'containers restart' yes: the questions below it open up."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("2", "y"))

    def test_timeline(self, app: ScaledocApp, snap_compare: Any) -> None:
        """Runs per instance; run-1 and run-2 overlap on agent-1; run-1's lines below."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))

    def test_logs(self, app: ScaledocApp, snap_compare: Any) -> None:
        """Both replicas merged by time, one colour per pod; structured lines summarised."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("4"))

    def test_concurrency(self, app: ScaledocApp, snap_compare: Any) -> None:
        """Error rate against requests in flight, from the logs and from the ramp."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("5"))

    def test_inputs(self, app: ScaledocApp, snap_compare: Any) -> None:
        """Each input with its format, lines read and what was skipped."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("6"))

    def test_pods(self, app: ScaledocApp, snap_compare: Any) -> None:
        """The kube evidence's pods as a table; a value holding markup shown as text."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("7"))

    def test_processes_absent(self, app: ScaledocApp, snap_compare: Any) -> None:
        """No process evidence: the view says how to collect it."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("8"))


class TestDrillDown:
    def test_evidence_of_the_top_cause(self, app: ScaledocApp, snap_compare: Any) -> None:
        """enter on the top cause: every example behind it, with where and when."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("enter"))

    def test_hostile_line_dialog(self, app: ScaledocApp, snap_compare: Any) -> None:
        """A log line with markup and terminal escapes, shown escaped in the line dialog."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await keys("4")(pilot)
            screen = pilot.app.screen
            assert isinstance(screen, LogsScreen)
            index = screen.scaledoc.log_index
            assert index is not None
            row = next(r for r in screen.rows if index.text(r) == HOSTILE)
            screen.view.go_to(list(screen.rows).index(row))
            await pilot.press("enter")
            await settle(pilot, screen.scaledoc)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_help(self, app: ScaledocApp, snap_compare: Any) -> None:
        """? shows every key, by view."""
        assert snap_compare(app, terminal_size=SIZE, run_before=keys("question_mark"))


class TestSmallTerminal:
    def test_verdict_at_80x24(self, app: ScaledocApp, snap_compare: Any) -> None:
        """The verdict stacks vertically on a small terminal; the nav bar uses short names."""
        assert snap_compare(app, terminal_size=(80, 24), run_before=keys())

    def test_tree_at_80x24(self, app: ScaledocApp, snap_compare: Any) -> None:
        """The answer column comes first so it survives a narrow terminal."""
        assert snap_compare(app, terminal_size=(80, 24), run_before=keys("2"))


def test_light_theme(app: ScaledocApp, snap_compare: Any) -> None:
    """ctrl+t: the light theme keeps the verdict and its colours readable."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await keys("ctrl+t")(pilot)
        table = pilot.app.screen.query_one("#causes", DataTable)
        assert table.row_count >= 1

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
