"""Contradictions between a verdict and its own evidence.

A report that says "no two runs overlap" beside hundreds of failing "already running"
errors, or "healthy" beside 504s at the proxy, is a bug of the tool, not a finding about
the service. The pairs are data: each names two answers that cannot both be true of one
incident. The score (``tests/score.py``) and the tests run this over every real case, and
the reports list any pair found, so a contradiction is never printed silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.causes import HEALTHY
from probes.diagnose import is_symptom
from probes.evidence import Answer, Case, Signal
from probes.verdict import Verdict


@dataclass(frozen=True, slots=True)
class Clash:
    """Two answers that cannot both hold: ``key`` answered ``answer`` while ``other`` said
    ``other_answer``; ``why`` says why the pair is impossible."""

    key: str
    answer: Answer
    other: str
    other_answer: Answer
    why: str


CLASHES: tuple[Clash, ...] = (
    Clash("runs.overlap_instance", Answer.NO, "errors.already_running", Answer.YES,
          "errors say a run was started while another was running, so runs did overlap"),
    Clash("requests.failed", Answer.NO, "latency.ceiling", Answer.YES,
          "requests cut at a ceiling failed"),
    Clash("requests.failed", Answer.NO, "proxy.gateway_errors", Answer.YES,
          "a proxy's 502/504 is a failed request"),
    Clash("pods.restarts", Answer.NO, "pods.oomkilled", Answer.YES,
          "an OOM kill is a termination"),
    Clash("pods.restarts", Answer.NO, "pods.probe_killed", Answer.YES,
          "a probe kill is a restart"),
)
"""Pairs of answers one incident cannot give. A YES counts only at full strength (a
handled, logged-below-error match does not contradict anything)."""

_STRONG = 0.9


def contradictions(case: Case, verdict: Verdict) -> list[str]:
    """Every impossible pair in the case's merged signals, and a healthy verdict beside a
    symptom, each as one sentence naming both sides."""
    signals = case.signals()
    out: list[str] = []
    for c in CLASHES:
        a, b = signals.get(c.key), signals.get(c.other)
        if _says(a, c.answer) and _says(b, c.other_answer):
            assert a is not None and b is not None
            out.append(f"{c.key} is {c.answer} ({a.detail}) but {c.other} is "
                       f"{c.other_answer} ({b.detail}): {c.why}")
    if verdict.verdict == HEALTHY:
        out.extend(f"healthy beside the symptom {s.key} ({s.signal.detail if s.signal else s.ask})"
                   for s in verdict.path if is_symptom(s))
    return out


def _says(sig: Signal | None, answer: Answer) -> bool:
    if sig is None or sig.answer is not answer:
        return False
    return answer is not Answer.YES or sig.strength >= _STRONG


@dataclass(frozen=True, slots=True)
class Exclusive:
    """Two causes that cannot both be what happened to one service: offering both would
    send the operator two opposite ways (share the agent less, or keep it longer)."""

    cause: str
    other: str
    why: str


EXCLUSIVE: tuple[Exclusive, ...] = (
    Exclusive("shared-instance", "context-reset",
              "one agent shared by every request is not rebuilt for each request"),
    Exclusive("stale-module-state", "context-reset",
              "state that survives across invocations is not lost on each request"),
    Exclusive("shared-history", "context-reset",
              "a history every session appends to is not forgotten between turns"),
)
"""Pairs of causes one incident cannot both have. The reports offer the better-ranked one
of a pair and say that the other was left out and why."""


def withheld_causes(verdict: Verdict) -> dict[str, str]:
    """Ranked causes the reports do not offer, each with one sentence naming the
    better-ranked cause it contradicts. The verdict (the top cause) is never withheld."""
    rank = {c.id.split("/", 1)[0]: n for n, c in reversed(list(enumerate(verdict.causes)))}
    ids = {c.id.split("/", 1)[0]: c.id for c in verdict.causes}
    out: dict[str, str] = {}
    for pair in EXCLUSIVE:
        if pair.cause in rank and pair.other in rank:
            keep, drop = sorted((pair.cause, pair.other), key=lambda c: rank[c])
            if ids[drop] != verdict.verdict and ids[drop] not in out:
                out[ids[drop]] = (f"{ids[drop]} is not offered: it contradicts {ids[keep]}, "
                                  f"which the evidence ranks higher ({pair.why})")
    return out
