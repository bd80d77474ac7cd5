"""Untrusted text, made safe to show.

Every string that comes from a log, a trace, a cluster or a source file is shown through
``visible()`` and wrapped in ``rich.text.Text`` (``plain()``), never passed as a markup
string: a log line holding ``[bold red]x[/]`` must show those characters, and one holding
``\\x1b]52;c;...\\x07`` (an OSC 52 clipboard write) or ``\\x1b[2J`` (clear screen) must
show the escape, not send it to the operator's terminal. The escaping rule itself lives in
the core (``probes.safe_text``) so the TUI, the reports and the CLI show the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from probes.redact import redact_text
from probes.safe_text import visible

__all__ = ["clip", "clip_left", "plain", "redact_segments", "visible"]


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


def redact_segments(segments: Iterable[Segment]) -> list[Segment]:
    """Drawn segments with secrets masked, one screen line at a time.

    The screen shows log lines as they are (the operator reads their own logs), but a
    screenshot is a file that travels, like a report. A secret can straddle segments
    (a styled key, then its value), so each line's text is redacted whole; the changed
    stretch takes the style of its first character, and spaces after the masked word
    keep the rest of the line (later table columns) where it was.
    """
    out: list[Segment] = []
    line: list[Segment] = []
    for seg in segments:
        if seg.control or "\n" in seg.text:
            out.extend(_redact_line(line))
            line = []
            out.append(seg)
        else:
            line.append(seg)
    out.extend(_redact_line(line))
    return out


def _redact_line(line: list[Segment]) -> list[Segment]:
    text = "".join(seg.text for seg in line)
    masked = redact_text(text)
    if masked == text:
        return line
    head = 0
    while head < min(len(text), len(masked)) and text[head] == masked[head]:
        head += 1
    tail = 0
    while (tail < min(len(text), len(masked)) - head
           and text[-1 - tail] == masked[-1 - tail]):
        tail += 1
    style = next((seg.style for seg in _slice(line, head, head + 1)), None)
    rest = len(text) - tail
    word_end = text.find(" ", rest)  # pad after the masked word: later columns stay put
    word_end = len(text) if word_end < 0 else word_end
    pad = " " * max(0, cell_len(text) - cell_len(masked))
    new = [*_slice(line, 0, head), Segment(masked[head:len(masked) - tail], style),
           *_slice(line, rest, word_end), Segment(pad, style),
           *_slice(line, word_end, len(text))]
    return Segment.adjust_line_length(new, cell_len(text), style)


def _slice(line: list[Segment], start: int, end: int) -> list[Segment]:
    """The parts of ``line`` between character offsets ``start`` and ``end``."""
    out: list[Segment] = []
    pos = 0
    for seg in line:
        lo, hi = max(pos, start), min(pos + len(seg.text), end)
        if lo < hi:
            out.append(Segment(seg.text[lo - pos:hi - pos], seg.style))
        pos += len(seg.text)
    return out
