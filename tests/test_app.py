"""The incident TUI, driven like an operator: keys in, screens and files out.

The incident is fixed data: two pino log files written to a temporary folder (one
holding a hostile line with markup and terminal escapes), and a Case built from the
evidence a logs probe would give for them, walked by the real ``probes.diagnose``. The
log index is built from the files by the real ingestion (``probes.pipeline.iter_events``)
in the app's worker. One test runs the real ``analyze_paths`` as the app's factory.
Nothing is mocked.

``tests/test_snapshots.py`` and ``tests/test_screenshots.py`` import the builders below.
"""

from __future__ import annotations

import json
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from probes.diagnose import diagnose
from probes.events import ERROR, INFO, WARN, LogEvent
from probes.evidence import (
    Answer,
    AnsweredBy,
    Case,
    Evidence,
    InputReport,
    example,
    iso_ns,
    no,
    yes,
)
from probes.pipeline import Analysis, analyze_paths
from tui.app.logview import (
    LogFilter,
    LogIndex,
    RunWindow,
    apply_filter,
    build_index,
    index_events,
    summarise_line,
)
from tui.app.main import ScaledocApp
from tui.app.runs import RunRecord
from tui.app.screens.evidence import EvidenceScreen
from tui.app.screens.logs import LineScreen, LogsScreen
from tui.app.screens.timeline import TimelineScreen
from tui.app.screens.tree import TreeScreen
from tui.app.widgets.log_view import LogView
from tui.app.widgets.timeline import Bar, Timeline, overlaps
from tui.render.plain import plain, visible

# --- the fixed incident --------------------------------------------------------------

BASE_MS = 1_763_770_000_000  # 2025-11-22T00:06:40Z
HOSTILE = "tool said [bold red]x[/] \x1b]52;c;aGVsbG8=\x07 then \x1b[2J and \x9b31m"


def ns(ms: int) -> int:
    return (BASE_MS + ms) * 1_000_000


def _pino(ms: int, pod: str, msg: str, level: int = 30, **fields: Any) -> str:
    return json.dumps({"level": level, "time": BASE_MS + ms, "pid": 7, "hostname": pod,
                       **fields, "msg": msg})


def write_incident(folder: Path) -> list[str]:
    """Two replicas' logs; agent-1 on web-a serves two overlapping runs (the bug)."""
    web_a = [
        _pino(0, "web-a", "server listening on 3000"),
        _pino(10, "web-a", "agent created", instanceId="agent-1"),
        _pino(100, "web-a", "incoming request", reqId="r1", sessionId="s1"),
        _pino(110, "web-a", "run started", instanceId="agent-1", sessionId="s1", reqId="r1",
              runId="run-1"),
        _pino(300, "web-a", "incoming request", reqId="r2", sessionId="s2"),
        _pino(310, "web-a", "run started", instanceId="agent-1", sessionId="s2", reqId="r2",
              runId="run-2"),
        HOSTILE,
        _pino(900, "web-a", "run finished", instanceId="agent-1", sessionId="s1", reqId="r1",
              runId="run-1"),
        _pino(950, "web-a", "request completed", reqId="r1", res={"statusCode": 200},
              responseTime=850),
        _pino(1000, "web-a", "run failed", level=50, instanceId="agent-1", sessionId="s2",
              reqId="r2", runId="run-2",
              err={"type": "Error", "message": "Cannot run while another task is active"}),
        _pino(1010, "web-a", "request errored", level=50, reqId="r2", res={"statusCode": 500},
              responseTime=710),
    ]
    web_b = [
        _pino(5, "web-b", "server listening on 3000"),
        _pino(20, "web-b", "agent created", instanceId="agent-2"),
        _pino(400, "web-b", "incoming request", reqId="r3", sessionId="s3"),
        _pino(410, "web-b", "run started", instanceId="agent-2", sessionId="s3", reqId="r3",
              runId="run-3"),
        _pino(600, "web-b", "slow tool call", level=40, instanceId="agent-2", reqId="r3"),
        _pino(700, "web-b", "run finished", instanceId="agent-2", sessionId="s3", reqId="r3",
              runId="run-3"),
        _pino(710, "web-b", "request completed", reqId="r3", res={"statusCode": 200},
              responseTime=310),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "web-a.log").write_text("\n".join(web_a) + "\n", encoding="utf-8")
    (folder / "web-b.log").write_text("\n".join(web_b) + "\n", encoding="utf-8")
    return [str(folder / "web-a.log"), str(folder / "web-b.log")]


def _run(rid: str, instance: str, session: str, request: str, start: int, end: int,
         outcome: str, source: str, line: int, end_line: int) -> dict[str, Any]:
    return {"id": rid, "instance": instance, "session": session, "request": request,
            "process": f"{source.split('.')[0]}/7", "start": iso_ns(ns(start)),
            "end": iso_ns(ns(end)), "outcome": outcome, "start_at": f"{source}:{line}",
            "end_at": f"{source}:{end_line}"}


