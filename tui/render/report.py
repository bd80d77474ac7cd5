"""Reports of an analysis: text (Rich, plain when not a TTY), Markdown, JSON.

Every string that came from logs, clusters or code is redacted (``probes.redact``), made
visible (``probes.safe_text.visible``) and handed to Rich as ``Text`` or with markup off,
so a log line cannot style the report or send escapes to the terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from probes import __version__
from probes.causes import HEALTHY, INCONCLUSIVE, cause
from probes.consistency import contradictions, withheld_causes
from probes.evidence import Answer, AnsweredBy, Example, InputReport
from probes.pipeline import Analysis
from probes.redact import redact_obj, redact_text, strict_json
from probes.safe_text import visible
from probes.verdict import RankedCause, Step, Verdict
from tui.render.plain import clip

MAX_EXAMPLES_PER_CAUSE = 5
SCHEMA_VERSION = 1
FIRST_BLOCK_LINES = 10
"""The report's first block (verdict, the fact that proves it, what to do now) is at most
this many lines: what an operator paged at 3 a.m. reads before anything else."""
DO_NOW_STEPS = 3


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Redact secrets and make control characters visible: for any untrusted string."""
    return visible(redact_text(text), keep_newlines=keep_newlines)


# ----------------------------------------------------------------------------- shared


def offered(v: Verdict) -> list[RankedCause]:
    """The ranked causes a report offers: a cause that contradicts a better-ranked one is
    left out (``probes.consistency.withheld_causes`` says why)."""
    withheld = withheld_causes(v)
    return [c for c in v.causes if c.id not in withheld]


def warnings(analysis: Analysis) -> list[str]:
    """Contradictions inside the evidence, and causes left out for contradicting another:
    said in every report, never silently."""
    v = analysis.verdict
    return contradictions(analysis.case, v) + list(withheld_causes(v).values())


def proof(v: Verdict) -> str:
    """The one fact that proves the verdict, as a sentence naming where it was seen."""
    top = v.top
    if top is not None and top.id == v.verdict and top.supports:
        sig = next((s for s in top.supports if s.examples), top.supports[0])
        where = f" (e.g. {display_name(sig.examples[0].where)})" if sig.examples else ""
        return f"{sig.detail}{where} [{sig.key}]"
    if v.verdict == HEALTHY:
        clean_checks = [s for s in v.path if s.answer is Answer.NO and s.signal
                        and s.by is AnsweredBy.EVIDENCE and not s.key.startswith("code.")]
        if clean_checks:
            s = clean_checks[0]
            assert s.signal is not None
            return f"{s.signal.detail} [{s.key}]"
    answered = sum(1 for s in v.path if s.by is not AnsweredBy.NOT_CHECKED)
    return f"{answered} of {len(v.path)} questions could be answered from the inputs"


def proof_label(v: Verdict) -> str:
    """'proof' for a decided verdict; 'seen' when nothing is decided (what was answered)."""
    return "seen" if v.verdict == INCONCLUSIVE else "proof"


def do_now(v: Verdict) -> list[str]:
    """What to do now: the verdict's first actions (the catalogue's steps, not the notes
    on the stack and the facts seen, which the rest of the report holds), or what to
    collect when undecided."""
    top = v.top
    if top is not None and top.id == v.verdict:
        return _actions(top)[:DO_NOW_STEPS]
    if v.verdict == INCONCLUSIVE and v.collect_next:
        return [f"collect {c}" for c in v.collect_next[:DO_NOW_STEPS]]
    return list(cause(v.verdict).next_steps[:DO_NOW_STEPS])


def _actions(c: RankedCause) -> list[str]:
    """A cause's steps that are actions: the catalogue's own, which tailoring appends
    after its notes ("Fix written for ...", "Seen here: ...")."""
    base = cause(c.id).next_steps
    tail = tuple(c.next_steps[-len(base):]) if base else ()
    return list(tail) if base and tail == base else list(c.next_steps)


def later_steps(v: Verdict, c: RankedCause) -> list[str]:
    """A cause's steps the report lists under its fix: all but those under 'do now'."""
    first = set(do_now(v)) if c.id == v.verdict else set()
    return [s for s in c.next_steps if s not in first]


def not_checked_sentence(v: Verdict) -> str:
    """The unanswered questions as one sentence that names the evidence to collect."""
    n = len(v.open_questions)
    if not n:
        return ""
    what = list(v.collect_next)
    if not what:
        return f"{n} question{'s' if n != 1 else ''} could not be checked from these inputs."
    listed = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
    return (f"{n} question{'s were' if n != 1 else ' was'} not checked for lack of evidence; "
            f"to answer {'them' if n != 1 else 'it'}, collect {listed}.")


