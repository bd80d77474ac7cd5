"""The Timeline view: runs per instance (or session) on one time axis.

Overlapping runs of one lane are drawn in the warning colour: that is what a shared
agent instance looks like. The highlighted run's details and its log lines show below
(filtered in a worker); ``enter`` opens the run's lines in the Logs view, and ``esc``
there comes back here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static
from textual.worker import get_current_worker

from probes.evidence import iso_ns
from tui.app.logview import LogFilter, LogIndex, apply_filter
from tui.app.messages import FilterApplied, ShowRunLogs
from tui.app.runs import RunRecord
from tui.app.screens.base import BaseScreen, logs_data
from tui.app.widgets.log_view import LogView
from tui.app.widgets.timeline import Timeline
from tui.render.plain import plain

if TYPE_CHECKING:
    from probes.pipeline import Analysis


def run_summary(run: RunRecord) -> Text:
    """One run in two lines: ids, span, outcome, where it starts in the logs."""
    text = Text()
    text.append("run ", style="dim")
    text.append_text(plain(run.id or "?", "bold"))
    for key, value in (("instance", run.instance), ("session", run.session),
                       ("request", run.request), ("process", run.process)):
        if value:
            text.append(f"  {key} ", style="dim")
            text.append_text(plain(value))
    text.append("\n")
    start, end = run.start_ns, run.end_ns
    if start is not None:
        text.append(iso_ns(start))
        if end is not None:
            text.append(f" → +{(end - start) / 1e9:.3f}s")
        else:
            text.append(" → never ended", style="#c9a000")
    outcome = run.outcome
    text.append("  ")
    text.append(outcome or "?", style={"error": "bold #e05050", "open": "#c9a000"}.get(
        outcome, "#5faf5f"))
    if run.error:
        text.append("  ")
        text.append_text(plain(run.error, "#e05050"))
    if run.source:
        line = "?" if run.line is None else run.line
        text.append("  at ", style="dim")
        text.append_text(plain(f"{run.source}:{line}", "underline"))
    return text


class TimelineScreen(BaseScreen):
    VIEW = "timeline"

    def body(self) -> ComposeResult:
        yield Static(id="timeline-legend")
        yield Timeline(id="timeline")
        yield Static(id="run-detail")
        yield LogView(id="run-logs")

    def on_mount(self) -> None:
        legend = Text()
        for label, style in (("run", "#5f87d7"), ("overlap on one lane", "#e0a000"),
                             ("error", "#e05050"), ("never ended", "#8787af")):
            legend.append("██ ", style=style)
            legend.append(f"{label}   ")
        legend.append("↑↓ lane ←→ run +/- zoom ,/. pan 0 fit g group enter logs", style="dim")
        self.query_one("#timeline-legend", Static).update(legend)
        self.watch(self.app, "log_index", lambda _: self._show_run_logs())
        super().on_mount()
        self.query_one(Timeline).focus()

    @property
    def timeline(self) -> Timeline:
        return self.query_one("#timeline", Timeline)

    def show_analysis(self, analysis: Analysis | None) -> None:
        runs = [RunRecord.from_json(r) for r in logs_data(analysis, "runs")
                if isinstance(r, Mapping)]
        self.timeline.set_runs(runs)
        if not runs:
            self.query_one("#run-detail", Static).update(
                "No runs: the logs had no recognisable run start/end events."
                if analysis is not None else "Analysing…")

    def select_run(self, run_id: str) -> bool:
        found = self.timeline.select_run(run_id)
        if not found:
            self.notify(f"Run {run_id} is not on the timeline.", severity="warning")
        return found

    def on_timeline_run_highlighted(self, event: Timeline.RunHighlighted) -> None:
        if event.run is not None:
            self.query_one("#run-detail", Static).update(run_summary(event.run))
        self._show_run_logs()

    def on_timeline_run_chosen(self, event: Timeline.RunChosen) -> None:
        self.post_message(ShowRunLogs(event.run))  # up to the app

    def _show_run_logs(self) -> None:
        index = self.scaledoc.log_index
        run = self.timeline.selected_run
        if index is None or run is None:
            return
        self._filter_worker(index, LogFilter(window=run.window()))

    @work(thread=True, exclusive=True, group="timeline-filter", exit_on_error=False,
          name="run lines")
    def _filter_worker(self, index: LogIndex, flt: LogFilter) -> None:
        cancel: threading.Event = get_current_worker().cancelled_event
        rows = apply_filter(index, flt, cancel)
        if not cancel.is_set():
            self.post_message(FilterApplied(flt, rows, "timeline"))

    def on_filter_applied(self, message: FilterApplied) -> None:
        index = self.scaledoc.log_index
        if index is not None and message.target == "timeline":
            self.query_one("#run-logs", LogView).set_rows(index, message.rows)