def incident_case(folder: str = "") -> Case:
    """The evidence the probes give for the incident (paths relative to ``folder``)."""
    a = f"{folder}/web-a.log" if folder else "web-a.log"
    b = f"{folder}/web-b.log" if folder else "web-b.log"
    start1 = example(a, 4, ns(110), "run started run-1 on agent-1 (session s1)")
    start2 = example(a, 6, ns(310), "run started run-2 on agent-1 (session s2)")
    failed = example(a, 10, ns(1000), "Error: Cannot run while another task is active")
    logs = Evidence(
        probe="logs", target="2 sources",
        signals=(
            yes("instance.many_sessions", "logs", "agent-1 served 2 sessions (concurrently)",
                [start1, start2], value=2),
            yes("runs.overlap_instance", "logs",
                "run-1 and run-2 overlap on agent-1: start A, start B, end A", [start1, start2],
                value=1),
            yes("errors.already_running", "logs", "1 error line of family already_running",
                [failed], value=1),
            no("runs.parallel_same_session", "logs", "the overlapping runs have 2 sessions",
               value=0),
            no("runs.nested_same_request", "logs", "no run starts inside its own request",
               value=0),
            no("errors.rate_limit", "logs", "no 429/503 or rate-limit errors", value=0),
            no("errors.timeout", "logs", "no timeout errors", value=0),
        ),
        inputs=(
            InputReport(a, "log", "pino", lines_read=11, events=10, skipped={}, bytes_read=1700,
                        notes=("1 line(s) of unparsed text (kept as text events)",)),
            InputReport(b, "log", "pino", lines_read=7, events=7, bytes_read=900),
        ),
        data={
            "runs": [
                _run("run-1", "agent-1", "s1", "web-a/7/r1", 110, 900, "ok", a, 4, 8),
                _run("run-2", "agent-1", "s2", "web-a/7/r2", 310, 1000,
                     "Error: Cannot run while another task is active", a, 6, 10),
                _run("run-3", "agent-2", "s3", "web-b/7/r3", 410, 700, "ok", b, 4, 6),
            ],
            "concurrency": [
                {"level": "1", "requests": 12, "errors": 0, "error_rate": 0.0},
                {"level": "2", "requests": 9, "errors": 4, "error_rate": 0.444},
                {"level": "3-4", "requests": 6, "errors": 5, "error_rate": 0.833},
            ],
            "instances": [
                {"id": "agent-1", "sessions": 2, "requests": 2, "max_concurrency": 2,
                 "processes": ["web-a/7"]},
                {"id": "agent-2", "sessions": 1, "requests": 1, "max_concurrency": 1,
                 "processes": ["web-b/7"]},
            ],
        },
    )
    ramp = Evidence(
        probe="ramp", target="http://127.0.0.1:8080/chat",
        inputs=(InputReport("http://127.0.0.1:8080/chat", "ramp", "http", events=40),),
        data={"url": "http://127.0.0.1:8080/chat", "levels": [
            {"level": 1, "sent": 10, "ok": 10, "failed": 0, "error_rate": 0.0,
             "latency_ms": {"p50": 120.0, "p95": 180.0}},
            {"level": 4, "sent": 10, "ok": 7, "failed": 3, "error_rate": 0.3,
             "latency_ms": {"p50": 150.0, "p95": 400.0}},
            {"level": 8, "sent": 20, "ok": 8, "failed": 12, "error_rate": 0.6,
             "latency_ms": {"p50": 160.0, "p95": 900.0}},
        ]},
    )
    kube = Evidence(
        probe="kube", target="pods.json",
        data={"pods": [
            {"name": "web-a-7d9f8", "phase": "Running", "ready": True, "restarts": 0},
            {"name": "web-b-7d9f8", "phase": "Running", "ready": True, "restarts": 0,
             "note": "[red]not markup[/red]"},
        ]},
    )
    return Case(evidence=(logs, ramp, kube))


def incident_analysis(folder: Path, *, relative: bool = False) -> Analysis:
    """Write the logs into ``folder`` and return the Analysis the app is given."""
    paths = write_incident(folder)
    if relative:
        paths = [Path(p).name for p in paths]
    case = incident_case("" if relative else str(folder))
    inputs = [i for ev in case.evidence for i in ev.inputs]
    return Analysis(case, diagnose(case), inputs, paths)


async def settle(pilot: Pilot[Any], app: ScaledocApp) -> None:
    """Let workers finish and their messages land."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def ready(pilot: Pilot[Any], app: ScaledocApp) -> None:
    """Wait until the analysis is shown and the log index is built."""
    for _ in range(200):
        await settle(pilot, app)
        if app.analysis is not None and app.log_index is not None:
            return
        if app.index_error:
            raise AssertionError(app.index_error)
    raise AssertionError("the app never became ready")


async def until(pilot: Pilot[Any], check: Callable[[], object], limit_s: float = 15.0) -> None:
    """Wait (pausing the app) until ``check()`` holds; fail after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)
    await pilot.pause()


async def open_logs(pilot: Pilot[Any], app: ScaledocApp) -> tuple[LogsScreen, LogIndex]:
    """Press 4 and return the Logs view and its index (both must be there)."""
    await pilot.press("4")
    await settle(pilot, app)
    logs = app.screen
    assert isinstance(logs, LogsScreen)
    index = app.log_index
    assert index is not None
    return logs, index


def current(app: ScaledocApp) -> Any:
    """The app's analysis (a function, so mypy does not carry a narrowing across awaits)."""
    return app.analysis


@pytest.fixture
def incident(tmp_path: Path) -> Analysis:
    return incident_analysis(tmp_path / "incident")


def make_app(analysis: Analysis, tmp_path: Path) -> ScaledocApp:
    return ScaledocApp(analysis=analysis, save_dir=tmp_path / "out")


# --- visible(): untrusted text ---------------------------------------------------------


def test_visible_shows_escapes_and_keeps_markup_as_text() -> None:
    shown = visible(HOSTILE)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "[bold red]x[/]" in shown
    assert "]52;c;aGVsbG8=" in shown and "[2J" in shown  # visible, not executed
    rendered = plain(HOSTILE)
    assert rendered.plain == shown and not rendered.spans  # no markup was applied


