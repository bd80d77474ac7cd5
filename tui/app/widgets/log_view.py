"""The virtualised log view: draws only the visible rows of a ``LogIndex``.

A Line-API widget (``ScrollView`` + ``render_line``, as toolong does): the virtual size
is the number of rows, and each frame asks only for the lines on screen, whose text the
index reads lazily from disk. So scrolling a million lines costs the same as scrolling a
hundred. Rows are an ``array`` of index row numbers (the current filter's result).
"""

from __future__ import annotations

import zlib
from array import array
from datetime import UTC, datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.logview import NO_TIME, LogIndex, level_name, summarise_line
from tui.render.plain import clip_left, visible

PALETTE = (
    "#5f87d7", "#d7875f", "#5faf5f", "#af5faf", "#c9a000", "#00afaf",
    "#d75f87", "#87af00", "#8787d7", "#af8700", "#00af87", "#d75f5f",
)
"""Mid-tone colours readable on both the dark and the light theme."""

LEVEL_STYLES = {
    "trace": "dim", "debug": "dim", "info": "", "warn": "bold #c98a00",
    "error": "bold #e05050", "fatal": "bold reverse #e05050",
}

TIME_WIDTH = 12
LEVEL_WIDTH = 5
WHO_WIDTH = 16
TEXT_WIDTH = 600  # horizontal scroll range for the text column


def stable_colour(name: str) -> str:
    """The same replica/pod gets the same colour in every run and on every screen."""
    return PALETTE[zlib.crc32(name.encode("utf-8", "replace")) % len(PALETTE)]


def clock(time_ns: int) -> str:
    """``HH:MM:SS.mmm`` in UTC (the logs' own clock; dates are in the status line)."""
    if time_ns == NO_TIME:
        return "--:--:--.---"
    dt = datetime.fromtimestamp(time_ns / 1e9, UTC)
    return dt.strftime("%H:%M:%S.") + f"{(time_ns // 1_000_000) % 1000:03d}"


FIND_STYLE = "bold black on #d7af00"
"""A search match, as lnav draws it: reverse-video yellow, visible in every theme."""


class LogView(ScrollView, can_focus=True):
    """Rows of a log index; the cursor row is highlighted; ``enter`` selects it."""

    COMPONENT_CLASSES = {"logview--cursor"}
    DEFAULT_CSS = """
    LogView { background: $surface; }
    LogView > .logview--cursor { background: $accent 40%; }
    LogView:focus > .logview--cursor { background: $accent; color: $text; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Line", show=False),
        Binding("m", "toggle_raw", "Raw"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    find: reactive[str] = reactive("")
    """The search term (``f``): its matches are highlighted, ``n``/``N`` move between them."""
    raw: reactive[bool] = reactive(False)
    """Show raw lines; by default structured lines are summarised (message first)."""

    class Highlighted(Message):
        """The cursor moved to index row ``row`` (None: the view is empty)."""

        def __init__(self, view: LogView, row: int | None) -> None:
            super().__init__()
            self.view = view
            self.row = row

    class Selected(Message):
        """``enter`` on index row ``row``."""

        def __init__(self, view: LogView, row: int) -> None:
            super().__init__()
            self.view = view
            self.row = row

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.index: LogIndex | None = None
        self.rows: array[int] = array("I")

    # -- data -----------------------------------------------------------------------

    def set_rows(self, index: LogIndex, rows: array[int], keep_row: int | None = None) -> None:
        """Show ``rows``; keep the cursor on ``keep_row`` if it is still there."""
        self.index = index
        self.rows = rows
        self.virtual_size = Size(TIME_WIDTH + LEVEL_WIDTH + WHO_WIDTH + 3 + TEXT_WIDTH,
                                 len(rows))
        target = 0
        if keep_row is not None:
            try:
                target = rows.index(keep_row)
            except ValueError:
                target = 0
        self.cursor = min(target, max(0, len(rows) - 1))
        self.refresh()

    @property
    def cursor_row(self) -> int | None:
        """The index row under the cursor."""
        if not self.rows or not 0 <= self.cursor < len(self.rows):
            return None
        return self.rows[self.cursor]

    def go_to(self, position: int) -> None:
        """Move the cursor to ``position`` in the rows and centre it."""
        if not self.rows:
            return
        self.cursor = max(0, min(position, len(self.rows) - 1))
        self._centre_cursor()
        # a view just created has no height nor scroll range until its first layout: the
        # first jump would stay at the top, so centre again once it is laid out
        self.call_after_refresh(self._centre_cursor)

    def _centre_cursor(self) -> None:
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)

    # -- cursor ---------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        if new < self.scroll_y:
            self.scroll_to(y=new, animate=False)
        elif new >= self.scroll_y + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_row))

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + delta, len(self.rows) - 1))

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self.refresh()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1

    def on_click(self, event: events.Click) -> None:
        position = int(self.scroll_y) + event.y
        if 0 <= position < len(self.rows):
            self.cursor = position

    def action_select(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    # -- drawing --------------------------------------------------------------------

    def row_text(self, row: int) -> Text:
        """One row as plain ``Text``: time, level, replica (coloured), raw line."""
        index = self.index
        assert index is not None
        level = level_name(index.level[row])
        who = (index.hosts.get(index.host[row]) or index.instances.get(index.instance[row])
               or index.source_name(row).rsplit("/", 1)[-1])
        text = Text(no_wrap=True, end="")
        text.append(clock(index.time_ns[row]).ljust(TIME_WIDTH + 1), style="dim")
        text.append(level.ljust(LEVEL_WIDTH + 1), style=LEVEL_STYLES.get(level, ""))
        text.append(clip_left(visible(who), WHO_WIDTH).ljust(WHO_WIDTH + 1),
                    style=stable_colour(who))
        line = index.text(row)
        # already redacted: LogIndex.text redacts each line before it cuts it (issue 12)
        shown = Text(visible(line if self.raw else summarise_line(line)))
        if self.find:
            shown.highlight_words([self.find], style=FIND_STYLE, case_sensitive=False)
        text.append_text(shown)
        return text

    def watch_find(self, old: str, new: str) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        position = scroll_y + y
        base = self.rich_style
        if self.index is None or position >= len(self.rows):
            return Strip.blank(width, base)
        text = self.row_text(self.rows[position])
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
        if position == self.cursor:
            cursor: Style = self.get_component_rich_style("logview--cursor")
            strip = Strip([Segment(s.text, (s.style or Style()) + cursor, s.control)
                           for s in strip])
        return strip.apply_style(base)
