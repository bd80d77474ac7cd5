"""Safety audit of the TUI: hostile text from every source is shown, never interpreted.

The inputs are real files read by the real pipeline (``analyze_paths``): pino logs whose
messages, host names and file name carry Rich markup (``[bold red]x[/]``,
``[link=http://evil]y[/link]``), terminal escapes (an OSC 52 clipboard write, a clear
screen), a bidi override, a bare ``[`` and ``\\``, and secrets (a bearer JWT, a password
in a URL); a ``kubectl get -o json`` dump with such a pod name and event message; and a
source file with such an excerpt. Every view is rendered by the app's real compositor
and each drawn segment is checked: no raw control character, no link from markup, the
markup shown as characters. Files that leave the machine (saved case, report export,
SVG screenshot) must not hold the secrets. Nothing is mocked.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.segment import Segment

from probes.pipeline import Analysis, analyze_paths
from tests.test_app import open_logs, ready, settle
from tui.app.main import ScaledocApp
from tui.app.screens.evidence import EvidenceScreen
from tui.app.screens.logs import LineScreen, LogsScreen

MARKUP = "[bold red]x[/]"
LINK = "[link=http://evil]y[/link]"
OSC52 = "\x1b]52;c;aGk=\x07"
CLEAR = "\x1b[2J"
BIDI = "\u202e"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123def456ghi789"
BEARER = f"Authorization: Bearer {JWT}"
URL = "https://user:hunter2@db.example/x"
HOSTILE = f"{MARKUP} {LINK} {OSC52} {CLEAR} {BIDI} [ \\ "
SECRET_PARTS = ("hunter2", "abc123def456ghi789", "eyJzdWIiOiIxIn0")

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
BASE_MS = 1_763_770_000_000
HOST = f"web-{MARKUP}-{CLEAR}"
LOG_NAME = f"app [b]x[b] {CLEAR}.log"


def _pino(ms: int, msg: str, level: int = 30, **fields: Any) -> str:
    return json.dumps({"level": level, "time": BASE_MS + ms, "pid": 7, "hostname": HOST,
                       **fields, "msg": msg})


def write_inputs(folder: Path) -> list[str]:
    """Logs (overlapping runs on one agent, rate-limit errors), a pod dump and source."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [_pino(0, "agent created", instanceId=f"agent-{MARKUP}")]
    for i in range(3):
        lines.append(_pino(100 + i, "run started", instanceId=f"agent-{MARKUP}",
                           sessionId=f"s{i}-{LINK}", reqId=f"r{i}", runId=f"run-{i}{CLEAR}"))
    for i in range(3):
        lines.append(_pino(300 + i, f"RateLimitError: 429 Too Many Requests {HOSTILE} {BEARER}",
                           level=50, reqId=f"r{i}"))
        lines.append(_pino(310 + i, f"RateLimitError: 429 Too Many Requests {HOSTILE} db {URL}",
                           level=50, reqId=f"r{i}"))
    for i in range(3):
        lines.append(_pino(500 + i, "run finished", instanceId=f"agent-{MARKUP}",
                           sessionId=f"s{i}-{LINK}", reqId=f"r{i}", runId=f"run-{i}{CLEAR}"))
    log = folder / LOG_NAME
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text_log = folder / "plain.log"  # raw escapes, not JSON-escaped ones
    text_log.write_text("".join(
        f"2025-11-22T00:06:41.{n:03d}Z ERROR req={n} upstream said {HOSTILE} {BEARER}\n"
        f"2025-11-22T00:06:41.{n + 1:03d}Z WARN req={n} retrying {HOSTILE} {URL}\n"
        for n in range(0, 6, 2)), encoding="utf-8")

    pod_name = f"agent-{MARKUP}-{CLEAR}"
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": pod_name, "namespace": "default", "uid": "u1",
                        "labels": {"app": "agent"}},
           "spec": {"nodeName": f"node-{LINK}", "containers": [
               {"name": "app", "image": "agent:1",
                "env": [{"name": "DB_URL", "value": URL}]}]},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "app", "ready": False, "restartCount": 5, "image": "agent:1",
                "imageID": "x",
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": f"back-off {HOSTILE} {BEARER}"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                             "message": f"{HOSTILE} {URL}",
                                             "finishedAt": "2025-11-22T00:06:40Z",
                                             "startedAt": "2025-11-22T00:00:00Z"}}}]}}
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": "e1", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": "default"},
             "reason": "BackOff", "message": f"Back-off restarting {HOSTILE} {BEARER}",
             "type": "Warning", "count": 7,
             "firstTimestamp": "2025-11-22T00:06:00Z",
             "lastTimestamp": "2025-11-22T00:06:40Z"}
    dump = folder / "k8s.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, event]}))

    src = folder / "src"
    src.mkdir(exist_ok=True)
    comment = HOSTILE.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    (src / "agent.py").write_text(
        "from autogen import AssistantAgent\n"
        f'agent = AssistantAgent("a")  # {comment} {BIDI} token {URL}\n'
        "history = []\n\n"
        "def handle(req):\n"
        f"    history.append(req)  # {MARKUP} {LINK}\n"
        "    return agent.run(req)\n", encoding="utf-8")
    return [str(log), str(text_log), str(dump), str(src)]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    paths = write_inputs(tmp_path_factory.mktemp("hostile"))
    analysis = analyze_paths(paths)
    probes = {ev.probe for ev in analysis.case.evidence}
    assert {"logs", "kube", "code"} <= probes, probes
    return analysis


