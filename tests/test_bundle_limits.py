"""Hostile capture bundles and the temp space (issue 12, parts 2 and 4): real .tar.gz files
on disk, the real readers, real child processes for the temp-space signals. Nothing is
mocked; where a bound is lowered for speed, the test says so.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from probes import tempspace
from probes.kube import offline
from probes.kube.bundle import member_part, write_bundle
from probes.kube.live import Collected, KubeTarget
from probes.kube.offline import bundle_log_inputs, read_kube_path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.dumps({"format": "scaledoc-capture/v1"}).encode()
PODS = json.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent-1", "namespace": "a"},
     "spec": {"containers": [{"name": "app"}]}, "status": {"phase": "Running"}}]}).encode()
LINE = b'2024-07-18T10:00:00.000000000Z {"level":30,"msg":"request completed"}\n'


class _Lines(io.RawIOBase):
    """``size`` bytes of log lines, generated as read (no 1 GiB buffer)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = LINE * (65536 // len(LINE) + 1)

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        k = min(len(b), self.left)
        b[:k] = self.block[:k] if k <= len(self.block) else (self.block * (k // len(
            self.block) + 1))[:k]
        self.left -= k
        return k


def _bundle(path: Path, members: list[tuple[tarfile.TarInfo, io.IOBase | bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for info, data in [(_info("manifest.json", len(MANIFEST)), MANIFEST),
                           (_info("pods.json", len(PODS)), PODS), *members]:
            if isinstance(data, bytes):
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info, data)  # type: ignore[arg-type]
    return path


def _info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, link: str = ""
          ) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname = size, kind, link
    return info


def _bundle_report(path: Path) -> dict[str, object]:
    ev = read_kube_path(path)
    assert ev is not None and ev.error is None, ev
    return next(i.to_json() for i in ev.inputs if i.kind == "bundle")


@pytest.fixture
def temp_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The process's temp space, rooted in the test's folder to measure what it holds."""
    base = tmp_path / "tmp"
    base.mkdir()
    monkeypatch.setattr(tempfile_mod(), "tempdir", str(base))
    monkeypatch.setattr(tempspace, "_SPACE", None)
    monkeypatch.setattr(offline, "_EXTRACTED", {})
    yield base
    if tempspace._SPACE is not None:
        tempspace._SPACE.cleanup()


def tempfile_mod():  # type: ignore[no-untyped-def]
    import tempfile

    return tempfile


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_one_gib_log_in_a_small_bundle_is_capped(tmp_path: Path, temp_base: Path) -> None:
    """The issue's bundle: a 1 GiB log compressed to a few MB. At most MAX_LOG_BYTES
    reach the temp folder, and the cut is reported with the member's name."""
    gib = 1 << 30
    big = _bundle(tmp_path / "big.tar.gz",
                  [(_info("logs/agent-1/app.log", gib), io.BufferedReader(_Lines(gib), 1 << 20))])
    print(f"bundle of a 1 GiB log: {big.stat().st_size / 1e6:.1f} MB")
    t0 = time.monotonic()
    report = _bundle_report(big)
    inputs = bundle_log_inputs(big)
    took = time.monotonic() - t0
    written = _du(temp_base)
    print(f"1 GiB log: {written >> 20} MiB written to temp in {took:.1f}s")
    assert len(inputs) == 1 and inputs[0].path is not None
    assert written == offline.MAX_LOG_BYTES
    skipped = report["skipped"]
    assert skipped == {"log cut at 64 MiB (of 1,024 MiB)": 1}, skipped
    assert any("logs/agent-1/app.log (log cut" in n for n in report["notes"])  # type: ignore[union-attr]


def test_many_tiny_files_are_bounded(tmp_path: Path, temp_base: Path) -> None:
    """20,000 tiny logs: MAX_LOG_MEMBERS taken, the rest counted as skipped, in seconds."""
    n = 20_000
    path = _bundle(tmp_path / "many.tar.gz",
                   [(_info(f"logs/agent-{i}/app.log", len(LINE)), LINE) for i in range(n)])
    t0 = time.monotonic()
    report = _bundle_report(path)
    inputs = bundle_log_inputs(path)
    took = time.monotonic() - t0
    print(f"{n:,} tiny logs: {len(inputs)} taken in {took:.1f}s, "
          f"{sum(report['skipped'].values())} skipped")  # type: ignore[union-attr]
    assert len(inputs) == offline.MAX_LOG_MEMBERS
    assert report["skipped"] == {
        "past 2,000 logs per bundle": offline.MAX_MEMBERS - 2 - offline.MAX_LOG_MEMBERS,
        "archive past 10,000 members: the rest not read": 1}
    assert took < 30


def test_member_count_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "MAX_MEMBERS", 50)  # lowered for speed: the rule is the same
    path = _bundle(tmp_path / "wide.tar.gz",
                   [(_info(f"extra/{i}.txt", 2), b"x\n") for i in range(100)])
    report = _bundle_report(path)
    assert report["skipped"]["archive past 50 members: the rest not read"] == 1  # type: ignore[index]


