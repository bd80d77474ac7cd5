"""The Metrics view (key 0), driven like an operator on a real Prometheus capture.

``tests/prom_cases/smoke.case.json`` is the prometheus probe's evidence as a real
Prometheus 2.42 answered it (see the folder's README). Other states are derived from it
in code (hostile labels, empty series) or made by the real probe: the unreachable server
is a closed port on 127.0.0.1. Nothing is mocked; the clipboard is read back from the app
(``App.clipboard`` holds what ``copy_to_clipboard`` sent to the terminal).
"""

from __future__ import annotations

import copy
import json
import math
import socket
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from probes.evidence import Answer, Case, Evidence
from probes.pipeline import Analysis
from tui.app.main import ScaledocApp, view_for_source
from tui.app.screens.metrics import (
    MetricChart,
    MetricsScreen,
    bucket_rows,
    duration,
    outcome,
    time_ticks,
    window_text,
)

CASE = Path(__file__).parent / "prom_cases" / "smoke.case.json"
HOSTILE = "[bold red]x[/] \x1b[2J\x1b]52;c;aGVsbG8=\x07\nsecond line"
"""Rich markup, a clear-screen escape, an OSC 52 clipboard write and a newline."""


def smoke_case() -> Case:
    return Case.from_json(json.loads(CASE.read_text(encoding="utf-8")))


def prom_evidence(case: Case) -> Evidence:
    return next(ev for ev in case.evidence if ev.probe == "prometheus")


def with_data(ev: Evidence, change: Any) -> Case:
    """The capture with its ``data["prometheus"]`` changed by ``change(data)``."""
    doc = ev.to_json()
    data = copy.deepcopy(doc["data"])
    change(data["prometheus"])
    doc["data"] = data
    return Case(evidence=(Evidence.from_json(doc),))


def make_app(case: Case, tmp_path: Path) -> ScaledocApp:
    return ScaledocApp(analysis=Analysis.of_case(case), save_dir=tmp_path / "out",
                       index_logs=False)


async def open_metrics(pilot: Pilot[Any], app: ScaledocApp) -> MetricsScreen:
    for _ in range(3):
        await pilot.pause()
    await pilot.press("0")
    for _ in range(3):
        await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MetricsScreen)
    return screen


