"""Rich renderables for the verdict's parts: a cause card, a signal, a step mark.

Everything from evidence (details, excerpts, pointers) goes through ``plain()``; only our
own fixed labels carry styles. Shared by the Verdict, Tree and Evidence screens so a
claim looks the same wherever it is shown.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from probes.evidence import Answer, AnsweredBy, Signal
from probes.signals import SIGNALS
from probes.verdict import RankedCause, Step, Verdict
from tui.render.plain import clip, plain, visible

ANSWER_MARKS = {Answer.YES: ("✔ yes", "bold #5faf5f"), Answer.NO: ("✘ no ", "bold #d75f5f"),
                Answer.UNKNOWN: ("? ---", "#c9a000")}
BY_LABELS = {AnsweredBy.EVIDENCE: "evidence", AnsweredBy.OPERATOR: "operator",
             AnsweredBy.NOT_CHECKED: "not checked"}
MAX_EXAMPLES_SHOWN = 3


def verdict_style(verdict: Verdict) -> str:
    if verdict.verdict == "healthy":
        return "bold #5faf5f"
    if verdict.verdict == "inconclusive":
        return "bold #c9a000"
    return "bold #e05050"


def score_bar(score: float, width: int = 10) -> Text:
    """``█████░░░░░ 0.52``: the score at a glance, the number for precision."""
    filled = round(max(0.0, min(1.0, score)) * width)
    text = Text("█" * filled, style="#e05050" if score >= 0.6 else "#c9a000")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {score:.2f}")
    return text


def answer_mark(step: Step) -> Text:
    label, style = ANSWER_MARKS[step.answer]
    return Text(label, style=style)


def signal_value(signal: Signal | None) -> str:
    if signal is None or signal.value is None:
        return ""
    value = signal.value
    if isinstance(value, float):
        return f"{value:.3g}"
    return visible(str(value))


def signal_block(signal: Signal, *, examples: int = MAX_EXAMPLES_SHOWN) -> Text:
    """A signal's key, answer and detail, then its first examples as ``where  excerpt``."""
    text = Text()
    label, style = ANSWER_MARKS[signal.answer]
    text.append(f"{label} ", style=style)
    text.append(signal.key, style="bold")
    text.append(f"  [{signal.probe}]", style="dim")
    text.append("\n  ")
    text.append_text(plain(signal.detail))
    for ex in signal.examples[:examples]:
        text.append("\n    → ", style="dim")
        text.append_text(plain(ex.where, "underline"))
        if ex.text:
            text.append("  ")
            text.append_text(plain(clip(ex.text, 160), "italic"))
    hidden = len(signal.examples) - examples
    if hidden > 0 and examples > 0:
        text.append(f"\n    … {hidden} more (enter: all evidence)", style="dim")
    return text


def fix_panel(title: str, code: str, style: str) -> Panel:
    return Panel(plain(code, keep_newlines=True), title=title, title_align="left",
                 border_style=style, expand=True)


def cause_card(cause: RankedCause) -> RenderableType:
    """Everything about one ranked cause: why, fix, evidence for and against, next steps."""
    head = Text()
    head.append(cause.title, style="bold")
    head.append(f"  ({cause.id})  ", style="dim")
    head.append_text(score_bar(cause.score))
    head.append("\n")
    head.append_text(plain(cause.why))
    parts: list[RenderableType] = [head]
    if cause.broken or cause.fixed:
        parts.append(fix_panel("broken pattern", cause.broken, "#d75f5f"))
        parts.append(fix_panel("fixed pattern", cause.fixed, "#5faf5f"))
    parts.append(Text("Supported by", style="bold underline"))
    parts.extend(signal_block(s) for s in cause.supports)
    if cause.refutes:
        parts.append(Text("Refuted by", style="bold underline"))
        parts.extend(signal_block(s) for s in cause.refutes)
    if cause.next_steps:
        steps = Text("Next steps", style="bold underline")
        for n, step in enumerate(cause.next_steps, start=1):
            steps.append(f"\n {n}. ")
            steps.append_text(plain(step))
        parts.append(steps)
    return Group(*parts)


_NEEDS = {"kube": "pod status and events", "code": "the service's source",
          "process": "a process sample", "logs": "logs with ids", "traces": "logs with ids",
          "ramp": "a load ramp", "prometheus": "the fleet's metrics (--prometheus)"}
"""Which evidence would answer a question, by the probe that owns its signal."""


def open_questions(verdict: Verdict) -> Text:
    """What nobody could check yet, grouped by the evidence that would settle it."""
    text = Text()
    if verdict.open_questions:
        text.append(f"Not checked: {len(verdict.open_questions)} question(s)", style="bold")
        text.append("  (answer any in the Tree view, key 2)\n", style="dim")
        groups: dict[str, list[str]] = {}
        for step in verdict.open_questions:
            spec = SIGNALS.get(step.key)
            need = _NEEDS.get(spec.probes[0], "other evidence") if spec else "other evidence"
            groups.setdefault(need, []).append(step.key.split(".", 1)[-1].replace("_", " "))
        for need, keys in groups.items():
            text.append(f"  ? needs {need} ({len(keys)}): ", style="#c9a000")
            text.append(" · ".join(keys) + "\n", style="dim")
    if verdict.collect_next:
        text.append("Collect next\n", style="bold")
        for hint in verdict.collect_next:
            text.append("  • ")
            text.append_text(plain(hint))
            text.append("\n")
    return text
