"""The Metrics view: what Prometheus said about the fleet (the ``prometheus`` probe).

The probe (``probes.prometheus``) puts plain JSON in ``Evidence.data["prometheus"]``:
the server and window asked about, which metric conventions it found, small charts
(``charts``: time series, at most 240 points each), the concurrency and latency tables
(``tables``), a row per replica (``replicas``) and every query it sent with its outcome
(``queries``). This view shows them as a header, the probe's signals, plotext charts,
tables, and a queries pane whose selected PromQL ``c`` copies, for pasting into Grafana.

Everything in that data came from a server (series labels, pod names, error messages):
it is shown through ``plain()``, never as markup, and chart labels are made visible
before plotext draws them (``PlotextPlot`` turns ANSI escapes in its output into
styles, so an escape in a label would otherwise be obeyed). The data is read
defensively (``Mapping[str, Any]``): a saved case may come from an older probe.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from probes.evidence import Answer
from tui.app.screens.base import BaseScreen, evidence_of
from tui.app.widgets.cards import signal_block
from tui.app.widgets.records import fill_table
from tui.render.plain import clip, clip_left, plain, visible

if TYPE_CHECKING:
    from probes.evidence import Evidence
    from probes.pipeline import Analysis

PROBE = "prometheus"
ABSENT = (
    "No Prometheus evidence in this case.\n"
    "Ask the server that scrapes the service for the fleet's restarts, OOM kills, memory, "
    "5xx by requests in flight and latency:\n"
    "  scaledoc analyze --prometheus URL --selector 'namespace=\"prod\"' [logs...]\n"
    "  kubectl scaledoc -n prod deploy/agent --prometheus URL\n"
    "(--since 2h for a longer window; a token from --prom-token-file or "
    "$SCALEDOC_PROM_TOKEN.)")

SERIES_COLORS: tuple[tuple[int, int, int], ...] = (
    (95, 175, 255), (255, 135, 95), (135, 215, 95), (215, 135, 255), (255, 215, 95),
    (95, 215, 215))
"""One colour per series of a chart, shared by plotext's line and our legend."""

RED, AMBER, GREEN = "#e05050", "#c9a000", "#5faf5f"
ANSWER_ORDER = {Answer.YES: 0, Answer.UNKNOWN: 1, Answer.NO: 2}
REPLICA_COLUMNS = ("replica", "restarts", "oomkilled", "memory_peak_bytes",
                   "memory_peak_ratio", "requests", "error_share")
PERCENT_COLUMNS = ("memory_peak_ratio", "error_share", "error_rate")


# --- reading the data (pure) ------------------------------------------------------------


def prom_data(ev: Evidence) -> Mapping[str, Any]:
    data = ev.data.get(PROBE)
    return data if isinstance(data, Mapping) else {}


