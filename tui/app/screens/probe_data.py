"""Pods, Processes and Code views: one probe's evidence, shown from its ``data``.

The kube, process and code probes each put plain JSON data in their Evidence (pods and
events; sampled processes; findings by rule). These views render whatever lists of
records that data holds as tables, plus the probe's signals, so a new field a probe
adds shows up without a UI change. When the case has no evidence of the probe, the
view says how to collect it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from tui.app.screens.base import BaseScreen, evidence_of
from tui.app.widgets.cards import signal_block
from tui.app.widgets.records import (
    MAX_COLUMNS,
    columns_of,
    fill_table,
    record_lists,
    scalars_text,
)
from tui.render.plain import plain

if TYPE_CHECKING:
    from probes.pipeline import Analysis


PREFERRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "processes": ("pid", "role", "name", "pod", "rss_bytes", "rss_growth_bytes", "fds",
                  "fd_soft_limit", "sockets", "threads", "cpu_percent", "status", "found_by",
                  "cmdline"),
}
"""Columns shown first for known tables (the rest follow, up to the column cap)."""

PREFERRED_ORDER = ("pods", "containers", "events", "processes", "samples", "findings",
                   "manifests", "packages")


def table_columns(name: str, records: list[Mapping[str, Any]]) -> list[str] | None:
    """Preferred columns first (those present), then the others in first-seen order."""
    preferred = PREFERRED_COLUMNS.get(name)
    if preferred is None:
        return None
    present = columns_of(records, limit=100)
    first = [c for c in preferred if c in present]
    return (first + [c for c in present if c not in first])[:MAX_COLUMNS]


class ProbeDataScreen(BaseScreen):
    """Evidence of one probe; subclasses set ``PROBE`` and ``ABSENT``."""

    PROBE = ""
    ABSENT = ""

    def body(self) -> ComposeResult:
        yield VerticalScroll(id="probe-body")

    def show_analysis(self, analysis: Analysis | None) -> None:
        body = self.query_one("#probe-body", VerticalScroll)
        body.remove_children()
        evidence = evidence_of(analysis, self.PROBE)
        if analysis is None:
            body.mount(Static("Analysing…"))
            return
        if not evidence:
            body.mount(Static(Text(self.ABSENT, style="dim")))
            return
        widgets: list[Static | DataTable[Any]] = []
        for ev in evidence:
            head = Text()
            head.append(f"{self.PROBE}: ", style="bold")
            head.append_text(plain(ev.target, "bold"))
            if ev.error:
                head.append("\ncould not look: ", style="bold #e05050")
                head.append_text(plain(ev.error))
            tables, scalars = record_lists(ev.data)
            head.append("\n")
            head.append_text(scalars_text(scalars))
            widgets.append(Static(head, classes="section"))
            ordered = sorted(tables, key=lambda k: (PREFERRED_ORDER.index(k)
                                                    if k in PREFERRED_ORDER else 99, k))
            for name in ordered:
                widgets.append(Static(Text(f"{name} ({len(tables[name])})", style="bold"),
                                      classes="section"))
                table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True,
                                                  classes="records")
                widgets.append(table)
            if ev.signals:
                signals = Text("signals\n", style="bold")
                for sig in ev.signals:
                    signals.append_text(signal_block(sig, examples=2))
                    signals.append("\n")
                widgets.append(Static(signals, classes="section"))
            body.mount_all(widgets)
            # Tables are filled once mounted (columns need a mounted DataTable).
            names = iter(ordered)
            for widget in widgets:
                if isinstance(widget, DataTable):
                    name = next(names)
                    fill_table(widget, tables[name], table_columns(name, tables[name]))
            widgets = []


class PodsScreen(ProbeDataScreen):
    VIEW = "pods"
    PROBE = "kube"
    ABSENT = ("No Kubernetes evidence in this case. Add a dump (kubectl get pods,events "
              "-o json > k8s.json) to the inputs, or run kubectl scaledoc against the cluster.")


class ProcessesScreen(ProbeDataScreen):
    VIEW = "processes"
    PROBE = "process"
    ABSENT = ("No process evidence in this case. Sample the service's processes with "
              "scaledoc ps --port PORT (or --pid PID) while it is under load.")


class CodeScreen(ProbeDataScreen):
    VIEW = "code"
    PROBE = "code"
    ABSENT = ("No code findings in this case. Add the service's source tree to the inputs "
              "(scaledoc PATH ./service) to scan it for shared instances and state.")
