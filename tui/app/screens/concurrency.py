"""The Concurrency view: does the error rate rise with requests in flight?

The seeds' first debug step, read from two places: the logs' own traffic (requests
bucketed by how many were in flight when they started: ``data["concurrency"]`` of the
logs evidence) and, when one ran, the load ramp (``data["levels"]`` of the ramp
evidence). A flat line near zero then a climb is the picture of a shared-state fault.
Both are JSON rows (``Mapping[str, Any]``), read defensively: a saved case may be older.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from tui.app.screens.base import BaseScreen, evidence_data, logs_data
from tui.app.widgets.records import fill_table

if TYPE_CHECKING:
    from probes.pipeline import Analysis


def level_floor(level: Any) -> float:
    """``"3-4"`` → 3, ``5`` → 5: the x position of a bucket or ramp level."""
    try:
        return float(str(level).split("-")[0])
    except ValueError:
        return 0.0


def rate_percent(row: Mapping[str, Any]) -> float | None:
    rate = row.get("error_rate")
    return round(float(rate) * 100, 1) if isinstance(rate, int | float) else None


class ConcurrencyScreen(BaseScreen):
    VIEW = "concurrency"

    def body(self) -> ComposeResult:
        yield PlotextPlot(id="concurrency-plot")
        with VerticalScroll(id="concurrency-tables"):
            yield Static(id="logs-levels-title", classes="section")
            yield DataTable(id="logs-levels", cursor_type="row")
            yield Static(id="ramp-levels-title", classes="section")
            yield DataTable(id="ramp-levels", cursor_type="row")

    def show_analysis(self, analysis: Analysis | None) -> None:
        log_rows = [r for r in logs_data(analysis, "concurrency") if isinstance(r, Mapping)]
        ramp_rows: list[Mapping[str, Any]] = []
        for data in evidence_data(analysis, "ramp"):
            levels = data.get("levels")
            if isinstance(levels, list):
                ramp_rows.extend(r for r in levels if isinstance(r, Mapping))

        plot = self.query_one("#concurrency-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("error rate (%) by requests in flight")
        plt.xlabel("concurrency")
        plotted = False
        for label, rows in (("logs", log_rows), ("ramp", ramp_rows)):
            points = [(level_floor(r.get("level")), rate_percent(r)) for r in rows]
            xs = [x for x, y in points if y is not None]
            ys = [y for _, y in points if y is not None]
            if xs:
                plt.plot(xs, ys, label=label, marker="braille")
                plt.scatter(xs, ys, label=None, marker="●")
                plotted = True
        if log_rows:
            plt.xticks([level_floor(r.get("level")) for r in log_rows],
                       [str(r.get("level")) for r in log_rows])
        plt.ylim(0, 100)
        plot.display = plotted
        plot.refresh()

        self._section("logs-levels", "From the logs: requests by concurrency at start",
                      log_rows, ["level", "requests", "errors", "error_rate"],
                      "No request start/end events with times: no concurrency table.")
        self._section("ramp-levels", "From the load ramp: one row per level", ramp_rows,
                      ["level", "sent", "ok", "failed", "error_rate", "latency_ms",
                       "statuses", "errors_5xx", "aborted"],
                      "No ramp ran (scaledoc ramp URL sends rising concurrency to a "
                      "local copy of the service).")

    def _section(self, table_id: str, title: str, rows: list[Mapping[str, Any]],
                 columns: list[str], empty: str) -> None:
        rows = [{**r, "error_rate": f"{pct}%"} if (pct := rate_percent(r)) is not None else r
                for r in rows]
        table = self.query_one(f"#{table_id}", DataTable)
        heading = Text(title, style="bold")
        if not rows:
            heading.append(f"\n{empty}", style="dim")
        self.query_one(f"#{table_id}-title", Static).update(heading)
        fill_table(table, rows, [c for c in columns if any(c in r for r in rows)] or None)
        table.display = bool(rows)
