"""The one evidence model every probe, the tree and every front end share.

Shape of things, defined once here:

* ``Example`` points at one concrete piece of evidence: a log line (file:line), a span,
  a Kubernetes object, a process, a ramp level, a source line. Every claim in a verdict
  is backed by examples, so an operator can go and look.
* ``Signal`` is one named fact a probe measured (``runs.overlap_instance``). Its
  ``answer`` is yes / no / unknown ("not checked"); unknown carries the reason. The
  keys are listed, with their meaning, in ``probes.signals.SIGNALS``: that table is the
  contract between probes and the decision tree.
* ``InputReport`` says what one input was and what happened to it: detected format,
  lines read, lines skipped by reason. Nothing is skipped silently.
* ``Evidence`` is what one probe saw of one target: signals, input reports, an error
  when it could not look at all (errors are data, never exceptions into the UI), and a
  ``data`` payload of plain JSON-able values for the front ends (runs, pods, levels...).
* ``Case`` is everything known about an incident: the evidence plus the operator's
  answers. The tree walks a Case; the walk is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from probes.redact import redact_text


class Answer(StrEnum):
    """The answer to one question of the tree."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # shown to operators as "not checked"


class AnsweredBy(StrEnum):
    """Who answered a question: what the report shows next to each step."""

    EVIDENCE = "evidence"
    OPERATOR = "operator"
    NOT_CHECKED = "not checked"


MAX_EXAMPLE_TEXT = 400
"""Excerpts are cut to this many characters; the pointer (source:line) leads to the rest."""


@dataclass(frozen=True, slots=True)
class Example:
    """A pointer to one concrete piece of evidence, with a short excerpt.

    ``source`` is a file path, ``pod/name``, ``pid 123``, a URL or ``path/file.ts``;
    ``line`` is 1-based where the source has lines. ``text`` is raw text from the
    source (already redacted by the producer where it may hold secrets); front ends
    must render it as plain text, never as markup.
    """

    source: str
    line: int | None = None
    time_ns: int | None = None
    text: str = ""
    note: str = ""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"where": self.where, "source": self.source}
        if self.line is not None:
            out["line"] = self.line
        if self.time_ns is not None:
            out["time"] = iso_ns(self.time_ns)
        if self.text:
            out["text"] = self.text
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Example:
        t = doc.get("time")
        return cls(
            source=str(doc.get("source", "")),
            line=doc.get("line"),
            time_ns=parse_iso_ns(t) if isinstance(t, str) else None,
            text=str(doc.get("text", "")),
            note=str(doc.get("note", "")),
        )


def example(source: str, line: int | None = None, time_ns: int | None = None,
            text: str = "", note: str = "") -> Example:
    """Build an Example: excerpt and note redacted, *then* the excerpt cut to
    ``MAX_EXAMPLE_TEXT`` characters.

    Redact first, cut after: a PEM key or a JSON body longer than the excerpt loses its
    END line or closing quote to the cut, and with them the shape that redaction knows
    (issue 12). Every Example an analysis cites is built here, so this is the one place
    that its excerpts pass through before any report, case file or screen.
    """
    text, note = redact_text(text), redact_text(note)
    if len(text) > MAX_EXAMPLE_TEXT:
        text = text[: MAX_EXAMPLE_TEXT - 1] + "…"
    return Example(source, line, time_ns, text, note)


@dataclass(frozen=True, slots=True)
class Signal:
    """One named, measured fact.

    ``strength`` in (0, 1] says how directly this probe observes the fault: runtime
    evidence (a log line showing two overlapping runs) is 1.0, a risk seen in source
    code is weaker (about 0.4). The tree multiplies its question weights by it.
    ``reason`` explains an UNKNOWN (why the probe could not check).
    """

    key: str
    answer: Answer
    detail: str
    probe: str
    value: float | int | str | None = None
    examples: tuple[Example, ...] = ()
    strength: float = 1.0
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "answer": self.answer.value,
            "detail": self.detail,
            "probe": self.probe,
            "value": self.value,
            "strength": self.strength,
            "evidence": [e.to_json() for e in self.examples],
        }
        if self.reason:
            out["reason"] = self.reason
        if self.data:
            out["data"] = dict(self.data)
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Signal:
        return cls(
            key=str(doc["key"]),
            answer=Answer(doc.get("answer", "unknown")),
            detail=str(doc.get("detail", "")),
            probe=str(doc.get("probe", "")),
            value=doc.get("value"),
            examples=tuple(Example.from_json(e) for e in doc.get("evidence", ())),
            strength=float(doc.get("strength", 1.0)),
            reason=str(doc.get("reason", "")),
            data=dict(doc.get("data", {})),
        )


