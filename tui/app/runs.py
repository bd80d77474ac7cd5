"""One run as the views show it: the typed payload the Timeline, the Logs view and the app
pass to each other (``Timeline.RunChosen``, ``ShowRunLogs``, ``LineScreen``).

The logs probe writes runs into its Evidence's ``data["runs"]`` as JSON objects
(``probes.analysis.runs.Run.to_json``), and a saved case brings them back the same way, so
the views get dicts; ``RunRecord.from_json`` reads one once, and nothing past it looks a
run up by string key. Textual-free, like ``tui.app.logview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probes.evidence import parse_iso_ns
from tui.app.logview import RunWindow


@dataclass(frozen=True, slots=True, eq=False)
class RunRecord:
    """A run's ids, span, outcome and where it starts and ends in the logs.

    Compared by identity (``eq=False``): two runs with equal fields are still two runs, and
    the Timeline keeps its selection by finding the same object again."""

    id: str
    """The run id ("" when the JSON had none)."""
    instance: str | None = None
    session: str | None = None
    request: str | None = None
    process: str | None = None
    start_ns: int | None = None
    """None when the start is unknown: such a run cannot be placed on the Timeline."""
    end_ns: int | None = None
    """None when the run never ended."""
    outcome: str = "open"
    """"ok", "open" (never ended) or "error" (the text is in ``error``)."""
    error: str | None = None
    source: str | None = None
    """The file of the run's start line, with ``line``."""
    line: int | None = None
    end_line: int | None = None

    @classmethod
    def from_json(cls, run: Mapping[str, Any]) -> RunRecord:
        """Read a run from either shape the logs probe writes (``Any``: JSON values).

        Accepts ``start_ns``/``end_ns`` integers or ``start``/``end`` ISO strings, and
        ``source``/``line`` or ``start_at`` ("file:line"). ``outcome`` becomes "ok", "open"
        or "error", with the error text in ``error``."""
        start_ns = _time(run, "start_ns", "start")
        end_ns = _time(run, "end_ns", "end")
        outcome = run.get("outcome")
        error = _text(run.get("error"))
        if end_ns is None:
            shown = "open"
        elif outcome in (None, "", "ok"):
            shown = "ok"
        else:
            shown = "error"
            if outcome != "error" and not error:
                error = str(outcome)
        source = _text(run.get("source"))
        line = run.get("line")
        if source is None:
            source, line = _where(run.get("start_at"))
        end_line = run.get("end_line")
        if not end_line:
            end_line = _where(run.get("end_at"))[1]
        return cls(id=str(run.get("id") or ""), instance=_text(run.get("instance")),
                   session=_text(run.get("session")), request=_text(run.get("request")),
                   process=_text(run.get("process")), start_ns=start_ns, end_ns=end_ns,
                   outcome=shown, error=error, source=source,
                   line=line if isinstance(line, int) else None,
                   end_line=end_line if isinstance(end_line, int) else None)

    def lane(self, group: str) -> str:
        """The Timeline lane of this run when lanes are by ``group`` ("instance" or
        "session")."""
        value = self.session if group == "session" else self.instance
        return value if value is not None else f"(no {group})"

    def window(self) -> RunWindow:
        """The Logs view's filter for this run's lines."""
        return RunWindow(self.id, self.instance, self.start_ns, self.end_ns, self.request)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(run: Mapping[str, Any], ns_key: str, iso_key: str) -> int | None:
    value = run.get(ns_key)
    if isinstance(value, int):
        return value
    text = run.get(iso_key)
    return parse_iso_ns(text) if isinstance(text, str) else None


def _where(value: object) -> tuple[str | None, int | None]:
    if not isinstance(value, str) or not value:
        return None, None
    source, sep, line = value.rpartition(":")
    if sep and line.isdigit():
        return source, int(line)
    return value, None
