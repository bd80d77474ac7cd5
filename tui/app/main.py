"""The incident TUI: one Textual app for ``scaledoc demo``, ``scaledoc PATH...`` and live.

State lives on the app, as reactive values the screens watch: ``analysis`` (the Case,
its Verdict, the input reports, the log paths), ``log_index`` (the Logs view's compact
index) and the progress of each. Work that blocks (the analysis, indexing logs) runs in
named thread workers that post messages back; nothing in a worker touches a widget. An
operator's answer replaces ``analysis`` with a re-walked one, and every view redraws.

Views are Textual modes (one screen stack each, keys 1-9 and 0). ``esc`` pops a
drill-down in the current view, or returns to the view you came from, so "jump from a
log line to its run and back" is ``r`` then ``esc``.

Entry point for the CLI: ``run_app(analysis_factory, analysis=..., title=...) -> int``.
"""

from __future__ import annotations

import inspect
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.console import Console
from rich.segment import Segments
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from probes.evidence import Answer, Case
from probes.redact import json_out, redact_text
from probes.safe_text import visible
from tui.app.logview import LogIndex, build_index
from tui.app.messages import (
    AnalysisFailed,
    AnalysisProgress,
    AnalysisReady,
    AnswerGiven,
    EarlyLookReady,
    FollowUpdate,
    LogIndexProgress,
    LogIndexReady,
    OpenLogLine,
    OpenRun,
    ShowRunLogs,
)
from tui.app.runs import RunRecord
from tui.app.screens.base import VIEWS
from tui.app.screens.concurrency import ConcurrencyScreen
from tui.app.screens.dialogs import CommandLine, ErrorScreen, HelpScreen, resolve_command
from tui.app.screens.inputs import InputsScreen
from tui.app.screens.logs import LogsScreen
from tui.app.screens.metrics import MetricsScreen
from tui.app.screens.probe_data import CodeScreen, PodsScreen, ProcessesScreen
from tui.app.screens.timeline import TimelineScreen
from tui.app.screens.tree import TreeScreen
from tui.app.screens.verdict import VerdictScreen
from tui.exit_codes import ExitCode
from tui.render.plain import redact_segments

if TYPE_CHECKING:  # loaded by the analysis and the follower, not by the app's definition
    from probes.follow import Change, Follower
    from probes.ingest import IngestConfig
    from probes.pipeline import Analysis, EarlyLook

S = TypeVar("S", bound=Screen[Any])

AnalysisFactory = Callable[..., "Analysis"]
"""``factory(cancel: threading.Event) -> Analysis``, called in a worker thread; it must
stop early when the Event is set. If it also accepts a ``progress`` keyword
(``progress(stage, done, total)``), it gets one and the Verdict view shows a bar; if it
accepts ``sink`` (a ``probes.pipeline.EventSink``), it gets the Logs view's index to feed
in the same pass (hence ``...``: the keywords are optional, which ``Callable`` cannot
say)."""

# Screen[Any]: Textual's screens are generic in what they return when dismissed.
SCREENS_BY_MODE: dict[str, type[Screen[Any]]] = {
    "verdict": VerdictScreen, "tree": TreeScreen, "timeline": TimelineScreen,
    "logs": LogsScreen, "concurrency": ConcurrencyScreen, "inputs": InputsScreen,
    "pods": PodsScreen, "processes": ProcessesScreen, "code": CodeScreen,
    "metrics": MetricsScreen,
}

MAX_HISTORY = 50
LIGHT, DARK = "textual-light", "textual-dark"


def accepts(factory: AnalysisFactory, keyword: str) -> bool:
    """Whether ``factory`` takes ``keyword`` (``progress``, ``sink``), by name or **kw."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


CODE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", ".toml",
                 ".txt", ".lock", ".yaml", ".yml")


def view_for_source(source: str) -> str | None:
    """The view that shows an example's source when it is not a log line."""
    if source.startswith("pod/"):
        return "pods"
    if source.startswith("pid "):
        return "processes"
    if source.startswith("prometheus "):
        return "metrics"
    if source.startswith(("http://", "https://")):
        return "concurrency"
    if source.endswith(CODE_SUFFIXES):
        return "code"
    return None


