"""The TUI with ``-f``: a real follower on real files that grow while the app runs (Pilot).

The app re-ranks from a named thread worker's messages, says what changed (status line,
toast) and keeps the operator's place: the view, the selected cause, answers given."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from textual.widgets import DataTable

from probes.evidence import Answer
from probes.follow import FollowConfig, Follower
from tui.app.main import ScaledocApp
from tui.app.messages import FollowUpdate

GOLDEN = Path(__file__).resolve().parent / "golden"
TIMER = GOLDEN / "overlapping-timer-winston" / "inbox-worker-dqbvd4zfn-qfb24.log"
HISTORY = GOLDEN / "shared-history-module-array" / "chat-api-glmln5tmw-2pcr9_chat-api_0.log"


async def _until(pilot, check, limit_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


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
        await _until(pilot, lambda: app.analysis is not None)
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
        await _until(pilot, lambda: any("history.cross_session" in " ".join(u.changes)
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
        await _until(pilot, lambda: all(w.is_finished for w in app.workers
                                        if w.group == "follow"))
    assert follower.cancel.is_set()