def records(value: Any) -> list[Mapping[str, Any]]:
    """The mappings in a JSON list (anything else: none)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return []
    return [v for v in value if isinstance(v, Mapping)]


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def percent(value: Any) -> Any:
    """A share (0.21) as ``21.0%``; anything else unchanged."""
    n = number(value)
    return value if n is None else f"{n * 100:.1f}%"


def duration(seconds: float) -> str:
    """``7200`` → ``2 h``, ``5400`` → ``1 h 30 min``, ``90`` → ``90 s``."""
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    mins = rest // 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p)


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_text(window: Any) -> str:
    """``2026-12-07 02:30 → 04:30 UTC (2 h, step 62 s, scrape 61 s)``."""
    if not isinstance(window, Mapping):
        return "window unknown"
    start, end = parse_time(window.get("start")), parse_time(window.get("end"))
    if start is not None and end is not None:
        end_fmt = "%H:%M" if start.date() == end.date() else "%Y-%m-%d %H:%M"
        span = f"{start:%Y-%m-%d %H:%M} → {end.strftime(end_fmt)} UTC"
    else:
        span = f"{window.get('start', '?')} → {window.get('end', '?')}"
    notes = []
    if (seconds := number(window.get("seconds"))) is not None:
        notes.append(duration(seconds))
    if (step := number(window.get("step_s"))) is not None:
        notes.append(f"step {step:g} s")
    if (interval := number(window.get("sample_interval_s"))) is not None:
        notes.append(f"scrape {interval:g} s")
    return visible(span + (f" ({', '.join(notes)})" if notes else ""))


def names_text(names: Any) -> str:
    """The first metric name that would answer, and how many others would (``+3``)."""
    if isinstance(names, str):
        return names
    if not isinstance(names, Sequence) or not names:
        return ""
    more = len(names) - 1
    return str(names[0]) + (f" +{more}" if more else "")


def header_text(ev: Evidence) -> Text:
    """Three lines: the server, selector, window and auth; the HTTP convention found and
    the replicas; the metric groups not found (their questions stay not checked)."""
    data = prom_data(ev)
    text = Text()
    text.append("Prometheus ", style="bold")
    text.append_text(plain(str(data.get("url") or ev.target), "bold"))
    selector = data.get("selector")
    text.append("  ")
    text.append_text(plain(f"{{{selector}}}" if selector else "{} (every series)"))
    access = data.get("access") or data.get("auth")  # "auth" in cases saved before
    if access:
        text.append("  sent: ", style="dim")  # not "auth:", which reads as a secret
        text.append_text(plain(str(access)))
    text.append("\n")
    text.append(window_text(data.get("window")))
    seen = number(data.get("replicas_seen")) or number(data.get("replicas_total"))
    if seen:
        text.append(f" · {int(seen)} replica{'s' if seen != 1 else ''}")
    if ev.error:
        text.append("\n✘ could not ask the server: ", style=f"bold {RED}")
        text.append_text(plain(ev.error, f"bold {RED}"))
        return text
    http = data.get("http")
    text.append("\nHTTP: ", style="dim")
    if not data.get("found"):
        text.append("not known: the server named no metric for the selector (see the "
                    "queries below)", style=AMBER)
    elif isinstance(http, Mapping):
        text.append_text(plain(str(http.get("convention") or "?"), "bold"))
        labels = [str(http[k]) for k in ("status_label", "replica_label") if http.get(k)]
        shown = str(http.get("requests") or "") + (f"{{{','.join(labels)}}}" if labels else "")
        shown += (f", in flight {http['in_flight']!s}" if http.get("in_flight")
                  else ", no in-flight gauge")
        text.append_text(plain(f": {shown}"))
    else:
        text.append("no HTTP server metrics for the selector", style=AMBER)
    missing = data.get("missing")
    if isinstance(missing, Mapping) and missing:
        text.append("\nnot checked, no metrics from ", style=AMBER)
        groups = [f"{group} ({names_text(names)})" for group, names in missing.items()]
        text.append_text(plain(" · ".join(groups)))
    return text


def outcome(query: Mapping[str, Any]) -> tuple[str, str]:
    """A query's outcome and its style: ``ok``, ``ok · 1 warning``, ``timeout``..."""
    failure = query.get("failure")
    words = [str(failure) if failure else "ok"]
    if (dropped := number(query.get("dropped"))) is not None and dropped:
        words.append(f"{int(dropped)} dropped")
    warnings = query.get("warnings")
    if isinstance(warnings, Sequence) and not isinstance(warnings, str) and warnings:
        words.append(f"{len(warnings)} warning{'s' if len(warnings) > 1 else ''}")
    style = RED if failure else (AMBER if len(words) > 1 else "")
    return " · ".join(words), style


def query_summary(queries: Sequence[Mapping[str, Any]]) -> str:
    failed: dict[str, int] = {}
    for q in queries:
        if q.get("failure"):
            kind = str(q["failure"])
            failed[kind] = failed.get(kind, 0) + 1
    if not failed:
        return f"{len(queries)} sent, all answered"
    kinds = ", ".join(f"{kind} ×{n}" for kind, n in failed.items())
    return f"{len(queries)} sent, {sum(failed.values())} failed ({kinds})"


def points_of(series: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """A series' finite points as x (unix seconds) and y lists."""
    xs: list[float] = []
    ys: list[float] = []
    for point in series.get("points") or ():
        if not isinstance(point, Sequence) or len(point) < 2:
            continue
        x, y = number(point[0]), number(point[1])
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def time_ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], list[str]]:
    """Tick positions and their UTC labels across ``lo..hi``."""
    if hi <= lo:
        return [lo], [f"{datetime.fromtimestamp(lo, UTC):%H:%M}"]
    fmt = "%H:%M" if hi - lo < 86400 else "%m-%d %H:%M"
    ticks = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    return ticks, [datetime.fromtimestamp(t, UTC).strftime(fmt) for t in ticks]


