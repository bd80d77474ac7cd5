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
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

if TYPE_CHECKING:
    from probes.evidence import Evidence
    from probes.pipeline import Analysis
    from tui.app.main import ScaledocApp


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
    View("timeline", "3", "Timeline", short="Time"),
    View("logs", "4", "Logs"),
    View("concurrency", "5", "Concurrency", short="Load"),
    View("inputs", "6", "Inputs"),
    View("pods", "7", "Pods", "kube"),
    View("processes", "8", "Processes", "process", short="Procs"),
    View("code", "9", "Code", "code"),
    View("metrics", "0", "Metrics", "prometheus", short="Prom"),
)


def evidence_data(analysis: Analysis | None, probe: str) -> list[Mapping[str, Any]]:
    """The ``data`` of every Evidence of ``probe`` in the analysis's case (JSON objects,
    whose shape each probe documents: hence ``Any``)."""
    if analysis is None:
        return []
    return [ev.data for ev in analysis.case.evidence if ev.probe == probe]


def evidence_of(analysis: Analysis | None, probe: str) -> list[Evidence]:
    if analysis is None:
        return []
    return [ev for ev in analysis.case.evidence if ev.probe == probe]


def logs_data(analysis: Analysis | None, key: str) -> list[Any]:
    """A list from the logs evidence's ``data`` (runs, concurrency, instances), or []:
    JSON values, checked by the caller (``RunRecord.from_json`` for runs)."""
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
        narrow = self.app.size.width < 110  # the wide bar needs 106 columns
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
            # the selected tab's highlight pads its title, so a gap always shows beside it
            label = f" {view.key} {title} " if view.mode == self.current else f"{view.key} {title}"
            text.append(label, style=style)
            self._spans.append((start, len(text.plain), view.mode))
        self.update(text)

    def on_resize(self) -> None:
        self.refresh_tabs()

    async def on_click(self, event: events.Click) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                await self.app.run_action(f"goto('{mode}')")


MOTIONS: dict[str, tuple[str, ...]] = {
    # k9s / less / lnav motion -> the widget actions that perform it, first found wins
    "down": ("action_cursor_down", "action_scroll_down"),
    "up": ("action_cursor_up", "action_scroll_up"),
    "page_down": ("action_page_down",),
    "page_up": ("action_page_up",),
    "top": ("action_scroll_home",),
    "bottom": ("action_scroll_end",),
}


def move(widget: Widget, motion: str) -> bool:
    """Apply a motion to a widget: a table's cursor moves (g and G to the first and last
    row), anything else scrolls. False when the widget has no such action."""
    if isinstance(widget, DataTable) and motion in ("top", "bottom"):
        if widget.row_count:
            widget.move_cursor(row=0 if motion == "top" else widget.row_count - 1)
        return True
    for name in MOTIONS.get(motion, ()):
        action = getattr(widget, name, None)
        if callable(action):
            action()
            return True
    return False


class BaseScreen(Screen[None]):
    """A top-level view: navigation bar, ``body()``, footer.

    k9s and less keys work in every view on whatever has the focus: ``j``/``k`` down and
    up, ``g``/``G`` first and last, ``ctrl+d``/``ctrl+u`` a page; ``:`` opens the command
    line (``:logs``, ``:tree``, ``:pods``, ``:q``). A widget's own binding of the same key
    (the Timeline's) wins while it has the focus.
    """

    VIEW = "verdict"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "motion('down')", "Down", show=False),
        Binding("k", "motion('up')", "Up", show=False),
        Binding("g", "motion('top')", "Top", show=False),
        Binding("G", "motion('bottom')", "Bottom", show=False),
        Binding("ctrl+d", "motion('page_down')", "Page down", show=False),
        Binding("ctrl+u", "motion('page_up')", "Page up", show=False),
        Binding("colon", "app.command_line", "Command", key_display=":", show=False),
    ]

    def action_motion(self, motion: str) -> None:
        widget = self.focused
        if widget is not None:
            move(widget, motion)

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

    def show_analysis(self, analysis: Analysis | None) -> None:
        """Render the analysis (called at mount and whenever the app's analysis changes)."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < 110, "narrow")
        # 80 columns hold every footer key only without the padding between them
        for footer in self.query(Footer):
            footer.compact = event.size.width < 100