def yes(key: str, probe: str, detail: str, examples: Iterable[Example], *,
        value: float | int | str | None = None, strength: float = 1.0,
        data: Mapping[str, Any] | None = None) -> Signal:
    """A YES signal. It must carry at least one example: no claim without evidence."""
    ex = tuple(examples)
    if not ex:
        raise ValueError(f"signal {key} answered yes without any evidence")
    return Signal(key, Answer.YES, detail, probe, value, ex, strength, "", data or {})


def no(key: str, probe: str, detail: str, *, value: float | int | str | None = None,
       examples: Iterable[Example] = (), data: Mapping[str, Any] | None = None) -> Signal:
    """A NO signal: the probe looked and did not see it."""
    return Signal(key, Answer.NO, detail, probe, value, tuple(examples), 1.0, "", data or {})


def unknown(key: str, probe: str, reason: str) -> Signal:
    """An UNKNOWN signal: the probe could not look; ``reason`` says why."""
    return Signal(key, Answer.UNKNOWN, f"not checked: {reason}", probe, None, (), 1.0, reason)


@dataclass(frozen=True, slots=True)
class InputReport:
    """What one input was and what became of each of its lines."""

    name: str
    kind: str  # "log" | "trace" | "kube" | "bundle" | "code" | "process" | "ramp" | "unknown"
    format: str  # detected format, e.g. "pino", "kubectl-timestamps+pino", "otlp-json"
    lines_read: int = 0
    events: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason -> count
    bytes_read: int = 0
    error: str | None = None  # the input could not be read at all (or stopped early)
    notes: tuple[str, ...] = ()

    @property
    def lines_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "format": self.format,
            "lines_read": self.lines_read,
            "events": self.events,
            "lines_skipped": self.lines_skipped,
            "skipped": dict(self.skipped),
            "bytes_read": self.bytes_read,
            "error": self.error,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> InputReport:
        return cls(
            name=str(doc["name"]), kind=str(doc.get("kind", "unknown")),
            format=str(doc.get("format", "")), lines_read=int(doc.get("lines_read", 0)),
            events=int(doc.get("events", 0)), skipped=dict(doc.get("skipped", {})),
            bytes_read=int(doc.get("bytes_read", 0)), error=doc.get("error"),
            notes=tuple(doc.get("notes", ())),
        )


@dataclass(frozen=True)
class Evidence:
    """What one probe saw of one target. ``error`` set means it could not look."""

    probe: str
    target: str
    signals: tuple[Signal, ...] = ()
    inputs: tuple[InputReport, ...] = ()
    error: str | None = None
    collected_at: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "target": self.target,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
            "error": self.error,
            "signals": [s.to_json() for s in self.signals],
            "inputs": [i.to_json() for i in self.inputs],
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Evidence:
        at = doc.get("collected_at")
        return cls(
            probe=str(doc["probe"]), target=str(doc.get("target", "")),
            signals=tuple(Signal.from_json(s) for s in doc.get("signals", ())),
            inputs=tuple(InputReport.from_json(i) for i in doc.get("inputs", ())),
            error=doc.get("error"),
            collected_at=datetime.fromisoformat(at) if at else None,
            data=dict(doc.get("data", {})),
        )


def failed(probe: str, target: str, error: str) -> Evidence:
    """Evidence of a probe that could not look at all: every key it owns stays unknown."""
    return Evidence(probe=probe, target=target, error=error, collected_at=now_utc())