def value_text(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return f"{value:.3g}"


def bucket_rows(latency: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The latency table: one row per bucket, failed and successful requests side by side."""
    counts: dict[tuple[float, float], dict[str, float]] = {}
    for side in ("failed", "ok"):
        for row in latency.get(side) or ():
            if not isinstance(row, Sequence) or isinstance(row, str) or len(row) < 3:
                continue
            lo = number(row[0])
            hi = row[1] if isinstance(row[1], int | float) else math.inf
            n = number(row[2])
            if lo is None or n is None:
                continue
            counts.setdefault((lo, float(hi)), {})[side] = n
    rows = []
    for (lo, hi), by in sorted(counts.items()):
        bucket = f"{lo:g}–{hi:g} s" if math.isfinite(hi) else f"over {lo:g} s"
        rows.append({"bucket": bucket, "failed": int(by.get("failed", 0)),
                     "ok": int(by.get("ok", 0))})
    return rows


# --- widgets ----------------------------------------------------------------------------


class MetricChart(Vertical):
    """One chart of ``charts``: its title and unit, a plotext plot, a legend."""

    def __init__(self, chart: Mapping[str, Any], server: str = "") -> None:
        super().__init__(classes="metrics-chart")
        self.chart = chart
        self.server = server
        self.series = [(visible(str(s.get("label") or "")), *points_of(s))
                       for s in records(chart.get("series"))]

    @property
    def unit(self) -> str:
        return visible(str(self.chart.get("unit") or ""))

    @property
    def plotted(self) -> bool:
        return any(xs for _label, xs, _ys in self.series)

    def compose(self) -> ComposeResult:
        title = plain(str(self.chart.get("title") or "chart"), "bold")
        if self.unit:
            title.append(f"  ({self.unit})", style="dim")
        if self.server:
            title.append_text(plain(f"  {self.server}", "dim"))
        yield Static(title, classes="chart-title")
        if self.plotted:
            yield PlotextPlot(classes="metrics-plot")
        else:
            yield Static(Text("no samples in the window", style="dim"), classes="chart-empty")
        yield Static(self.legend(), classes="chart-legend")

    def on_mount(self) -> None:
        if self.plotted:
            self.draw(self.query_one(PlotextPlot))

    def draw(self, plot: PlotextPlot) -> None:
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        lo, hi = math.inf, -math.inf
        top = 0.0
        for n, (_label, xs, ys) in enumerate(self.series):
            if not xs:
                continue
            plt.plot(xs, ys, marker="braille", color=SERIES_COLORS[n % len(SERIES_COLORS)])
            lo, hi = min(lo, *xs), max(hi, *xs)
            top = max(top, *ys)
        ticks, labels = time_ticks(lo, hi)
        plt.xticks(ticks, labels)
        plt.ylabel(self.unit)
        if top <= 0:  # an all-zero series still gets an axis, not a degenerate one
            plt.ylim(0, 1)
        plot.refresh()

    def legend(self) -> Text:
        text = Text()
        promql = self.chart.get("promql")
        if promql:
            text.append_text(plain(clip(str(promql), 300), "dim italic"))
        for n, (label, _xs, ys) in enumerate(self.series):
            r, g, b = SERIES_COLORS[n % len(SERIES_COLORS)]
            text.append("\n━ ", style=f"bold rgb({r},{g},{b})")
            text.append(clip_left(label, 48) or "(no label)")
            if ys:
                text.append(f"  max {value_text(max(ys), self.unit)}", style="dim")
            else:
                text.append("  no samples", style="dim")
        return text


class MetricsScreen(BaseScreen):
    """Header; signals, charts and tables in a scroll; the queries pane below."""

    VIEW = "metrics"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_promql", "Copy PromQL"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: list[Evidence] | None = None
        self._queries: list[Mapping[str, Any]] = []

    def body(self) -> ComposeResult:
        yield Static(id="metrics-head")
        with VerticalScroll(id="metrics-body"):
            yield Static(id="metrics-error")
            yield Container(id="metrics-charts")
            yield Static(id="metrics-signals", classes="section")
            for name in ("concurrency", "latency", "replicas"):
                yield Static(id=f"metrics-{name}-title", classes="section")
                # read-only and shown whole: the body scrolls, so focus has two stops only
                # (the body and the queries), and tab goes straight from one to the other
                table: DataTable[Any] = DataTable(id=f"metrics-{name}", cursor_type="none",
                                                  zebra_stripes=True, classes="metrics-table")
                table.can_focus = False
                yield table
        with Vertical(id="metrics-queries-pane"):
            yield Static(id="metrics-queries-title")
            yield DataTable(id="metrics-queries", cursor_type="row", zebra_stripes=True)
            yield Static(id="metrics-query-detail")

    def on_mount(self) -> None:
        table = self.query_one("#metrics-queries", DataTable)
        for label, key in (("what", "what"), ("outcome", "outcome"), ("series", "series"),
                           ("s", "seconds"), ("PromQL", "promql")):
            table.add_column(label, key=key)
        super().on_mount()
        self.query_one("#metrics-body").focus()

    # -- rendering -------------------------------------------------------------------

    def show_analysis(self, analysis: Analysis | None) -> None:
        evidence = evidence_of(analysis, PROBE)
        if (self._shown is not None and len(evidence) == len(self._shown)
                and all(a is b for a, b in zip(evidence, self._shown, strict=True))):
            return  # an operator's answer re-walks the tree; this evidence is the same
        head = self.query_one("#metrics-head", Static)
        parts = (self.query_one("#metrics-body"), self.query_one("#metrics-queries-pane"))
        if analysis is None or not evidence:
            head.update(Text("Analysing…") if analysis is None else Text(ABSENT, style="dim"))
            head.set_class(analysis is not None, "absent")
            for part in parts:
                part.display = False
            self._shown = None if analysis is None else evidence
            self._queries = []
            self.refresh_bindings()
            return
        self._shown = evidence
        head.remove_class("absent")
        for part in parts:
            part.display = True
        many = len(evidence) > 1
        head.update(Text("\n").join(header_text(ev) for ev in evidence))
        failed = [ev for ev in evidence if ev.error]
        head.set_class(bool(failed), "error")
        self._show_error(failed)
        self._show_signals(evidence)
        self._show_charts(evidence, many)
        self._show_tables(evidence, many)
        self._show_queries(evidence, many)
        self.refresh_bindings()

    def _show_error(self, failed: list[Evidence]) -> None:
        """A server that could not be asked at all, said first and in red."""
        banner = self.query_one("#metrics-error", Static)
        banner.display = bool(failed)
        text = Text()
        for ev in failed:
            if text:
                text.append("\n\n")
            text.append("Prometheus could not be asked\n", style=f"bold {RED}")
            text.append_text(plain(str(prom_data(ev).get("url") or ev.target), "bold"))
            text.append(": ")
            text.append_text(plain(ev.error or "", keep_newlines=True))
            text.append("\nNo fleet question was answered from it. Check the URL, that this "
                        "machine reaches the server (curl URL/api/v1/status/buildinfo) and "
                        "the credentials, then run again.", style="dim")
        banner.update(text)

    def _show_signals(self, evidence: list[Evidence]) -> None:
        signals = [s for ev in evidence for s in ev.signals]
        text = Text("Signals", style="bold")
        if not signals:
            text.append("\nnone: no fleet question was answered, so each stays not checked",
                        style="dim")
        counts = {a: sum(1 for s in signals if s.answer is a) for a in Answer}
        if signals:
            text.append(f"  {counts[Answer.YES]} yes · {counts[Answer.UNKNOWN]} not checked · "
                        f"{counts[Answer.NO]} no", style="dim")
        for sig in sorted(signals, key=lambda s: ANSWER_ORDER.get(s.answer, 3)):
            text.append("\n")
            text.append_text(signal_block(sig, examples=1))
        self.query_one("#metrics-signals", Static).update(text)

    def _show_charts(self, evidence: list[Evidence], many: bool) -> None:
        box = self.query_one("#metrics-charts", Container)
        box.remove_children()
        charts: list[Widget] = [
            MetricChart(chart, prom_data(ev).get("url", ev.target) if many else "")
            for ev in evidence for chart in records(prom_data(ev).get("charts"))]
        box.display = bool(charts)
        if charts:
            box.mount_all(charts)

    def _section(self, name: str, title: Text, rows: list[Mapping[str, Any]],
                 columns: Sequence[str]) -> None:
        # when no server could be asked, "no table" sections say nothing the banner did not
        reached = any(not ev.error for ev in self._shown or ())
        self.query_one(f"#metrics-{name}-title", Static).display = reached or bool(rows)
        table = self.query_one(f"#metrics-{name}", DataTable)
        rows = [{k: (percent(v) if k in PERCENT_COLUMNS else v) for k, v in r.items()}
                for r in rows]
        present = [c for c in columns if any(c in r for r in rows)]
        fill_table(table, rows, present or None)
        table.display = bool(rows)
        # whole: not focusable, so rows past a cap could never be scrolled to (the body
        # scrolls instead); the header, the rows and a horizontal scrollbar
        table.styles.max_height = len(rows) + 2
        self.query_one(f"#metrics-{name}-title", Static).update(title)

    def _show_tables(self, evidence: list[Evidence], many: bool) -> None:
        conc: list[Mapping[str, Any]] = []
        latency: list[Mapping[str, Any]] = []
        replicas: list[Mapping[str, Any]] = []
        measured: list[str] = []
        total = 0
        for ev in evidence:
            data = prom_data(ev)
            server = {"server": data.get("url", ev.target)} if many else {}
            tables = data.get("tables") if isinstance(data.get("tables"), Mapping) else {}
            c = tables.get("concurrency") if isinstance(tables, Mapping) else None
            if isinstance(c, Mapping):
                conc += [{**server, **r} for r in records(c.get("rows"))]
                if c.get("measured_by"):
                    measured.append(str(c["measured_by"]))
            lat = tables.get("latency_buckets") if isinstance(tables, Mapping) else None
            if isinstance(lat, Mapping):
                latency += [{**server, **r} for r in bucket_rows(lat)]
            rows = records(data.get("replicas"))
            replicas += [{**server, **r} for r in rows]
            total += int(number(data.get("replicas_total")) or len(rows))

        title = Text("Errors by requests in flight", style="bold")
        if measured:
            title.append_text(plain(f"  (in flight: {'; '.join(measured)})", "dim"))
        if not conc:
            title.append("\nno concurrency table: the HTTP metrics found have no in-flight "
                         "gauge or no 5xx status to count", style="dim")
        self._section("concurrency", title, conc,
                      ("server", "level", "requests", "errors", "error_rate"))

        title = Text("Requests by latency bucket", style="bold")
        if not latency:
            title.append("\nno latency histogram for the selector", style="dim")
        self._section("latency", title, latency, ("server", "bucket", "failed", "ok"))

        title = Text("Replicas", style="bold")
        if replicas:
            shown = (f"  the worst {len(replicas)} of {total}" if total > len(replicas)
                     else f"  {len(replicas)}, the worst first")
            title.append(shown, style="dim")
        else:
            title.append("\nno per-replica numbers", style="dim")
        self._section("replicas", title, replicas, ("server", *REPLICA_COLUMNS))

    def _show_queries(self, evidence: list[Evidence], many: bool) -> None:
        table = self.query_one("#metrics-queries", DataTable)
        keep = table.cursor_row
        table.clear()
        self._queries = []
        for ev in evidence:
            server = str(prom_data(ev).get("url") or ev.target)
            for q in records(prom_data(ev).get("queries")):
                self._queries.append({**q, "server": server} if many else q)
        for n, q in enumerate(self._queries):
            word, style = outcome(q)
            seconds = number(q.get("seconds"))
            series = number(q.get("series"))
            table.add_row(
                plain(clip(str(q.get("what") or ""), 44)), plain(word, style),
                Text(f"{int(series)}" if series is not None else "", justify="right"),
                Text(f"{seconds:.3f}" if seconds is not None else "", justify="right"),
                plain(clip(str(q.get("promql") or ""), 160), "italic"),
                key=str(n))
        title = Text("Queries", style="bold")
        title.append(f"  {query_summary(self._queries)}", style="dim")
        title.append("  c copies the selected PromQL", style="dim")
        self.query_one("#metrics-queries-title", Static).update(title)
        if self._queries:
            table.move_cursor(row=min(max(keep, 0), len(self._queries) - 1))
        self._show_query(table.cursor_row)

    def _show_query(self, row: int) -> None:
        detail = self.query_one("#metrics-query-detail", Static)
        if not 0 <= row < len(self._queries):
            detail.update(Text("no queries were sent", style="dim"))
            return
        q = self._queries[row]
        text = Text()  # what went wrong first: a long PromQL is cut at the pane's foot
        if q.get("message"):
            text.append_text(plain(str(q["message"]), RED))
            text.append("\n")
        warnings = q.get("warnings")
        if isinstance(warnings, Sequence) and not isinstance(warnings, str):
            for warning in warnings:
                text.append("warning: ", style=AMBER)
                text.append_text(plain(str(warning)))
                text.append("\n")
        text.append_text(plain(str(q.get("promql") or ""), "italic"))
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "metrics-queries":
            self._show_query(event.cursor_row)

    # -- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``c`` leaves the footer when there is no query to copy."""
        if action == "copy_promql":
            return bool(self._queries)
        return True

    def action_copy_promql(self) -> None:
        """Copy the selected query's PromQL (exactly as sent) to the terminal's clipboard."""
        row = self.query_one("#metrics-queries", DataTable).cursor_row
        if not 0 <= row < len(self._queries):
            self.notify("No query to copy.", severity="warning")
            return
        q = self._queries[row]
        promql = str(q.get("promql") or "")
        if not promql:
            self.notify("This query has no PromQL.", severity="warning")
            return
        self.app.copy_to_clipboard(promql)
        self.notify(f"{q.get('what') or 'query'}\n{clip(promql, 200)}",
                    title="PromQL copied to the clipboard")
