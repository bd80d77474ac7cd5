"""Make untrusted text safe to show: control and escape sequences become visible.

Log lines and cluster strings can hold terminal escapes (``\\x1b[2J`` clears the screen,
``\\x1b]52;c;...\\x07`` writes the clipboard) and bidi overrides. Every front end shows
such text through ``visible`` and as plain text (never Rich markup), so the escapes are
seen, not executed.
"""

from __future__ import annotations

import re

# C0/C1 controls (ESC, BEL, CSI...), zero-width and bidi marks and overrides, and the
# Unicode line/paragraph separators (Python's splitlines() breaks on them, so they could
# split one log line into two on screen).
_CONTROL = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

_NAMES = {"\x1b": "\\e", "\t": "\\t", "\r": "\\r", "\x00": "\\0", "\x07": "\\a", "\x08": "\\b"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMES:
        return _NAMES[ch]
    code = ord(ch)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace control characters with visible escapes (``\\e[2J``, ``\\x07``, ``\\u202e``).

    Tabs are shown as ``\\t`` too, so column layouts stay intact; newlines become ``\\n``
    unless ``keep_newlines`` (multi-line excerpts in Markdown code blocks).
    """
    if not keep_newlines:
        text = text.replace("\n", "\\n")
    return _CONTROL.sub(_escape, text)
