"""The Logs view: every source merged by time, filterable, one colour per replica.

The index is built by the app in a thread worker; filtering runs in this screen's own
exclusive thread worker (a newer filter cancels the older one), so typing a filter over
a million lines never blocks the UI. ``/`` opens the filter (``pod:web level>=warn
timeout``), ``i`` / ``p`` / ``s`` narrow to the line's instance / pod / session, ``c``
clears, ``r`` jumps to the line's run on the Timeline, ``enter`` shows the whole line.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static
from textual.worker import get_current_worker

from probes.evidence import iso_ns
from probes.redact import redact_text
from tui.app.logview import (
    NO_TIME,
    LogFilter,
    LogIndex,
    apply_filter,
    find_hits,
    level_name,
)
from tui.app.messages import FilterApplied, FindReady, OpenRun
from tui.app.runs import RunRecord
from tui.app.screens.base import BaseScreen, logs_data
from tui.app.widgets.log_view import LogView
from tui.render.plain import plain, visible

if TYPE_CHECKING:
    from probes.pipeline import Analysis


def run_for_row(index: LogIndex, row: int, runs: list[RunRecord]) -> RunRecord | None:
    """The run a log line belongs to: by its run id, else by instance and time span."""
    tagged = index.runs.get(index.run[row])
    if tagged is not None:
        for run in runs:
            if run.id == tagged:
                return run
    instance = index.instances.get(index.instance[row])
    t = index.time_ns[row]
    if instance is None or t == NO_TIME:
        return None
    best: RunRecord | None = None
    best_start = 0
    for run in runs:
        start, end = run.start_ns, run.end_ns
        if run.instance != instance or start is None:
            continue
        if start <= t and (end is None or t <= end) and (best is None or start > best_start):
            best, best_start = run, start
    return best


class LineScreen(ModalScreen[None]):
    """One log line in full, with every id the index holds for it."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, index: LogIndex, row: int, run: RunRecord | None) -> None:
        super().__init__()
        self.index, self.row, self.run = index, row, run

    def compose(self) -> ComposeResult:
        index, row = self.index, self.row
        head = Text()
        head.append_text(plain(index.where(row), "bold underline"))
        t = index.time_ns[row]
        head.append(f"\n{iso_ns(t) if t != NO_TIME else 'no time'}  "
                    f"{level_name(index.level[row]) or '-'}")
        for label, column, interner in (
                ("instance", index.instance, index.instances),
                ("session", index.session, index.sessions),
                ("request", index.request, index.requests),
                ("pod/host", index.host, index.hosts),
                ("run", index.run, index.runs)):
            value = interner.get(column[row])
            if value is not None:
                head.append(f"\n{label}: ", style="dim")
                head.append(visible(redact_text(value)))
        if self.run is not None:
            head.append("\nin run ", style="dim")
            head.append(visible(self.run.id))
            head.append("  (r: show it on the timeline)", style="dim")
        with Vertical(id="line-dialog"):
            yield Static(head)
            yield VerticalScroll(Static(Text(visible(index.text(row)))),  # redacted by the index
                                 id="line-text")


