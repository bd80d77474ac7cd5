"""The drill-down from a claim to its examples, and from an example to its log line.

Pushed on top of the Verdict or Tree view; ``esc`` goes back. Each row is one example
of one signal (a log line, a span, a pod, a process, a source line). ``enter`` on a row
whose source is a log the app has indexed opens the Logs view at that line; a pod, a
process, a source file or a ramp request opens the view that shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from probes.evidence import Example, Signal, iso_ns
from tui.app.logview import summarise_line
from tui.app.messages import OpenLogLine
from tui.app.widgets.cards import ANSWER_MARKS, signal_block
from tui.render.plain import clip, plain, visible


class EvidenceScreen(Screen[None]):
    """Every example behind a set of signals (supporting first, then refuting)."""

    BINDINGS = [
        Binding("escape", "app.back", "Back"),
        Binding("enter", "open", "Open"),
    ]

    def __init__(self, title: str, supports: Sequence[Signal],
                 refutes: Sequence[Signal] = ()) -> None:
        super().__init__()
        self.heading = title
        self.rows: list[tuple[Signal, Example | None, str]] = []
        for role, signals in (("for", supports), ("against", refutes)):
            for sig in signals:
                if sig.examples:
                    self.rows.extend((sig, ex, role) for ex in sig.examples)
                else:
                    self.rows.append((sig, None, role))

    def compose(self) -> ComposeResult:
        yield Static(plain(self.heading, "bold"), id="evidence-title")
        yield DataTable(id="examples", cursor_type="row", zebra_stripes=True)
        yield Static(id="example-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#examples", DataTable)
        for label, key, width in (("", "role", 7), ("signal", "signal", 28),
                                  ("answer", "answer", 6), ("where", "where", 30),
                                  ("time (UTC)", "time", 16), ("excerpt", "text", None)):
            table.add_column(label, key=key, width=width)
        for n, (sig, ex, role) in enumerate(self.rows):
            mark, style = ANSWER_MARKS[sig.answer]
            table.add_row(
                Text(role, style="#5faf5f" if role == "for" else "#d75f5f"),
                plain(sig.key),
                Text(mark, style=style),
                plain(ex.where if ex else "(no example)"),
                Text(iso_ns(ex.time_ns)[11:] if ex and ex.time_ns is not None else ""),
                plain(clip(summarise_line(ex.text) or ex.note, 200) if ex
                      else clip(sig.detail, 200)),
                key=str(n),
            )
        if not self.rows:
            self.query_one("#example-detail", Static).update("No evidence recorded.")
        table.focus()

    def _current(self) -> tuple[Signal, Example | None, str] | None:
        row = self.query_one("#examples", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        current = self._current()
        if current is None:
            return
        sig, ex, _ = current
        text = signal_block(sig, examples=0)
        if ex is not None:
            text.append("\n\n")
            text.append_text(plain(ex.where, "underline"))
            if ex.time_ns is not None:
                text.append(f"  {iso_ns(ex.time_ns)}", style="dim")
            if ex.note:
                text.append("  ")
                text.append_text(plain(ex.note, "dim"))
            text.append("\n")
            text.append(visible(ex.text))
        self.query_one("#example-detail", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        current = self._current()
        if current is None or current[1] is None:
            self.notify("This claim has no example to open.", severity="warning")
            return
        ex = current[1]
        self.app.post_message(OpenLogLine(ex.source, ex.line))