# --- the log index ---------------------------------------------------------------------


FILTER_GOLDEN = [
    ("", LogFilter()),
    ("timeout", LogFilter(text="timeout")),
    ("pod:web-a level>=warn", LogFilter(host="web-a", min_level=WARN)),
    ("i:agent-1 s:s2 r:r2 run:run-2 file:web", LogFilter(
        instance="agent-1", session="s2", request="r2", run="run-2", source="web")),
    ("level:error already running", LogFilter(text="already running", min_level=ERROR)),
    ("level>=35 unknown:key", LogFilter(text="unknown:key", min_level=35)),
    ("level>=loud", LogFilter(text="level>=loud")),
]


@pytest.mark.parametrize(("query", "expected"), FILTER_GOLDEN)
def test_filter_queries_parse_to_fields(query: str, expected: LogFilter) -> None:
    assert LogFilter.parse(query) == expected


SUMMARY_GOLDEN = [
    ('{"level":30,"time":1,"pid":7,"hostname":"h","reqId":"r1","msg":"incoming request"}',
     "incoming request  reqId=r1"),
    ('2021-11-08T22:10:43.631552134Z {"event":"hello","level":"info","user":{"id":3}}',
     'hello  user={"id":3}'),
    ("plain text {not json}", "plain text {not json}"),
    ('{"broken": ', '{"broken": '),
]


@pytest.mark.parametrize(("line", "expected"), SUMMARY_GOLDEN)
def test_structured_lines_are_summarised_message_first(line: str, expected: str) -> None:
    assert summarise_line(line) == expected


def _events(source: str) -> list[LogEvent]:
    return [
        LogEvent(ns(30), source, 1, INFO, "b", host="pod-b", instance="i2"),
        LogEvent(ns(10), source, 2, ERROR, "a", host="pod-a", instance="i1", run="run-9",
                 request="q1"),
        LogEvent(None, source, 3, None, "no clock", host="pod-a"),
        LogEvent(ns(20), source, 4, WARN, "c", host="pod-a", instance="i1", request="q2"),
    ]


