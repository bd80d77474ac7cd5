"""The walker: a pure function from a Case to a Verdict.

How a walk scores causes:

* Each visited question is answered by the operator (if they did), else by the merged
  signal of its key, else it is "not checked" (UNKNOWN) and becomes an open question.
* A YES adds ``weight x strength`` of support to every cause below it; a cause's support
  from several questions is pooled as a noisy-or, ``1 - prod(1 - w_i)``, so independent
  evidence adds up but never exceeds 1.
* A NO on a gate rules out the causes below it: their score is cut to a fraction and the
  NO is listed as refuting evidence. A NO elsewhere simply adds no support.
* The verdict is the best cause if its score reaches ``VERDICT_THRESHOLD``. Otherwise the
  case is ``healthy`` when enough was checked and no symptom was seen, and ``inconclusive``
  when too little was checked or a symptom (errors rising with load, restarts) remains
  unexplained. A verdict always has evidence: a cause is only ranked with a YES behind it.

Same case in, same verdict out: no clocks, no randomness, ties broken by catalogue order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probes.advice import tailor
from probes.causes import CAUSES, HEALTHY, INCONCLUSIVE, cause
from probes.evidence import Answer, AnsweredBy, Case, Example, Signal, yes
from probes.redact import redact_text
from probes.tree import (
    HEALTH_NEEDS,
    STATE_KEPT,
    STRUCTURAL,
    TREE,
    Leaf,
    Node,
    Question,
    leaves_below,
)
from probes.verdict import RankedCause, Step, Verdict

VERDICT_THRESHOLD = 0.3
"""A cause at or above this score is the verdict. Code findings alone (strength 0.4 x
weight 0.8-0.9) just reach it: a risk in the source with nothing contradicting it."""

LIST_THRESHOLD = 0.05
"""Causes below this are not listed at all."""

DECISIVE_FLOOR = 0.85
"""A cause with a smoking gun (``Question.decisive`` answered YES by evidence at full
strength, or by the operator) scores at least this, and a gate's NO does not cut it."""
DECISIVE_STRENGTH = 0.9
SYMPTOM_STRENGTH = 0.6
"""A runtime YES at this strength or more is a symptom that must be explained before the
verdict can be healthy; weaker ones (handled, logged below error level) are not."""

REFUTED_FACTOR = 0.3
"""A cause ruled out by a gate's NO keeps this fraction of its support."""

MIN_CHECKED_FOR_HEALTHY = 3
"""Healthy needs at least this many runtime questions (not code risks) answered NO by
evidence or the operator."""

WHY_PARTS = 3
"""A cause's one-line why names its strongest few supports; the rest are in evidence."""

HEALTH_CORE = ("runs.overlap_instance", "errors.rise_with_concurrency", "pods.restarts")
"""What 'healthy' means (CAUSES.md): no overlap on shared instances, a flat error rate
across concurrency, no restarts. At least one of them must have been checked, and the
summary names what was, never claiming the others."""

HEALTH_STATE = ("state.stale_read", "context.forgotten", "state.lost_update")
"""The service's own records of its state (a history or a version followed across
requests and processes): came back clean together with 'requests did not fail'
(``requests.failed``), they also define healthy for a service whose logs hold no runs
to sweep for overlap; so does the server's own lifecycle (its start lines read, no worker
died). Access lines alone never do: a 200 says nothing about state or restarts."""

_ORDER = {cid: i for i, cid in enumerate(CAUSES)}


