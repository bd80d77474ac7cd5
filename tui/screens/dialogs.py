"""Modal dialogs: the key help and the error dialog.

Errors that need reading (an analysis that could not run, a worker that crashed) get a
modal with the message as plain text; expected, per-input failures are not modal, they
show in the Inputs view.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.plain import plain

HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("1 … 9", "Verdict, Tree, Timeline, Logs, Concurrency, Inputs, Pods, Processes, Code"),
        ("esc", "back: close a drill-down, or return to the previous view"),
        ("ctrl+s", "save the case (evidence + your answers) as JSON"),
        ("e", "export the report as Markdown and JSON"),
        ("f8", "save an SVG screenshot of the screen"),
        ("ctrl+t", "switch between the dark and the light theme"),
        ("ctrl+p", "command palette"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Verdict", (("↑ ↓", "choose a cause"), ("enter", "every example behind it"))),
    ("Evidence", (("enter", "open the example's log line"),)),
    ("Tree", (("y / n", "answer a question nobody could check; the verdict re-ranks"),
              ("u", "clear your answer"), ("enter", "the question's evidence"))),
    ("Timeline", (("↑ ↓ / ← →", "lane / run"), ("+ - , . 0", "zoom, pan, fit"),
                  ("g", "lanes by instance or by session"),
                  ("enter", "the run's lines in the Logs view"))),
    ("Logs", (("/", "filter: instance:ID session:ID request:ID pod:NAME level>=warn text"),
              ("i p s", "narrow to this line's instance / pod / session"),
              ("c", "clear the filter"), ("r", "this line's run on the Timeline"),
              ("enter", "the whole line"))),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold #5f87d7", no_wrap=True)
        table.add_column()
        for section, rows in HELP:
            table.add_row(Text(section, style="bold underline"), "")
            for key, what in rows:
                table.add_row(key, what)
        with Vertical(id="help-dialog"):
            yield Static(Text("scaledoc keys", style="bold"))
            yield VerticalScroll(Static(table))
            yield Static(Text("esc closes", style="dim"))


class ErrorScreen(ModalScreen[None]):
    """A titled error with its message shown as plain text."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.heading = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Static(plain(self.heading, "bold #e05050"))
            yield VerticalScroll(Static(plain(self.message, keep_newlines=True)))
            yield Static(Text("esc closes", style="dim"))
