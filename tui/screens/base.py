"""What every top-level screen shares: the navigation bar, the footer, data access.

Top-level views are Textual *modes* (one screen stack each), so switching views keeps
each view's state (scroll, filter, selection) and ``esc`` can pop a drill-down inside a
view or, at a view's root, go back to the view you came from (the app keeps that
history). Screens read the app's state (``app.analysis``, ``app.log_index``) through
``watch`` so that a re-ranked verdict reaches every view at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from tui.app import ScaledocApp


@dataclass(frozen=True, slots=True)
class View:
    """One top-level view: its mode name, the key that opens it, its title."""

    mode: str
    key: str
    title: str
    probe: str | None = None  # shown dim when this probe's evidence is absent
    short: str = ""  # the title on narrow terminals


VIEWS: tuple[View, ...] = (
    View("verdict", "1", "Verdict"),
    View("tree", "2", "Tree"),
    View("timeline", "3", "Timeline"),
    View("logs", "4", "Logs"),
    View("concurrency", "5", "Concurrency", short="Load"),
    View("inputs", "6", "Inputs"),
    View("pods", "7", "Pods", "kube"),
    View("processes", "8", "Processes", "process", short="Procs"),
    View("code", "9", "Code", "code"),
)


def evidence_data(analysis: Any, probe: str) -> list[Mapping[str, Any]]:
    """The ``data`` of every Evidence of ``probe`` in the analysis's case."""
    if analysis is None:
        return []
    return [ev.data for ev in analysis.case.evidence if ev.probe == probe]


def evidence_of(analysis: Any, probe: str) -> list[Any]:
    if analysis is None:
        return []
    return [ev for ev in analysis.case.evidence if ev.probe == probe]


def logs_data(analysis: Any, key: str) -> list[Any]:
    """A list from the logs evidence's ``data`` (runs, concurrency, instances), or []."""
    out: list[Any] = []
    for data in evidence_data(analysis, "logs"):
        value = data.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            out.extend(value)
    return out


class NavBar(Static):
    """The view tabs, k9s-style: number keys switch views; click works too."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.watch(self.app, "analysis", lambda _: self.refresh_tabs())
        self.refresh_tabs()

    def refresh_tabs(self) -> None:
        app: ScaledocApp = self.app  # type: ignore[assignment]
        narrow = self.app.size.width < 100
        text = Text("" if narrow else " scaledoc ", style="bold #ffffff on #5f5f87", end="")
        self._spans = []
        for view in VIEWS:
            text.append(" ")
            start = len(text.plain)
            absent = view.probe is not None and not evidence_of(app.analysis, view.probe)
            if view.mode == self.current:
                style = "bold #ffffff on #005fd7"
            elif absent:
                style = "#808080"
            else:
                style = ""
            title = (view.short or view.title) if narrow else view.title
            text.append(f"{view.key} {title}", style=style)
            self._spans.append((start, len(text.plain), view.mode))
        self.update(text)

    def on_resize(self) -> None:
        self.refresh_tabs()

    async def on_click(self, event: events.Click) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                await self.app.run_action(f"goto('{mode}')")


class BaseScreen(Screen[None]):
    """A top-level view: navigation bar, ``body()``, footer."""

    VIEW = "verdict"

    @property
    def scaledoc(self) -> ScaledocApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield NavBar(self.VIEW)
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "analysis", self.show_analysis)

    def show_analysis(self, analysis: Any) -> None:
        """Render the analysis (called at mount and whenever the app's analysis changes)."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < 110, "narrow")
