"""Runs as bars on a shared time axis, one lane per instance (or per session).

The point of the picture is overlap: two runs of one instance in flight at once is the
signature of a shared agent/team. Cells where runs of one lane overlap in time are drawn
in the warning colour, runs that ended in error in the error colour, the selected run in
reverse. Keyboard: ``up``/``down`` lane, ``left``/``right`` run, ``+``/``-`` zoom,
``,``/``.`` pan, ``0`` fit, ``g`` group by instance or session, ``enter`` the run's logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tui.app.runs import RunRecord
from tui.app.widgets.log_view import clock, stable_colour
from tui.render.plain import clip_left, visible

LABEL_WIDTH = 18

EMPTY, RUN, OVERLAP, ERROR, OPEN = 0, 1, 2, 3, 4
CELL_CHARS = {EMPTY: " ", RUN: "▆", OVERLAP: "▆", ERROR: "▆", OPEN: "▒"}
SELECTED_GLYPH = "█"
CELL_STYLES = {
    EMPTY: "", RUN: "#5f87d7", OVERLAP: "#e0a000", ERROR: "#e05050", OPEN: "#8787af",
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One run placed on the axis. ``end_ns`` is filled for open runs (the data's end)."""

    run: RunRecord
    lane: int
    start_ns: int
    end_ns: int
    state: int  # RUN / ERROR / OPEN


def overlaps(bars: Sequence[Bar]) -> list[tuple[int, int]]:
    """Time intervals where two or more of ``bars`` (one lane) are in flight at once."""
    edges = sorted([(b.start_ns, 1) for b in bars] + [(b.end_ns, -1) for b in bars],
                   key=lambda e: (e[0], e[1]))  # ends before starts at equal times
    depth, since, out = 0, 0, []
    for at, step in edges:
        if step > 0:
            depth += 1
            if depth == 2:
                since = at
        else:
            if depth == 2 and at > since:
                out.append((since, at))
            depth -= 1
    return out


