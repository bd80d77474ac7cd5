"""Messages the app's workers and screens send upwards.

Workers run in threads and never touch widgets: they ``post_message`` one of these
(thread-safe) and the app's handlers update state on the UI thread. Screens ask the
app to navigate with ``OpenLogLine`` / ``OpenRun`` / ``ShowRunLogs`` and to re-walk the tree
with ``AnswerGiven``, instead of calling app methods or reaching into each other.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from probes.evidence import Answer
from tui.app.logview import LogFilter, LogIndex
from tui.app.runs import RunRecord

if TYPE_CHECKING:  # the pipeline is loaded by the analysis, not by a message's definition
    from probes.pipeline import Analysis, EarlyLook


@dataclass
class AnalysisProgress(Message):
    """Ingestion/analysis moved on: ``stage`` with ``done`` of ``total`` (0: unknown)."""

    stage: str
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AnalysisProgress)


@dataclass
class EarlyLookReady(Message):
    """A long analysis is still reading; the evidence so far points at ``look.top``."""

    look: EarlyLook

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EarlyLookReady)


@dataclass
class AnalysisReady(Message):
    """The analysis finished."""

    analysis: Analysis


@dataclass
class AnalysisFailed(Message):
    """The analysis could not run at all (an unexpected error, shown in a modal)."""

    error: str


@dataclass
class LogIndexProgress(Message):
    stage: str
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogIndexProgress)


@dataclass
class LogIndexReady(Message):
    """The log index is built (``error`` set when the files could not be read)."""

    index: LogIndex
    error: str | None = None


@dataclass
class FilterApplied(Message):
    """A filter finished in its worker: ``rows`` are the matching row numbers."""

    filter: LogFilter
    rows: array[int]
    target: str  # which log view asked ("logs" or "timeline")


@dataclass
class FindReady(Message):
    """The Logs view's find finished in its worker: ``hits`` flags each index row that
    holds ``term``."""

    term: str
    hits: bytearray


@dataclass
class OpenLogLine(Message):
    """Show ``source:line`` in the Logs screen (from an example, a run, a step)."""

    source: str
    line: int | None


@dataclass
class OpenRun(Message):
    """Show the run ``run_id`` in the Timeline screen."""

    run_id: str


@dataclass
class FollowUpdate(Message):
    """Following (``-f``): a re-ranked analysis with what changed, one line each
    ("verdict: oom -> shared-instance (0.91)", "new: runs.overlap_instance yes")."""

    analysis: Analysis
    changes: tuple[str, ...]


@dataclass
class AnswerGiven(Message):
    """The operator answered (or cleared, ``answer`` UNKNOWN) question ``key`` in the Tree;
    the app re-walks the tree and every view shows the new verdict."""

    key: str
    answer: Answer


@dataclass
class ShowRunLogs(Message):
    """Open the Logs view filtered to one run's lines (the Timeline's ``enter``)."""

    run: RunRecord