def first_block(analysis: Analysis) -> list[tuple[str, str]]:
    """The first lines of every report, as (label, text): verdict, proof, warning, do now.
    At most ``FIRST_BLOCK_LINES`` lines."""
    v = analysis.verdict
    score = f"  score {v.top.score:.2f}" if v.top and v.top.id == v.verdict else ""
    lines: list[tuple[str, str]] = [("verdict", f"{v.verdict}{score}  {v.title}"),
                                    ("", clean(v.summary)),
                                    (proof_label(v), clean(proof(v)))]
    warn = warnings(analysis)
    if warn:
        more = f" (and {len(warn) - 1} more, below)" if len(warn) > 1 else ""
        lines.append(("warning", clean(warn[0]) + more))
    steps = do_now(v)
    lines += [("do now" if n == 0 else "", clean(s)) for n, s in enumerate(steps)]
    return lines[:FIRST_BLOCK_LINES]


# ----------------------------------------------------------------------------- JSON


def to_json(analysis: Analysis) -> dict[str, Any]:
    """The ``--json`` document. Keys documented in the README ("JSON output")."""
    v = analysis.verdict
    top = v.top
    signals = analysis.case.signals()
    return {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "scaledoc", "version": __version__},
        "verdict": v.verdict,
        "title": v.title,
        "summary": clean(v.summary),
        "score": round(top.score, 3) if top and top.id == v.verdict else None,
        "causes": [_clean_json(c.to_json()) for c in offered(v)],
        "signals": [_clean_json(s.to_json()) for _, s in sorted(signals.items())],
        "path": [_clean_json(s.to_json()) for s in v.path],
        "open_questions": [s.key for s in v.open_questions],
        "not_checked": not_checked_sentence(v),
        "collect_next": list(v.collect_next),
        "contradictions": [clean(w) for w in contradictions(analysis.case, v)],
        "withheld": [{"id": k, "why": clean(w)} for k, w in withheld_causes(v).items()],
        "answers": {k: a.value for k, a in analysis.case.answers.items()},
        "inputs": [_clean_json(i.to_json()) for i in analysis.inputs],
        "probes": [
            {"probe": ev.probe, "target": clean(ev.target), "error": ev.error and clean(ev.error),
             "collected_at": ev.collected_at.isoformat() if ev.collected_at else None}
            for ev in analysis.case.evidence
        ],
        "cancelled": analysis.cancelled,
        **({"metrics": metrics} if (metrics := metrics_json(analysis)) else {}),
    }


METRICS_KEYS = ("url", "selector", "window", "http", "found", "missing", "replicas_seen",
                "queries", "tables")
"""What the JSON report carries of each Prometheus evidence (its charts stay in the case
file and the Metrics view): enough to see what was asked, and to paste the PromQL."""


def metrics_json(analysis: Analysis) -> list[dict[str, Any]]:
    """The ``metrics`` key: one entry per Prometheus server asked."""
    out = []
    for ev in analysis.case.evidence:
        data = ev.data.get("prometheus") if ev.probe == "prometheus" else None
        if isinstance(data, dict):
            out.append(_clean_json({k: data.get(k) for k in METRICS_KEYS}))
    return out


def metrics_lines(analysis: Analysis) -> list[str]:
    """What the fleet-metrics section of the text and Markdown reports says: the server,
    selector and window, what was asked and what failed, and which metrics were missing."""
    lines: list[str] = []
    for ev in analysis.case.evidence:
        data = ev.data.get("prometheus") if ev.probe == "prometheus" else None
        if not isinstance(data, dict):
            continue
        w = data.get("window") or {}
        lines.append(f"{data.get('url')}  {{{data.get('selector') or ''}}}  "
                     f"{w.get('start', '?')} to {w.get('end', '?')} (step {w.get('step_s')} s)")
        queries = data.get("queries") or []
        failed = [q for q in queries if q.get("failure")]
        kinds = sorted({str(q["failure"]) for q in failed})
        lines.append(f"{len(queries)} queries, {len(failed)} failed"
                     + (f" ({', '.join(kinds)})" if kinds else "")
                     + f"; {data.get('replicas_seen') or 0} replicas in the window")
        http = data.get("http")
        if isinstance(http, dict):
            lines.append(f"HTTP metrics: {http.get('convention')} ({http.get('requests')}, "
                         f"in flight: {http.get('in_flight') or 'no gauge'})")
        for group, names in (data.get("missing") or {}).items():
            lines.append(f"not found: {group} ({', '.join(names)})")
        for q in failed[:5]:
            lines.append(f"failed: {q.get('what')}: {q.get('message')}")
    return [clean(line) for line in lines]


