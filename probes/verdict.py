"""What a walk of the decision tree produces: the path, the ranked causes, the verdict.

Kept apart from ``probes.tree`` (the tree's data) and ``probes.diagnose`` (the walker)
so front ends can import the result types without the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probes.evidence import Answer, AnsweredBy, Signal


@dataclass(frozen=True, slots=True)
class Step:
    """One question on the walked path, with how it was answered.

    ``signal`` is the merged signal behind an evidence answer (None when the operator
    answered or nobody could). ``depth`` is the nesting level in the tree, for display.
    """

    key: str
    ask: str
    answer: Answer
    by: AnsweredBy
    signal: Signal | None
    depth: int
    leads_to: tuple[str, ...]  # cause ids below this question

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "question": self.ask,
            "answer": self.answer.value,
            "answered_by": self.by.value,
            "detail": self.signal.detail if self.signal else None,
            "value": self.signal.value if self.signal else None,
            "reason": self.signal.reason if self.signal and self.signal.reason else None,
            "depth": self.depth,
            "leads_to": list(self.leads_to),
        }


@dataclass(frozen=True, slots=True)
class RankedCause:
    """A cause with its score in [0, 1] and the evidence for and against it."""

    id: str
    title: str
    score: float
    why: str
    supports: tuple[Signal, ...]
    refutes: tuple[Signal, ...]
    broken: str
    fixed: str
    next_steps: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        evidence = [e.to_json() | {"signal": s.key} for s in self.supports for e in s.examples]
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 3),
            "why": self.why,
            "evidence": evidence,
            "supported_by": [s.key for s in self.supports],
            "refuted_by": [s.key for s in self.refutes],
            "fix": {"broken": self.broken, "fixed": self.fixed,
                    "next_steps": list(self.next_steps)},
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one walk.

    ``verdict`` is a cause id, ``healthy`` or ``inconclusive``. ``causes`` is ranked,
    best first, and holds only causes with supporting evidence. ``path`` is every
    question visited, in order. ``open_questions`` are the visited questions nobody
    could answer, which the operator may answer. ``collect_next`` says what evidence
    would settle the open questions.
    """

    verdict: str
    title: str
    summary: str
    causes: tuple[RankedCause, ...]
    path: tuple[Step, ...]
    open_questions: tuple[Step, ...]
    collect_next: tuple[str, ...]

    @property
    def top(self) -> RankedCause | None:
        return self.causes[0] if self.causes else None
