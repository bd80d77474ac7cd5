"""README screenshots: the demo incident in each view, written to ``screenshots/*.svg``.

Opt-in (``pytest -m screenshots tests/test_screenshots.py``), deselected by default: it
rewrites files in the repository. The demo incident is the bundled one
(``probes.pipeline.demo_paths()``), analysed by the real pipeline; paths are made
relative to the demo folder so the pictures do not show this machine's layout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_app import ready, settle
from textual.pilot import Pilot

from probes.pipeline import Analysis, analyze_paths, demo_paths
from tui.app.main import ScaledocApp

SHOTS = Path(__file__).resolve().parent.parent / "screenshots"

VIEWS: list[tuple[str, tuple[str, ...], tuple[int, int]]] = [
    ("verdict", (), (120, 36)),
    ("evidence", ("enter",), (120, 36)),
    ("tree", ("2",), (120, 36)),
    ("timeline", ("3",), (120, 36)),
    ("logs", ("4",), (120, 36)),
    ("concurrency", ("5",), (120, 36)),
    ("inputs", ("6",), (120, 36)),
    ("help", ("question_mark",), (120, 36)),
    ("verdict-80x24", (), (80, 24)),
    ("logs-80x24", ("4",), (80, 24)),
    ("verdict-light", ("ctrl+t",), (120, 36)),
]


@pytest.fixture(scope="module")
def demo() -> Analysis:
    paths = demo_paths()
    folder = Path(paths[0]).parent
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return analyze_paths([Path(p).name for p in paths])
    finally:
        os.chdir(cwd)


@pytest.mark.screenshots
@pytest.mark.parametrize(("name", "keys", "size"), VIEWS, ids=[v[0] for v in VIEWS])
async def test_screenshot(demo: Analysis, name: str, keys: tuple[str, ...],
                          size: tuple[int, int], monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> None:
    monkeypatch.chdir(Path(demo_paths()[0]).parent)  # the log index reads relative paths
    app = ScaledocApp(analysis=demo, title="scaledoc demo", save_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await press(pilot, app, keys)
        SHOTS.mkdir(exist_ok=True)
        app.save_screenshot(filename=f"{name}.svg", path=str(SHOTS))
    svg = (SHOTS / f"{name}.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "\x1b" not in svg


METRICS_CASE = Path(__file__).resolve().parent / "prom_cases" / "fleet-oom.case.json"


@pytest.mark.screenshots
async def test_screenshot_metrics(tmp_path: Path) -> None:
    """The Metrics view (key 0) has no demo evidence to show: it is taken on a case the
    Prometheus probe saved from the test fleet's OOM incident (tests/prom_cases/README.md)."""
    analysis = analyze_paths([str(METRICS_CASE)])
    app = ScaledocApp(analysis=analysis, title="scaledoc fleet-oom.case.json", save_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await press(pilot, app, ("0",))
        SHOTS.mkdir(exist_ok=True)
        app.save_screenshot(filename="metrics.svg", path=str(SHOTS))
    svg = (SHOTS / "metrics.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "\x1b" not in svg and "fleet-oom" in svg


async def press(pilot: Pilot[Any], app: ScaledocApp, keys: tuple[str, ...]) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot, app)