def test_index_orders_by_time_and_reads_text_lazily_from_the_file(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("line one\nline two\nline three\nline four\n", encoding="utf-8")
    index = index_events(_events(str(log)))
    assert len(index) == 4
    # time order; the clockless line keeps its place after its predecessor (line 2, t=10)
    assert [index.line[r] for r in index.order] == [2, 3, 4, 1]
    assert index.text(0) == "line one" and index.text(3) == "line four"
    assert index.excerpts == 0  # plain file: no text kept in memory
    assert index.hosts.values() == ["pod-b", "pod-a"]
    index.close()


def test_sources_that_are_not_files_keep_their_excerpts(tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "old.log.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write("first\nsecond\n")
    events = [LogEvent(ns(1), "pod/web-a (bundle)", 1, INFO, "m", text="raw \x1b[2J line"),
              LogEvent(ns(2), str(packed), 1, INFO, "first", text="first"),
              LogEvent(ns(3), str(packed), 2, INFO, "second", text="sécond")]
    index = index_events(events)
    assert index.excerpts == 3
    assert index.text(0) == "raw \x1b[2J line"  # escaping happens at display time
    assert [index.text(1), index.text(2)] == ["first", "sécond"]
    assert [index.line[r] for r in apply_filter(index, LogFilter(text="SÉC"))] == [2]


def test_filters_select_rows_by_field_level_text_and_run(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("alpha\nbeta TIMEOUT\ngamma\ndelta timeout\n", encoding="utf-8")
    index = index_events(_events(str(log)))

    def lines(flt: LogFilter) -> list[int]:
        return [index.line[r] for r in apply_filter(index, flt)]

    assert lines(LogFilter()) == [2, 3, 4, 1]
    assert lines(LogFilter(host="pod-a")) == [2, 3, 4]
    assert lines(LogFilter(instance="I1")) == [2, 4]  # case-insensitive substring
    assert lines(LogFilter(min_level=WARN)) == [2, 4]
    assert lines(LogFilter(text="timeout")) == [2, 4]
    assert lines(LogFilter(host="nope")) == []
    # a run: the lines tagged with its id, or on its instance inside its span with its
    # request (or none)
    window = RunWindow("run-9", "i1", ns(15), ns(25), request="q2")
    assert lines(LogFilter(window=window)) == [2, 4]
    window = RunWindow("run-x", "i1", ns(15), ns(25), request="q1")
    assert lines(LogFilter(window=window)) == []


def test_index_is_compact_per_line(tmp_path: Path) -> None:
    """A million lines must fit: the per-line columns stay small arrays, not objects."""
    log = tmp_path / "big.log"
    n = 50_000
    log.write_text("".join(f"line {i}\n" for i in range(n)), encoding="utf-8")
    events = (LogEvent(ns(i), str(log), i + 1, INFO, "", host=f"pod-{i % 3}",
                       instance=f"agent-{i % 5}", request=f"req-{i % 1000}")
              for i in range(n))
    index = index_events(events)
    columns = [index.time_ns, index.source, index.line, index.level, index.instance,
               index.session, index.request, index.host, index.run, index.order,
               index.sources[0].offsets]
    assert all(isinstance(c, array) for c in columns)
    per_line = sum(c.itemsize * len(c) for c in columns) / n
    assert per_line <= 64
    assert index.text(n - 1) == f"line {n - 1}"
    started = time.perf_counter()
    rows = apply_filter(index, LogFilter(instance="agent-3"))
    assert len(rows) == n // 5
    assert time.perf_counter() - started < 5


def test_find_goes_to_a_line_or_the_next_one_present(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("a\nb\nc\nd\n", encoding="utf-8")
    index = index_events(_events(str(log)))
    rows = index.order
    assert index.line[rows[index.find(rows, str(log), 4) or 0]] == 4
    assert index.find(rows, "x.log", 3) is not None  # by file name alone
    assert index.find(rows, "other.log", 1) is None


def test_build_index_reads_the_files_through_ingestion(incident: Analysis) -> None:
    index = build_index(incident.log_paths)
    assert len(index) == 18
    texts = [index.text(r) for r in index.order]
    assert HOSTILE in texts  # the raw line, escapes and all (display escapes it)
    assert set(index.instances.values()) == {"agent-1", "agent-2"}
    stop = threading.Event()
    stop.set()
    assert len(build_index(incident.log_paths, stop)) < 18


# --- the timeline ----------------------------------------------------------------------


def test_overlaps_are_the_spans_with_two_runs_in_flight() -> None:
    def bar(start: int, end: int) -> Bar:
        return Bar(RunRecord("r"), 0, start, end, 1)

    assert overlaps([bar(0, 10), bar(5, 20), bar(30, 40)]) == [(5, 10)]
    assert overlaps([bar(0, 10), bar(10, 20)]) == []  # end then start: no overlap
    assert overlaps([bar(0, 100), bar(10, 20), bar(15, 30)]) == [(10, 30)]


def test_runs_from_either_shape_are_normalised() -> None:
    from_logs = RunRecord.from_json({"id": "r", "start": iso_ns(ns(5)), "end": None,
                                     "outcome": None, "start_at": "a.log:12"})
    assert from_logs.start_ns == ns(5) and from_logs.end_ns is None
    assert from_logs.outcome == "open"
    assert (from_logs.source, from_logs.line) == ("a.log", 12)
    failed = RunRecord.from_json({"id": "r", "start_ns": 1, "end_ns": 2,
                                  "outcome": "Error: boom"})
    assert failed.outcome == "error" and failed.error == "Error: boom"


# --- the app ---------------------------------------------------------------------------


async def test_opens_on_the_verdict_with_causes_and_their_card(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        assert app.current_mode == "verdict"
        table = app.screen.query_one("#causes", DataTable)
        assert table.row_count == len(incident.verdict.causes) >= 1
        assert incident.verdict.verdict == "shared-instance"
        line = str(app.screen.query_one("#verdict-line").render())
        assert "One agent instance serves concurrent requests" in line


async def test_drill_from_a_cause_to_its_log_line_and_back(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("enter")  # the top cause's evidence
        await settle(pilot, app)
        evidence = app.screen
        assert isinstance(evidence, EvidenceScreen)
        first = evidence.rows[0][1]
        assert first is not None and first.line == 4
        await pilot.press("enter")  # open web-a.log:4 in the Logs view
        await settle(pilot, app)
        assert app.current_mode == "logs"
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        index = app.log_index
        row = logs.view.cursor_row
        assert index is not None and row is not None
        assert index.where(row).endswith("web-a.log:4")
        await pilot.press("escape")  # back to the verdict view, drill-down still open
        await settle(pilot, app)
        assert app.current_mode == "verdict" and isinstance(app.screen, EvidenceScreen)
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "VerdictScreen"


async def test_operator_answers_rerank_and_are_saved_in_the_case(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        tree = app.screen
        assert isinstance(tree, TreeScreen)
        keys = [s.key for s in tree.steps]
        # branches with an answer read first; nobody could check the pods here
        first_unknown = next(i for i, s in enumerate(tree.steps)
                             if s.by is AnsweredBy.NOT_CHECKED and s.depth == 0)
        assert all(s.by is not AnsweredBy.NOT_CHECKED for s in tree.steps[:first_unknown]
                   if s.depth == 0)
        assert keys.index("pods.restarts") > keys.index("runs.overlap_instance")
        assert tree.steps[keys.index("pods.restarts")].by is AnsweredBy.NOT_CHECKED
        tree.query_one("#steps", DataTable).move_cursor(row=keys.index("pods.restarts"))
        await pilot.press("y")  # containers restart
        await settle(pilot, app)
        keys = [s.key for s in tree.steps]
        table = tree.query_one("#steps", DataTable)
        table.move_cursor(row=keys.index("pods.oomkilled"))
        await pilot.press("y")  # and were OOMKilled
        await settle(pilot, app)
        verdict = app.analysis.verdict
        assert app.analysis.case.answers == {"pods.restarts": Answer.YES,
                                             "pods.oomkilled": Answer.YES}
        assert "oom" in [c.id for c in verdict.causes]
        step = next(s for s in verdict.path if s.key == "pods.oomkilled")
        assert step.by is AnsweredBy.OPERATOR
        # evidence-answered questions are not the operator's to change
        table.move_cursor(row=[s.key for s in tree.steps].index("runs.overlap_instance"))
        await pilot.press("n")
        await settle(pilot, app)
        assert "runs.overlap_instance" not in app.analysis.case.answers
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        saved = json.loads((tmp_path / "out" / "scaledoc-case.json").read_text())
        assert saved["answers"] == {"pods.restarts": "yes", "pods.oomkilled": "yes"}
        assert Case.from_json(saved).answers["pods.oomkilled"] is Answer.YES
        # u clears: the answer leaves the case and the verdict loses the cause
        table.move_cursor(row=[s.key for s in tree.steps].index("pods.oomkilled"))
        await pilot.press("u")
        await settle(pilot, app)
        assert "pods.oomkilled" not in app.analysis.case.answers
        assert "oom" not in [c.id for c in app.analysis.verdict.causes]


async def test_an_answer_in_the_tree_reaches_every_view(
        incident: Analysis, tmp_path: Path) -> None:
    """After y on 'restarts' and 'OOMKilled' the verdict is OOM in the Tree, the Verdict
    view and the tab bar alike (they all watch the one analysis)."""
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        tree = app.screen
        assert isinstance(tree, TreeScreen)
        table = tree.query_one("#steps", DataTable)
        for key in ("pods.restarts", "pods.oomkilled"):
            table.move_cursor(row=[s.key for s in tree.steps].index(key))
            await pilot.press("y")
            await settle(pilot, app)
        top = app.analysis.verdict.causes[0]
        assert "OOMKilled" in str(tree.query_one("#tree-verdict").render()) or \
            top.id in str(tree.query_one("#tree-verdict").render())
        await pilot.press("1")
        await settle(pilot, app)
        line = str(app.screen.query_one("#verdict-line").render())
        assert app.analysis.verdict.title in line
        causes = app.screen.query_one("#causes", DataTable)
        assert causes.row_count == len(app.analysis.verdict.causes)
        assert "oom" in [c.id for c in app.analysis.verdict.causes]


async def test_hostile_log_text_is_shown_not_executed(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        logs, index = await open_logs(pilot, app)
        row = next(r for r in logs.rows if index.text(r) == HOSTILE)
        logs.view.go_to(list(logs.rows).index(row))
        await settle(pilot, app)
        shown = logs.view.row_text(row)
        assert "[bold red]x[/]" in shown.plain
        assert not any(ch in shown.plain for ch in "\x1b\x07\x9b")
        y = logs.view.cursor - int(logs.view.scroll_y)
        strip = logs.view.render_line(y)
        drawn = "".join(seg.text for seg in strip)
        assert "[bold red]x[/]" in drawn and "\x1b" not in drawn and "\x07" not in drawn
        await pilot.press("m")  # raw mode shows the same, escaped
        assert "\x1b" not in "".join(seg.text for seg in logs.view.render_line(y))
        await pilot.press("enter")  # the whole line, in a dialog
        await settle(pilot, app)
        assert isinstance(app.screen, LineScreen)
        await pilot.press("escape")


async def test_logs_filter_by_pod_and_narrow_to_instance(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        logs, index = await open_logs(pilot, app)
        assert len(logs.rows) == 18
        await pilot.press("slash")
        await pilot.press(*"pod:web-b")
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(logs.rows) == 7
        assert {index.hosts.get(index.host[r]) for r in logs.rows} == {"web-b"}
        await pilot.press("c")
        await settle(pilot, app)
        assert len(logs.rows) == 18
        await pilot.press("slash")
        await pilot.press(*"level>=error")
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(logs.rows) == 2
        await pilot.press("i")  # narrow to this line's instance (adds to the filter)
        await settle(pilot, app)
        assert logs.filter.instance == "agent-1" and logs.filter.min_level == ERROR
        assert len(logs.rows) == 1


async def test_timeline_shows_overlap_and_jumps_to_logs_and_back(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        timeline = screen.query_one(Timeline)
        assert timeline.lanes == ["agent-1", "agent-2"]
        assert len(timeline.lane_overlaps[0]) == 1 and timeline.lane_overlaps[1] == []
        assert timeline.selected_run is not None and timeline.selected_run.id == "run-1"
        run_logs = screen.query_one("#run-logs", LogView)
        index = app.log_index
        assert index is not None
        # run-1's own lines: its start and end (tagged), not run-2's or the hostile line
        assert [index.line[r] for r in run_logs.rows] == [4, 8]
        span = timeline.view_span
        await pilot.press("plus")
        assert timeline.view_span < span
        start = timeline.view_start
        await pilot.press("full_stop")
        assert timeline.view_start > start
        await pilot.press("0")
        assert timeline.view_span >= span
        await pilot.press("L")  # lanes by session: three sessions, no overlap within one
        assert timeline.lanes == ["s1", "s2", "s3"]
        assert all(not o for o in timeline.lane_overlaps)
        await pilot.press("L")
        assert timeline.lanes == ["agent-1", "agent-2"]
        assert timeline.selected_run is not None and timeline.selected_run.id == "run-1"
        await pilot.press("right")  # run-2, same lane
        await settle(pilot, app)
        assert timeline.selected_run is not None and timeline.selected_run.id == "run-2"
        await pilot.press("enter")  # its lines in the Logs view
        await settle(pilot, app)
        assert app.current_mode == "logs"
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        assert logs.filter.window is not None and logs.filter.window.run_id == "run-2"
        assert [index.line[r] for r in logs.rows] == [6, 10]
        await pilot.press("r")  # this line's run, on the timeline
        await settle(pilot, app)
        assert app.current_mode == "timeline"
        assert timeline.selected_run is not None and timeline.selected_run.id == "run-2"
        await pilot.press("escape")  # back where we came from
        assert app.current_mode == "logs"


async def test_probe_views_render_data_and_say_when_absent(tmp_path: Path) -> None:
    analysis = incident_analysis(tmp_path / "incident")
    app = make_app(analysis, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("7")
        await settle(pilot, app)
        tables = list(app.screen.query(DataTable))
        assert len(tables) == 1 and tables[0].row_count == 2
        cells = [str(c) for c in tables[0].get_row_at(1)]
        assert "[red]not markup[/red]" in cells
        await pilot.press("8")
        await settle(pilot, app)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "No process evidence" in text
        await pilot.press("5")
        await settle(pilot, app)
        assert app.screen.query_one("#logs-levels", DataTable).row_count == 3
        assert app.screen.query_one("#ramp-levels", DataTable).row_count == 3
        await pilot.press("6")
        await settle(pilot, app)
        assert app.screen.query_one("#inputs", DataTable).row_count == 3


async def test_factory_runs_in_a_worker_with_progress_and_real_analysis(
        tmp_path: Path) -> None:
    paths = write_incident(tmp_path / "incident")
    stages: list[str] = []

    def factory(cancel: threading.Event, progress: Callable[[str, int, int], None]
                ) -> Analysis:
        def spy(stage: str, done: int, total: int) -> None:
            stages.append(stage)
            progress(stage, done, total)

        return analyze_paths(paths, cancel=cancel, progress=spy)

    app = ScaledocApp(factory, save_dir=tmp_path / "out")
    messages: list[str] = []
    async with app.run_test(size=(120, 36),
                            message_hook=lambda m: messages.append(type(m).__name__)) as pilot:
        await ready(pilot, app)
        assert stages  # the pipeline reported progress...
        assert "AnalysisProgress" in messages and "AnalysisReady" in messages  # ...to the UI
        assert app.analysis.verdict.verdict == "shared-instance"
        assert app.progress is None


async def test_one_pass_the_logs_view_is_indexed_by_the_analysis_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A factory that takes ``sink`` gets the Logs view's index: the index is ready when the
    verdict is (its LogIndexReady is handled before AnalysisReady) and holds every event the
    analysis read, so the files are not parsed a second time. The second-read path is made
    to fail loudly (a named spy on the app's own method, not a mock of anything it calls)."""
    paths = write_incident(tmp_path / "incident")

    def second_read(self: ScaledocApp, *args: object, **kw: object) -> None:
        raise AssertionError("the Logs view read the files a second time")

    monkeypatch.setattr(ScaledocApp, "_build_index", second_read)

    def factory(cancel: threading.Event, progress: Callable[[str, int, int], None],
                sink: Any = None) -> Analysis:
        return analyze_paths(paths, cancel=cancel, progress=progress, sink=sink)

    app = ScaledocApp(factory, save_dir=tmp_path / "out")
    order: list[str] = []

    def hook(m: object) -> None:
        name = type(m).__name__
        if name in ("AnalysisReady", "LogIndexReady"):
            order.append(name)

    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await ready(pilot, app)
        assert order == ["LogIndexReady", "AnalysisReady"]
        index = app.log_index
        assert index is not None
        read = sum(i.events for i in current(app).inputs if i.kind == "log")
        assert read > 0 and len(index) == read
        assert all(index.has_source(p) for p in paths)
        await pilot.press("4")  # the Logs view shows the lines straight away
        await settle(pilot, app)
        assert len(app.screen.query_one(LogView).rows) == read


async def test_an_early_look_shows_the_lead_until_the_verdict_replaces_it(
        incident: Analysis, tmp_path: Path) -> None:
    """While the analysis reads, an EarlyLook from its worker shows the leading cause so
    far, marked as not a verdict; the verdict replaces it, and a look arriving after the
    verdict changes nothing."""
    from probes.pipeline import EarlyLook
    from tui.app.messages import EarlyLookReady

    release = threading.Event()

    def factory(cancel: threading.Event, preview: Any = None) -> Analysis:
        preview(EarlyLook(250_000, 60, 240, ("shared-instance", "One agent object shared "
                                                                 "by concurrent requests", 0.69)))
        release.wait(30)
        return incident

    app = ScaledocApp(factory, save_dir=tmp_path / "out", index_logs=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.early is not None)
        line = str(app.screen.query_one("#verdict-line").render())
        assert "EARLY LOOK" in line and "250,000 events, 25%" in line
        assert "shared-instance" in line and "not a verdict" in line
        release.set()
        await until(pilot, lambda: app.analysis is not None)
        app.post_message(EarlyLookReady(EarlyLook(1, 0, 0, None)))  # late: ignored
        await pilot.pause()
        line = str(app.screen.query_one("#verdict-line").render())
        assert "EARLY LOOK" not in line and "VERDICT" in line


async def test_ui_stays_responsive_and_stop_cancels_the_analysis(
        incident: Analysis, tmp_path: Path) -> None:
    started = threading.Event()

    def slow(cancel: threading.Event) -> Analysis:
        started.set()
        cancel.wait(30)  # a long ingestion, until the operator stops it
        return Analysis(incident.case, incident.verdict, incident.inputs, incident.log_paths,
                        cancelled=cancel.is_set())

    app = ScaledocApp(slow, save_dir=tmp_path / "out")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        assert started.wait(5)
        await pilot.press("question_mark")  # the UI answers while the worker blocks
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        assert current(app) is None and app.progress is not None
        await pilot.press("x")
        await ready(pilot, app)
        assert current(app).cancelled
        assert any("stopped early" in n.message for n in app._notifications)


async def test_a_crashing_analysis_becomes_an_error_dialog_and_exit_code(
        tmp_path: Path) -> None:
    def broken(cancel: threading.Event) -> Analysis:
        raise RuntimeError("disk on fire \x1b[2J")

    app = ScaledocApp(broken, save_dir=tmp_path / "out")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.screen.__class__.__name__ == "ErrorScreen"
        assert "disk on fire" in app.failure
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "VerdictScreen"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 1


async def test_export_screenshot_and_theme_keys(incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    out = tmp_path / "out"
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(pilot, app)
        await pilot.press("f8")
        await settle(pilot, app)
        svgs = list(out.glob("*.svg"))
        assert len(svgs) == 1 and svgs[0].read_text().startswith("<svg")
        await pilot.press("e")
        await settle(pilot, app)
        markdown = out / "scaledoc-report.md"
        if markdown.exists():
            assert "shared-instance" in markdown.read_text()
            report = json.loads((out / "scaledoc-report.json").read_text())
            assert "shared-instance" in json.dumps(report)
        else:  # the report module failed: the operator is told, the app lives on
            assert any(n.title == "Report export failed" for n in app._notifications)
        theme = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != theme
        await pilot.press("ctrl+t")
        assert app.theme == theme


@pytest.mark.parametrize("key", list("123456789"))
async def test_every_view_renders_at_80x24(incident: Analysis, tmp_path: Path,
                                           key: str) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press(key)
        await settle(pilot, app)
        assert app.screen.has_class("narrow")
        svg = app.export_screenshot()
        assert "Verdict" in svg and "Traceback" not in svg
        assert "\x1b" not in svg


async def test_command_palette_offers_views_and_actions(
        incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Go to Logs", "Go to Timeline", "Save case", "Export report",
                "Save SVG screenshot"} <= set(titles)
        go_logs = next(c for c in app.get_system_commands(app.screen)
                       if c.title == "Go to Logs")
        result = go_logs.callback()
        if result is not None:
            await result
        await settle(pilot, app)
        assert app.current_mode == "logs"


def test_text_filter_walks_each_file_once_even_out_of_line_order(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("one\nTwo needle\nthree\nfour NEEDLE\n", encoding="utf-8")
    events = [LogEvent(ns(4 - i), str(log), line, INFO, "") for i, line in
              enumerate((4, 2, 3, 1))]  # fed newest first, so rows are not in line order
    index = index_events(events)
    assert [index.line[r] for r in apply_filter(index, LogFilter(text="needle"))] == [2, 4]
    assert [index.line[r] for r in apply_filter(index, LogFilter(text="nééd"))] == []


@pytest.mark.benchmark
def test_benchmark_a_million_lines(tmp_path: Path) -> None:
    """Index, filter and fetch figures for 1M lines (printed, not asserted)."""
    n = 1_000_000
    log = tmp_path / "big.log"
    with log.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f'{{"level":30,"time":{BASE_MS + i},"hostname":"pod-{i % 3}",'
                     f'"msg":"line {i}"}}\n')
    events = (LogEvent(ns(i), str(log), i + 1, INFO, "", host=f"pod-{i % 3}",
                       instance=f"agent-{i % 50}", request=f"req-{i // 4}")
              for i in range(n))
    started = time.perf_counter()
    index = index_events(events)
    built = time.perf_counter() - started
    columns = [index.time_ns, index.source, index.line, index.level, index.instance,
               index.session, index.request, index.host, index.run, index.order,
               index.sources[0].offsets]
    column_bytes = sum(c.itemsize * len(c) for c in columns)
    started = time.perf_counter()
    rows = apply_filter(index, LogFilter(instance="agent-7"))
    by_field = time.perf_counter() - started
    started = time.perf_counter()
    texts = apply_filter(index, LogFilter(text="line 99999"))
    by_text = time.perf_counter() - started
    started = time.perf_counter()
    for r in range(0, n, n // 1000):
        index.text(r)
    fetch = (time.perf_counter() - started) / 1000
    print(f"\n1M lines: index {built:.1f}s (columns {column_bytes / 1e6:.0f} MB), "
          f"field filter {by_field:.2f}s ({len(rows)} rows), text filter {by_text:.2f}s "
          f"({len(texts)} rows), text fetch {fetch * 1e6:.0f} µs/line")


async def test_toasts_show_untrusted_text_verbatim(incident: Analysis, tmp_path: Path) -> None:
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        logs.go_to_line("[bold]evil[/bold]\x1b[2J.log", 3)
        await settle(pilot, app)
        note = list(app._notifications)[-1]
        assert not note.markup
        assert "[bold]evil[/bold]" in note.message and "\x1b" not in note.message


@pytest.fixture
def sampled_process() -> tuple[int, Evidence]:
    """A real child process, sampled by the process probe (psutil), then stopped."""
    import subprocess
    import sys

    from probes.process import ProcessTarget, collect

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        return child.pid, collect(ProcessTarget(pid=child.pid, sample_seconds=0.2))
    finally:
        child.kill()
        child.wait()


async def test_processes_view_shows_a_real_sampled_process(
        incident: Analysis, tmp_path: Path, sampled_process: tuple[int, Evidence]) -> None:
    pid, evidence = sampled_process
    case = incident.case.with_evidence(evidence)
    analysis = Analysis(case, diagnose(case), incident.inputs, incident.log_paths)
    app = make_app(analysis, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("8")
        await settle(pilot, app)
        table = app.screen.query_one(DataTable)
        columns = [str(c.label) for c in table.columns.values()]
        assert columns[:3] == ["pid", "role", "name"]
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == str(pid)
        rss = first[columns.index("rss_bytes")]
        assert rss.endswith(("KiB", "MiB", "GiB"))


async def test_quitting_mid_analysis_cancels_the_worker(tmp_path: Path,
                                                          incident: Analysis) -> None:
    seen_cancel = threading.Event()
    started = threading.Event()

    def slow(cancel: threading.Event) -> Analysis:
        started.set()
        if cancel.wait(30):
            seen_cancel.set()
        return incident

    app = ScaledocApp(slow, save_dir=tmp_path / "out")
    async with app.run_test(size=(120, 36)) as pilot:
        assert started.wait(5)
        await pilot.press("q")
    assert seen_cancel.wait(5)  # the core was told to stop, so the process can exit
    assert app.return_code == 0


@pytest.mark.parametrize(("source", "view"), [
    ("pod/web-a-7d9f8", "pods"), ("pid 4121", "processes"), ("svc/app.ts", "code"),
    ("http://127.0.0.1:8080/chat", "concurrency"), ("something else", None),
])
def test_examples_that_are_not_log_lines_open_their_view(source: str, view: str | None
                                                         ) -> None:
    from tui.app.main import view_for_source

    assert view_for_source(source) == view


async def test_opening_a_pod_example_goes_to_the_pods_view(
        incident: Analysis, tmp_path: Path) -> None:
    from tui.app.messages import OpenLogLine

    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        app.post_message(OpenLogLine("pod/web-a-7d9f8", None))
        await settle(pilot, app)
        assert app.current_mode == "pods"


async def test_k9s_motion_keys_and_the_command_line(incident: Analysis, tmp_path: Path) -> None:
    """j/k, G/g, ctrl+d/ctrl+u move the focused table in any view; ':' opens a command line
    that switches views (':logs', ':tree'), and a mistyped one says what it meant."""
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        table = app.screen.query_one("#steps", DataTable)
        table.focus()
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("ctrl+d")
        assert table.cursor_row > 1
        await pilot.press("ctrl+u")
        assert table.cursor_row == 0
        await pilot.press("colon", *"logs", "enter")
        await settle(pilot, app)
        assert app.current_mode == "logs"
        await pilot.press("colon", *"tre", "enter")  # not a command: nothing moves
        await settle(pilot, app)
        assert app.current_mode == "logs"
        assert any("did you mean :tree" in str(n.message) for n in app._notifications)
        await pilot.press("colon", *"verdict", "enter")
        await settle(pilot, app)
        assert app.current_mode == "verdict"
        await pilot.press("colon", "escape")  # cancelled: still on the verdict
        await settle(pilot, app)
        assert app.current_mode == "verdict"


async def test_help_lists_every_key_the_footer_and_views_use(
        incident: Analysis, tmp_path: Path) -> None:
    from tui.app.screens.dialogs import HELP
    listed = " ".join(key for _section, rows in HELP for key, _what in rows)
    for key in ("j / k", "g / G", "ctrl+d / ctrl+u", ":", "?", "esc", "ctrl+s", "e", "f8",
                "y / n", "/", "L"):
        assert key in listed, key
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "HelpScreen"


async def test_the_first_jump_to_a_deep_line_shows_it(tmp_path: Path) -> None:
    """The demo incident: the top cause's first example is line 83 of one pod's log, far
    below the first screen of the merged stream. The Logs view is created by that jump; it
    used to put its cursor there but stay scrolled at the top."""
    from probes.pipeline import demo_paths
    app = make_app(analyze_paths(demo_paths()), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        view = logs.view
        row = view.cursor_row
        assert row is not None and app.log_index is not None
        assert app.log_index.where(row).endswith(":83")
        height = view.scrollable_content_region.height
        assert view.cursor > height  # deep in the stream, not on the first screen
        assert view.scroll_y <= view.cursor < view.scroll_y + height


async def test_find_highlights_and_n_N_move_between_matches(
        incident: Analysis, tmp_path: Path) -> None:
    """lnav's search in the Logs view: f, a text, enter; every line still shows, the
    matches are highlighted, n and N go to the next and previous one (wrapping)."""
    from tui.app.widgets.log_view import FIND_STYLE
    app = make_app(incident, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        logs, index = await open_logs(pilot, app)
        shown = len(logs.view.rows)
        await pilot.press("f", *"RUN STARTED", "enter")  # case-insensitive
        await settle(pilot, app)
        assert len(logs.view.rows) == shown  # nothing hidden
        matches = [p for p, r in enumerate(logs.view.rows) if "run started" in index.text(r)]
        assert len(matches) == 3
        assert logs.view.cursor == matches[0]
        await pilot.press("n")
        assert logs.view.cursor == matches[1]
        await pilot.press("n", "n")  # wraps to the first
        assert logs.view.cursor == matches[0]
        await pilot.press("N")
        assert logs.view.cursor == matches[-1]
        drawn = logs.view.row_text(logs.view.rows[matches[0]])
        assert any(FIND_STYLE in str(span.style) for span in drawn.spans)
        assert not any(FIND_STYLE in str(span.style)
                       for span in logs.view.row_text(logs.view.rows[0]).spans)
        await pilot.press("j")  # the log view takes the k9s keys too
        assert logs.view.cursor == matches[-1] + 1 or logs.view.cursor == shown - 1


async def test_the_logs_view_reads_with_the_operators_field_mappings(tmp_path: Path) -> None:
    """``--field instance=agent.ref``: the analysis and the Logs view read the same key, so
    the view's instance column (and its ``instance:`` filter) names the same agents."""
    from probes.ingest import IngestConfig

    log = tmp_path / "app.log"
    log.write_text("".join(_pino(i * 10, "web-a", "run started", agent={"ref": f"ag-{i % 2}"},
                                 runId=f"run-{i}") + "\n" for i in range(4)))
    config = IngestConfig(field_overrides={"instance": "agent.ref"})
    analysis = analyze_paths([str(log)], config=config)
    app = make_app(analysis, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        index = app.log_index
        assert index is not None
        shown = {index.instances.get(i) for i in set(index.instance)}
        assert {"ag-0", "ag-1"} <= shown
