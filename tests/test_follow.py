"""Live follow of growing files (``scaledoc -f``): real files grow, rotate and shrink while
the test runs; the CLI runs as a subprocess and is ended with a real SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from probes.follow import FollowConfig, Follower, TailStream, diff

DEMO = Path(__file__).resolve().parent.parent / "probes" / "demo"
LINES = (DEMO / "agent-7d9f8b6c4-x2k9p.log").read_bytes().splitlines(keepends=True)
FAST = FollowConfig(poll_s=0.02, interval_s=0.05)


def _read_all(stream: TailStream, until: bytes, timeout: float = 5.0) -> bytes:
    """Read from a tail stream in a thread until ``until`` has been seen."""
    got = bytearray()
    deadline = time.monotonic() + timeout
    while until not in got and time.monotonic() < deadline:
        buf = bytearray(4096)
        n = stream.readinto(buf)
        got += buf[:n]
    return bytes(got)


def test_tail_stream_follows_rotation_and_truncation(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(b"one\ntwo\n")
    cancel = threading.Event()
    s = TailStream(p, cancel, poll_s=0.01)
    assert s.read_head() == b"one\ntwo\n"
    with p.open("ab") as fh:
        fh.write(b"three\n")
    assert _read_all(s, b"three\n") == b"three\n"
    # rotation: the file is moved away and a new one is created at the path
    p.rename(tmp_path / "app.log.1")
    p.write_bytes(b"after-rotation\n")
    assert _read_all(s, b"after-rotation\n") == b"after-rotation\n"
    assert s.rotations == 1
    # truncation: the file is emptied in place and written again
    with p.open("wb") as fh:
        fh.write(b"x\n")
    assert _read_all(s, b"x\n") == b"x\n"
    assert s.truncations == 1
    cancel.set()
    assert s.readinto(bytearray(10)) == 0  # cancelled: the stream ends
    s.close()


def test_partial_line_waits_for_its_newline(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(LINES[0])
    f = Follower(follow=FAST)
    f.add_file(p)
    try:
        assert f.poll(wait_s=2) == 1
        half = LINES[1][:40]
        with p.open("ab") as fh:
            fh.write(half)
            fh.flush()
            assert f.poll(wait_s=0.2) == 0  # no newline yet: no event
            fh.write(LINES[1][40:])
        assert f.poll(wait_s=2) == 1
        assert f.analyze().inputs[0].lines_read == 2
    finally:
        f.stop()


def test_window_bounds_memory(tmp_path: Path) -> None:
    """Many more events than the window holds: the window never grows past its cap."""
    p = tmp_path / "app.log"
    p.write_bytes(b"".join(LINES[:10]))
    cfg = FollowConfig(poll_s=0.02, interval_s=0.05, max_events=100, max_per_poll=50)
    f = Follower(follow=cfg)
    f.add_file(p)
    try:
        with p.open("ab") as fh:
            for _ in range(3):
                fh.write(b"".join(LINES))
        sizes = []
        deadline = time.monotonic() + 10
        while f.taken < 10 + 3 * len(LINES) and time.monotonic() < deadline:
            n = f.poll(wait_s=0.5)
            assert n <= cfg.max_per_poll  # bounded per poll
            sizes.append(f.window_size)
        assert f.taken == 10 + 3 * len(LINES)
        assert max(sizes) <= 100
        assert f.dropped == f.taken - f.window_size
    finally:
        f.stop()


def test_window_keeps_minutes_of_log_time(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_text('{"time":"2026-01-01T00:00:00Z","msg":"old"}\n'
                 '{"time":"2026-01-01T00:10:00Z","msg":"newer"}\n'
                 '{"time":"2026-01-01T00:20:00Z","msg":"newest"}\n')
    f = Follower(follow=FollowConfig(poll_s=0.02, window_s=15 * 60))
    f.add_file(p)
    try:
        deadline = time.monotonic() + 5
        while f.taken < 3 and time.monotonic() < deadline:
            f.poll(wait_s=0.2)
        assert f.window_size == 2  # 00:00 is more than 15 minutes before 00:20
        assert f.window_span_s() == 600
    finally:
        f.stop()


def test_verdict_reranks_as_evidence_arrives(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(b"".join(LINES[:20]))
    f = Follower(follow=FAST)
    f.add_file(p)
    changes = []
    try:
        while f.poll(wait_s=0.5):
            pass
        first = f.analyze()
        assert "runs.overlap_instance" not in {k for k, s in first.case.signals().items()
                                               if s.answer.value == "yes"}
        with p.open("ab") as fh:
            fh.write(b"".join(LINES[20:]))
        deadline = time.monotonic() + 10
        while f.taken < len(LINES) and time.monotonic() < deadline:
            f.poll(wait_s=0.2)
        second = f.analyze()
        change = diff(first, second)
        assert change is not None
        assert "runs.overlap_instance" in change.new_yes
        assert "new: runs.overlap_instance yes" in change.lines()
        assert diff(second, f.analyze()) is None  # nothing new: no change reported
        changes.append(change)
    finally:
        f.stop()
    assert second.verdict.verdict == "shared-instance"


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "tui.commands.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline()))  # type: ignore
    t.start()
    t.join(timeout)
    assert box, "no output line in time"
    return box[0]


def test_cli_follow_json_is_ndjson_per_change_and_sigint_ends_with_report(
        tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(b"".join(LINES[:20]))
    proc = _spawn(["analyze", "-f", "--poll", "0.05", "--interval", "0.1", "-o", "json",
                   str(p)])
    try:
        first = json.loads(_line(proc))
        assert first["follow"]["seq"] == 1 and first["follow"]["final"] is False
        assert "runs.overlap_instance" not in first["follow"]["change"]["new_yes"]
        with p.open("ab") as fh:  # the incident goes on: the overlapping runs arrive
            fh.write(b"".join(LINES[20:]))
        seen: list[str] = []
        while "runs.overlap_instance" not in seen:
            doc = json.loads(_line(proc))
            assert doc["follow"]["final"] is False
            seen += doc["follow"]["change"]["new_yes"]
        assert doc["verdict"] == "shared-instance"
        proc.send_signal(signal.SIGINT)
        out, errs = proc.communicate(timeout=20)
    finally:
        proc.kill()
    last = [json.loads(x) for x in out.splitlines() if x.strip()][-1]
    assert last["follow"]["final"] is True
    assert last["verdict"] == "shared-instance"
    assert last["follow"]["events_taken"] == len(LINES)
    assert proc.returncode == 0
    assert "following 1 file(s)" in errs


def test_cli_follow_text_names_each_change(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(b"".join(LINES[:20]))
    proc = _spawn(["analyze", "-f", "--poll", "0.05", "--interval", "0.1", str(p)])
    try:
        first = _line(proc)
        assert "verdict: (none) -> " in first
        with p.open("ab") as fh:
            fh.write(b"".join(LINES[20:]))
        lines = [first]
        while not any("new: runs.overlap_instance yes" in x for x in lines):
            lines.append(_line(proc))
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "verdict: shared-instance" in out  # the final report, as 'analyze' prints it
    assert proc.returncode == 0


def test_cli_follow_refuses_stdin_and_missing_files(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", "-f",
                        str(tmp_path / "no")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no such file" in r.stderr


@pytest.mark.parametrize("word", ["--window", "--window-events", "tail -F"])
def test_help_states_the_window(word: str) -> None:
    r = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", "--help"],
                       capture_output=True, text=True, timeout=30)
    assert word in " ".join(r.stdout.split())