def test_huge_events_json_is_not_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """An events.json past MAX_OBJECT_BYTES is skipped by its header size (lowered here to
    1 MiB so the test does not build a 1 GiB member; the check reads no byte of it)."""
    monkeypatch.setattr(offline, "MAX_OBJECT_BYTES", 1 << 20)
    size = 3 << 20
    path = _bundle(tmp_path / "ev.tar.gz",
                   [(_info("events.json", size), io.BufferedReader(_Lines(size)))])
    report = _bundle_report(path)
    assert report["skipped"] == {"over 1 MiB: not read whole": 1}
    assert any("events.json (over 1 MiB" in n for n in report["notes"])  # type: ignore[union-attr]


def test_unusable_members_are_counted_and_named(tmp_path: Path, temp_base: Path) -> None:
    esc = "logs/\x1b]52;c;aGk=\x07evil/app.log"
    path = _bundle(tmp_path / "bad.tar.gz", [
        (_info("../../etc/cron.d/x.json", 2), b"{}"),
        (_info("/abs/pods.json", 2), b"{}"),
        (_info("logs/agent-1/link.log", 0, tarfile.SYMTYPE, "/etc/shadow"), None),
        (_info("logs/agent-1/hard.log", 0, tarfile.LNKTYPE, "pods.json"), None),
        (_info("fifo", 0, tarfile.FIFOTYPE), None),
        (_info("logs/too/deep/for/a/pod.log", len(LINE)), LINE),
        (_info("blob.bin", 3), b"abc"),
        (_info(esc, len(LINE)), LINE),
    ])
    report = _bundle_report(path)
    skipped = report["skipped"]
    print(f"archive members tried: 8, skipped: {sum(skipped.values())}")  # type: ignore[union-attr]
    assert skipped == {
        "path leaves the archive (absolute or ..)": 2, "link: not followed": 2,
        "not a regular file": 1, "not a container log path": 1,
        "not a JSON/YAML/text member": 1,
    }, skipped
    notes = " ".join(report["notes"])  # type: ignore[arg-type]
    assert "../../etc/cron.d/x.json (path leaves" in notes and "link.log (link" in notes
    # the escape in a member name is made visible, never raw
    assert "\x1b" not in notes and "\x07" not in notes
    inputs = bundle_log_inputs(path)
    assert [i.name for i in inputs] == ["pod/\x1b]52;c;aGk=\x07evil/app"]
    for f in temp_base.rglob("*"):  # only numbered files inside the temp space
        assert f.is_dir() or f.name.endswith(".log") and f.name[:6].isdigit()


def test_pod_names_with_escapes_never_become_raw_member_names(tmp_path: Path) -> None:
    got = Collected(pods=[], events=[], context="c", namespace="a", server="s",
                    started=1.0, finished=2.0)
    evil = "agent\x1b]52;c;aGk=\x07\x1b[2J"
    got.logs = [("pod/evil/app", ["line"]), ("pod/dots/app", ["line"])]
    got.log_files = [
        {"namespace": "a", "pod": evil, "container": "app/../../x", "previous": False,
         "source": "pod/evil/app", "lines": 1},
        {"namespace": "a", "pod": "..", "container": "app", "previous": False,
         "source": "pod/dots/app", "lines": 1}]
    out = write_bundle(got, KubeTarget(), tmp_path / "b.tar.gz")
    proc = subprocess.run(["tar", "tzf", str(out)], capture_output=True)
    names = proc.stdout.decode()
    assert "\x1b" not in names and "\x07" not in names and "/../" not in names
    assert "logs/agent__52_c_aGk=__" not in names  # '=' is not kept either
    assert "logs/agent__52_c_aGk____2J/app_.._.._x.log" in names.splitlines()
    assert "logs/_../app.log" in names.splitlines()
    assert member_part("agent-7d9f-x1") == "agent-7d9f-x1"