@dataclass(frozen=True)
class Case:
    """Everything known about an incident: evidence plus the operator's answers.

    Immutable: ``with_evidence`` and ``with_answer`` return new Cases, so a front end
    can keep the history and the walk stays pure.
    """

    evidence: tuple[Evidence, ...] = ()
    answers: Mapping[str, Answer] = field(default_factory=dict)

    def with_evidence(self, ev: Evidence) -> Case:
        return replace(self, evidence=(*self.evidence, ev))

    def with_answer(self, key: str, answer: Answer) -> Case:
        answers = dict(self.answers)
        if answer is Answer.UNKNOWN:
            answers.pop(key, None)
        else:
            answers[key] = answer
        return replace(self, answers=answers)

    def signals(self) -> dict[str, Signal]:
        """All signals, merged by key across probes (see ``merge_signals``)."""
        by_key: dict[str, list[Signal]] = {}
        for ev in self.evidence:
            for s in ev.signals:
                by_key.setdefault(s.key, []).append(s)
        return {k: merge_signals(v) for k, v in by_key.items()}

    def inputs(self) -> list[InputReport]:
        return [i for ev in self.evidence for i in ev.inputs]

    def to_json(self) -> dict[str, Any]:
        return {
            "evidence": [e.to_json() for e in self.evidence],
            "answers": {k: v.value for k, v in self.answers.items()},
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Case:
        return cls(
            evidence=tuple(Evidence.from_json(e) for e in doc.get("evidence", ())),
            answers={k: Answer(v) for k, v in doc.get("answers", {}).items()},
        )


MAX_MERGED_EXAMPLES = 12


def merge_signals(signals: list[Signal]) -> Signal:
    """Merge signals with one key from several probes.

    YES from any probe wins (examples pooled, strongest strength kept, values listed);
    otherwise NO from any probe; otherwise UNKNOWN with every reason kept.
    """
    if len(signals) == 1:
        return signals[0]
    yeses = [s for s in signals if s.answer is Answer.YES]
    if yeses:
        best = max(yeses, key=lambda s: s.strength)
        examples: list[Example] = []
        for s in sorted(yeses, key=lambda s: -s.strength):
            examples.extend(s.examples)
        return replace(
            best,
            detail="; ".join(dict.fromkeys(s.detail for s in yeses)),
            probe="+".join(dict.fromkeys(s.probe for s in yeses)),
            examples=tuple(examples[:MAX_MERGED_EXAMPLES]),
        )
    noes = [s for s in signals if s.answer is Answer.NO]
    if noes:
        first = noes[0]
        return replace(
            first,
            detail="; ".join(dict.fromkeys(s.detail for s in noes)),
            probe="+".join(dict.fromkeys(s.probe for s in noes)),
        )
    reasons = "; ".join(dict.fromkeys(f"{s.probe}: {s.reason}" for s in signals))
    return replace(signals[0], reason=reasons, detail=f"not checked: {reasons}",
                   probe="+".join(dict.fromkeys(s.probe for s in signals)))


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso_ns(time_ns: int) -> str:
    """UTC ISO-8601 with microseconds and a Z, from integer nanoseconds."""
    dt = datetime.fromtimestamp(time_ns // 1_000_000_000, UTC)
    micros = (time_ns % 1_000_000_000) // 1000
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


_UTC_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", re.ASCII)
"""The shape nearly every timestamp met has (kubelet CRI, kubectl --timestamps, Docker,
JSON logs): UTC, ASCII digits, an optional fraction."""
_WHOLE_SECONDS: dict[str, int | None] = {}
"""``parse_iso_ns`` of such a timestamp's whole second (``head + "Z"``), by head: lines
of a log share their second, and the general parse costs ~2 µs a line where a wrapped
log (kubectl --timestamps, CRI) parses one per line. Cleared when it grows past
``_WHOLE_SECONDS_MAX``."""
_WHOLE_SECONDS_MAX = 1 << 16


def parse_iso_ns(text: str) -> int | None:
    """Parse an ISO-8601 / RFC3339(Nano) timestamp into UTC integer nanoseconds.

    Naive times are taken as UTC. Nine fractional digits keep full precision.
    Returns None when the text is not a timestamp. The common UTC shape
    (``_UTC_STAMP``) takes its whole second from a memo: the same arithmetic as the
    general parse (``_parse_iso_ns``) on the same parts, checked against it in
    ``tests/test_ingest_fastpaths.py``.
    """
    m = _UTC_STAMP.fullmatch(text)
    if m is None:
        return _parse_iso_ns(text)
    head, digits = m.groups()
    try:
        whole = _WHOLE_SECONDS[head]
    except KeyError:
        if len(_WHOLE_SECONDS) >= _WHOLE_SECONDS_MAX:
            _WHOLE_SECONDS.clear()
        whole = _WHOLE_SECONDS[head] = _parse_iso_ns(head + "Z")
    if whole is None:
        return None
    return whole + int((digits + "000000000")[:9]) if digits else whole


def _parse_iso_ns(text: str) -> int | None:
    """``parse_iso_ns``, the general way."""
    s = text.strip()
    if len(s) < 10:
        return None
    frac_ns = 0
    # Split off fractional seconds ourselves so 9-digit fractions keep their precision.
    dot = s.find(".", 10)
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        digits = s[dot + 1 : end]
        if digits:
            frac_ns = int((digits + "000000000")[:9])
        s = s[:dot] + s[end:]
    comma = s.find(",", 10)  # python logging asctime: "2003-07-08 16:49:45,896"
    if comma != -1 and dot == -1:
        end = comma + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        digits = s[comma + 1 : end]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        s = s[:comma] + s[end:]
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + frac_ns
