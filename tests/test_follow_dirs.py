"""Following directories and files that rotate (``scaledoc -f DIR``): real files are
created, renamed, copied and truncated while real follower threads read them. Every line
is read once, every file that does not join is counted with its reason, and what happened
is said (the follower's news, the inputs' notes)."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from probes.evidence import InputReport
from probes.follow import (
    Change,
    FollowConfig,
    Follower,
    TailStream,
    plan_inputs,
    rotated_copy_of,
)
from probes.pipeline import Analysis

ROOT = Path(__file__).resolve().parent.parent
LINES = (ROOT / "probes" / "demo" / "agent-7d9f8b6c4-x2k9p.log").read_bytes().splitlines(
    keepends=True)
LAB = ROOT / "tests" / "lab" / "scenarios"
HEALTHY = LAB / "node-shared-instance-fixed" / "app.log"  # 499 lines, called healthy
TIMER = LAB / "node-overlapping-timer" / "app.log"  # 215 lines, overlapping-timer
FAST = FollowConfig(poll_s=0.02, interval_s=0.05, rescan_s=0.03)
RENAMED = "a followed file renamed (its lines are read already)"
COPY = "a rotated copy of a followed file (its lines are read there)"


def _until(follower: Follower, check: Callable[[], bool], limit_s: float = 4.0) -> None:
    """Poll the follower (as its run loop does) until ``check()`` holds."""
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        follower.poll(wait_s=0.02)


def _inputs(analysis: Analysis) -> dict[str, InputReport]:
    return {i.name: i for i in analysis.inputs}


def _started(paths: list[str], cfg: FollowConfig = FAST) -> Follower:
    plan = plan_inputs(paths, cfg.max_files)
    assert plan.errors == []
    f = Follower(follow=cfg)
    f.start(plan)
    return f


def test_new_file_in_followed_directory_joins_and_changes_the_verdict(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    shutil.copy(HEALTHY, d / "web-0.log")
    f = _started([str(d)])
    changes: list[tuple[Change, Analysis]] = []
    final: list[Analysis] = []
    t = threading.Thread(target=lambda: final.append(f.run(
        lambda c, a: changes.append((c, a)))), name="test-follow-run")
    t.start()
    try:
        deadline = time.monotonic() + 4
        while not (changes and changes[-1][1].verdict.verdict == "healthy"
                   and f.taken == 499):
            assert time.monotonic() < deadline, [c.lines() for c, _ in changes]
            time.sleep(0.02)
        seen = len(changes)
        shutil.copy(TIMER, d / "web-1.log")  # a new replica starts logging
        deadline = time.monotonic() + 4
        while not (changes[-1][1].verdict.verdict == "overlapping-timer" and f.taken == 714):
            assert time.monotonic() < deadline, [c.lines() for c, _ in changes[seen:]]
            time.sleep(0.02)
    finally:
        f.cancel.set()
        t.join(5)
        f.stop()
    said = [line for c, _ in changes[seen:] for line in c.lines()]
    assert f"new source: {d / 'web-1.log'} (created in {d})" in said
    assert any(line.startswith("verdict: ") and line.split()[3] == "overlapping-timer"
               for line in said)  # from healthy (or a step between, read partly)
    joined = next(c for c, _ in changes[seen:] if c.input_changes)
    assert joined.to_json()["inputs"] == [f"new source: {d / 'web-1.log'} (created in {d})"]
    inputs = _inputs(final[0])
    assert inputs[str(d / "web-1.log")].lines_read == 215  # named as the analysis names it
    assert inputs[str(d / "web-0.log")].lines_read == 499
    folder = inputs[str(d)]
    assert folder.kind == "directory" and folder.skipped == {}
    assert f"1 joined while following: {d / 'web-1.log'}" in folder.notes[0]


def test_rename_and_recreate_keeps_following_and_reads_each_line_once(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    log = d / "app.log"
    log.write_bytes(b"".join(LINES[:10]))
    f = _started([str(d)])
    try:
        _until(f, lambda: f.taken == 10)
        log.rename(d / "app.log.1")  # logrotate: rename, then create
        log.write_bytes(b"".join(LINES[10:30]))
        _until(f, lambda: f.taken == 30)
        with log.open("ab") as fh:
            fh.write(b"".join(LINES[30:40]))
        _until(f, lambda: f.taken == 40 and sum(f._dirs[0].skipped.values()) == 1)
        a = f.analyze()
    finally:
        f.stop()
    inputs = _inputs(a)
    assert str(d / "app.log.1") not in inputs  # the old file is not followed a second time
    src = inputs[str(log)]
    assert src.lines_read == 40 and src.events == 40 and src.lines_skipped == 0
    assert "rotated 1 time(s): a new file at app.log was read from its start" in src.notes
    assert inputs[str(d)].skipped == {RENAMED: 1}
    news = f.take_news()
    assert f"{log} rotated: read from its start" in news
    assert f"{d}: 1 new file(s) not followed: {RENAMED}" in news


def test_truncation_in_place_and_copytruncate_continue(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    log = d / "app.log"
    log.write_bytes(b"".join(LINES[:10]))
    f = _started([str(d)])
    try:
        _until(f, lambda: f.taken == 10)
        with log.open("wb") as fh:  # emptied in place, written again
            fh.write(b"".join(LINES[10:13]))
        _until(f, lambda: f.taken == 13)
        shutil.copy(log, d / "app.log.1")  # copytruncate: a copy, then the same truncation
        with log.open("r+b") as fh:
            fh.truncate(0)
        _until(f, lambda: sum(f._dirs[0].skipped.values()) == 1)
        with log.open("ab") as fh:
            fh.write(b"".join(LINES[13:20]))
        _until(f, lambda: f.taken == 20)
        a = f.analyze()
    finally:
        f.stop()
    inputs = _inputs(a)
    src = inputs[str(log)]
    assert src.lines_read == 20 and src.events == 20
    assert "truncated 2 time(s): read again from its start" in src.notes
    assert str(d / "app.log.1") not in inputs
    assert inputs[str(d)].skipped == {COPY: 1}
    news = f.take_news()
    assert news.count(f"{log} truncated: read again from its start") == 2


def test_truncated_and_rewritten_past_our_position_is_noticed(tmp_path: Path) -> None:
    """Emptied and written again beyond where we were before we looked: the size alone
    cannot tell, the file's first bytes do."""
    p = tmp_path / "app.log"
    p.write_bytes(b"one\ntwo\n")
    cancel = threading.Event()
    s = TailStream(p, cancel, poll_s=0.01)
    assert s.read_head() == b"one\ntwo\n"
    p.write_bytes(b"ten lines later\n" * 3)  # longer than what was read
    buf = bytearray(4096)
    n = s.readinto(buf)
    assert bytes(buf[:n]) == b"ten lines later\n" * 3
    assert s.truncations == 1 and s.rotations == 0
    cancel.set()
    s.close()


