"""What a line says happened: one table of message / event-name patterns.

``KIND_PATTERNS`` maps each ``EventKind`` to phrases (case-insensitive regular
expressions) seen in real agent services. They are compiled once into a single
alternation with one named group per kind, so classifying a line is one ``search``.
The earliest match in the message wins. Rules that need more than the message (a
status plus a duration means a request ended; a ``history_len`` field means a
history report; level >= 50 or an error field means an error) are in ``classify``.
Extend by adding a phrase to the table; ``tests/test_ingest_kinds.py`` holds the
golden lines.
"""

from __future__ import annotations

import re

from probes.events import ERROR, EventKind

KIND_PATTERNS: dict[EventKind, tuple[str, ...]] = {
    EventKind.CREATED: (
        r"agent created", r"created agent", r"new assistantagent", r"instance created",
        r"team created", r"runtime created", r"crew created", r"client created",
        r"created (?:team|runtime|crew|client|instance)", r"agent_created",
    ),
    EventKind.RUN_START: (
        r"run started", r"run start\b", r"starting run", r"kickoff started",
        r"agent\.run start", r"run_start", r"run begin", r"started run",
        r"\brun[._](?:start|started|begin)\b",
    ),
    EventKind.RUN_END: (
        r"run finished", r"run completed", r"run ended", r"run failed", r"run_end",
        r"kickoff finished", r"kickoff completed", r"run done", r"finished run",
        # a failed run is a run that ended, whatever the service calls it
        r"run errored",
        r"\brun[._](?:error|errored|failed|failure|end|ended|finished|completed|complete|done|"
        r"succeeded)\b",
        r"\bagent[._](?:error|failed)\b", r"kickoff failed",
        r"\b(?:task|kickoff|crew|team|workflow|graph)[._](?:failed|error|errored)\b",
    ),
    EventKind.REQUEST_START: (r"incoming request", r"request received", r"request started"),
    EventKind.REQUEST_END: (
        r"request completed", r"request errored", r"request aborted", r"request finished",
        r"request failed",
    ),
    EventKind.STATE_READ: (r"state read", r"loaded state", r"state loaded", r"read state",
                           r"state_read"),
    EventKind.STATE_WRITE: (r"state written", r"saved state", r"state saved", r"write state",
                            r"wrote state", r"state_write"),
    EventKind.TOOL_CALL: (r"tool call", r"calling tool", r"model call", r"llm call",
                          r"outbound call", r"tool_call", r"calling model"),
    EventKind.PROCESS_START: (r"listening on", r"server listening", r"application startup complete",
                              r"started server", r"server started", r"booting worker",
                              r"worker \d+ started", r"started worker"),
}

_GROUP_KIND: dict[str, EventKind] = {f"k{i}": kind for i, kind in enumerate(KIND_PATTERNS)}
_KIND_RE = re.compile(
    "|".join(f"(?P<k{i}>{'|'.join(pats)})" for i, pats in enumerate(KIND_PATTERNS.values())),
    re.IGNORECASE,
)

_ENDS = (EventKind.RUN_END, EventKind.REQUEST_END)
_RUN_END = EventKind.RUN_END


_CACHE_SIZE = 1 << 16
_CACHE_TEXT = 256
_cache: dict[str, EventKind] = {}
"""message -> kind from the pattern table alone; ``lineformats.assemble`` reads it
directly when no other rule (error, level, status, history) can change the answer."""


def kind_of_text(text: str) -> EventKind:
    """The kind a message or event name names, or OTHER.

    Log messages repeat ("run started", "request completed"), so short ones are cached
    (bounded: at most ``_CACHE_SIZE`` entries of at most ``_CACHE_TEXT`` characters)."""
    kind = _cache.get(text)
    if kind is not None:
        return kind
    m = _KIND_RE.search(text)
    kind = EventKind.OTHER if m is None else _GROUP_KIND[m.lastgroup or ""]
    if len(text) <= _CACHE_TEXT and len(_cache) < _CACHE_SIZE:
        _cache[text] = kind
    return kind


_OUTCOME = re.compile(r"^\S+(?: \S+)? (?:ok|done|completed|finished|failed|succeeded|"
                      r"errored)\b", re.IGNORECASE)
"""'<what> <outcome>' at the start of a message: with a duration, a unit of work's end."""


def classify(message: str, event_name: str | None, level: int | None, error: str | None,
             status: int | None, duration_ms: float | None,
             has_history: bool) -> EventKind:
    """Classify one line from its message, event name and extracted values."""
    kind = kind_of_text(message) if message else EventKind.OTHER
    if kind is EventKind.OTHER and event_name and event_name != message:
        kind = kind_of_text(event_name)
    if kind is EventKind.OTHER:
        if duration_ms is not None and (status is not None or _OUTCOME.search(message)):
            # a status and a time, or an outcome word and a time ("chat ok ms=405",
            # "chat failed ms=1206: ..."): how one unit of work ended
            kind = EventKind.REQUEST_END
        elif has_history:
            kind = EventKind.HISTORY
    if kind not in _ENDS and ((level is not None and level >= ERROR) or error):
        return EventKind.ERROR
    return kind


def end_failed(kind: EventKind, message: str, level: int | None, status: int | None,
               event_name: str | None = None) -> bool:
    """Did a RUN_END / REQUEST_END report a failure (so it should carry error text)?
    A run end named ``run_error`` / ``agent.error`` in its message or event name says so."""
    if level is not None and level >= ERROR:
        return True
    if status is not None and status >= 500:
        return True
    if kind is _RUN_END:
        said = _run_failed_cache.get(message)
        if said is None:
            low = message.lower()
            said = "fail" in low or "errored" in low or "aborted" in low \
                or _RUN_ERROR.search(message) is not None
            if len(message) <= _CACHE_TEXT and len(_run_failed_cache) < _CACHE_SIZE:
                _run_failed_cache[message] = said
        if not said and event_name and event_name != message:
            said = _RUN_ERROR.search(event_name) is not None
        return said
    said = _failed_cache.get(message)
    if said is None:
        low = message.lower()
        said = "fail" in low or "errored" in low or "aborted" in low
        if len(message) <= _CACHE_TEXT and len(_failed_cache) < _CACHE_SIZE:
            _failed_cache[message] = said
    return said


_RUN_ERROR = re.compile(r"[._ ](?:error|errored|failed|failure)\b", re.IGNORECASE)
_failed_cache: dict[str, bool] = {}
"""message -> does it say the request failed (bounded like ``_cache``)."""
_run_failed_cache: dict[str, bool] = {}
"""message -> does it say the run failed (also ``run_error``-style names)."""
