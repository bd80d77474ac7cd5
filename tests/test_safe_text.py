"""Untrusted text is shown, never executed or interpreted."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.text import Text

from probes.safe_text import visible

HOSTILE = "[bold red]x[/] \x1b]52;c;aGVsbG8=\x07 \x1b[2J done\u202e"


def test_escape_sequences_become_visible() -> None:
    out = visible(HOSTILE)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\e]52;c;aGVsbG8=\\a" in out and "\\e[2J" in out and "\\u202e" in out


def test_markup_stays_literal_through_rich() -> None:
    buf = StringIO()
    Console(file=buf, force_terminal=True, color_system="truecolor").print(Text(visible(HOSTILE)))
    printed = buf.getvalue()
    assert "[bold red]x[/]" in printed
    assert "\x1b[2J" not in printed and "\x1b]52" not in printed


def test_newlines_and_tabs() -> None:
    assert visible("a\tb\nc") == "a\\tb\\nc"
    assert visible("a\nc", keep_newlines=True) == "a\nc"