def test_unfinished_last_line_is_ended_at_a_rotation(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_bytes(b"one\npart")
    cancel = threading.Event()
    s = TailStream(p, cancel, poll_s=0.01)
    buf = bytearray(4096)
    assert bytes(buf[: s.readinto(buf)]) == b"one\npart"
    p.rename(tmp_path / "app.log.1")
    p.write_bytes(b"new\n")
    got = bytearray()
    deadline = time.monotonic() + 4
    while b"new\n" not in got:
        assert time.monotonic() < deadline
        got += buf[: s.readinto(buf)]
    assert bytes(got) == b"\nnew\n"  # "part" stays a line of its own, never "partnew"
    assert s.rotations == 1 and s.ended_partial == 1
    assert "1 unfinished last line(s) ended at a rotation or truncation" in s.summary()
    cancel.set()
    s.close()


def test_new_files_that_do_not_join_are_counted_with_their_reason(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_bytes(b"".join(LINES[:5]))
    cfg = FollowConfig(poll_s=0.02, interval_s=0.05, rescan_s=0.03, max_files=2)
    f = _started([str(d)], cfg)
    try:
        _until(f, lambda: f.taken == 5)
        (d / "b.log").write_bytes(b"".join(LINES[5:8]))  # joins: the second file
        (d / "c.log").write_bytes(b"".join(LINES[8:9]))  # over the cap of 2
        (d / "core.bin").write_bytes(bytes(range(256)) * 8)
        (d / "old.log.gz").write_bytes(gzip.compress(b"".join(LINES[:3])))
        (d / ".hidden").mkdir()
        (d / ".hidden" / "x.log").write_bytes(LINES[0])  # hidden folders are not looked in
        _until(f, lambda: f.taken == 8 and sum(f._dirs[0].skipped.values()) == 3)
        a = f.analyze()
    finally:
        f.stop()
    inputs = _inputs(a)
    assert set(inputs) == {str(d / "a.log"), str(d / "b.log"), str(d)}
    folder = inputs[str(d)]
    assert folder.skipped == {"over the cap of 2 followed files": 1, "binary data": 1,
                              "compressed (.gz)": 1}
    assert folder.lines_skipped == 3 and "skipped counts files, not lines" in folder.notes[1]
    assert f.file_count == 2
    news = f.take_news()
    assert f"new source: {d / 'b.log'} (created in {d})" in news
    assert f"{d}: 1 new file(s) not followed: binary data" in news


def test_older_rotated_copies_are_followed_by_descriptor(tmp_path: Path) -> None:
    """app.log and app.log.1 both there at the start: when app.log.1 becomes app.log.2 and
    app.log becomes app.log.1, no content is read twice."""
    d = tmp_path / "logs"
    d.mkdir()
    (d / "app.log.1").write_bytes(b"".join(LINES[:4]))
    (d / "app.log").write_bytes(b"".join(LINES[4:10]))
    plan = plan_inputs([str(d)])
    assert [(p.path.name, p.by_name) for p in plan.files] == [("app.log", True),
                                                             ("app.log.1", False)]
    f = Follower(follow=FAST)
    f.start(plan)
    try:
        _until(f, lambda: f.taken == 10)
        (d / "app.log.1").rename(d / "app.log.2")
        (d / "app.log").rename(d / "app.log.1")
        (d / "app.log").write_bytes(b"".join(LINES[10:15]))
        _until(f, lambda: f.taken == 15 and sum(f._dirs[0].skipped.values()) == 1)
        scans = f._dirs[0].scans  # a few more rescans and polls: nothing more arrives
        _until(f, lambda: f._dirs[0].scans >= scans + 3)
        assert f.poll() == 0 and f.taken == 15
        a = f.analyze()
    finally:
        f.stop()
    inputs = _inputs(a)
    assert inputs[str(d / "app.log")].lines_read == 11
    assert inputs[str(d / "app.log.1")].lines_read == 4
    assert inputs[str(d)].skipped == {RENAMED: 1}  # app.log.2: the old app.log.1


def test_plan_watches_an_empty_directory_and_follows_a_file_named_twice_once(
        tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    d = tmp_path / "logs"
    d.mkdir()
    for name in ("a.log", "b.log", "c.log"):
        (d / name).write_bytes(LINES[0])
    plan = plan_inputs([str(empty), str(d), str(d / "a.log")], max_files=2)
    assert plan.errors == [] and plan.once == []
    assert [p.name for p in plan.files] == [str(d / "a.log"), str(d / "b.log")]
    assert [w.name for w in plan.dirs] == [str(empty), str(d)]
    assert plan.dirs[1].skipped == {"over the cap of 2 followed files": 1}
    assert plan_inputs(["-"]).errors[0].startswith("-: stdin cannot be followed")
    assert "no such file" in plan_inputs([str(tmp_path / "none")]).errors[0]

    f = Follower(follow=FAST)
    f.start(plan_inputs([str(empty)]))
    try:
        (empty / "late.log").write_bytes(b"".join(LINES[:3]))
        _until(f, lambda: f.taken == 3)
    finally:
        f.stop()
    assert f.take_news() == [f"new source: {empty / 'late.log'} (created in {empty})"]


def test_rotated_copy_names() -> None:
    sibs = ["app.log", "worker.log"]
    for name in ("app.log.1", "app.log.12.gz", "app.log-20260101", "app.log.2026-01-01",
                 "app.log.2026-01-01_12-00", "app.log-2026010112"):
        assert rotated_copy_of(name, sibs) == "app.log", name
    for name in ("app.log", "app-2026-01-01.log", "app.logger", "app.log.old", "other.log.1"):
        assert rotated_copy_of(name, sibs) is None, name


def _next_line(proc: subprocess.Popen[str], limit_s: float = 10.0) -> str:
    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline()))  # type: ignore
    t.start()
    t.join(limit_s)
    assert box and box[0], "no output line in time"
    return box[0]


def test_cli_follow_of_a_directory_names_the_new_source_and_the_verdict_change(
        tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    shutil.copy(HEALTHY, d / "web-0.log")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.commands.cli", "analyze", "-f",
                             "--poll", "0.05", "--interval", "0.1", str(d)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [_next_line(proc)]
        while "-> healthy" not in lines[-1]:
            lines.append(_next_line(proc))
        shutil.copy(TIMER, d / "web-1.log")  # a new replica's log appears
        joined = f"new source: {d / 'web-1.log'} (created in {d})"
        while not (any(" -> overlapping-timer" in x for x in lines)  # from healthy
                   and any(joined in x for x in lines)):
            lines.append(_next_line(proc))
        proc.send_signal(signal.SIGINT)
        rest: list[str] = []  # through the same buffered reader: communicate() would skip
        t = threading.Thread(target=lambda: rest.append(proc.stdout.read()))  # type: ignore
        t.start()  # what readline() has buffered already
        t.join(20)
        assert rest, "no final report in time"
        out = rest[0]
        errs = proc.stderr.read()  # type: ignore[union-attr]
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert "following 1 file(s) and watching 1 directory(ies) for new files" in errs
    assert "verdict: overlapping-timer" in out and "web-1.log" in out  # the final report
    assert proc.returncode == 0
