"""Modal dialogs: the key help, the ``:`` command line and the error dialog.

Errors that need reading (an analysis that could not run, a worker that crashed) get a
modal with the message as plain text; expected, per-input failures are not modal, they
show in the Inputs view.
"""

from __future__ import annotations

import difflib

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.render.plain import plain

HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("1 … 9, 0", "Verdict, Tree, Timeline, Logs, Concurrency, Inputs, Pods, Processes, "
                     "Code, Metrics"),
        ("esc", "back: close a drill-down, or return to the previous view"),
        ("ctrl+s", "save the case (evidence + your answers) as JSON"),
        ("e", "export the report as Markdown and JSON"),
        ("f8", "save an SVG screenshot of the screen"),
        ("ctrl+t", "switch between the dark and the light theme"),
        ("j / k", "down / up (the focused table, list or log)"),
        ("g / G", "first / last row"),
        ("ctrl+d / ctrl+u", "a page down / up"),
        (":", "command line: :logs :tree :pods :verdict … :export :save :help :q"),
        ("ctrl+p", "command palette"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Verdict", (("↑ ↓", "choose a cause"), ("enter", "every example behind it"))),
    ("Evidence", (("enter", "open the example's log line"),)),
    ("Tree", (("y / n", "answer a question nobody could check; the verdict re-ranks"),
              ("u", "clear your answer"), ("enter", "the question's evidence"))),
    ("Timeline", (("↑ ↓ / ← →", "lane / run"), ("+ - , . 0", "zoom, pan, fit"),
                  ("h / l", "previous / next run"), ("L", "lanes by instance or by session"),
                  ("enter", "the run's lines in the Logs view"))),
    ("Logs", (("/", "filter: instance:ID session:ID request:ID pod:NAME level>=warn text"),
              ("f", "find: highlight a text without hiding lines"),
              ("n / N", "next / previous line holding the find text"),
              ("i p s", "narrow to this line's instance / pod / session"),
              ("c", "clear the filter"), ("r", "this line's run on the Timeline"),
              ("enter", "the whole line"))),
    ("Metrics", (("c", "copy the selected query's PromQL (to paste into Grafana)"),
                 ("tab", "to the queries table; ↑ ↓ choose a query, its PromQL shows below"))),
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


COMMAND_WORDS: dict[str, str] = {
    "q": "quit", "quit": "quit", "q!": "quit", "help": "help", "h": "help",
    "export": "export", "save": "save_case", "theme": "toggle_theme",
}
"""Commands that run an app action (views are added from ``VIEWS`` by the app)."""


def resolve_command(line: str, views: dict[str, str]) -> tuple[str | None, str]:
    """``:logs`` -> ("goto('logs')", ""); an unknown word -> (None, "did you mean ...")."""
    word = line.strip().lstrip(":").strip().lower()
    if not word:
        return None, ""
    if word in views:
        return f"goto('{views[word]}')", ""
    if word in COMMAND_WORDS:
        return COMMAND_WORDS[word], ""
    known = sorted({*views, *COMMAND_WORDS} - {"q!"})
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    hint = f" (did you mean :{close[0]}?)" if close else f"; known: {' '.join(known)}"
    return None, f"unknown command :{word}{hint}"


class CommandLine(ModalScreen[str]):
    """The ``:`` line at the bottom, as in k9s and lnav; returns what was typed."""

    BINDINGS = [Binding("escape", "dismiss('')", "Cancel")]
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: transparent; }
    CommandLine Input { dock: bottom; width: 100%; border: none; height: 1; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Input(placeholder=":logs :tree :pods :verdict … :q", id="command-line")

    def on_mount(self) -> None:
        self.query_one(Input).value = ":"
        self.query_one(Input).cursor_position = 1

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)


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