def render_json(analysis: Analysis) -> str:
    """Strict JSON (``probes.redact.strict_json``); the document is already redacted and
    made visible by ``to_json``."""
    return strict_json(to_json(analysis), ensure_ascii=False)


def _clean_json(obj: Any) -> Any:
    """Redacted like a bundle (``redact_obj``: free text, secret-named keys, env lists),
    then every string and key made visible."""
    return _visible_json(redact_obj(obj))


def _visible_json(obj: Any) -> Any:
    if isinstance(obj, str):
        return visible(obj, keep_newlines=True)
    if isinstance(obj, dict):
        # Keys too: data keyed by pod name or skip reason would otherwise carry secrets
        # and escapes (ensure_ascii is off: json.dumps leaves C1 and bidi controls raw).
        return {(clean(k) if isinstance(k, str) else k): _visible_json(v)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_visible_json(v) for v in obj]
    return obj


# ----------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Untrusted text inside Markdown prose: escape what Markdown would interpret."""
    out = clean(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _md_code(text: str) -> str:
    """Untrusted text as an inline code span. The fence is one backtick longer than the
    longest run of backticks inside, so a log line holding two backticks and a Markdown
    link cannot close the span early and turn the rest into a live link."""
    body = clean(text)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {body} {fence}" if longest else f"`{body}`"


def _md_fence(code: str) -> list[str]:
    """A fenced block one backtick longer than any run of backticks inside it, so code
    quoted from the service (a JS template literal) cannot close it early."""
    body = clean(code, keep_newlines=True)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *(line.rstrip() for line in body.splitlines()), fence]