class Timeline(Widget, can_focus=True):
    """The runs chart. Set ``runs`` with ``set_runs``; read ``selected_run``."""

    DEFAULT_CSS = """
    Timeline { height: auto; background: $surface; }
    """
    BINDINGS = [
        Binding("up,k", "lane(-1)", "Lane up", show=False),
        Binding("down,j", "lane(1)", "Lane down", show=False),
        Binding("left,h", "step(-1)", "Prev run", show=False),
        Binding("right,l", "step(1)", "Next run", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", key_display="+"),
        Binding("minus", "zoom(2.0)", "Zoom out", key_display="-"),
        Binding("comma", "pan(-0.25)", "Pan left", key_display=","),
        Binding("full_stop", "pan(0.25)", "Pan right", key_display="."),
        Binding("0", "fit", "Fit"),
        Binding("L", "toggle_group", "Lanes by"),
        Binding("enter", "choose", "Run's logs"),
    ]

    group: reactive[str] = reactive("instance")
    selected: reactive[int] = reactive(0, always_update=True)

    class RunHighlighted(Message):
        def __init__(self, timeline: Timeline, run: RunRecord | None) -> None:
            super().__init__()
            self.timeline = timeline
            self.run = run

    class RunChosen(Message):
        def __init__(self, timeline: Timeline, run: RunRecord) -> None:
            super().__init__()
            self.timeline = timeline
            self.run = run

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.runs: list[RunRecord] = []
        self.lanes: list[str] = []
        self.bars: list[Bar] = []  # sorted by (lane, start)
        self.lane_overlaps: list[list[tuple[int, int]]] = []
        self.data_start = 0
        self.data_end = 1
        self.view_start = 0
        self.view_span = 1
        self.lane_offset = 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(2, len(self.lanes) + 1)

    # -- data -------------------------------------------------------------------------

    def set_runs(self, runs: Sequence[RunRecord]) -> None:
        """Show ``runs``; those with no known start cannot be placed and are left out."""
        self.runs = [r for r in runs if r.start_ns is not None]
        self._layout()
        self.action_fit()
        self.refresh(layout=True)

    def _layout(self) -> None:
        keep = self.selected_run
        starts = [r.start_ns for r in self.runs if r.start_ns is not None]
        ends = [r.end_ns for r in self.runs if r.end_ns is not None]
        self.data_start = min(starts, default=0)
        self.data_end = max([*starts, *ends], default=1)
        if self.data_end <= self.data_start:
            self.data_end = self.data_start + 1_000_000_000
        first_start: dict[str, int] = {}
        placed = [(run, run.start_ns) for run in self.runs if run.start_ns is not None]
        for run, start in placed:
            key = run.lane(self.group)
            first_start[key] = min(first_start.get(key, start), start)
        self.lanes = sorted(first_start, key=lambda k: (first_start[k], k))
        lane_of = {k: i for i, k in enumerate(self.lanes)}
        bars = []
        for run, start in placed:
            end = run.end_ns
            state = OPEN if end is None else ERROR if run.outcome == "error" else RUN
            bars.append(Bar(run, lane_of[run.lane(self.group)], start,
                            max(start, end if end is not None else self.data_end), state))
        self.bars = sorted(bars, key=lambda b: (b.lane, b.start_ns, b.run.id))
        self.lane_overlaps = [overlaps([b for b in self.bars if b.lane == lane])
                              for lane in range(len(self.lanes))]
        self.selected = next((i for i, b in enumerate(self.bars) if b.run is keep), 0)

    def watch_group(self) -> None:
        if self.runs:
            self._layout()
            self.refresh(layout=True)

    @property
    def selected_run(self) -> RunRecord | None:
        if 0 <= self.selected < len(self.bars):
            return self.bars[self.selected].run
        return None

    def select_run(self, run_id: str) -> bool:
        """Select the run with id ``run_id`` and bring it into view."""
        for i, bar in enumerate(self.bars):
            if bar.run.id == run_id:
                self.selected = i
                return True
        return False

    # -- keys -------------------------------------------------------------------------

    def watch_selected(self) -> None:
        bar = self.bars[self.selected] if 0 <= self.selected < len(self.bars) else None
        if bar is not None:
            if bar.end_ns < self.view_start or bar.start_ns > self.view_start + self.view_span:
                self.view_start = max(self.data_start,
                                      bar.start_ns - self.view_span // 4)
            lanes_visible = max(1, self.size.height - 1)
            if bar.lane < self.lane_offset:
                self.lane_offset = bar.lane
            elif bar.lane >= self.lane_offset + lanes_visible:
                self.lane_offset = bar.lane - lanes_visible + 1
        self.refresh()
        self.post_message(self.RunHighlighted(self, self.selected_run))

    def action_step(self, delta: int) -> None:
        if not self.bars:
            return
        target = self.selected + delta
        if 0 <= target < len(self.bars) and (
                self.bars[target].lane == self.bars[self.selected].lane):
            self.selected = target

    def action_lane(self, delta: int) -> None:
        if not self.bars:
            return
        current = self.bars[self.selected]
        lane = current.lane + delta
        candidates = [i for i, b in enumerate(self.bars) if b.lane == lane]
        if candidates:  # the run of that lane nearest in time
            self.selected = min(candidates,
                                key=lambda i: abs(self.bars[i].start_ns - current.start_ns))

    def action_zoom(self, factor: float) -> None:
        bar = self.bars[self.selected] if self.bars else None
        centre = bar.start_ns if bar else self.view_start + self.view_span // 2
        full = self.data_end - self.data_start
        self.view_span = int(max(1000, min(full * 1.02, self.view_span * factor)))
        self.view_start = int(centre - self.view_span / 2)
        self.refresh()

    def action_pan(self, fraction: float) -> None:
        self.view_start += int(self.view_span * fraction)
        self.refresh()

    def action_fit(self) -> None:
        span = self.data_end - self.data_start
        margin = max(1, span // 50)
        self.view_start = self.data_start - margin
        self.view_span = span + 2 * margin
        self.refresh()

    def action_toggle_group(self) -> None:
        self.group = "session" if self.group == "instance" else "instance"

    def action_choose(self) -> None:
        run = self.selected_run
        if run is not None:
            self.post_message(self.RunChosen(self, run))

    def on_click(self, event: events.Click) -> None:
        lane = self.lane_offset + event.y - 1
        width = self.size.width - LABEL_WIDTH
        if event.y < 1 or width <= 0:
            return
        at = self.view_start + (event.x - LABEL_WIDTH) * self.view_span // width
        hits = [i for i, b in enumerate(self.bars)
                if b.lane == lane and b.start_ns <= at <= b.end_ns]
        if hits:
            self.selected = hits[0]

    # -- drawing ----------------------------------------------------------------------

    def _x(self, time_ns: int, width: int) -> int:
        return int((time_ns - self.view_start) * width // max(1, self.view_span))

    def _axis(self, width: int) -> Text:
        text = Text(no_wrap=True, end="")
        text.append(f"{'lane: ' + self.group:<{LABEL_WIDTH}}", style="bold")
        ticks = max(1, width // 16)
        line = [" "] * width
        for n in range(ticks):
            x = n * 16
            label = clock(self.view_start + x * self.view_span // max(1, width))
            for i, ch in enumerate("|" + label):
                if x + i < width:
                    line[x + i] = ch
        text.append("".join(line), style="dim")
        return text

    def _lane(self, lane: int, width: int) -> Text:
        cells = [EMPTY] * width
        chosen = self.bars[self.selected] if 0 <= self.selected < len(self.bars) else None
        chosen_cells: range = range(0)
        for bar in self.bars:
            if bar.lane != lane:
                continue
            x0 = max(0, self._x(bar.start_ns, width))
            x1 = min(width - 1, max(self._x(bar.end_ns, width), self._x(bar.start_ns, width)))
            if x1 < 0 or x0 >= width:
                continue
            for x in range(x0, x1 + 1):
                cells[x] = max(cells[x], bar.state) if cells[x] != OVERLAP else OVERLAP
            if bar is chosen:
                chosen_cells = range(x0, x1 + 1)
        for start, end in self.lane_overlaps[lane]:
            x0, x1 = max(0, self._x(start, width)), min(width - 1, self._x(end, width))
            for x in range(x0, x1 + 1):
                cells[x] = OVERLAP
        name = self.lanes[lane]
        text = Text(no_wrap=True, end="")
        label_style = stable_colour(name) + (" bold" if chosen and chosen.lane == lane else "")
        text.append(clip_left(visible(name), LABEL_WIDTH - 1).ljust(LABEL_WIDTH),
                    style=label_style)
        for x, cell in enumerate(cells):
            # The selected run is drawn full height, the others a little lower, so the
            # selection shows without hiding the overlap and error colours under it.
            glyph = SELECTED_GLYPH if x in chosen_cells else CELL_CHARS[cell]
            text.append(glyph if cell != EMPTY else " ", style=CELL_STYLES[cell])
        return text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        bar_width = max(1, width - LABEL_WIDTH)
        if not self.bars:
            if y == 0:
                return Strip([Segment("No runs found in the logs.".ljust(width), base)])
            return Strip.blank(width, base)
        if y == 0:
            text = self._axis(bar_width)
        else:
            lane = self.lane_offset + y - 1
            if lane >= len(self.lanes):
                return Strip.blank(width, base)
            text = self._lane(lane, bar_width)
        segments = list(text.render(self.app.console))
        return Strip(segments).crop_extend(0, width, base).apply_style(base or Style())