def static_text(screen: MetricsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


# --- pure helpers -----------------------------------------------------------------------


def test_window_and_durations_read_as_an_operator_says_them() -> None:
    window = {"start": "2026-12-07T02:30:00.000000Z", "end": "2026-12-07T04:30:00.000000Z",
              "seconds": 7200, "step_s": 62.0, "sample_interval_s": 61.0}
    assert window_text(window) == "2026-12-07 02:30 → 04:30 UTC (2 h, step 62 s, scrape 61 s)"
    across = {**window, "end": "2026-12-08T01:00:00Z", "seconds": 81000}
    assert window_text(across) == ("2026-12-07 02:30 → 2026-12-08 01:00 UTC (22 h 30 min, "
                                   "step 62 s, scrape 61 s)")
    assert window_text({"start": "\x1b[2J", "end": None}) == "\\e[2J → None"
    assert [duration(s) for s in (45, 5400, 90000)] == ["45 s", "1 h 30 min", "1 d 1 h"]


def test_ticks_are_utc_clock_times_and_buckets_keep_the_open_end() -> None:
    ticks, labels = time_ticks(1796610724.0, 1796617852.0)
    assert labels[0] == "02:32" and labels[-1] == "04:30" and len(ticks) == 4
    rows_ = bucket_rows({"failed": [[0, 1, 3], [25, math.inf, 40]],
                         "ok": [[0, 1, 900], [1, 2.5, 50]]})
    assert rows_ == [{"bucket": "0–1 s", "failed": 3, "ok": 900},
                     {"bucket": "1–2.5 s", "failed": 0, "ok": 50},
                     {"bucket": "over 25 s", "failed": 40, "ok": 0}]


def test_a_query_outcome_names_the_failure_and_the_partial_answers() -> None:
    assert outcome({"series": 3}) == ("ok", "")
    assert outcome({"failure": "timeout", "message": "m"})[0] == "timeout"
    assert outcome({"dropped": 12, "warnings": ["a", "b"]})[0] == "ok · 12 dropped · 2 warnings"


def test_prometheus_examples_open_the_metrics_view_and_help_lists_it() -> None:
    from tui.app.screens.dialogs import HELP

    assert view_for_source("prometheus http://127.0.0.1:19090") == "metrics"
    sections = dict(HELP)
    assert "Metrics" in dict(sections["Everywhere"])["1 … 9, 0"]
    assert "c" in dict(sections["Metrics"])


# --- the real capture -------------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_key_0_shows_the_captures_header_charts_tables_and_queries(
        tmp_path: Path, size: tuple[int, int]) -> None:
    case = smoke_case()
    app = make_app(case, tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await open_metrics(pilot, app)
        head = static_text(screen, "#metrics-head")
        for part in ("http://127.0.0.1:19090", '{namespace="demo"}', "sent: no credentials",
                     "2026-12-07 02:30 → 04:30 UTC", "step 62 s", "3 replicas",
                     "prometheus_client instrumentator",
                     "http_requests_total{status,pod}, in flight http_requests_inprogress",
                     "cAdvisor (container_memory_working_set_bytes)",
                     "upstream calls (gen_ai_client_operation_duration_seconds_count +3)"):
            assert part in head, part

        charts = list(screen.query(MetricChart))
        assert [c.chart["title"] for c in charts] == [
            "5xx share of requests (fleet)", "requests in flight (fleet)"]
        for chart in charts:
            plot = chart.query_one(PlotextPlot)
            drawn = plot.plt.build()
            assert "02:32" in drawn  # time on x, in UTC, from the first point
            assert chart.unit in drawn  # the unit on the y label
            assert "⣀" in drawn or "⠉" in drawn  # braille: a line was drawn
        legend = str(charts[0].query_one(".chart-legend", Static).render())
        assert "5xx share  max 23.1%" in legend and "sum(rate(http_requests_total" in legend

        signals = static_text(screen, "#metrics-signals")
        assert "3 yes · 4 not checked · 3 no" in signals
        assert signals.index("requests.failed") < signals.index("pods.restarts")  # yes first

        conc = rows(screen.query_one("#metrics-concurrency", DataTable))
        assert conc[0] == ["1", "9535", "0", "0.0%"] and conc[-1] == ["9-16", "16120",
                                                                    "3720", "23.1%"]
        replicas = rows(screen.query_one("#metrics-replicas", DataTable))
        assert [r[0] for r in replicas] == [
            "demo/agent-5d9c7b8f6d-abcde", "demo/agent-5d9c7b8f6d-fghij",
            "demo/agent-5d9c7b8f6d-klmno"]
        assert replicas[0][1:] == ["0", "40758", "21.0%"]
        assert not screen.query_one("#metrics-latency", DataTable).display
        assert "no latency histogram" in static_text(screen, "#metrics-latency-title")

        queries = screen.query_one("#metrics-queries", DataTable)
        assert queries.row_count == 12
        first = [str(c) for c in queries.get_row_at(0)]
        assert first[:3] == ["which metrics exist", "ok", "3"]
        assert "12 sent, all answered" in static_text(screen, "#metrics-queries-title")
        assert static_text(screen, "#metrics-query-detail").startswith('{__name__=~"kube_pod')

        svg = app.export_screenshot()
        assert "Traceback" not in svg and "\x1b" not in svg
        assert ("0&#160;Prom" if size[0] < 100 else "0&#160;Metrics") in svg  # the tab fits


@pytest.mark.parametrize("width", [80, 99, 105, 110, 120])
async def test_the_metrics_tab_fits_the_view_bar(tmp_path: Path, width: int) -> None:
    from tui.app.screens.base import NavBar

    app = make_app(smoke_case(), tmp_path)
    async with app.run_test(size=(width, 24)) as pilot:
        screen = await open_metrics(pilot, app)
        bar = str(screen.query_one(NavBar).render()).rstrip()
        assert len(bar) <= width, bar
        assert bar.endswith(" 0 Prom" if width < 110 else " 0 Metrics"), bar


async def test_c_copies_the_selected_querys_promql_and_says_so(tmp_path: Path) -> None:
    case = smoke_case()
    sent = [q["promql"] for q in prom_evidence(case).data["prometheus"]["queries"]]
    app = make_app(case, tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_metrics(pilot, app)
        assert app.focused is screen.query_one("#metrics-body")
        await pilot.press("c")  # the body has the focus: the highlighted query is copied
        assert app.clipboard == sent[0]
        await pilot.press("tab")  # one stop: the queries table
        assert app.focused is screen.query_one("#metrics-queries")
        await pilot.press("j", "j")
        await pilot.pause()
        assert static_text(screen, "#metrics-query-detail") == sent[2]
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == sent[2]
        note = list(app._notifications)[-1]
        assert note.title == "PromQL copied to the clipboard"
        assert "restarts per container in the window" in note.message
        assert sent[2] in note.message


async def test_an_answer_elsewhere_keeps_the_selected_query(tmp_path: Path) -> None:
    app = make_app(smoke_case(), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_metrics(pilot, app)
        await pilot.press("tab", "j", "j", "j")
        table = screen.query_one("#metrics-queries", DataTable)
        assert table.cursor_row == 3
        chart = list(screen.query(MetricChart))[0]
        app.answer("pods.oomkilled", Answer.YES)  # every view redraws; same evidence
        for _ in range(3):
            await pilot.pause()
        assert table.cursor_row == 3 and app.focused is table
        assert list(screen.query(MetricChart))[0] is chart  # not rebuilt


# --- untrusted text -----------------------------------------------------------------------


async def test_hostile_labels_are_shown_literally_never_obeyed(tmp_path: Path) -> None:
    def poison(data: dict[str, Any]) -> None:
        data["replicas"][0]["replica"] = HOSTILE
        data["charts"][0]["series"][0]["label"] = HOSTILE
        data["charts"][0]["title"] = HOSTILE
        data["queries"][0]["what"] = HOSTILE
        data["queries"][0]["message"] = HOSTILE
        data["url"] = "http://[red]host[/red]:9090"

    case = with_data(prom_evidence(smoke_case()), poison)
    app = make_app(case, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_metrics(pilot, app)
        shown = "[bold red]x[/] \\e[2J\\e]52;c;aGVsbG8=\\a\\nsecond line"
        replica = str(screen.query_one("#metrics-replicas", DataTable).get_row_at(0)[0])
        assert replica == shown
        chart = list(screen.query(MetricChart))[0]
        legend = str(chart.query_one(".chart-legend", Static).render())
        title = str(chart.query_one(".chart-title", Static).render())
        assert shown in title
        assert "…" + shown[-47:] in legend  # cut from the left: pod names end differently
        assert "\x1b" not in chart.query_one(PlotextPlot).plt.build().replace(
            "\x1b[", "")  # plotext's own colour codes only: no OSC, no label text
        query = str(screen.query_one("#metrics-queries", DataTable).get_row_at(0)[0])
        assert query.startswith("[bold red]x[/] \\e[2J")
        assert static_text(screen, "#metrics-query-detail").startswith(shown)
        assert "http://[red]host[/red]:9090" in static_text(screen, "#metrics-head")
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg
        assert "[bold&#160;red]x[/]" in svg  # drawn as characters, not as bold red


async def test_empty_and_missing_series_say_so_without_crashing(tmp_path: Path) -> None:
    def hollow(data: dict[str, Any]) -> None:
        data["charts"][0]["series"] = []
        data["charts"][1]["series"][0]["points"] = []
        data["charts"].append({"title": "one point", "unit": "calls/s", "promql": "x",
                               "series": [{"label": "only", "points": [[1796610724, 0]]},
                                          {"label": "junk", "points": [["a", None], [1]]}]})

    case = with_data(prom_evidence(smoke_case()), hollow)
    app = make_app(case, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_metrics(pilot, app)
        charts = list(screen.query(MetricChart))
        assert [c.plotted for c in charts] == [False, False, True]
        for chart in charts[:2]:
            assert not chart.query(PlotextPlot)
            assert "no samples in the window" in str(
                chart.query_one(".chart-empty", Static).render())
        assert "only  max 0" in str(charts[2].query_one(".chart-legend", Static).render())
        assert "junk  no samples" in str(charts[2].query_one(".chart-legend", Static).render())
        assert "Traceback" not in app.export_screenshot()


async def test_fifty_replicas_are_shown_whole_in_the_scrolling_body(tmp_path: Path) -> None:
    def fleet(data: dict[str, Any]) -> None:
        data["replicas"] = [dict(data["replicas"][0], replica=f"demo/agent-{n:02d}")
                            for n in range(50)]
        data["replicas_total"] = 80

    app = make_app(with_data(prom_evidence(smoke_case()), fleet), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_metrics(pilot, app)
        table = screen.query_one("#metrics-replicas", DataTable)
        assert not table.can_focus
        assert table.size.height == 51  # the header and every row: nothing hidden inside
        assert "the worst 50 of 80" in static_text(screen, "#metrics-replicas-title")
        body = screen.query_one("#metrics-body")
        await pilot.press("G")
        await pilot.pause(0.5)
        assert body.scroll_y == body.max_scroll_y > 0


# --- absent and error states ------------------------------------------------------------


async def test_without_prometheus_evidence_the_view_says_how_to_get_it(
        tmp_path: Path) -> None:
    app = make_app(Case(), tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_metrics(pilot, app)
        head = static_text(screen, "#metrics-head")
        assert "No Prometheus evidence in this case." in head
        assert "scaledoc analyze --prometheus URL --selector 'namespace=\"prod\"'" in head
        assert "kubectl scaledoc -n prod deploy/agent --prometheus URL" in head
        assert not screen.query_one("#metrics-body").display
        assert not screen.query_one("#metrics-queries-pane").display
        assert screen.check_action("copy_promql", ()) is False  # not offered in the footer
        assert app.clipboard == ""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_server_is_said_first_and_in_red(tmp_path: Path) -> None:
    from probes.prometheus import PromTarget, collect

    url = f"http://127.0.0.1:{closed_port()}"
    ev = collect(PromTarget(url, 'namespace="prod"', timeout_s=2, deadline_s=5))
    assert ev.error  # the real probe, a real refused connection
    app = make_app(Case(evidence=(ev,)), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_metrics(pilot, app)
        head = screen.query_one("#metrics-head", Static)
        assert head.has_class("error")
        assert f"✘ could not ask the server: {ev.error}" in str(head.render())
        banner = screen.query_one("#metrics-error", Static)
        assert banner.display
        assert "Prometheus could not be asked" in str(banner.render())
        assert f"{url}: {ev.error}" in str(banner.render())
        table = screen.query_one("#metrics-queries", DataTable)
        assert table.row_count >= 1
        assert [str(c) for c in table.get_row_at(0)][1] == "unreachable"
        assert static_text(screen, "#metrics-query-detail").startswith(ev.error)
        assert "failed (unreachable" in static_text(screen, "#metrics-queries-title")
        assert not screen.query_one("#metrics-replicas-title").display  # no empty noise
        assert not list(screen.query(MetricChart))
