"""The Verdict view: what is wrong, how sure, why, the fix, and the evidence.

The app opens here. While the analysis runs it shows progress; then the verdict line,
the ranked causes (left) and the highlighted cause's card (right): why, the broken and
fixed pattern, the signals that support and refute it. ``enter`` on a cause drills into
every example behind it (the Evidence screen), and from there into the log line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, ProgressBar, Static

from probes.verdict import RankedCause
from tui.app.screens.base import BaseScreen
from tui.app.widgets.cards import cause_card, open_questions, score_bar, verdict_style
from tui.render.plain import plain

if TYPE_CHECKING:
    from probes.pipeline import Analysis, EarlyLook


class VerdictScreen(BaseScreen):
    VIEW = "verdict"
    BINDINGS = [Binding("enter", "evidence", "Evidence", show=True)]

    def body(self) -> ComposeResult:
        with Vertical(id="verdict-head"):
            yield Static(id="verdict-line")
            with Horizontal(id="progress-row"):
                yield Static("Starting…", id="progress-stage")
                yield ProgressBar(id="progress", show_eta=False)
        with Horizontal(id="verdict-body"):
            with Vertical(id="causes-pane"):
                yield DataTable(id="causes", cursor_type="row", zebra_stripes=True,
                                # the score bar keeps its colours in the selected row
                                cursor_foreground_priority="renderable")
                yield VerticalScroll(Static(id="open-questions"), id="open-questions-scroll")
            yield VerticalScroll(Static(id="cause-card"), id="cause-pane")

    def on_mount(self) -> None:
        table = self.query_one("#causes", DataTable)
        table.add_column("#", key="rank", width=2)
        table.add_column("score", key="score", width=11)
        table.add_column("evidence", key="evidence")
        table.add_column("cause", key="cause")
        table.border_title = "Causes"
        self.query_one("#cause-pane").border_title = "Why, fix and evidence"
        self.watch(self.app, "progress", self.show_progress)
        self.watch(self.app, "early", self.show_early)
        self.watch(self.app, "failure", self.show_failure)
        super().on_mount()

    def show_progress(self, progress: tuple[str, int, int] | None) -> None:
        row = self.query_one("#progress-row")
        row.display = progress is not None
        if progress is None:
            return
        stage, done, total = progress
        self.query_one("#progress-stage", Static).update(plain(f"{stage}…"))
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=total or None, progress=done)

    def show_early(self, look: EarlyLook | None) -> None:
        """The lead so far, while the analysis reads (never "healthy": unread lines may
        hold the fault); the verdict line replaces it when the analysis is done."""
        if look is None or getattr(self.app, "analysis", None) is not None:
            return
        share = f", {look.done * 100 // look.total}%" if look.total else ""
        text = Text(" EARLY LOOK ", style="bold reverse #d7af5f")
        text.append(f"  so far ({look.events:,} events{share}): ", style="bold")
        if look.top is None:
            text.append("no cause stands out yet")
        else:
            cause, title, score = look.top
            text.append_text(plain(f"{title} ({cause}) {score:.2f}"))
        text.append("  · not a verdict: still reading", style="dim")
        self.query_one("#verdict-line", Static).update(text)

    def show_failure(self, failure: str) -> None:
        if failure:
            text = Text(" NO VERDICT ", style="bold reverse #e05050")
            text.append("  the analysis could not run: ", style="bold")
            text.append_text(plain(failure))
            self.query_one("#verdict-line", Static).update(text)

    def show_analysis(self, analysis: Analysis | None) -> None:
        line = self.query_one("#verdict-line", Static)
        table = self.query_one("#causes", DataTable)
        # A re-rank (an answer, -f) keeps the operator's place: the selected cause and
        # the scroll, when that cause is still ranked.
        keep = (table.ordered_rows[table.cursor_row].key.value
                if 0 <= table.cursor_row < table.row_count else None)
        scroll = table.scroll_y
        table.clear()
        if analysis is None:
            line.update(Text("Analysing the incident…", style="bold"))
            self.query_one("#cause-card", Static).update("")
            return
        verdict = analysis.verdict
        head = Text()
        head.append(" VERDICT ", style="bold reverse")
        head.append(" ")
        head.append_text(plain(verdict.title, verdict_style(verdict)))
        head.append(f"  ({verdict.verdict})", style="dim")
        head.append("\n")
        head.append_text(plain(verdict.summary))
        line.update(head)
        for rank, cause in enumerate(verdict.causes, start=1):
            evidence = Text(f"{len(cause.supports)} for", style="#5faf5f")
            if cause.refutes:
                evidence.append(f" · {len(cause.refutes)} against", style="#d75f5f")
            table.add_row(str(rank), score_bar(cause.score, 6), evidence, plain(cause.title),
                          key=cause.id)
        self.query_one("#open-questions", Static).update(open_questions(verdict))
        ids = [c.id for c in verdict.causes]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False, scroll=False)
            table.scroll_to(y=scroll, animate=False)
            self._show_cause(verdict.causes[ids.index(keep)])
            return
        self._show_cause(verdict.causes[0] if verdict.causes else None)

    def _cause_at_cursor(self) -> RankedCause | None:
        analysis = self.scaledoc.analysis
        table = self.query_one("#causes", DataTable)
        if analysis is None or not analysis.verdict.causes:
            return None
        row = table.cursor_row
        causes = analysis.verdict.causes
        return causes[row] if 0 <= row < len(causes) else None

    def _show_cause(self, cause: RankedCause | None) -> None:
        card = self.query_one("#cause-card", Static)
        if cause is None:
            analysis = self.scaledoc.analysis
            msg = Text("No cause has supporting evidence.\n\n", style="bold")
            if analysis is not None:
                msg.append_text(open_questions(analysis.verdict))
            card.update(msg)
        else:
            card.update(cause_card(cause))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_cause(self._cause_at_cursor())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_evidence()

    def action_evidence(self) -> None:
        cause = self._cause_at_cursor()
        if cause is None:
            self.notify("No cause selected.", severity="warning")
            return
        from tui.app.screens.evidence import EvidenceScreen

        self.app.push_screen(EvidenceScreen(f"Evidence for: {cause.title}",
                                            cause.supports, cause.refutes))