class LogsScreen(BaseScreen):
    VIEW = "logs"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("f", "find", "Find"),
        Binding("n", "find_next(1)", "Next match", show=False),
        Binding("N", "find_next(-1)", "Previous match", show=False),
        # listed by ? (help); the footer keeps to what fits 80 columns
        Binding("c", "clear_filter", "Clear", show=False),
        Binding("r", "to_run", "Run", show=False),
        Binding("i", "narrow('instance')", "Instance", show=False),
        Binding("p", "narrow('host')", "Pod", show=False),
        Binding("s", "narrow('session')", "Session", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = LogFilter()
        self._pending: tuple[str, int | None] | None = None
        self._runs: list[RunRecord] = []
        self._filtering = False  # a filter worker is running; its rows are not shown yet
        self._hits: bytearray | None = None  # per index row: holds the find term

    def body(self) -> ComposeResult:
        yield Input(placeholder="filter: instance:ID session:ID request:ID pod:NAME "
                    "level>=warn free text   (enter applies, esc closes)", id="log-filter")
        yield Input(placeholder="find: text to highlight (enter searches, n / N next and "
                    "previous, esc closes)", id="log-find")
        yield Static("Waiting for the analysis…", id="log-status")
        yield ProgressBar(id="log-progress", show_eta=False)
        yield LogView(id="log-view")

    def on_mount(self) -> None:
        self.query_one("#log-filter", Input).display = False
        self.query_one("#log-find", Input).display = False
        self.watch(self.app, "log_index", self.show_index)
        self.watch(self.app, "index_progress", self.show_progress)
        super().on_mount()
        self.query_one(LogView).focus()

    @property
    def view(self) -> LogView:
        return self.query_one("#log-view", LogView)

    def show_analysis(self, analysis: Analysis | None) -> None:
        self._runs = [RunRecord.from_json(r) for r in logs_data(analysis, "runs")
                      if isinstance(r, Mapping)]

    def show_progress(self, progress: tuple[str, int, int] | None) -> None:
        bar = self.query_one("#log-progress", ProgressBar)
        bar.display = progress is not None
        if progress is not None:
            stage, done, total = progress
            bar.update(total=total or None, progress=done)
            self.query_one("#log-status", Static).update(plain(f"{stage}: {done:,} lines…"))

    def show_index(self, index: LogIndex | None) -> None:
        if index is None:
            error = self.scaledoc.index_error
            if error:
                self.query_one("#log-status", Static).update(
                    plain(f"Logs could not be indexed: {error}", "bold #e05050"))
            return
        self.apply(self.filter)

    # -- filtering --------------------------------------------------------------------

    def apply(self, flt: LogFilter) -> None:
        index = self.scaledoc.log_index
        if index is None:
            self.filter = flt
            return
        self.filter = flt
        self._filtering = True
        self.query_one("#log-status", Static).update(plain(f"filtering: {flt.describe()}…"))
        self._filter_worker(index, flt)

    @work(thread=True, exclusive=True, group="log-filter", exit_on_error=False,
          name="log filter")
    def _filter_worker(self, index: LogIndex, flt: LogFilter) -> None:
        worker = get_current_worker()
        cancel: threading.Event = worker.cancelled_event
        rows = apply_filter(index, flt, cancel)
        if not cancel.is_set():
            self.post_message(FilterApplied(flt, rows, "logs"))

    def on_filter_applied(self, message: FilterApplied) -> None:
        index = self.scaledoc.log_index
        if index is None or message.filter != self.filter:
            return
        self._filtering = False
        view = self.view
        keep, before = view.cursor_row, view.index
        at_end = len(view.rows) > 0 and view.cursor >= len(view.rows) - 1
        if before is not None and before is not index and keep is not None:
            # A new index of the followed window: rows are numbered afresh, so keep the
            # operator on the same source line, or at the end as `tail -f` does.
            name, number = before.source_name(keep), before.line[keep]
            view.set_rows(index, message.rows)
            pos = (len(message.rows) - 1 if at_end
                   else index.find(message.rows, name, number))
            if pos is not None:
                view.go_to(pos)
        else:
            view.set_rows(index, message.rows, keep_row=keep)
        self._update_status()
        if self._pending is not None:
            source, line = self._pending
            self._pending = None
            self.go_to_line(source, line)

    def _update_status(self) -> None:
        index = self.scaledoc.log_index
        total = len(index) if index is not None else 0
        text = Text()
        text.append(f"{len(self.view.rows):,}", style="bold")
        text.append(f" of {total:,} lines · ")
        text.append_text(plain(self.filter.describe(), "#5f87d7"))
        if index is not None:
            text.append(f" · {len(index.sources)} source(s)", style="dim")
        self.query_one("#log-status", Static).update(text)

    def action_filter(self) -> None:
        box = self.query_one("#log-filter", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.view.focus()
        if event.input.id == "log-find":
            self.view.find = event.value.strip()
            self._hits = None
            if self.view.find:
                self._find_worker(self.view.find)
            return
        self.apply(LogFilter.parse(event.value))

    # -- find (lnav's search: highlight, n / N) -----------------------------------------

    def action_find(self) -> None:
        box = self.query_one("#log-find", Input)
        box.value = self.view.find
        box.display = True
        box.focus()

    @work(thread=True, exclusive=True, group="log-find", exit_on_error=False,
          name="log find")
    def _find_worker(self, term: str) -> None:
        index = self.scaledoc.log_index
        if index is None:
            return
        cancel: threading.Event = get_current_worker().cancelled_event
        hits = find_hits(index, term, cancel)
        if not cancel.is_set():
            self.post_message(FindReady(term, hits))

    def on_find_ready(self, message: FindReady) -> None:
        if message.term != self.view.find:
            return
        self._hits = message.hits
        self.action_find_next(1, first=True)

    def action_find_next(self, direction: int, first: bool = False) -> None:
        """Move to the next (``n``) or previous (``N``) row holding the find term, wrapping
        around the rows shown; a line a filter hides is not a match here."""
        hits, rows = self._hits, self.view.rows
        if not self.view.find:
            self.notify("Nothing to find: press f and type the text.", severity="warning")
            return
        if hits is None or not rows:
            return
        start = self.view.cursor if not first else self.view.cursor - direction
        n = len(rows)
        for step in range(1, n + 1):
            position = (start + direction * step) % n
            if hits[rows[position]]:
                self.view.go_to(position)
                return
        self.notify(f"{visible(self.view.find)!s} is not in the {n:,} lines shown.",
                    severity="warning")

    def handle_back(self) -> bool:
        """``esc`` closes the filter or find box first (the app asks before going back)."""
        for box in self.query(Input):  # the filter or the find box
            if box.display:
                box.display = False
                self.view.focus()
                return True
        return False

    def action_clear_filter(self) -> None:
        self.query_one("#log-filter", Input).value = ""
        self.apply(LogFilter())

    def action_narrow(self, field: str) -> None:
        index, row = self.scaledoc.log_index, self.view.cursor_row
        if index is None or row is None:
            return
        column, interner = {
            "instance": (index.instance, index.instances),
            "host": (index.host, index.hosts),
            "session": (index.session, index.sessions),
        }[field]
        value = interner.get(column[row])
        if value is None:
            self.notify(f"This line has no {field}.", severity="warning")
            return
        fields = {name: getattr(self.filter, name) for name in
                  ("text", "instance", "session", "request", "host", "run", "source",
                   "min_level", "window")}
        fields[field] = value
        self.apply(LogFilter(**fields))

    # -- navigation -------------------------------------------------------------------

    def show_run(self, run: RunRecord) -> None:
        """Show only the lines of ``run`` (from the Timeline's ``enter``)."""
        self.apply(LogFilter(window=run.window()))

    def go_to_line(self, source: str, line: int | None) -> None:
        """Put the cursor on ``source:line``; clear the filter if it hides the line."""
        index = self.scaledoc.log_index
        if index is None or self._filtering:
            self._pending = (source, line)
            return
        position = index.find(self.view.rows, source, line)
        if position is None and not self.filter.is_empty:
            self._pending = (source, line)
            self.apply(LogFilter())
            return
        if position is None:
            self.notify(f"{visible(source)}:{line} is not in the indexed logs.",
                        severity="warning")
            return
        self.view.go_to(position)

    def action_to_run(self) -> None:
        index, row = self.scaledoc.log_index, self.view.cursor_row
        if index is None or row is None:
            return
        run = run_for_row(index, row, self._runs)
        if run is None:
            self.notify("This line belongs to no known run.", severity="warning")
            return
        self.app.post_message(OpenRun(run.id))

    def action_show_line(self) -> None:
        index, row = self.scaledoc.log_index, self.view.cursor_row
        if index is not None and row is not None:
            self.app.push_screen(LineScreen(index, row, run_for_row(index, row, self._runs)))

    def on_log_view_selected(self, event: LogView.Selected) -> None:
        self.action_show_line()

    @property
    def rows(self) -> array[int]:
        return self.view.rows
