"""Make untrusted text safe to show: control, escape and invisible characters become visible.

Log lines and cluster strings can hold terminal escapes (``\\x1b[2J`` clears the screen,
``\\x1b]52;c;...\\x07`` writes the clipboard), bidi overrides, and characters that show
as nothing at all: a byte-order mark or word joiner inside a pod name, a soft hyphen in
an error message, Unicode tag characters that carry a hidden ASCII message. Every front
end shows such text through ``visible`` and as plain text (never Rich markup), so the
escapes are seen, not executed, and what is there can be seen to be there.
"""

from __future__ import annotations

import re

# Unicode "format" characters (category Cf) as of Unicode 15, the version of the Python
# 3.11/3.12 ``unicodedata`` tables; ``tests/test_secrets_corpus.py`` checks it against
# ``unicodedata`` so a newer Python's additions are seen. Kept as a table rather than
# built at import from ``unicodedata`` (a 1.1M-code-point scan costs ~0.3 s per start).
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidi isolates, deprecated format controls
    (0xFEFF, 0xFEFF),  # byte-order mark / zero-width no-break space
    (0xFFF9, 0xFFFB),  # interlinear annotations
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),  # tag characters (the whole block: unassigned ones too)
)
# Characters outside Cf that also show as nothing and are used to hide text: Hangul
# fillers, the combining grapheme joiner, and the variation selectors supplement.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x3164, 0x3164), (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)


def _ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                   for a, b in ranges)


# C0/C1 controls (ESC, BEL, CSI...), the Unicode line/paragraph separators (Python's
# splitlines() breaks on them, so they could split one log line into two on screen),
# format characters and other invisible ones.
_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029"
    + _ranges(_FORMAT_RANGES) + _ranges(_INVISIBLE_RANGES) + "]")

_NAMES = {"\x1b": "\\e", "\t": "\\t", "\r": "\\r", "\x00": "\\0", "\x07": "\\a", "\x08": "\\b"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMES:
        return _NAMES[ch]
    code = ord(ch)
    if code > 0xFFFF:
        return f"\\U{code:08x}"
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace control and invisible characters with visible escapes (``\\e[2J``,
    ``\\x07``, ``\\u202e``, ``\\ufeff``, ``\\U000e0041``).

    Tabs are shown as ``\\t`` too, so column layouts stay intact; newlines become ``\\n``
    unless ``keep_newlines`` (multi-line excerpts in Markdown code blocks).
    """
    if not keep_newlines:
        text = text.replace("\n", "\\n")
    return _CONTROL.sub(_escape, text)