def render_markdown(analysis: Analysis) -> str:
    """A report to paste into an incident ticket."""
    v = analysis.verdict
    score = f" (score {v.top.score:.2f})" if v.top and v.top.id == v.verdict else ""
    lines: list[str] = [f"## scaledoc verdict: `{v.verdict}`{score} — {v.title}", "",
                        _md(v.summary), "",
                        f"**{proof_label(v).capitalize()}:** {_md(proof(v))}", ""]
    warn = warnings(analysis)
    if warn:
        lines += [f"**Warning:** {_md(w)}" for w in warn] + [""]
    steps = do_now(v)
    if steps:
        lines += ["**Do now:**", ""] + [f"1. {_md(s)}" for s in steps] + [""]
    causes = offered(v)
    shown: set[tuple[str, str, str]] = set()
    if causes:
        lines += ["### Ranked causes", "", "| # | cause | score | why |", "|---|---|---|---|"]
        for n, c in enumerate(causes, 1):
            lines.append(f"| {n} | `{c.id}` | {c.score:.2f} | {_md(c.why)} |")
        lines.append("")
        for c in causes[:3]:
            lines += [f"#### `{c.id}`: evidence", ""]
            for sig_key, ex in _examples(c):
                if _ex_key(ex) in shown:
                    continue
                shown.add(_ex_key(ex))
                # The note says what the line proves ("B: started while A was running"),
                # as in the text report; without it an overlap's two lines look duplicated.
                note = f" — {_md(clip(ex.note, 240))}" if ex.note and ex.text else ""
                lines.append(f"- {_md_code(display_name(ex.where))} ({sig_key}) "
                             f"{_md_code(clip(ex.text or ex.note, 300))}{note}")
            if c.refutes:
                lines.append(f"- against: {_md('; '.join(r.detail for r in c.refutes))}")
            lines.append("")
        top = causes[0]
        if top.broken or top.fixed:
            lines += [f"### Fix for `{top.id}`", ""]
            if top.broken:
                lines += ["Broken:", "", *_md_fence(top.broken), ""]
            if top.fixed:
                lines += ["Fixed:", "", *_md_fence(top.fixed), ""]
        lines += [f"- {_md(s)}" for s in later_steps(v, top)] + [""]
    lines += ["### Decision path", "", "| question | answer | by | detail |", "|---|---|---|---|"]
    for s in v.path:
        if s.by is AnsweredBy.NOT_CHECKED:
            continue
        detail = s.signal.detail if s.signal else ""
        lines.append(f"| {'&nbsp;' * 2 * s.depth}{_md(s.ask)} | **{s.answer.value}** | "
                     f"{s.by.value} | {_md(detail)} |")
    if v.open_questions:
        lines += ["", _md(not_checked_sentence(v))]
    fleet = metrics_lines(analysis)
    if fleet:
        lines += ["", "### Fleet metrics (Prometheus)", ""] + [f"- {_md(m)}" for m in fleet]
    lines += ["", "### Inputs", "", "| input | format | lines | events | skipped |",
              "|---|---|---|---|---|"]
    for i in analysis.inputs:
        lines.append(f"| {_md(display_name(i.name))} | {_md(i.format or i.kind)} | "
                     f"{i.lines_read} | {i.events} | {_md(_skipped(i))} |")
    lines += ["", f"_scaledoc {__version__}; deterministic, no LLM._", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- text


_ANSWER_STYLE = {Answer.YES: ("yes", "bold red"), Answer.NO: ("no ", "green"),
                 Answer.UNKNOWN: ("?  ", "dim")}


def render_text(analysis: Analysis, *, plain: bool = False) -> RenderableType:
    """The human report as Rich renderables (no markup from untrusted text).

    ``plain`` (a pipe or a file): indented blocks are prefixed rather than padded, so a
    long excerpt stays one line instead of being cut at the width."""

    def indented(text: str, n: int, style: str = "") -> RenderableType:
        if plain:
            return Text(" " * n + text, style=style)
        return Padding(Text(text, style=style), (0, 0, 0, n))

    v = analysis.verdict
    parts: list[RenderableType] = []
    verdict_style = ("bold red" if v.causes and v.verdict == v.causes[0].id
                     else "bold green" if v.verdict == HEALTHY else "bold yellow")
    label_style = {"warning": "bold yellow"}
    for label, text in first_block(analysis):
        t = Text()
        if label:
            t.append(f"{label}: ", style=label_style.get(label, "bold"))
        elif text and parts:  # a continuation of 'do now' lines up under its text
            t.append(" " * len("do now: ") if len(parts) > 2 else "")
        if label == "verdict":
            name, _, rest = text.partition("  ")
            t.append(name, style=verdict_style)
            t.append("  " + rest if rest else "")
        else:
            t.append(text, style="yellow" if label == "warning" else "")
        parts.append(t)
    parts.append(Text(""))

    causes = offered(v)
    if causes:
        parts.append(Rule("ranked causes", align="left", style="dim"))
        rows = [(str(n), c.id, f"{c.score:.2f}", clean(c.why)) for n, c in enumerate(causes, 1)]
        if plain:
            parts.append(plain_table(("#", "cause", "score", "why"), rows, right=(0, 2)))
        else:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            table.add_column("#", justify="right")
            table.add_column("cause")
            table.add_column("score", justify="right")
            table.add_column("why", overflow="fold")
            for n_s, cid, score, why in rows:
                table.add_row(n_s, Text(cid, style="bold"), score, Text(why))
            parts.append(table)
        shown: set[tuple[str, str, str]] = set()
        for c in causes[:3]:
            parts.append(Text(f"\nevidence for {c.id}:", style="bold"))
            examples = _examples(c)
            fresh = [(k, ex) for k, ex in examples if _ex_key(ex) not in shown]
            for sig_key, ex in fresh:
                shown.add(_ex_key(ex))
                t = Text("  ")
                t.append(clean(display_name(ex.where)), style="cyan")
                t.append(f"  [{sig_key}]", style="dim")
                parts.append(t)
                parts.append(indented(clip(clean(ex.text or ex.note), 240), 4))
                if ex.note and ex.text:
                    parts.append(indented(clip(clean(ex.note), 240), 4, "dim"))
            if examples and len(fresh) < len(examples):
                parts.append(Text(f"  (and {len(examples) - len(fresh)} line(s) shown above)",
                                  style="dim"))
            for r in c.refutes:
                parts.append(Text(f"  against: {clean(r.detail)}", style="green"))
        top = causes[0]
        if top.broken or top.fixed:
            parts.append(Rule(f"fix for {top.id}", align="left", style="dim"))
            if top.broken:
                parts.append(Text("broken:", style="bold red"))
                parts.append(_code(top.broken))
            if top.fixed:
                parts.append(Text("fixed:", style="bold green"))
                parts.append(_code(top.fixed))
        # The first actions are already under 'do now'; only the rest are listed here.
        for s in later_steps(v, top):
            parts.append(Text(f"  • {clean(s)}"))

    warn = warnings(analysis)
    if warn:
        parts.append(Rule("warnings", align="left", style="yellow"))
        parts.extend(Text(f"  ! {clean(w)}", style="yellow") for w in warn)

    parts.append(Rule("decision path", align="left", style="dim"))
    parts.extend(_path_lines(v.path))
    sentence = not_checked_sentence(v)
    if sentence:
        parts.append(Text(sentence, style="dim"))

    fleet = metrics_lines(analysis)
    if fleet:
        parts.append(Rule("fleet metrics (Prometheus)", align="left", style="dim"))
        parts.extend(Text(f"  {m}") for m in fleet)

    parts.append(Rule("inputs", align="left", style="dim"))
    if plain:
        parts.append(plain_table(
            ("input", "format", "lines", "events", "skipped"),
            [(clean(display_name(i.name)), clean(i.format or i.kind), str(i.lines_read),
              str(i.events), clean(f"error: {i.error}" if i.error else _skipped(i)))
             for i in analysis.inputs], right=(2, 3)))
    else:
        parts.append(inputs_table(analysis.inputs))
    return Group(*parts)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                right: Sequence[int] = ()) -> Text:
    """Columns as kubectl prints them into a pipe: each padded to its widest cell, two
    spaces apart, one line per row however long (never folded at a terminal's width),
    no trailing spaces."""
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w)
               for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    text = Text(line(headers), style="bold")
    for r in rows:
        text.append("\n" + line(r), style="")
    return text


