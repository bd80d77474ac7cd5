"""Normalised log events: what ingestion produces and the log analyses consume.

Every log line and every span, whatever its format, becomes ``LogEvent``s with the
same fields. Ingestion fills what it can find (field roles inferred from names and
value types, see ``probes.ingest``); analyses never look at format-specific keys.

Memory: events are streamed from ingestion into the analyses and not kept; an
analysis keeps only per-run / per-instance state and a bounded number of examples.
The class uses ``__slots__`` because a hot path creates one per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What a line says happened. Ingestion classifies with a table of message and
    event-name patterns (``probes.ingest``); unknown lines are ``OTHER``, not dropped."""

    CREATED = "created"  # an agent/team/runtime/client instance was constructed
    RUN_START = "run_start"  # a run (agent.run, team.run, crew.kickoff, a run span) began
    RUN_END = "run_end"  # a run ended (ok or failed: see ``error``/``status``)
    REQUEST_START = "request_start"  # an HTTP request arrived ("incoming request")
    REQUEST_END = "request_end"  # a request completed ("request completed", a SERVER span)
    ERROR = "error"  # an error line that is not a run/request end
    STATE_READ = "state_read"  # a read of session/workflow state (version, value)
    STATE_WRITE = "state_write"  # a write of session/workflow state
    TOOL_CALL = "tool_call"  # a tool or model call (outbound) began or ended
    HISTORY = "history"  # conversation history size/content reported
    PROCESS_START = "process_start"  # the service started (listening, boot)
    OTHER = "other"


# Levels on the pino/bunyan scale, whatever the source logger used.
TRACE, DEBUG, INFO, WARN, ERROR, FATAL = 10, 20, 30, 40, 50, 60


@dataclass(slots=True)
class LogEvent:
    """One normalised event.

    ``time_ns`` is UTC integer nanoseconds (None when the line had no clock and no
    earlier line gave one). ``source`` is the input name; ``line`` is the 1-based line
    number in it (for multi-line inputs, the first line of the record).
    ``host`` is the hostname or pod; ``pid`` the process id as text. Request ids from
    per-process counters (pino-http, fastify) are made unique by ingestion as
    ``host/pid/id``. ``error`` holds the error text (type and message) when the line is
    an error; ``status`` an HTTP status when one is known; ``duration_ms`` the request
    or run duration when the line carries it. ``fields`` holds further named values the
    analyses use (``version``, ``history_len``, ``key``, ``value``, ``expected``,
    ``tool``, ``user``...), or None. ``text`` is the raw inner line (after unwrapping
    container prefixes), cut to the line-length cap, for excerpts.
    """

    time_ns: int | None
    source: str
    line: int
    level: int | None = None
    message: str = ""
    kind: EventKind = EventKind.OTHER
    host: str | None = None
    pid: str | None = None
    instance: str | None = None
    session: str | None = None
    request: str | None = None
    run: str | None = None
    error: str | None = None
    status: int | None = None
    duration_ms: float | None = None
    fields: dict[str, Any] | None = None
    text: str = ""

    @property
    def process(self) -> str | None:
        """The process identity: host/pod and pid where known."""
        if self.host and self.pid:
            return f"{self.host}/{self.pid}"
        return self.host or self.pid
