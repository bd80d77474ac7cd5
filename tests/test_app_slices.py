"""The TUI's analysis worker runs with longer thread slices (``tui.app.main.
longer_thread_slices``): at the default 5 ms the worker and the UI's event loop traded
the GIL so often that a 1M-line verdict took 11.4 s against 7.8 s headless (20 ms: 8.2 s).
The interval must be the longer one while the analysis runs and the old one after, also
when workers overlap."""

from __future__ import annotations

import sys
import threading
from typing import Any

from probes.pipeline import analyze_paths
from tests.test_app import ready
from tui.app.main import ANALYSIS_SWITCH_S, ScaledocApp, longer_thread_slices

LOG = "tests/lab/scenarios/node-shared-instance/app.log"


def test_slices_are_longer_inside_and_restored_after_the_last_of_overlapping_users() -> None:
    before = sys.getswitchinterval()
    first_in, second_out = threading.Event(), threading.Event()
    seen: list[float] = []

    def first() -> None:
        with longer_thread_slices():
            first_in.set()
            second_out.wait(5)
            seen.append(sys.getswitchinterval())  # the other one left: still longer

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(5)
    with longer_thread_slices():
        seen.append(sys.getswitchinterval())
    second_out.set()
    t.join(5)
    assert seen == [ANALYSIS_SWITCH_S, ANALYSIS_SWITCH_S]
    assert sys.getswitchinterval() == before


async def test_the_app_analyses_with_longer_slices_and_restores_them() -> None:
    before = sys.getswitchinterval()
    during: list[float] = []

    def factory(cancel: threading.Event, **kw: Any) -> Any:
        during.append(sys.getswitchinterval())
        return analyze_paths([LOG], cancel=cancel, **kw)

    app = ScaledocApp(factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        assert during == [ANALYSIS_SWITCH_S]
        assert sys.getswitchinterval() == before