def _code(code: str, indent: int = 2) -> Text:
    """A code block indented by prefixing each line: ``Padding`` would pad every line
    to the console's width with trailing spaces, which a pipe or a ticket keeps."""
    pad = " " * indent
    body = clean(code, keep_newlines=True)
    return Text("\n".join((pad + line).rstrip() for line in body.splitlines()))


def inputs_table(inputs: Iterable[InputReport]) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col, just in (("input", "left"), ("format", "left"), ("lines", "right"),
                      ("events", "right"), ("skipped", "left")):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for i in inputs:
        skipped = Text(clean(_skipped(i)), style="yellow" if i.lines_skipped else "")
        if i.error:
            skipped = Text(clean(f"error: {i.error}"), style="bold red")
        table.add_row(Text(clean(display_name(i.name))), Text(clean(i.format or i.kind)),
                      str(i.lines_read),
                      str(i.events), skipped)
    return table


def display_name(name: str) -> str:
    """Paths under the working directory are shown relative to it, others as given."""
    if not name.startswith("/"):
        return name
    rel = os.path.relpath(name)
    return name if rel.startswith("..") else rel


def _path_lines(path: Iterable[Step]) -> list[Text]:
    out = []
    for s in path:
        if s.by is AnsweredBy.NOT_CHECKED:
            continue
        label, style = _ANSWER_STYLE[s.answer]
        t = Text("  " * s.depth)
        t.append(label, style=style)
        t.append(f" {s.ask}")
        who = "operator" if s.by is AnsweredBy.OPERATOR else (s.signal.probe if s.signal else "")
        detail = s.signal.detail if s.signal and s.by is AnsweredBy.EVIDENCE else ""
        t.append(f"  [{who}] {clean(detail)}".rstrip(), style="dim")
        out.append(t)
    return out


def _ex_key(ex: Example) -> tuple[str, str, str]:
    return (ex.where, ex.text, ex.note)


def _examples(c: RankedCause) -> list[tuple[str, Example]]:
    out: list[tuple[str, Example]] = []
    for s in c.supports:
        for ex in s.examples[:3]:
            out.append((s.key, ex))
            if len(out) >= MAX_EXAMPLES_PER_CAUSE:
                return out
    return out


def _skipped(i: InputReport) -> str:
    if not i.skipped:
        return "0" + (f" ({'; '.join(i.notes)})" if i.notes else "")
    ranked = sorted(i.skipped.items(), key=lambda x: -x[1])
    return ", ".join(f"{n} {reason}" for reason, n in ranked)


def print_text(analysis: Analysis, console: Console) -> None:
    """Print the text report. On a terminal Rich lays it out to the width; into a pipe
    or a file, text is not hard-wrapped (a fix's sentence stays one line, so grep and
    copy-paste keep it whole) and no line ends in padding spaces."""
    if console.is_terminal:
        console.print(render_text(analysis))
        return
    with console.capture() as captured:
        console.print(render_text(analysis, plain=True), soft_wrap=True)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(text + "\n")