def log_paths_of(analysis: Analysis) -> list[str]:
    """The log/trace files to index: ``analysis.log_paths``, else the inputs that are
    log or trace files on disk (so the Logs view works whatever the pipeline filled)."""
    paths = list(analysis.log_paths)
    if paths:
        return paths
    return [i.name for i in analysis.inputs
            if i.kind in ("log", "trace") and not i.error and os.path.isfile(i.name)]


class ScaledocApp(App[int]):
    """The incident TUI. Give it an ``analysis`` or an ``analysis_factory``."""

    CSS_PATH = "app.tcss"
    TITLE = "scaledoc"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = dict(
        SCREENS_BY_MODE.items())
    DEFAULT_MODE = "verdict"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(v.key, f"goto('{v.mode}')", v.title, show=False) for v in VIEWS),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+s", "save_case", "Save case"),
        Binding("e", "export", "Export"),
        Binding("f8", "screenshot_svg", "Screenshot", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("x", "stop", "Stop", show=False),
        Binding("q", "quit", "Quit"),
    ]

    analysis: var[Analysis | None] = var(None)
    """The current analysis (None while it is being built)."""
    progress: var[tuple[str, int, int] | None] = var(None)
    early: var[EarlyLook | None] = var(None)
    """While a long analysis reads: what the evidence so far points at (not a verdict)."""
    """The analysis worker's last progress report, None when idle."""
    log_index: var[LogIndex | None] = var(None)
    index_progress: var[tuple[str, int, int] | None] = var(None)
    index_error: var[str] = var("")
    failure: var[str] = var("")
    """Why the analysis could not run at all (empty when it ran)."""
    follow_status: var[str] = var("")
    """With -f: what the last re-rank changed, and the window (empty when not following)."""

    def __init__(self, analysis_factory: AnalysisFactory | None = None, *,
                 analysis: Analysis | None = None, title: str = "",
                 save_dir: str | Path | None = None, index_logs: bool = True,
                 follower: Follower | None = None, log_index: LogIndex | None = None) -> None:
        super().__init__()
        if analysis_factory is None and analysis is None and follower is None:
            raise ValueError("ScaledocApp needs an analysis, an analysis_factory or a follower")
        self._factory = analysis_factory
        self._follower = follower
        """A ``probes.follow.Follower`` with its sources added (``-f``), or None."""
        self._initial = analysis
        self._initial_index = log_index
        """The Logs view's index when the analysis's own pass filled it (kubectl scaledoc:
        the pods' logs exist only while they are analysed)."""
        self._history: list[str] = []
        self._exit_code = ExitCode.OK
        self._index_logs = index_logs
        self.save_dir = Path(save_dir) if save_dir is not None else Path.cwd()
        if title:
            self.title = visible(title)  # also an SVG screenshot's title and file name
        self.sub_title = "loading…" if analysis is None else ""

    def on_mount(self) -> None:
        if self._initial_index is not None:
            self.post_message(LogIndexReady(self._initial_index))  # before AnalysisReady
        if self._initial is not None:
            self.post_message(AnalysisReady(self._initial))
        elif self._factory is not None:
            self.progress = ("starting", 0, 0)
            self._analyse(self._factory)
        if self._follower is not None:
            if self._initial is None and self._factory is None:
                self.progress = ("following", 0, 0)
            self._follow(self._follower)

    # -- workers ----------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="analysis", name="analysis")
    def _analyse(self, factory: AnalysisFactory) -> None:
        worker = get_current_worker()

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(AnalysisProgress(stage, done, total))

        kw: dict[str, object] = {}
        if accepts(factory, "progress"):
            kw["progress"] = progress
        if accepts(factory, "preview"):
            kw["preview"] = lambda look: self.post_message(EarlyLookReady(look))
        # One pass: the analysis feeds the Logs view's index as it reads, so the view is
        # usable when the verdict appears and no file is read a second time.
        index = LogIndex() if self._index_logs and accepts(factory, "sink") else None
        if index is not None:
            kw["sink"] = index
        result = factory(worker.cancelled_event, **kw)
        if index is not None:
            index.finish(worker.cancelled_event)
            self.post_message(LogIndexReady(index))  # handled before AnalysisReady
        self.post_message(AnalysisReady(result))

    @work(thread=True, exit_on_error=False, group="follow", name="follow")
    def _follow(self, follower: Follower) -> None:
        """Follow the inputs (``probes.follow.Follower.run``); each change is posted as a
        ``FollowUpdate``. Ends when the worker is cancelled (quit, ``x``)."""
        worker = get_current_worker()

        def on_change(change: Change, analysis: Analysis) -> None:
            self.post_message(FollowUpdate(analysis, tuple(change.lines())))

        def on_index(index: LogIndex) -> None:
            index.finish(worker.cancelled_event)
            if not worker.is_cancelled:
                self.post_message(LogIndexReady(index))

        try:
            # The Logs view follows the window: each re-analysis indexes the same events in
            # the same pass (texts kept: a followed file grows and rotates under the view).
            follower.run(on_change, should_stop=lambda: worker.is_cancelled,
                         new_sink=(lambda: LogIndex(keep_text=True)) if self._index_logs
                         else None, on_sink=on_index)
        finally:
            follower.stop()

    @work(thread=True, exclusive=True, exit_on_error=False, group="index", name="log index")
    def _build_index(self, paths: Sequence[str], config: IngestConfig | None = None) -> None:
        worker = get_current_worker()

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(LogIndexProgress(stage, done, total))

        index = build_index(paths, worker.cancelled_event, progress, config)
        if not worker.is_cancelled:
            self.post_message(LogIndexReady(index))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected error in a worker becomes data on screen, never a crash."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        text = f"{type(error).__name__}: {error}" if error else "unknown error"
        if event.worker.group == "index":
            self.post_message(LogIndexReady(LogIndex(), error=text))
        elif event.worker.group == "analysis":
            self.post_message(AnalysisFailed(text))
        else:
            self.notify(text, title=f"{event.worker.name} failed", severity="error")

    # -- messages from workers --------------------------------------------------------

    def on_analysis_progress(self, message: AnalysisProgress) -> None:
        self.progress = (message.stage, message.done, message.total)

    def on_early_look_ready(self, message: EarlyLookReady) -> None:
        if self.analysis is None:  # a late one never covers the verdict
            self.early = message.look

    def on_analysis_ready(self, message: AnalysisReady) -> None:
        self.progress = None
        analysis = message.analysis
        self.analysis = analysis
        self.sub_title = f"verdict: {analysis.verdict.verdict}"
        if analysis.cancelled:
            self.notify("The analysis was stopped early: the verdict covers what was read.",
                        severity="warning")
        if self._index_logs and self.log_index is None:  # no index from the analysis's pass
            paths = log_paths_of(analysis)
            self.index_progress = ("indexing logs", 0, 0)
            self._build_index(paths, analysis.config)

    def on_follow_update(self, message: FollowUpdate) -> None:
        """A re-ranked analysis while following: the operator's answers are kept, every
        view redraws in place (the screens keep their selected row), and what changed is
        said in a toast and in the status line."""
        follower = self._follower
        window = ""
        if follower is not None:
            window = (f" · window {follower.window_size} events, "
                      f"{follower.window_span_s() / 60:.1f} min")
        current = self.analysis
        if current is None:
            self.on_analysis_ready(AnalysisReady(message.analysis))
            current = message.analysis
        else:
            current = message.analysis.with_answers(current.case.answers)
            self.analysis = current
            if message.changes:
                self.notify("\n".join(message.changes), title="Live: what changed")
        self.follow_status = "; ".join(message.changes[:3]) + window
        self.sub_title = f"verdict: {current.verdict.verdict} · following{window}"

    def on_analysis_failed(self, message: AnalysisFailed) -> None:
        self.progress = None
        self._exit_code = ExitCode.INPUT_ERROR
        self.sub_title = "analysis failed"
        self.failure = message.error
        self.push_screen(ErrorScreen("The analysis could not run", message.error))

    def on_log_index_progress(self, message: LogIndexProgress) -> None:
        self.index_progress = (message.stage, message.done, message.total)

    def on_log_index_ready(self, message: LogIndexReady) -> None:
        self.index_progress = None
        self.index_error = message.error or ""
        if self.log_index is not None:
            self.log_index.close()
        if message.error:
            self.log_index = None
            self.notify(message.error, title="Logs could not be indexed", severity="error")
        else:
            self.log_index = message.index

    # -- navigation -------------------------------------------------------------------

    async def action_goto(self, mode: str) -> None:
        if mode == self.current_mode:
            return
        self._history = [*self._history[-MAX_HISTORY:], self.current_mode]
        await self.switch_mode(mode)

    async def action_back(self) -> None:
        handler = getattr(self.screen, "handle_back", None)
        if handler is not None and handler():
            return
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self._history:
            await self.switch_mode(self._history.pop())

    def _mode_screen(self, mode: str, kind: type[S]) -> S:
        for screen in self.screen_stack:
            if isinstance(screen, kind):
                return screen
        raise LookupError(f"no {kind.__name__} in mode {mode}")

    @on(OpenLogLine)
    async def open_log_line(self, message: OpenLogLine) -> None:
        """Open an example where it lives: a log line in Logs, a pod in Pods, a process
        in Processes, a source file in Code, a ramp request in Concurrency."""
        index = self.log_index
        view = view_for_source(message.source)
        if index is None and view is not None and view != "pods":
            # no logs indexed at all (a case of metrics or processes only): its own view
            await self.action_goto(view)
            return
        if index is not None and not index.has_source(message.source):
            if view is None:
                self.notify(f"{message.source} is not in the indexed logs.",
                            severity="warning")
            else:
                await self.action_goto(view)
            return
        await self.action_goto("logs")
        screen: LogsScreen = self._mode_screen("logs", LogsScreen)
        screen.go_to_line(message.source, message.line)

    @on(OpenRun)
    async def open_run(self, message: OpenRun) -> None:
        await self.action_goto("timeline")
        screen: TimelineScreen = self._mode_screen("timeline", TimelineScreen)
        screen.select_run(message.run_id)

    @on(ShowRunLogs)
    def on_show_run_logs(self, message: ShowRunLogs) -> None:
        self.show_run_logs(message.run)

    @on(AnswerGiven)
    def on_answer_given(self, message: AnswerGiven) -> None:
        self.answer(message.key, message.answer)

    def show_run_logs(self, run: RunRecord) -> None:
        """Open the Logs view filtered to one run's lines."""

        async def go() -> None:
            await self.action_goto("logs")
            screen: LogsScreen = self._mode_screen("logs", LogsScreen)
            screen.show_run(run)

        self.call_later(go)

    # -- the operator's answers -------------------------------------------------------

    def answer(self, key: str, answer: Answer) -> None:
        """Record the operator's answer to question ``key`` and walk the tree again."""
        if self.analysis is None:
            return
        before = self.analysis.verdict.verdict
        self.analysis = self.analysis.rewalk(self.analysis.case.with_answer(key, answer))
        after = self.analysis.verdict.verdict
        self.sub_title = f"verdict: {after}"
        what = "cleared" if answer is Answer.UNKNOWN else f"answered {answer.value}"
        change = f"verdict now {after}" if after != before else f"verdict still {after}"
        self.notify(f"{key} {what}: {change}.", title="Re-ranked")

    # -- files ------------------------------------------------------------------------

    def _write(self, name: str, content: str) -> Path | None:
        path = self.save_dir / name
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        except OSError as exc:
            self.notify(f"{path}: {exc.strerror or exc}", title="Could not save",
                        severity="error")
            return None
        return path

    def action_save_case(self) -> None:
        if self.analysis is None:
            self.notify("Nothing to save yet.", severity="warning")
            return
        case: Case = self.analysis.case
        path = self._write("scaledoc-case.json", json_out(case.to_json()) + "\n")
        if path is not None:
            self.notify(f"{path} ({len(case.answers)} answer(s) kept)", title="Case saved")

    def action_export(self) -> None:
        if self.analysis is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        try:
            from tui.render import report

            markdown = report.render_markdown(self.analysis)
            as_json = report.render_json(self.analysis)
        except Exception as exc:  # the report module is another engineer's; never crash
            self.notify(f"{type(exc).__name__}: {exc}", title="Report export failed",
                        severity="error")
            return
        if not isinstance(as_json, str):
            as_json = json.dumps(as_json, indent=2)
        written = [p for p in (self._write("scaledoc-report.md", markdown),
                               self._write("scaledoc-report.json", as_json)) if p]
        if written:
            self.notify("\n".join(str(p) for p in written), title="Report exported")

    def action_screenshot_svg(self) -> None:
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            name = self.save_screenshot(path=str(self.save_dir))
        except OSError as exc:
            self.notify(str(exc), title="Could not save the screenshot", severity="error")
            return
        self.notify(name, title="Screenshot saved")

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        """Textual's SVG screenshot, with secrets masked in its text (a screenshot travels
        like a report). The drawing is Textual's own (``App.export_screenshot``)."""
        assert self._driver is not None, "App must be running"
        width, height = self.size
        console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                          color_system="truecolor", record=True, legacy_windows=False,
                          safe_box=False)
        update = self.screen._compositor.render_update(
            full=True, screen_stack=self._background_screens, simplify=simplify)
        if update is not None:  # always drawn when full=True
            console.print(Segments(redact_segments(console.render(update))))
        return console.export_svg(title=visible(redact_text(title or self.title)))

    # -- misc -------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is plain text: messages carry file names, ids and error text that
        come from logs and clusters, so markup is off and escapes are made visible."""
        super().notify(visible(message, keep_newlines=True), title=visible(title),
                       severity=severity, timeout=timeout, markup=False)

    def action_command_line(self) -> None:
        """``:`` opens the command line; what it returns runs as a view switch or action."""
        if isinstance(self.screen, CommandLine):
            return
        views = {v.mode: v.mode for v in VIEWS}
        views.update({v.title.lower(): v.mode for v in VIEWS})
        views.update({v.short.lower(): v.mode for v in VIEWS if v.short})
        views.update({v.key: v.mode for v in VIEWS})

        async def run(line: str | None) -> None:
            action, problem = resolve_command(line or "", views)
            if action is not None:
                await self.run_action(action)
            elif problem:
                self.notify(problem, severity="warning")

        self.push_screen(CommandLine(), run)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = DARK if self.theme == LIGHT else LIGHT

    def action_stop(self) -> None:
        """Stop the analysis early; what was read so far is still analysed and shown."""
        running = [w for w in self.workers if w.group == "analysis" and not w.is_finished]
        for worker in running:
            worker.cancelled_event.set()
        if running:
            self.notify("Stopping the analysis…")
        following = [w for w in self.workers if w.group == "follow" and not w.is_finished]
        for worker in following:
            worker.cancel()
        if following:
            self.notify("Stopped following: the verdict stays as last ranked.")

    async def action_quit(self) -> None:
        code = int(self._exit_code)
        self.exit(code, return_code=code)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for view in VIEWS:
            yield SystemCommand(f"Go to {view.title}", f"key {view.key}",
                                lambda mode=view.mode: self.run_action(f"goto('{mode}')"))
        yield SystemCommand("Save case", "evidence and answers as JSON (ctrl+s)",
                            self.action_save_case)
        yield SystemCommand("Export report", "Markdown and JSON (e)", self.action_export)
        yield SystemCommand("Save SVG screenshot", "of this screen (f8)",
                            self.action_screenshot_svg)
        yield SystemCommand("Toggle light/dark theme", "ctrl+t", self.action_toggle_theme)

    def on_unmount(self) -> None:
        if self._follower is not None:
            self._follower.cancel.set()  # the follow worker's sources end at once
        if self.log_index is not None:
            self.log_index.close()


def run_app(analysis_factory: AnalysisFactory | None = None, *,
            analysis: Analysis | None = None, title: str = "",
            follower: Follower | None = None, log_index: LogIndex | None = None) -> int:
    """Run the TUI until the operator quits; returns the process exit code.

    Give ``analysis`` when it is already built (with ``log_index`` when its pass filled
    one), or ``analysis_factory(cancel)`` to build it in a worker while the app shows
    progress (it may accept ``progress=`` and ``sink=`` too).
    """
    app = ScaledocApp(analysis_factory, analysis=analysis, title=title, follower=follower,
                      log_index=log_index)
    code = app.run()
    return int(code if code is not None else app.return_code or 0)
