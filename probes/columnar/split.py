"""Decoding an input set on two cores: where to cut it, and the helper process.

Why: decoding is most of the columnar path's time (about 5 µs a line of Python, held by
the GIL), and the machines scaledoc runs on have at least two cores. A second thread
would not help (msgspec and the per-value loops hold the GIL), so the second half of the
set's bytes is decoded in a helper *process* while this one decodes the first half.

The cut falls just after a line ending near the middle of the set's bytes, preferably
before a line that opens a JSON object. Whether the cut is *clean* is only known once
the first half is read (a traceback open across it, a partial container record, a text
shape's memory): ``decode._ColumnReader`` checks that and, when it is not clean, reads on
to the end of the file itself; the helper's piece is then dropped. Exactness therefore
never depends on the cut; only the time saved does.

The helper is a fresh interpreter (no fork of a process that runs threads: the TUI's
analysis runs in a worker thread; see ``Helper``). It starts in about 0.3 s, so sets smaller than
``SPLIT_MIN_BYTES`` are decoded in one process. ``SCALEDOC_DECODE_PROCESSES=1`` turns
the helper off. A helper that fails, dies or is cancelled costs nothing but its time:
its pieces are then decoded here, by the same function.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probes.ingest.sources import InputFile

SPLIT_MIN_BYTES = 32 << 20
"""Below this many bytes in all, the set is decoded in one process: the helper's start
(about 0.3 s) would eat what it saves."""
CUT_WINDOW = 1 << 20
"""How far past the middle a line ending is looked for; a file with no line ending in
that window (one huge line) is not cut."""
HELPER_SHARE = 0.45
"""The helper's share of the bytes: a little less than half, as it starts about 0.3 s
late and its rows must then be sent over and taken in (300 MB pino: both sides
finish within 0.2 s of each other)."""
ENV_PROCESSES = "SCALEDOC_DECODE_PROCESSES"

Piece = tuple[int, int, "int | None"]
"""(input index, first byte, end byte or None for the end of the file)."""
FileIdentity = tuple[int, int]
"""A file's device and inode: what a path named when the set was planned."""


@dataclass(frozen=True, slots=True)
class Split:
    """The set cut in two: ``mine`` is decoded here, ``theirs`` by the helper, each in
    input order; at most one input is cut (the last of ``mine``, the first of
    ``theirs``). ``identity``: per input, the file its path named when planned; both
    pieces of a cut input are read from that file only (a log rotated by renaming in
    the meantime leaves a new file at the path, whose bytes after the cut are not the
    old file's)."""

    mine: tuple[Piece, ...]
    theirs: tuple[Piece, ...]
    identity: tuple[FileIdentity | None, ...] = ()