# --- the temp space ----------------------------------------------------------------

_CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
import tempfile
tempfile.tempdir = {base!r}
from probes.tempspace import space
f = space().folder("bundle")
(f / "x.log").write_text("x")
print(f, flush=True)
time.sleep(60)
"""


def _child(base: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", _CHILD.format(root=str(ROOT), base=str(base))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    assert folder.is_dir()
    return proc, folder


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_temp_space_is_removed_on_signals(tmp_path: Path, sig: signal.Signals) -> None:
    proc, folder = _child(tmp_path)
    proc.send_signal(sig)
    assert proc.wait(10) == -sig  # the default action still ends it, with its status
    assert not folder.parent.exists()


def test_stale_temp_space_of_a_killed_process_is_removed_at_next_start(tmp_path: Path) -> None:
    proc, folder = _child(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert folder.exists()  # SIGKILL cannot be caught: it stays behind...
    mine = tempspace.TempSpace(tmp_path)
    mine.folder("bundle")  # ...until the next process needs temp space
    assert not folder.parent.exists()
    assert mine.root is not None and mine.root.exists()
    alive = tmp_path / f"{tempspace.PREFIX}{os.getppid()}-keep"  # a live pid: kept
    alive.mkdir()
    tempspace.clean_stale(tmp_path)
    assert alive.exists()
    mine.cleanup()
    assert not any(p.name.startswith(f"{tempspace.PREFIX}{os.getpid()}-")
                   for p in tmp_path.iterdir())


def test_extractions_do_not_pile_up(tmp_path: Path, temp_base: Path) -> None:
    """A long-lived TUI reopening bundles keeps at most MAX_CACHED_BUNDLES extracted."""
    for i in range(offline.MAX_CACHED_BUNDLES + 3):
        path = _bundle(tmp_path / f"b{i}.tar.gz", [(_info("logs/agent-1/app.log", len(LINE)),
                                                    LINE)])
        assert bundle_log_inputs(path)
    assert tempspace._SPACE is not None and tempspace._SPACE.root is not None
    assert len(list(tempspace._SPACE.root.iterdir())) == offline.MAX_CACHED_BUNDLES


def test_one_gib_events_json_file_is_refused_by_its_size(tmp_path: Path) -> None:
    """A 1 GiB events.json on disk (sparse: it costs no disk) is refused before a byte
    past the sniffing head is read; the reason is on the input."""
    from probes.pipeline import analyze_paths

    path = tmp_path / "events.json"
    event = json.dumps({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                        "reason": "BackOff", "message": "x" * 200}).encode()
    head = b'{"apiVersion": "v1", "kind": "EventList", "items": [' + b",\n".join(
        [event] * 400)  # 100 KB of real events: the sniffer sees Kubernetes JSON
    with path.open("wb") as f:
        f.write(head)
        f.truncate(1 << 30)
    t0 = time.monotonic()
    analysis = analyze_paths([str(path)])
    took = time.monotonic() - t0
    errors = [i.error for i in analysis.inputs if i.error]
    print(f"1 GiB events.json: refused in {took:.2f}s: {errors}")
    assert took < 10
    assert any("larger than 512 MiB" in e for e in errors), errors


def test_a_link_sharing_a_members_name_is_not_followed(tmp_path: Path) -> None:
    """Found by the fuzzer (tests/test_fuzz.py): a hard link named pods.json, to a pods.json
    that does not exist yet, before the regular pods.json. tarfile raised KeyError while
    resolving the link; the link is now skipped and the regular member read."""
    import io
    import tarfile

    from probes.kube import read_kube_path

    bundle = tmp_path / "links.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        manifest = b'{"tool": "scaledoc"}'
        head = tarfile.TarInfo("manifest.json")
        head.size = len(manifest)
        tar.addfile(head, io.BytesIO(manifest))
        link = tarfile.TarInfo("pods.json")
        link.type = tarfile.LNKTYPE
        link.linkname = "pods.json"
        tar.addfile(link)
        body = b'{"kind": "PodList", "items": []}'
        info = tarfile.TarInfo("pods.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    read_kube_path(bundle)  # no exception
