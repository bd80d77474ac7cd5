"""What the code probe reports: a ``Finding`` per risky place, and the language-neutral
facts the two source readers (``python_source`` and ``js_source``) extract.

The readers walk their syntax trees once and record *facts* (module-level bindings, the
functions and whether they serve requests, uses of module names inside functions) plus
findings that only make sense in their own syntax (fan-out, timers, callbacks). The
rules that join module bindings with handler uses are shared in ``rules.py``, so both
languages answer "is one instance shared by all requests?" the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..evidence import MAX_EXAMPLE_TEXT
from ..redact import redact_text

SIGNAL_CAUSE: dict[str, str] = {
    "code.shared_instance": "shared-instance",
    "code.shared_history": "shared-history",
    "code.stateful_tool": "stateful-tool",
    "code.unbounded_fanout": "unbounded-fanout",
    "code.reentrant_run": "reentrant-run",
    "code.overlapping_timer": "overlapping-timer",
    "code.in_memory_state": "in-memory-state",
    "code.non_atomic_update": "non-atomic-update",
    "code.version_mismatch": "version-mismatch",
}
"""Signal key -> cause id (``/work/shared/CAUSES.md``). The order is the report order."""


@dataclass(frozen=True)
class Finding:
    """One risky place in source or manifests, with the line to look at and why."""

    path: str
    line: int  # 1-based
    column: int  # 1-based
    cause: str  # a cause id from CAUSES.md
    signal: str  # a code.* key from probes.signals
    excerpt: str  # the source line(s), stripped; plain text
    why: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column,
                "cause": self.cause, "signal": self.signal, "excerpt": self.excerpt,
                "why": self.why}


def make_finding(signal: str, path: str, line: int, column: int, excerpt: str,
                 why: str) -> Finding:
    """A finding with its excerpt redacted (source holds API keys more often than it
    should) and cut to ``MAX_EXAMPLE_TEXT``."""
    text = redact_text(excerpt)
    if len(text) > MAX_EXAMPLE_TEXT:
        text = text[: MAX_EXAMPLE_TEXT - 1] + "…"
    return Finding(path, line, column, SIGNAL_CAUSE[signal], signal, text, why)


@dataclass
class Binding:
    """A name bound at module scope (or assigned to a module name from a function).

    ``kind``: "instance" (a framework object), "object" (any other long-lived object),
    "list", "map", "slot" (declared empty, filled later), "lazy" (a slot a function
    fills with a framework object on first use), "factory" (a cached function returning
    a framework object: calling it hands out one shared object).
    """

    name: str
    kind: str
    line: int
    column: int
    excerpt: str
    what: str = ""  # "AutoGen agent (AssistantAgent)"
    exported: bool = False
    parts: tuple[str, ...] = ()  # earlier instances it is built from (a team's agents)
    origin: str = ""  # for "lazy"/"factory": the function that builds it on first use


@dataclass
class Func:
    """One function (or lambda/arrow/method) and whether it serves requests."""

    fid: int
    name: str
    parent: int | None
    handler_why: str = ""  # non-empty when the function is a request handler
    calls: set[str] = field(default_factory=set)  # simple names it calls
    local_names: set[str] = field(default_factory=set)
    global_names: set[str] = field(default_factory=set)  # python ``global x``


@dataclass
class Use:
    """A use of a module name inside a function."""

    name: str
    action: str  # "ref" | "append" | "field_set" | "key_set" | "assign_instance"
    fid: int
    line: int
    column: int
    excerpt: str
    detail: str = ""  # field name, key text, or the class of an assigned instance
    constant: bool = False  # a field_set whose value is a literal


@dataclass
class ModuleFacts:
    """Everything one source file told the readers."""

    path: str
    bindings: dict[str, Binding] = field(default_factory=dict)
    funcs: dict[int, Func] = field(default_factory=dict)
    uses: list[Use] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    handler_names: dict[str, str] = field(default_factory=dict)  # name -> why (routes)