@dataclass
class _Tally:
    supports: dict[str, list[tuple[Signal, float]]] = field(default_factory=dict)
    refutes: dict[str, list[Signal]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    path: list[Step] = field(default_factory=list)


def diagnose(case: Case) -> Verdict:
    """Walk the tree over a case and rank the causes. Pure."""
    signals = case.signals()
    tally = _Tally()
    for node in TREE:
        _walk(node, 0, case, signals, tally)
    ranked = tuple(tailor(case, rc) for rc in _rank(tally))
    path = tuple(tally.path)
    open_q = tuple(s for s in path if s.by is AnsweredBy.NOT_CHECKED)
    collect = tuple(dict.fromkeys(_collect_hint(s.key) for s in open_q))

    top = ranked[0] if ranked else None
    if top is not None and top.score >= VERDICT_THRESHOLD:
        strong = top.score >= 0.6
        summary = (f"{top.title}. " + top.why if strong else
                   f"Likely: {top.title.lower()}. {top.why}")
        return Verdict(top.id, top.title, summary, ranked, path, open_q, collect)

    # Clean source code is no proof of a healthy service: healthy needs runtime checks.
    checked_no = [s for s in path if s.answer is Answer.NO and not s.key.startswith("code.")]
    symptoms = [s for s in path if is_symptom(s)]
    if symptoms:
        info = cause(INCONCLUSIVE)
        what = "; ".join(s.signal.detail if s.signal else s.ask for s in symptoms)
        return Verdict(INCONCLUSIVE, info.title,
                       f"Something is wrong ({what}) but no cause explains it yet; answer "
                       "the open questions or collect what is listed.",
                       ranked, path, open_q, collect)
    core = [s for s in checked_no if s.key in HEALTH_CORE]
    if not core and any(s.key == "requests.failed" for s in checked_no):
        core = [s for s in checked_no if s.key in HEALTH_STATE or _lifecycle_seen(s)]
        if core:
            core += [s for s in checked_no if s.key == "requests.failed"]
    by_key = {s.key: s for s in path}
    unproven = [need for s in path if s.answer is Answer.YES
                for need in HEALTH_NEEDS.get(s.key, ())
                if need not in by_key or by_key[need].answer is Answer.UNKNOWN]
    keeps_state = any(by_key[k].answer is Answer.YES if k.startswith("code.")
                      else by_key[k].answer is not Answer.UNKNOWN
                      for k in STATE_KEPT if k in by_key)
    if unproven and keeps_state and len(checked_no) >= MIN_CHECKED_FOR_HEALTHY and core:
        info = cause(INCONCLUSIVE)
        asks = "; ".join(dict.fromkeys(
            f"{by_key[k].ask if k in by_key else k} (collect: {_collect_hint(k)})"
            for k in unproven))
        return Verdict(INCONCLUSIVE, info.title,
                       f"Requests succeed ({len(checked_no)} checks came back clean), but "
                       f"what this service does could still fail silently and was not "
                       f"checked: {asks}.",
                       ranked, path, open_q, collect)
    if len(checked_no) >= MIN_CHECKED_FOR_HEALTHY and core:
        info = cause(HEALTHY)
        seen = "; ".join(s.signal.detail if s.signal and s.by is AnsweredBy.EVIDENCE
                         else f"{s.ask} no (operator)" for s in core)
        caveat = ""
        if unproven:
            caveat = (" The logs show no session state, so this was not checked: " + "; ".join(
                dict.fromkeys(by_key[k].ask if k in by_key else k for k in unproven)) + ".")
        return Verdict(HEALTHY, info.title,
                       f"No scaling fault in what was checked: {seen}. "
                       f"{len(checked_no)} checks came back clean, {len(open_q)} could not "
                       f"be checked.{caveat}",
                       ranked, path, open_q, collect)
    info = cause(INCONCLUSIVE)
    return Verdict(INCONCLUSIVE, info.title,
                   f"{info.summary} Only {len(checked_no)} question(s) could be answered.",
                   ranked, path, open_q, collect)


def _lifecycle_seen(step: Step) -> bool:
    """'No worker died' read from a log that holds the server's own start lines: the
    stream that would have shown a death (gunicorn's master, a Node cluster primary)
    was read, so, with requests that did not fail, it stands in for 'no restarts'."""
    if step.key != "process.worker_died" or step.signal is None:
        return False
    data = step.signal.data if isinstance(step.signal.data, dict) else {}
    starts = data.get("process_starts")
    return isinstance(starts, int) and starts > 0


def is_symptom(step: Step) -> bool:
    """A runtime YES that says something is failing (not a code risk, not a structural
    fact like 'several workers'), at a strength that is more than noise."""
    if step.answer is not Answer.YES or step.key.startswith("code."):
        return False
    if step.key in STRUCTURAL:
        return False
    if step.by is AnsweredBy.OPERATOR:
        return True
    return step.signal is not None and step.signal.strength >= SYMPTOM_STRENGTH


def _answer(key: str, case: Case, signals: dict[str, Signal]
            ) -> tuple[Answer, AnsweredBy, Signal | None]:
    if key in case.answers:
        return case.answers[key], AnsweredBy.OPERATOR, signals.get(key)
    sig = signals.get(key)
    if sig is None or sig.answer is Answer.UNKNOWN:
        return Answer.UNKNOWN, AnsweredBy.NOT_CHECKED, sig
    return sig.answer, AnsweredBy.EVIDENCE, sig


def _walk(node: Node, depth: int, case: Case, signals: dict[str, Signal], tally: _Tally,
          chain: tuple[tuple[Signal, float], ...] = ()) -> None:
    """Visit a question; ``chain`` is the support of the YES questions above it.

    A YES supports the question's own leaves, together with its chain; causes deeper down
    get the chain only once a question of their own says YES, so a broad question (one
    instance, many sessions) never makes a specific cause (a timer) on its own.
    """
    if isinstance(node, Leaf):
        return
    answer, by, sig = _answer(node.key, case, signals)
    below = leaves_below(node)
    tally.path.append(Step(node.key, node.ask, answer, by, sig, depth, below))
    if answer is Answer.NO and node.gate:
        refuting = sig if sig is not None and by is AnsweredBy.EVIDENCE else _operator_no(node)
        for cid in below:
            tally.refutes.setdefault(cid, []).append(refuting)
        return
    if answer is Answer.YES:
        support = sig if by is AnsweredBy.EVIDENCE and sig is not None else _operator_signal(node)
        chain = (*chain, (support, node.weight * support.strength))
        decisive = node.decisive and (by is AnsweredBy.OPERATOR
                                      or support.strength >= DECISIVE_STRENGTH)
        for leaf in node.yes:
            if isinstance(leaf, Leaf):
                tally.supports.setdefault(leaf.cause, []).extend(chain)
                if decisive:
                    tally.decided.add(leaf.cause)
    for child in node.yes:
        if isinstance(child, Question):
            _walk(child, depth + 1, case, signals, tally, chain)


def _operator_signal(node: Question) -> Signal:
    return yes(node.key, "operator", "the operator answered yes",
               [Example("operator", text=f"answered yes: {node.ask}")])


def _operator_no(node: Question) -> Signal:
    return Signal(node.key, Answer.NO, "the operator answered no", "operator")


def _rank(tally: _Tally) -> tuple[RankedCause, ...]:
    out: list[RankedCause] = []
    for cid, entries in tally.supports.items():
        miss = 1.0
        seen: set[int] = set()
        for sig, w in entries:
            if id(sig) in seen:
                continue
            seen.add(id(sig))
            miss *= 1.0 - min(max(w, 0.0), 1.0)
        score = 1.0 - miss
        refutes = tuple(tally.refutes.get(cid, ()))
        if cid in tally.decided:
            score = max(score, DECISIVE_FLOOR)
        elif refutes:
            score *= REFUTED_FACTOR
        if score < LIST_THRESHOLD:
            continue
        info = cause(cid)
        by_id: dict[int, Signal] = {}
        for sig, _ in sorted(entries, key=lambda e: -e[1]):
            by_id.setdefault(id(sig), sig)
        sigs = tuple(by_id.values())
        why = "; ".join(dict.fromkeys(_short(s.detail) for s in sigs[:WHY_PARTS]))
        if refutes:
            why += (" (although " if cid in tally.decided else " (but ") + "; ".join(
                r.detail for r in refutes) + ")"
        out.append(RankedCause(cid, info.title, round(score, 4), why, sigs, refutes,
                               info.broken, info.fixed, info.next_steps))
    out.sort(key=lambda rc: (-rc.score, _ORDER.get(rc.id.split("/")[0], 999)))
    return tuple(out)


def _short(text: str, limit: int = 160) -> str:
    text = redact_text(text)  # redact first, cut after
    return text if len(text) <= limit else text[: limit - 1] + "…"


_COLLECT: dict[str, str] = {}


def _collect_hint(key: str) -> str:
    if not _COLLECT:
        from probes.tree import iter_questions

        for q, _ in iter_questions():
            _COLLECT[q.key] = q.collect
    return _COLLECT.get(key, key)