def identity_of(f: Any) -> FileIdentity | None:
    """The device and inode of an open file (None when it has no descriptor)."""
    try:
        st = os.fstat(f.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def processes_allowed(cgroup: str = "/sys/fs/cgroup") -> int:
    """How many processes may decode: the environment's ``SCALEDOC_DECODE_PROCESSES``,
    else the cores this process may run on, capped by its cgroup's CPU quota (a pod
    limited to one CPU gains nothing from a helper but its start and its memory)."""
    got = os.environ.get(ENV_PROCESSES, "").strip()
    if got.isdigit():
        return max(1, int(got))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = _cpu_quota(cgroup)
    return max(1, min(cores, quota)) if quota is not None else cores


def _cpu_quota(cgroup: str) -> int | None:
    """Whole CPUs the cgroup may use (rounded up), or None when it sets no quota: cgroup
    v2 ``cpu.max`` ("max 100000" or "200000 100000"), else v1's quota and period."""
    try:
        with open(f"{cgroup}/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        try:
            with open(f"{cgroup}/cpu/cpu.cfs_quota_us", encoding="ascii") as f:
                quota = f.read().strip()
            with open(f"{cgroup}/cpu/cpu.cfs_period_us", encoding="ascii") as f:
                period = f.read().strip()
        except OSError:
            return None
    if not quota.isdigit() or not period.isdigit() or int(period) <= 0:
        return None  # "max", or v1's -1: no quota
    return max(1, -(-int(quota) // int(period)))


def plan_split(inputs: Sequence[InputFile], min_bytes: int | None = None) -> Split | None:
    """Where to cut ``inputs`` (plain files, in order) in two by bytes; None
    when the set is too small, there is one core, or no line ending is near the middle."""
    if processes_allowed() < 2:
        return None
    sizes: list[int] = []
    ids: list[FileIdentity | None] = []
    for inp in inputs:
        size, ident = 0, None
        if inp.path is not None and not inp.error:
            try:
                st = inp.path.stat()
                size, ident = st.st_size, (st.st_dev, st.st_ino)
            except OSError:
                pass  # the reader reports why it cannot read it
        sizes.append(size)
        ids.append(ident)
    identity = tuple(ids)
    total = sum(sizes)
    if total < (SPLIT_MIN_BYTES if min_bytes is None else min_bytes) or total < 2:
        return None
    half = total - int(total * HELPER_SHARE)
    before = 0
    for k, size in enumerate(sizes):
        if before + size < half:
            before += size
            continue
        path = inputs[k].path
        cut = None if path is None else _cut_offset(path, half - before, size)
        if cut is None:
            # not cut: the whole input goes to whichever side holds the most of it
            if half - before > size // 2:
                k += 1
            if k == 0 or k >= len(inputs):
                return None
            return Split(tuple((i, 0, None) for i in range(k)),
                         tuple((i, 0, None) for i in range(k, len(inputs))), identity)
        return Split(tuple((i, 0, None) for i in range(k)) + ((k, 0, cut),),
                     ((k, cut, None),) + tuple((i, 0, None) for i in range(k + 1, len(inputs))),
                     identity)
    return None


def _cut_offset(path: Any, target: int, size: int) -> int | None:
    """The offset just after the first line ending at or past ``target``, preferring
    one followed by ``{`` (a JSON line: the commonest clean cut), inside ``CUT_WINDOW``."""
    if target <= 0 or target >= size:
        return None
    try:
        with open(path, "rb") as f:
            f.seek(target)
            window = f.read(CUT_WINDOW)
    except OSError:
        return None
    i = window.find(b"\n{")
    if i < 0:
        i = window.find(b"\n")
    if i < 0 or target + i + 1 >= size:
        return None
    return target + i + 1


# --------------------------------------------------------------------------- the helper

_PROGRESS, _RESULT, _FAILED = b"P", b"R", b"E"
_HEAD = struct.Struct("<cq")
"""A frame on the helper's stdout: its tag and a number (bytes read for ``_PROGRESS``,
else the length of the pickle or text that follows)."""


class Helper:
    """One helper process running ``target(*args, progress)``.

    It is a fresh interpreter (``python -c``), not a ``multiprocessing`` child: spawning
    through ``multiprocessing`` runs the caller's ``__main__`` again in the child, which
    a script using scaledoc as a library may not survive. The call goes in pickled on
    its stdin; ``progress`` frames and then the result come back on its stdout; its
    stderr goes nowhere (a TUI may be drawing on the terminal). It runs in its own
    session, so a Ctrl-C meant for scaledoc does not reach it: the parent ends it."""

    def __init__(self, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        # -P: the working directory (the user's, kept for relative paths) must not
        # shadow scaledoc's own modules
        self._proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed code
            [sys.executable, "-P", "-c", "from probes.columnar.split import _helper_main; "
             "_helper_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True)
        self._buf = bytearray()
        self._done = 0
        self._answer: tuple[bool, Any] | None = None
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(pickle.dumps((target, args), protocol=5))
            self._proc.stdin.close()
        except OSError as exc:  # it could not start its work: the caller does it
            self._answer = (False, f"the helper process did not take its work ({exc})")
        self._out = self._proc.stdout.fileno()
        os.set_blocking(self._out, False)

    def bytes_done(self) -> int:
        """Bytes the helper has read so far (as of its last progress frame)."""
        self._pump()
        return self._done

    def _pump(self) -> bool:
        """Read what the helper wrote so far without waiting; False at its EOF."""
        while True:
            try:
                chunk = os.read(self._out, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                return False
            if not chunk:
                self._frames()
                return False
            self._buf += chunk
        self._frames()
        return True

    def _frames(self) -> None:
        buf = self._buf
        while self._answer is None and len(buf) >= _HEAD.size:
            tag, num = _HEAD.unpack_from(buf)
            if tag == _PROGRESS:
                self._done = num
                del buf[:_HEAD.size]
                continue
            if len(buf) < _HEAD.size + num:
                return
            with memoryview(buf) as view:  # read in place: the rows are not copied twice
                body = view[_HEAD.size:_HEAD.size + num]
                if tag == _RESULT:
                    self._answer = (True, pickle.loads(body))  # noqa: S301 - our child
                else:
                    self._answer = (False, bytes(body).decode(errors="replace"))
                body.release()
            del buf[:_HEAD.size + num]

    def result(self, cancelled: Callable[[], bool], tick: Callable[[], None],
               deadline_s: float | None = None) -> tuple[bool, Any]:
        """(True, what the target returned) or (False, why there is nothing): waits,
        calling ``tick`` every 0.1 s, until the helper answers, ends, or ``cancelled()``."""
        start = time.monotonic()
        while self._answer is None:
            alive = self._pump()
            if self._answer is not None:
                break
            if not alive:
                code = self._proc.wait()
                return False, f"the helper process ended without an answer (exit code {code})"
            if cancelled():
                return False, "cancelled"
            if deadline_s is not None and time.monotonic() - start > deadline_s:
                return False, "the helper process took too long"
            select.select([self._out], [], [], 0.1)
            tick()
        return self._answer

    def stop(self) -> None:
        """End the helper (if it still runs) and release its pipe."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def _helper_main() -> None:
    """The helper's body: the call from stdin, its frames to stdout."""
    out = sys.stdout.buffer
    target, args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - from our parent

    def progress(n: int) -> None:
        out.write(_HEAD.pack(_PROGRESS, n))
        out.flush()

    try:
        body = pickle.dumps(target(*args, progress), protocol=5)
        tag = _RESULT
    except Exception as exc:  # noqa: BLE001 - any failure is data for the parent
        body, tag = f"{type(exc).__name__}: {exc}".encode(), _FAILED
    out.write(_HEAD.pack(tag, len(body)))
    out.write(body)
    out.flush()


__all__ = ["ENV_PROCESSES", "SPLIT_MIN_BYTES", "FileIdentity", "Helper", "Split", "identity_of",
           "plan_split", "processes_allowed"]
