"""Untrusted text, made safe to show.

Every string that comes from a log, a trace, a cluster or a source file is shown through
``visible()`` and wrapped in ``rich.text.Text`` (``plain()``), never passed as a markup
string: a log line holding ``[bold red]x[/]`` must show those characters, and one holding
``\\x1b]52;c;...\\x07`` (an OSC 52 clipboard write) or ``\\x1b[2J`` (clear screen) must
show the escape, not send it to the operator's terminal. The escaping rule itself lives in
the core (``probes.safe_text``) so the TUI, the reports and the CLI show the same thing.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from probes.safe_text import visible

__all__ = ["clip", "clip_left", "plain", "visible"]


def plain(text: str, style: str | Style = "", *, keep_newlines: bool = False) -> Text:
    """A ``Text`` holding ``visible(text)`` verbatim: no markup, no emoji codes."""
    return Text(visible(text, keep_newlines=keep_newlines), style=style)


def clip(text: str, width: int) -> str:
    """Cut a visible string to ``width`` characters, marking the cut with …."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def clip_left(text: str, width: int) -> str:
    """Cut from the left, keeping the end: pod names differ in their suffix
    (``agent-7d9f8b6c4-x2k9p`` / ``-q8wzm``), so that is the part to keep."""
    if width <= 0:
        return ""
    return text if len(text) <= width else "…" + text[len(text) - width + 1:]
