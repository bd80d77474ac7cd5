"""The TUI with ``-f``: a real follower on real files that grow while the app runs (Pilot).

The app re-ranks from a named thread worker's messages, says what changed (status line,
toast) and keeps the operator's place: the view, the selected cause, answers given."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import DataTable

from probes.evidence import Answer
from probes.follow import FollowConfig, Follower
from tests.test_app import until
from tui.app.main import ScaledocApp
from tui.app.messages import FollowUpdate
from tui.app.widgets.log_view import LogView

GOLDEN = Path(__file__).resolve().parent / "golden"
TIMER = GOLDEN / "overlapping-timer-winston" / "inbox-worker-dqbvd4zfn-qfb24.log"
HISTORY = GOLDEN / "shared-history-module-array" / "chat-api-glmln5tmw-2pcr9_chat-api_0.log"


async def test_follow_reranks_in_place(tmp_path: Path) -> None:
    a = tmp_path / "a.log"
    shutil.copy(TIMER, a)
    b = tmp_path / "b.log"
    b.write_bytes(b"")  # a replica that has not logged yet
    follower = Follower(follow=FollowConfig(poll_s=0.02, interval_s=0.05))
    follower.add_file(a)
    follower.add_file(b)
    updates: list[FollowUpdate] = []

    def hook(message: object) -> None:
        if isinstance(message, FollowUpdate):
            updates.append(message)

    app = ScaledocApp(follower=follower, index_logs=False)
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await until(pilot, lambda: app.analysis is not None)
        assert [c.id for c in app.analysis.verdict.causes] == ["overlapping-timer",
                                                               "shared-instance"]
        assert any(w.name == "follow" and w.group == "follow" for w in app.workers)
        table = app.screen.query_one("#causes", DataTable)
        table.move_cursor(row=1)  # the operator looks at the second cause
        await pilot.pause()
        app.answer("pods.restarts", Answer.NO)  # and answered a question
        seen = len(updates)
        # The incident goes on: the second replica starts logging.
        b.write_bytes(HISTORY.read_bytes())
        await until(pilot, lambda: any("history.cross_session" in " ".join(u.changes)
                                        for u in updates[seen:]))
        await pilot.pause()
        ids = [c.id for c in app.analysis.verdict.causes]
        assert "shared-history" in ids  # re-ranked with the new evidence
        assert app.current_mode == "verdict"
        table = app.screen.query_one("#causes", DataTable)
        assert table.ordered_rows[table.cursor_row].key.value == "shared-instance"  # place kept
        assert app.analysis.case.answers.get("pods.restarts") == Answer.NO  # answer kept
        assert "new: history.cross_session yes" in app.follow_status
        assert "following" in app.sub_title
        toasts = [n.message for n in app._notifications]
        assert any("new: history.cross_session yes" in t for t in toasts)
        await pilot.press("x")  # stop following
        await until(pilot, lambda: all(w.is_finished for w in app.workers
                                        if w.group == "follow"))
    assert follower.cancel.is_set()


async def test_the_logs_view_follows_the_window_and_keeps_the_operators_line(
        tmp_path: Path) -> None:
    """With -f the Logs view is the followed window, indexed in each re-analysis's pass: lines
    appended to a file appear in it without a second read of the files, and the cursor stays
    on the operator's line when a new index replaces the old one."""
    a = tmp_path / "a.log"
    lines = TIMER.read_bytes().splitlines(keepends=True)
    half, most = len(lines) // 3, 2 * len(lines) // 3
    a.write_bytes(b"".join(lines[:half]))
    # a window wide enough for the whole capture (its timer spans more than 15 minutes)
    follower = Follower(follow=FollowConfig(poll_s=0.02, interval_s=0.05, window_s=86400))
    follower.add_file(a)
    app = ScaledocApp(follower=follower)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.log_index is not None and len(app.log_index) > 0)
        first = app.log_index
        assert first is not None and first.keep_text  # texts kept: the file grows under us
        await pilot.press("4")
        await until(pilot, lambda: len(app.screen.query_one(LogView).rows) == len(first))
        view = app.screen.query_one(LogView)
        view.go_to(2)  # the operator reads the third line
        await pilot.pause()
        row = view.cursor_row
        assert row is not None
        watched = (first.source_name(row), first.line[row], first.text(row))
        with a.open("ab") as f:  # the incident goes on
            f.write(b"".join(lines[half:most]))
        await until(pilot, lambda: app.log_index is not first
                     and len(app.screen.query_one(LogView).rows) > len(first))
        await pilot.pause()
        second, view = app.log_index, app.screen.query_one(LogView)
        assert second is not None
        row = view.cursor_row
        assert row is not None
        assert (second.source_name(row), second.line[row], second.text(row)) == watched
        # At the last line, the view stays at the end as lines arrive (tail -f).
        await pilot.press("G")
        await pilot.pause()
        with a.open("ab") as f:
            f.write(b"".join(lines[most:]))
        await until(pilot, lambda: app.log_index is not second
                     and len(app.screen.query_one(LogView).rows) > len(second))
        await pilot.pause()
        index, view = app.log_index, app.screen.query_one(LogView)
        assert index is not None
        assert len(index) >= len(lines) - 1  # every appended line is in the view
        assert view.cursor == len(view.rows) - 1
        assert index.text(int(view.rows[-1])) in TIMER.read_text()  # text from the window
        await pilot.press("x")
