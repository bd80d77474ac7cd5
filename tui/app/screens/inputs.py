"""The Inputs view: what each source was and what became of every line.

Nothing is skipped silently: each input shows its detected format, lines read, events
produced, lines skipped by reason, and an error when it could not be read at all.
Probes that could not look (an ``Evidence.error``) are listed below, since their
questions stay "not checked".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from tui.app.screens.base import BaseScreen
from tui.render.plain import clip, plain

if TYPE_CHECKING:
    from probes.pipeline import Analysis


class InputsScreen(BaseScreen):
    VIEW = "inputs"

    def body(self) -> ComposeResult:
        yield DataTable(id="inputs", cursor_type="row", zebra_stripes=True)
        yield Static(id="input-detail")
        yield Static(id="probe-errors")

    def on_mount(self) -> None:
        table = self.query_one("#inputs", DataTable)
        for label, key in (("input", "name"), ("kind", "kind"), ("format", "format"),
                           ("lines", "lines"), ("events", "events"), ("skipped", "skipped"),
                           ("why skipped / error", "why")):
            table.add_column(label, key=key)
        super().on_mount()

    def show_analysis(self, analysis: Analysis | None) -> None:
        table = self.query_one("#inputs", DataTable)
        table.clear()
        if analysis is None:
            return
        for n, report in enumerate(analysis.inputs):
            why = ", ".join(f"{reason} {count}" for reason, count in report.skipped.items())
            if report.error:
                why = f"{report.error}; {why}" if why else report.error
            elif not why and report.notes:
                why = "; ".join(report.notes)
            table.add_row(
                plain(clip(report.name, 48)), plain(report.kind), plain(report.format or "?"),
                Text(f"{report.lines_read:,}", justify="right"),
                Text(f"{report.events:,}", justify="right"),
                Text(f"{report.lines_skipped:,}", justify="right",
                     style="#c9a000" if report.lines_skipped else ""),
                plain(clip(why, 80), "#e05050" if report.error else ""),
                key=str(n),
            )
        errors = Text()
        for ev in analysis.case.evidence:
            if ev.error:
                errors.append(f"probe {ev.probe} could not look at ", style="bold #e05050")
                errors.append_text(plain(ev.target))
                errors.append(": ")
                errors.append_text(plain(ev.error))
                errors.append("\n")
        if not analysis.inputs:
            errors.append("No inputs were read.", style="bold")
        self.query_one("#probe-errors", Static).update(errors)
        self._show_detail()

    def _show_detail(self) -> None:
        analysis = self.scaledoc.analysis
        row = self.query_one("#inputs", DataTable).cursor_row
        detail = self.query_one("#input-detail", Static)
        if analysis is None or not 0 <= row < len(analysis.inputs):
            detail.update("")
            return
        report = analysis.inputs[row]
        text = Text()
        text.append_text(plain(report.name, "bold"))
        text.append(f"  {report.bytes_read:,} bytes", style="dim")
        for reason, count in report.skipped.items():
            text.append(f"\n  skipped {count:,}: ", style="#c9a000")
            text.append_text(plain(reason))
        for note in report.notes:
            text.append("\n  note: ", style="dim")
            text.append_text(plain(note))
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