def drawn(app: ScaledocApp) -> list[Segment]:
    """The segments the compositor sends to the terminal for the current screen
    (the private ``_compositor`` is the only way to see exactly what is drawn)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", legacy_windows=False)
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens)
    assert update is not None
    return list(console.render(update))


def check_drawn(app: ScaledocApp, where: str) -> str:
    """Assert nothing hostile was interpreted on screen; return the drawn text."""
    segments = drawn(app)
    text = ""
    for seg in segments:
        if seg.control:  # the compositor's own cursor moves
            continue
        assert not RAW_CONTROL.search(seg.text), (where, seg.text)
        if seg.style is not None:
            assert "evil" not in (seg.style.link or ""), (where, seg)
        text += seg.text
    return text


VIEWS = {"1": "verdict", "2": "tree", "3": "timeline", "4": "logs", "5": "concurrency",
         "6": "inputs", "7": "pods", "8": "processes", "9": "code"}


async def test_every_view_draws_hostile_text_as_characters(
        hostile: Analysis, tmp_path: Path) -> None:
    app = ScaledocApp(analysis=hostile, save_dir=tmp_path)
    shown: dict[str, str] = {}
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        for key, view in VIEWS.items():
            await pilot.press(key)
            await settle(pilot, app)
            assert app.current_mode == view
            shown[view] = check_drawn(app, view)
        # Markup arrives as its characters, escapes as visible \e sequences.
        assert MARKUP in shown["logs"] and "\\e[2J" in shown["logs"]
        assert MARKUP in shown["pods"] and LINK in shown["pods"]
        assert MARKUP in shown["code"]
        assert "app [b]x[b] \\e[2J.log" in shown["inputs"]
        assert "\\e" in shown["verdict"]

        # Drill into a cause's evidence, then a log line's dialog.
        await pilot.press("1")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, EvidenceScreen)
        check_drawn(app, "evidence")
        await pilot.press("escape")
        logs, index = await open_logs(pilot, app)
        row = next(r for r in logs.rows if OSC52 in index.text(r))
        logs.view.go_to(list(logs.rows).index(row))
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, LineScreen)
        line = check_drawn(app, "line dialog")
        assert LINK in line and "\\e]52;c;aGk=\\a" in line and "\\u202e" in line


async def test_toasts_and_error_dialog_show_hostile_text(tmp_path: Path) -> None:
    def crash(cancel: Any) -> Analysis:
        raise ValueError(f"cannot read {HOSTILE}")

    app = ScaledocApp(crash, save_dir=tmp_path, index_logs=False)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot, app)
        app.notify(f"toast {HOSTILE}", title=f"title {MARKUP} {CLEAR}")
        await settle(pilot, app)
        await pilot.pause(0.3)
        text = check_drawn(app, "error dialog + toast")
        assert f"cannot read {MARKUP} {LINK}" in text
        assert f"toast {MARKUP} {LINK}" in text and f"title {MARKUP} \\e[2J" in text


def check_saved_files(folder: Path) -> None:
    files = sorted(folder.iterdir())
    names = {p.suffix for p in files}
    assert {".json", ".md", ".svg"} <= names, files
    for path in files:
        body = path.read_text(encoding="utf-8")
        for secret in SECRET_PARTS:
            assert secret not in body, (path.name, secret)
        assert not RAW_CONTROL.search(body.replace("\n", "").replace("\r", "")), path.name


async def test_files_that_leave_the_machine_hold_no_secret(
        hostile: Analysis, tmp_path: Path) -> None:
    """Saved case, exported report and SVG screenshots: secrets gone, escapes visible."""
    app = ScaledocApp(analysis=hostile, save_dir=tmp_path, title=f"t {MARKUP} {OSC52}")
    async with app.run_test(size=(220, 60)) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+s")
        await pilot.press("e")
        await settle(pilot, app)
        shots = []
        for key in ("4", "7", "9", "1"):
            await pilot.press(key)
            await settle(pilot, app)
            if key == "4":  # the secret-bearing lines must be on screen for the check
                logs = app.screen
                assert isinstance(logs, LogsScreen)
                # the index itself hands out redacted text (redacted before its cut)
                texts = [app.log_index.text(r) for r in logs.rows]  # type: ignore[union-attr]
                assert any("Authorization: ***" in t for t in texts)
                assert not any(JWT in t for t in texts)
                # the secret-bearing lines are drawn, redacted (issue 12: the Logs view
                # used to draw them as read)
                drawn = check_drawn(app, "logs on screen")
                assert "user:***@db.example" in drawn
                assert not any(secret in drawn for secret in SECRET_PARTS)
            shots.append(app.export_screenshot())
        await pilot.press("f8")
        await settle(pilot, app)
    check_saved_files(tmp_path)
    for svg in shots:
        for secret in SECRET_PARTS:
            assert secret not in svg
    # The app title (the SVG's window title) is shown, not executed.
    assert "\\e]52;c;aGk=\\a" in shots[0]
    # Redaction keeps what an operator needs: the line and the name of the secret.
    logs_shot = shots[0]
    assert "RateLimitError" in logs_shot and "***" in logs_shot


def test_redact_segments_masks_a_secret_split_across_styles_and_keeps_the_width() -> None:
    from rich.style import Style

    from tui.render.plain import redact_segments

    bold, dim = Style(bold=True), Style(dim=True)
    line = [Segment("db ", dim), Segment("https://user:hun", bold), Segment("ter2@db/x  ok", dim)]
    out = redact_segments([*line, Segment("\n"), Segment("untouched", dim)])
    first = out[:out.index(Segment("\n"))]
    text = "".join(s.text for s in first)
    assert "hunter2" not in text and "https://user:***@db/x" in text
    assert len(text) == len("".join(s.text for s in line))  # same width on screen
    assert first[0] == Segment("db ", dim) and text.endswith("     ok")  # "ok" stays put
    assert out[-1] == Segment("untouched", dim)  # lines without secrets are kept as is


def test_visible_also_escapes_the_bidi_mark_and_unicode_line_separators() -> None:
    from tui.render.plain import visible

    shown = visible("a\u2028b\u2029c\u061cd\u202ee")
    assert shown == "a\\u2028b\\u2029c\\u061cd\\u202ee"
    assert len(shown.splitlines()) == 1


@pytest.fixture
def hostile_process_evidence() -> Any:
    """A real process (sampled by the real psutil probe) whose command line holds
    markup, escapes and a password."""
    import subprocess
    import sys

    from probes.process import ProcessTarget, collect

    child = subprocess.Popen(["py", "-c", "import time;time.sleep(30)", "--password",
                              "hunter2", MARKUP, OSC52, CLEAR, BIDI, LINK],
                             executable=sys.executable)
    try:
        return collect(ProcessTarget(pid=child.pid, sample_seconds=0.1))
    finally:
        child.kill()
        child.wait()


async def test_processes_view_shows_a_hostile_command_line_as_text(
        hostile: Analysis, tmp_path: Path, hostile_process_evidence: Any) -> None:
    """The command line is drawn as characters, the password already gone."""
    from probes.diagnose import diagnose

    case = hostile.case.with_evidence(hostile_process_evidence)
    analysis = Analysis(case, diagnose(case), hostile.inputs, hostile.log_paths)
    app = ScaledocApp(analysis=analysis, save_dir=tmp_path)
    async with app.run_test(size=(220, 50)) as pilot:
        await ready(pilot, app)
        await pilot.press("8")
        await settle(pilot, app)
        text = check_drawn(app, "processes")
    assert "--password ***" in text and "hunter2" not in text
    assert MARKUP in text and "\\e]52;c;aGk=\\a" in text


def test_a_secret_across_the_log_views_cut_is_redacted_whole(tmp_path: Path) -> None:
    """The Logs view keeps at most MAX_LINE_CHARS of a line; it redacts first, so a token
    that starts before the cut and ends after it leaves no head behind."""
    from tui.app.logview import MAX_LINE_CHARS, build_index

    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    pad = "x" * (MAX_LINE_CHARS - 43)  # the token starts 8 characters before the cut
    log = tmp_path / "app.log"
    log.write_text(f'{{"level":30,"time":1,"msg":"{pad} token={token} tail"}}\n')
    index = build_index([str(log)])
    shown = index.text(0)
    assert len(shown) <= MAX_LINE_CHARS
    assert token[:12] not in shown and "ghp_A1b2" not in shown
