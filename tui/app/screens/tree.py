"""The Tree view: the walked path through the decision tree, to check the verdict.

Each visited question with its answer (yes / no / not checked), who answered it
(evidence, operator, nobody), the signal's value and detail. The operator answers an
unchecked question with ``y`` / ``n`` (``u`` clears their answer); the app walks the
tree again at once and every view shows the re-ranked verdict. ``enter`` opens the
question's evidence. Answers are part of the Case, which ``ctrl+s`` saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from probes.evidence import Answer, AnsweredBy
from probes.verdict import Step
from tui.app.messages import AnswerGiven
from tui.app.screens.base import BaseScreen
from tui.app.widgets.cards import BY_LABELS, answer_mark, signal_block, signal_value, verdict_style
from tui.render.plain import plain

if TYPE_CHECKING:
    from probes.pipeline import Analysis


def answered_first(path: Sequence[Step]) -> tuple[Step, ...]:
    """The walk's steps with the branches that hold an answer (by evidence or by you)
    before those nobody could check, each branch kept whole and in the tree's order: what
    is known reads first, and a child never leaves its parent."""
    branches: list[list[Step]] = []
    for step in path:
        if step.depth == 0 or not branches:
            branches.append([step])
        else:
            branches[-1].append(step)
    known = [b for b in branches if any(s.by is not AnsweredBy.NOT_CHECKED for s in b)]
    unknown = [b for b in branches if all(s.by is AnsweredBy.NOT_CHECKED for s in b)]
    return tuple(s for b in (*known, *unknown) for s in b)


class TreeScreen(BaseScreen):
    VIEW = "tree"
    BINDINGS = [
        Binding("y", "answer('yes')", "Yes"),
        Binding("n", "answer('no')", "No"),
        Binding("u", "answer('unknown')", "Clear"),
        Binding("enter", "evidence", "Evidence", show=False),
    ]

    def body(self) -> ComposeResult:
        yield Static(id="tree-verdict")
        yield DataTable(id="steps", cursor_type="row", zebra_stripes=True)
        yield Static(id="step-detail")

    def on_mount(self) -> None:
        table = self.query_one("#steps", DataTable)
        table.add_column("answer", key="answer", width=6)
        table.add_column("by", key="by", width=11)
        table.add_column("value", key="value", width=7)
        table.add_column("question", key="ask")
        table.add_column("signal", key="key", width=28)
        super().on_mount()

    @property
    def steps(self) -> tuple[Step, ...]:
        """The path as shown: branches with an answer first (see ``answered_first``)."""
        analysis = self.scaledoc.analysis
        return answered_first(analysis.verdict.path) if analysis is not None else ()

    def show_analysis(self, analysis: Analysis | None) -> None:
        table = self.query_one("#steps", DataTable)
        keep = self.current_step()
        table.clear()
        head = self.query_one("#tree-verdict", Static)
        if analysis is None:
            head.update("Analysing…")
            return
        verdict = analysis.verdict
        text = Text("Verdict: ", style="bold")
        text.append_text(plain(verdict.title, verdict_style(verdict)))
        top = verdict.top
        if top is not None:
            text.append(f"  top cause {top.id} {top.score:.2f}", style="dim")
        head.update(text)
        for step in self.steps:
            indent = "  " * step.depth + ("└ " if step.depth else "")
            ask = Text(indent, style="dim")
            ask.append_text(plain(step.ask, "bold" if step.by is AnsweredBy.OPERATOR else ""))
            by = Text(BY_LABELS[step.by],
                      style="#5f87d7 bold" if step.by is AnsweredBy.OPERATOR else "dim")
            table.add_row(answer_mark(step), by, plain(signal_value(step.signal)), ask,
                          plain(step.key, "dim"), key=step.key)
        if keep is not None:
            keys = [s.key for s in self.steps]
            if keep.key in keys:
                table.move_cursor(row=keys.index(keep.key))
        self._show_step(self.current_step())

    def current_step(self) -> Step | None:
        steps = self.steps
        if not steps:
            return None
        row = self.query_one("#steps", DataTable).cursor_row
        return steps[row] if 0 <= row < len(steps) else None

    def _show_step(self, step: Step | None) -> None:
        detail = self.query_one("#step-detail", Static)
        if step is None:
            detail.update("")
            return
        text = Text()
        text.append_text(plain(step.ask, "bold"))
        text.append(f"\nleads to: {', '.join(step.leads_to) or '-'}", style="dim")
        text.append("\n")
        if step.signal is not None:
            text.append_text(signal_block(step.signal))
        elif step.by is AnsweredBy.NOT_CHECKED:
            text.append("No probe could check this. Answer it with y or n.", style="#c9a000")
        if step.by is AnsweredBy.OPERATOR:
            text.append(f"\nYou answered {step.answer.value} (u clears it).", style="#5f87d7")
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_step(self.current_step())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_evidence()

    def action_answer(self, value: str) -> None:
        step = self.current_step()
        if step is None:
            return
        if step.by is AnsweredBy.EVIDENCE:
            self.notify(f"{step.key} was answered by evidence; the operator answers only "
                        "questions nobody could check.", severity="warning")
            return
        self.post_message(AnswerGiven(step.key, Answer(value)))  # up to the app

    def action_evidence(self) -> None:
        step = self.current_step()
        if step is None or step.signal is None:
            self.notify("No evidence behind this question.", severity="warning")
            return
        from tui.app.screens.evidence import EvidenceScreen

        self.app.push_screen(EvidenceScreen(step.ask, [step.signal]))
