"""Live follow: growing inputs tailed, the same analysis re-run on a window, changes named.

``scaledoc -f PATH...`` and ``kubectl scaledoc -f`` keep reading while the incident goes
on. The pieces, in the order data flows:

* ``plan_inputs``: the user's paths sorted out: files to tail, directories to watch,
  paths read once (dumps, bundles, code, ``.gz``), errors.
* ``LiveStream``: a blocking byte stream that ends only when cancelled. ``TailStream``
  follows a file across rotation (a new inode at the path: the old file's last bytes,
  then the new one from its start) and truncation (the size fell below our position, or
  the first bytes changed: read again from 0), counted and said; each read bounded to
  ``READ_CAP`` bytes. ``probes.kube.watch`` gives log-follow HTTP bodies the same shape.
* ``DirWatch``: a followed directory, looked at again on ``Follower.poll`` every
  ``FollowConfig.rescan_s``. A log or trace created in it joins as a new source (up to
  ``FollowConfig.max_files`` files tailed); a rotated copy or a renamed followed file
  (its lines are read already), a binary, a ``.gz``, a dump or a file over the cap is
  counted in the directory's input report with its reason.
* ``FollowReader``: a ``LogReader`` over a live stream. It samples the head once (the
  lines there when following starts, or the first lines that arrive) to lock the format,
  then reads line by line through the ordinary ingestion (wrappers, partial records,
  tracebacks). A partial last line waits for its newline; a traceback at the very end
  is held until the next line (or Ctrl-C) closes it.
* ``Follower``: one named daemon thread per source puts events on a bounded queue (a slow
  analysis slows the readers, never grows memory); ``poll`` takes at most
  ``FollowConfig.max_per_poll`` events per call into the **window**; ``analyze`` feeds the
  window, merged by time, to a fresh ``LogAnalysis`` and walks the tree again.
* The window is what bounds memory over hours: the last ``window_s`` seconds of the logs'
  own clock (measured from the newest event seen) and at most ``max_events`` events,
  whichever is smaller. Signals therefore describe the recent past: an overlap that
  scrolled out of the window is no longer a yes. Line counts in the input reports are
  totals since following began.
* ``diff``: what changed between two analyses, as data (``Change``), so each front end
  says it its own way (an NDJSON object, a text line, a toast); what happened to the
  inputs meanwhile (``Follower.take_news``: a source joined, a rotation) goes with it.

Nothing here imports Textual or Rich.
"""

from __future__ import annotations

import io
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

from probes.analysis import LogAnalysis
from probes.diagnose import diagnose
from probes.events import LogEvent
from probes.evidence import Answer, Case, Evidence, InputReport
from probes.follow_config import FollowConfig  # apart: the CLI's --help states its defaults
from probes.ingest import IngestConfig, InputFile, LogReader, discover, merge_by_time, sniff
from probes.ingest.lineformats import LineParser, detect_format
from probes.ingest.sniff import classify_head, sample_lines
from probes.ingest.sources import SAMPLE_BYTES, ReplayStream
from probes.ingest.wrappers import Unwrapper, detect_wrappers, inner_sample
from probes.pipeline import Analysis, EventSink

READ_CAP = 1 << 20
"""At most this many bytes per read of a followed source (one poll's worth)."""

SinkT = TypeVar("SinkT", bound=EventSink)
"""The sink ``run`` makes and hands back: the caller gets its own type (a Logs view index)."""


class LiveStream(io.RawIOBase):
    """A blocking byte stream that ends (reads give 0 bytes) only when ``cancel`` is set or
    the source itself ends. ``read_head`` gives the first complete lines for sniffing."""

    blocking = False
    """True when ``_chunk`` blocks until data arrives (an HTTP body) instead of saying
    "nothing yet" (a file): then the head is what the first chunks with a newline hold."""

    def __init__(self, cancel: threading.Event) -> None:
        super().__init__()
        self.cancel = cancel
        self.notes: list[str] = []
        self._pushback = b""

    def readable(self) -> bool:
        return True

    def _chunk(self, n: int) -> bytes | None:
        """Up to ``n`` bytes now, b"" when none are there yet, None when the source ended."""
        raise NotImplementedError

    def _wait(self) -> None:
        """Block a little until more may be there."""
        raise NotImplementedError

    def summary(self) -> list[str]:
        """What happened to the stream, for its input report (each kind of note once)."""
        return list(dict.fromkeys(self.notes))

    def read_head(self) -> bytes:
        """Up to SAMPLE_BYTES of whole lines, blocking until one line is complete (b"" when
        cancelled or ended before any). The bytes after the last newline are kept."""
        buf = b""
        while True:
            got = self._chunk(SAMPLE_BYTES - len(buf)) if len(buf) < SAMPLE_BYTES else b""
            if got:
                buf += got
                if not (self.blocking and b"\n" in buf):
                    continue
            cut = buf.rfind(b"\n")
            if cut >= 0:
                self._pushback = buf[cut + 1:]
                return buf[: cut + 1]
            if len(buf) >= SAMPLE_BYTES or got is None or self.cancel.is_set():
                return buf
            self._wait()

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(b)
        if self._pushback:
            n = min(len(view), len(self._pushback))
            view[:n] = self._pushback[:n]
            self._pushback = self._pushback[n:]
            return n
        while not self.cancel.is_set():
            data = self._chunk(min(len(view), READ_CAP))
            if data is None:
                return 0
            if data:
                view[: len(data)] = data
                return len(data)
            self._wait()
        return 0


FileId = tuple[int, int]
"""(st_dev, st_ino): a file whatever its name."""

FINGERPRINT = 128
"""Bytes at a followed file's start remembered to notice it was truncated and written
again past our position before we looked (copytruncate under a busy writer)."""


class TailStream(LiveStream):
    """A file followed like ``tail -F``: rotation and truncation handled, counted and said.

    * rotated: another file is at the path (a new inode: logrotate's rename + create, or a
      new file with the same name). What was written to the old file up to the switch is
      read first, then the new file from its start.
    * truncated: the file shrank below our position, or its first bytes are no longer
      those read (emptied and written again faster than we polled): read from its start.

    A last line of the old content without its newline is ended there (counted in
    ``ended_partial``), so it never glues onto the new file's first line.
    ``by_name=False`` follows the open file only (``tail -f``): a rotated copy such as
    ``app.log.1`` is read to its end and never reopened under its name, which the next
    rotation gives to content already read.
    """

    def __init__(self, path: Path, cancel: threading.Event, poll_s: float = 0.5, *,
                 by_name: bool = True, on_open: Callable[[FileId], None] | None = None,
                 on_reopen: Callable[[str], None] | None = None) -> None:
        super().__init__(cancel)
        self.path = path
        self.poll_s = poll_s
        self.by_name = by_name
        self.rotations = 0
        self.truncations = 0
        self.ended_partial = 0
        self._on_open = on_open
        self._on_reopen = on_reopen
        self._fh: BinaryIO | None = None
        self._fp = b""  # the first bytes of the current file, as read
        self._last = b"\n"  # the last byte handed on (a line start when nothing yet)
        self._at_end = False  # the last read found no more bytes
        self._open()

    def _open(self) -> bool:
        try:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError:
            self._fh = None  # rotated away and not created again yet: keep looking
            return False
        self._fp = b""
        if self._on_open is not None:
            st = os.fstat(self._fh.fileno())
            self._on_open((st.st_dev, st.st_ino))
        return True

    def _took(self, fh: BinaryIO, data: bytes) -> bytes:
        if len(self._fp) < FINGERPRINT and fh.tell() - len(data) == len(self._fp):
            self._fp += data[: FINGERPRINT - len(self._fp)]
        self._last = data[-1:]
        return data

    def _changed(self, fh: BinaryIO) -> str | None:
        """"rotated", "truncated" or None, looked at when the file gave no more bytes."""
        try:
            mine = os.fstat(fh.fileno())
            if self.by_name:
                at_path = os.stat(self.path)
                if (at_path.st_ino, at_path.st_dev) != (mine.st_ino, mine.st_dev):
                    return "rotated"
            if mine.st_size < fh.tell():
                return "truncated"
            if self._fp and os.pread(fh.fileno(), len(self._fp), 0) != self._fp:
                return "truncated"
        except OSError:
            return None  # the path is gone for now (rotation in progress)
        return None

    def _chunk(self, n: int) -> bytes | None:
        fh = self._fh
        if fh is None:
            if not self.by_name or not self._open() or self._fh is None:
                return b""
            fh = self._fh
        if self._at_end:  # idle until now: replaced, truncated or rewritten meanwhile?
            switched = self._switch(fh, n)
            if switched is not None:
                return switched
        data = fh.read(n)
        if not data:
            self._at_end = True
            return b""
        self._at_end = False
        return self._took(fh, data)

    def _switch(self, fh: BinaryIO, n: int) -> bytes | None:
        """When the file was rotated or truncated: the first bytes to hand on from the new
        content (b"" when none yet), else None."""
        what = self._changed(fh)
        if what is None:
            return None
        if what == "rotated":
            rest = fh.read(n)  # written to the old file since our last read: first
            if rest:
                return self._took(fh, rest)
            fh.close()
            self._fh = None
            self.rotations += 1
            self._open()
        else:
            fh.seek(0)
            self._fp = b""
            self.truncations += 1
        if self._on_reopen is not None:
            self._on_reopen(what)
        lead = b""
        if self._last != b"\n":
            lead = b"\n"  # the old content's unfinished last line ends here
            self.ended_partial += 1
            self._last = b"\n"
        new = self._fh
        got = new.read(n - len(lead)) if new is not None else b""
        if got and new is not None:
            self._at_end = False
            return lead + self._took(new, got)
        return lead

    def summary(self) -> list[str]:
        out: list[str] = []
        if self.rotations:
            out.append(f"rotated {self.rotations} time(s): a new file at {self.path.name} was "
                       "read from its start")
        if self.truncations:
            out.append(f"truncated {self.truncations} time(s): read again from its start")
        if self.ended_partial:
            out.append(f"{self.ended_partial} unfinished last line(s) ended at a rotation or "
                       "truncation")
        return [*out, *super().summary()]

    def _wait(self) -> None:
        self.cancel.wait(self.poll_s)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        super().close()


class FollowReader(LogReader):
    """A ``LogReader`` over a ``LiveStream`` (see the module docstring).

    It reuses the reader's line loop (``_lines``) as is; only the sampling differs, since a
    live stream has no end to sample up to. Plain text only: a growing gzip is not followed.
    """

    def __init__(self, name: str, stream: LiveStream, config: IngestConfig,
                 cancel: threading.Event) -> None:
        super().__init__(InputFile(name, None), config, cancel=cancel)
        self.stream = stream

    def report(self) -> InputReport:
        rep = super().report()
        notes = self.stream.summary()
        if not notes:
            return rep
        return InputReport(rep.name, rep.kind, rep.format, rep.lines_read, rep.events,
                           rep.skipped, rep.bytes_read, rep.error, (*rep.notes, *notes))

    def events(self) -> Iterator[LogEvent]:
        if self._started:
            raise RuntimeError("FollowReader.events() can be iterated once")
        self._started = True
        head = self.stream.read_head()
        if not head:
            return
        kind, fmt, reason = classify_head(self.inp.name, head, False, False)
        self._format = fmt
        if kind in ("binary", "kube", "bundle", "code"):
            self._kind = kind
            self._error = f"cannot follow: {reason or kind}"
            return
        lines = sample_lines(head, False)
        unwrap = Unwrapper(detect_wrappers(lines))
        inner_fmt, samples = detect_format(inner_sample(lines, unwrap))
        self._parser = LineParser(inner_fmt, samples, self.config.field_overrides, self.inp.name)
        body = cast(BinaryIO, io.BufferedReader(ReplayStream(head, cast(BinaryIO, self.stream))))
        yield from self._lines(body, unwrap, self._parser)


# ----------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """What a new analysis says that the previous one did not."""

    verdict_before: str | None
    verdict_after: str
    score: float | None
    new_yes: tuple[str, ...] = ()
    gone_yes: tuple[str, ...] = ()
    top_before: str | None = None
    top_after: str | None = None
    input_changes: tuple[str, ...] = ()
    """What changed among the inputs since the last report: a source joined (a file
    created in a followed directory), a file rotated or truncated, files not followed."""

    def lines(self) -> list[str]:
        """One short sentence per change, most important first (text mode, toasts)."""
        out: list[str] = []
        if self.verdict_before != self.verdict_after:
            score = f" ({self.score:.2f})" if self.score is not None else ""
            before = self.verdict_before or "(none)"
            out.append(f"verdict: {before} -> {self.verdict_after}{score}")
        elif self.top_before != self.top_after and self.top_after:
            out.append(f"new cause at the top: {self.top_after}")
        out.extend(f"new: {k} yes" for k in self.new_yes)
        out.extend(f"no longer yes: {k}" for k in self.gone_yes)
        out.extend(self.input_changes)
        return out

    def to_json(self) -> dict[str, object]:
        return {"verdict_before": self.verdict_before, "verdict": self.verdict_after,
                "top_before": self.top_before, "top": self.top_after,
                "new_yes": list(self.new_yes), "gone_yes": list(self.gone_yes),
                "inputs": list(self.input_changes)}


def yes_keys(analysis: Analysis) -> frozenset[str]:
    return frozenset(k for k, s in analysis.case.signals().items() if s.answer == Answer.YES)


def diff(before: Analysis | None, after: Analysis,
         input_changes: Sequence[str] = ()) -> Change | None:
    """The change from ``before`` to ``after``, or None when nothing an operator acts on
    changed (the verdict, the top cause, the set of signals answered yes, and
    ``input_changes``: what the follower says happened to its inputs meanwhile)."""
    v = after.verdict
    top = v.top.id if v.top else None
    score = round(v.top.score, 3) if v.top and v.top.id == v.verdict else None
    now = yes_keys(after)
    said = tuple(input_changes)
    if before is None:
        return Change(None, v.verdict, score, tuple(sorted(now)), (), None, top, said)
    b = before.verdict
    b_top = b.top.id if b.top else None
    was = yes_keys(before)
    if b.verdict == v.verdict and b_top == top and was == now and not said:
        return None
    return Change(b.verdict, v.verdict, score, tuple(sorted(now - was)),
                  tuple(sorted(was - now)), b_top, top, said)


# ----------------------------------------------------------------------------- inputs


FOLLOWED_KINDS = frozenset({"log", "trace", "empty"})
"""What is tailed: logs and traces, and empty files (they may still grow)."""

_NOT_FOLLOWED = {"binary": "binary data", "kube": "kubectl output (read only when there at "
                 "the start)", "bundle": "archive (tar)", "code": "source code or manifest"}

_ROTATION_SUFFIX = re.compile(
    r"(?:[.-]\d{1,3}|[.-]\d{8}(?:[T_-]?\d{2,6})?|[.-]\d{4}-\d{2}-\d{2}(?:[T_.-][\d:.-]+)?)"
    r"(?:\.gz)?")
"""What logrotate, Python's rotating handlers and most others append to a rotated copy:
``app.log.1``, ``app.log-20260101``, ``app.log.2026-01-01_12-00``, with ``.gz`` or not."""

EMPTY_DIR = "is a directory with no files"
"""``discover``'s word for a directory with no files yet: followed, it is watched."""

MAX_NAMED = 10
"""File names a directory's report lists (joined, skipped) before saying "and N more"."""


def rotated_copy_of(name: str, siblings: Iterable[str]) -> str | None:
    """The sibling that ``name`` is a rotated copy of (``app.log.1`` of ``app.log``)."""
    for sib in siblings:
        if sib != name and name.startswith(sib) and _ROTATION_SUFFIX.fullmatch(name[len(sib):]):
            return sib
    return None


def file_id(path: Path) -> FileId:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


@dataclass
class Planned:
    """A file to tail, named as the analysis names it."""

    name: str
    path: Path
    by_name: bool = True
    """False for a rotated copy (``app.log.1`` next to ``app.log``): followed by its open
    descriptor, since the next rotation gives its name to content read already."""


@dataclass
class DirWatch:
    """A followed directory: looked at again every ``FollowConfig.rescan_s`` for files
    created in it; what became of each new file is counted (files, not lines)."""

    name: str
    path: Path
    seen: set[Path] = field(default_factory=set)
    """Files present and decided (followed, read once or skipped)."""
    joined: list[str] = field(default_factory=list)
    """Files that joined while following."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Reason -> files not followed (including those over the cap at the start)."""
    examples: list[str] = field(default_factory=list)
    scans: int = 0
    error: str | None = None

    def skip(self, reason: str, name: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.examples) < MAX_NAMED:
            self.examples.append(f"{name}: {reason}")

    def report(self, rescan_s: float) -> InputReport:
        notes = [f"watched for new files every {rescan_s:g} s ({self.scans} scan(s)); "
                 f"{len(self.joined)} joined while following{_names(self.joined)}"]
        if self.skipped:
            notes.append("skipped counts files, not lines: " + "; ".join(self.examples)
                         + (" ..." if sum(self.skipped.values()) > len(self.examples) else ""))
        return InputReport(self.name, "directory", "directory (watched)",
                           skipped=dict(self.skipped), error=self.error, notes=tuple(notes))


def _names(names: Sequence[str]) -> str:
    if not names:
        return ""
    more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
    return ": " + ", ".join(names[:MAX_NAMED]) + more


@dataclass
class FollowPlan:
    """The inputs of ``scaledoc -f`` sorted out before following starts."""

    files: list[Planned] = field(default_factory=list)
    """Tailed from the start."""
    dirs: list[DirWatch] = field(default_factory=list)
    """Watched for files created in them."""
    once: list[str] = field(default_factory=list)
    """Read once (dumps, bundles, code, ``.gz``, binaries: reported as they are)."""
    errors: list[str] = field(default_factory=list)
    """Why following cannot start (stdin, a missing or unreadable input)."""


def not_followed(inp: InputFile) -> str | None:
    """Why a discovered file is not tailed (read once at the start, skipped later), or
    None: logs and traces (and empty files, which may still grow) are tailed; dumps,
    bundles, code, binaries and ``.gz`` are not."""
    if inp.path is not None and inp.path.suffix == ".gz":
        return "compressed (.gz)"
    kind = sniff(inp)
    if kind.error:
        return f"unreadable: {kind.error}"
    if kind.kind in FOLLOWED_KINDS:
        return None
    return _NOT_FOLLOWED.get(kind.kind, kind.kind)


def plan_inputs(paths: Sequence[str], max_files: int = FollowConfig.max_files) -> FollowPlan:
    """Files to tail, directories to watch, paths to read once, errors. A directory's
    files are found as ``probes.ingest.discover`` finds them (hidden folders skipped,
    names joined to the directory as given); a source tree without logs is read once
    as code. At most ``max_files`` are tailed (files named on the command line always);
    a directory's files over the cap are counted in its report. A file named twice
    (itself and inside a directory given too) is followed once."""
    from probes.code import is_code_dir
    from probes.pipeline import _has_logs

    plan = FollowPlan()
    ids: set[FileId] = set()
    for raw in paths:
        if raw == "-":
            plan.errors.append("-: stdin cannot be followed; pipe into 'scaledoc analyze -'")
            continue
        root = Path(raw)
        watch: DirWatch | None = None
        if root.is_dir():
            if is_code_dir(root) and not _has_logs(root):
                plan.once.append(raw)
                continue
            watch = DirWatch(raw, root)
            plan.dirs.append(watch)
        for inp in discover([raw]):
            if inp.error or inp.path is None:
                if not (watch is not None and inp.path == root and inp.error == EMPTY_DIR):
                    plan.errors.append(f"{inp.name}: {inp.error}")
                continue
            if watch is not None:
                watch.seen.add(inp.path)
            try:
                fid = file_id(inp.path)
            except OSError as exc:
                plan.errors.append(f"{inp.name}: {exc.strerror or exc}")
                continue
            if fid in ids:
                continue
            ids.add(fid)
            if not_followed(inp) is not None:
                plan.once.append(str(inp.path))
            elif watch is not None and len(plan.files) >= max_files:
                watch.skip(f"over the cap of {max_files} followed files", inp.name)
            else:
                plan.files.append(Planned(inp.name, inp.path))
    by_dir: dict[Path, set[str]] = {}
    for f in plan.files:
        by_dir.setdefault(f.path.parent, set()).add(f.path.name)
    for f in plan.files:
        f.by_name = rotated_copy_of(f.path.name, by_dir[f.path.parent]) is None
    return plan


# ----------------------------------------------------------------------------- follower


@dataclass
class _Source:
    reader: FollowReader
    thread: threading.Thread | None = None


@dataclass
class Follower:
    """Live sources, the window and the re-analysis (see the module docstring).

    ``static`` is evidence gathered once (kube dumps, code, processes) joined to every
    analysis; ``answers`` are the operator's. Sources can be added while following
    (``add``: a new pod's log; ``watch_dir``: files created in a followed directory join
    on ``poll``). Thread-safe for one consumer calling ``poll``/``analyze``.
    """

    config: IngestConfig = field(default_factory=IngestConfig)
    follow: FollowConfig = field(default_factory=FollowConfig)
    static: Sequence[Evidence] = ()
    static_inputs: Sequence[InputReport] = ()
    answers: Mapping[str, Answer] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._sources: list[_Source] = []
        self._queue: queue.Queue[tuple[int, LogEvent]] = queue.Queue(self.follow.queue_max)
        self._window: deque[tuple[int, LogEvent]] = deque()
        self._newest_ns: int | None = None
        self._lock = threading.Lock()
        self.taken = 0
        """Events taken into the window since following began."""
        self.dropped = 0
        """Events that left the window (too old or too many)."""
        self._live: dict[str, tuple[Evidence, InputReport]] = {}
        self._dirty = threading.Event()
        self._dirs: list[DirWatch] = []
        self._next_scan = 0.0
        self._files: dict[Path, TailStream] = {}
        """Tailed paths (by name or not) and their streams."""
        self._ids: set[FileId] = set()
        """Every file a tailed stream has opened (a rename of one is not a new file)."""
        self._news: list[str] = []
        """What happened to the inputs since ``take_news`` last ran (bounded)."""

    def set_static(self, key: str, evidence: Evidence, report: InputReport) -> None:
        """Replace evidence gathered while following (a watched cluster's pods and
        events); the next poll re-ranks."""
        with self._lock:
            self._live[key] = (evidence, report)
        self._dirty.set()

    # -- sources
    def add(self, name: str, stream: LiveStream) -> FollowReader:
        """Start following one live stream in its own named daemon thread."""
        reader = FollowReader(name, stream, self.config, self.cancel)
        with self._lock:
            index = len(self._sources)
            src = _Source(reader)
            self._sources.append(src)
        src.thread = threading.Thread(target=self._pump, args=(index, reader), daemon=True,
                                      name=f"scaledoc-follow-{index}")
        src.thread.start()
        return reader

    def add_file(self, path: Path, name: str | None = None, *,
                 by_name: bool = True) -> FollowReader:
        """Tail one file (``by_name``: like ``tail -F``, else its open descriptor)."""
        shown = name or str(path)

        def reopened(what: str) -> None:
            self._say(f"{shown} {what}: read from its start" if what == "rotated" else
                      f"{shown} {what}: read again from its start")

        stream = TailStream(path, self.cancel, self.follow.poll_s, by_name=by_name,
                            on_open=self._opened, on_reopen=reopened)
        with self._lock:
            self._files[path] = stream
        return self.add(shown, stream)

    def start(self, plan: FollowPlan) -> None:
        """Tail the plan's files and watch its directories."""
        for f in plan.files:
            self.add_file(f.path, f.name, by_name=f.by_name)
        for w in plan.dirs:
            self.watch_dir(w)

    def watch_dir(self, watch: DirWatch | Path, name: str | None = None) -> DirWatch:
        """Look at a directory again on ``poll`` (every ``rescan_s``): a file created in it
        is tailed as a new source when it is a log or trace and the cap allows, else
        counted in the directory's report with the reason. Files already there when it
        is given (``DirWatch.seen``; none for a bare path) are not new."""
        if isinstance(watch, Path):
            watch = DirWatch(name or str(watch), watch)
        with self._lock:
            self._dirs.append(watch)
        return watch

    def _opened(self, fid: FileId) -> None:
        with self._lock:
            self._ids.add(fid)

    def _say(self, text: str) -> None:
        with self._lock:
            if len(self._news) < 2 * MAX_NAMED:
                self._news.append(text)
            elif len(self._news) == 2 * MAX_NAMED:
                self._news.append("... more changes among the inputs (see the inputs report)")
        self._dirty.set()

    def take_news(self) -> list[str]:
        """What happened to the inputs since the last call: sources joined, files rotated
        or truncated, new files not followed (and why)."""
        with self._lock:
            news, self._news = self._news, []
        return news

    @property
    def file_count(self) -> int:
        """Files tailed (the cap ``FollowConfig.max_files`` counts these)."""
        with self._lock:
            return len(self._files)

    def rescan(self, force: bool = False) -> int:
        """Look at the watched directories (at most every ``rescan_s`` unless ``force``);
        returns how many files joined."""
        now = time.monotonic()
        if not self._dirs or self.cancel.is_set() or (now < self._next_scan and not force):
            return 0
        self._next_scan = now + self.follow.rescan_s
        return sum(self._scan(w) for w in list(self._dirs))

    def _scan(self, w: DirWatch) -> int:
        w.scans += 1
        present: set[Path] = set()
        fresh: list[InputFile] = []
        for inp in discover([w.name]):
            if inp.path is None:
                continue
            if inp.path == w.path:  # the directory itself: no files (yet), or unreadable
                w.error = None if inp.error == EMPTY_DIR else inp.error
                continue
            present.add(inp.path)
            if inp.path not in w.seen:
                fresh.append(inp)
        w.seen &= present  # a file deleted then created again is new again
        joined = 0
        not_joined: dict[str, int] = {}
        for inp in fresh:
            w.seen.add(cast(Path, inp.path))
            why = self._consider(w, inp)
            if why is None:
                joined += 1
            elif why:
                not_joined[why] = not_joined.get(why, 0) + 1
        for why, n in not_joined.items():
            self._say(f"{w.name}: {n} new file(s) not followed: {why}")
        return joined

    def _consider(self, w: DirWatch, inp: InputFile) -> str | None:
        """Tail a file new in a watched directory: None when it joined, else the reason
        ("" when it is a followed file's own path, which its stream already handles)."""
        path = cast(Path, inp.path)
        try:
            fid = file_id(path)
        except OSError:
            w.seen.discard(path)  # gone already: looked at again if it comes back
            return ""
        with self._lock:
            if path in self._files:
                return ""
            siblings = [p.name for p, s in self._files.items()
                        if p.parent == path.parent and s.by_name]
            known = fid in self._ids
        why: str | None
        if inp.error:
            why = f"unreadable: {inp.error}"
        elif known:
            why = "a followed file renamed (its lines are read already)"
        elif rotated_copy_of(path.name, siblings) is not None:
            why = "a rotated copy of a followed file (its lines are read there)"
        else:
            why = not_followed(inp)
            if why is None and self.file_count >= self.follow.max_files:
                why = f"over the cap of {self.follow.max_files} followed files"
        if why is not None:
            w.skip(why, inp.name)
            return why
        self.add_file(path, inp.name)
        w.joined.append(inp.name)
        self._say(f"new source: {inp.name} (created in {w.name})")
        return None

    def _pump(self, index: int, reader: FollowReader) -> None:
        try:
            for ev in reader.events():
                while not self.cancel.is_set():
                    try:
                        self._queue.put((index, ev), timeout=self.follow.poll_s)
                        break
                    except queue.Full:
                        continue
                if self.cancel.is_set():
                    return
        except Exception as exc:  # noqa: BLE001 - a source's failure is data, not a crash
            reader._error = f"follow stopped: {type(exc).__name__}: {exc}"

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel every source and wait a little for their threads."""
        self.cancel.set()
        for src in list(self._sources):
            if src.thread is not None:
                src.thread.join(timeout)
            src.reader.stream.close()

    # -- the window
    def poll(self, wait_s: float = 0.0) -> int:
        """Look at the watched directories when due, then take at most ``max_per_poll``
        waiting events into the window (waiting up to ``wait_s`` for the first); returns
        how many were taken."""
        self.rescan()
        taken = 0
        limit = self.follow.max_per_poll
        try:
            item = self._queue.get(timeout=wait_s) if wait_s > 0 else self._queue.get_nowait()
        except queue.Empty:
            return 0
        while True:
            self._take(item)
            taken += 1
            if taken >= limit:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        self._evict()
        self.taken += taken
        return taken

    def _take(self, item: tuple[int, LogEvent]) -> None:
        self._window.append(item)
        t = item[1].time_ns
        if t is not None and (self._newest_ns is None or t > self._newest_ns):
            self._newest_ns = t

    def _evict(self) -> None:
        w = self._window
        while len(w) > self.follow.max_events:
            w.popleft()
            self.dropped += 1
        if self._newest_ns is None:
            return
        oldest = self._newest_ns - int(self.follow.window_s * 1e9)
        # Arrival order is nearly time order; untimed events go with their neighbours.
        while w and (w[0][1].time_ns is None or w[0][1].time_ns < oldest):
            if w[0][1].time_ns is None and (len(w) == 1 or w[1][1].time_ns is None
                                            or w[1][1].time_ns >= oldest):
                break
            w.popleft()
            self.dropped += 1

    @property
    def window_size(self) -> int:
        return len(self._window)

    def window_span_s(self) -> float:
        """Seconds between the oldest and newest timed events in the window."""
        times = [ev.time_ns for _, ev in self._window if ev.time_ns is not None]
        return (max(times) - min(times)) / 1e9 if times else 0.0

    # -- analysis
    def analyze(self, sink: EventSink | None = None) -> Analysis:
        """The window through a fresh ``LogAnalysis``, joined to the static evidence;
        ``sink`` (the Logs view's index) gets the same events in the same pass."""
        with self._lock:
            sources = list(self._sources)
        per_source: list[list[LogEvent]] = [[] for _ in sources]
        for index, ev in self._window:
            per_source[index].append(ev)
        la = LogAnalysis()
        add = sink.add if sink is not None else None
        for ev in merge_by_time([iter(evs) for evs in per_source]):
            la.feed(ev)
            if add is not None:
                add(ev)
        log_ev = la.finish()
        reports = [s.reader.report() for s in sources]
        with self._lock:
            dirs = list(self._dirs)
        reports.extend(w.report(self.follow.rescan_s) for w in dirs)
        evidence: list[Evidence] = []
        if sources:
            evidence.append(replace(log_ev, inputs=(*log_ev.inputs, *reports)))
        with self._lock:
            live = list(self._live.values())
        evidence.extend(self.static)
        evidence.extend(ev for ev, _ in live)
        case = Case(evidence=tuple(evidence), answers=dict(self.answers))
        inputs = [*reports, *self.static_inputs, *(rep for _, rep in live)]
        return Analysis(case, diagnose(case), inputs, [], False, opened=len(inputs))

    def run(self, on_change: Callable[[Change, Analysis], None],
            should_stop: Callable[[], bool] = lambda: False, *,
            new_sink: Callable[[], SinkT] | None = None,
            on_sink: Callable[[SinkT], None] | None = None) -> Analysis:
        """Poll, re-rank at most every ``interval_s`` while events arrive, report each
        change, until ``should_stop()`` or cancel; returns the last analysis (fresh).

        With ``new_sink``, every re-analysis also fills a fresh sink (the Logs view's index
        of the window) in the same pass and hands it to ``on_sink``: the view follows the
        window, with or without a change of verdict."""
        last: Analysis | None = None
        last_at = 0.0
        pending = True  # analyse once at the start, even with no events yet
        while not self.cancel.is_set() and not should_stop():
            if self.poll(wait_s=self.follow.poll_s) or self._dirty.is_set():
                self._dirty.clear()
                pending = True
            now = time.monotonic()
            if pending and now - last_at >= self.follow.interval_s:
                sink = new_sink() if new_sink is not None else None
                current = self.analyze(sink)
                if sink is not None and on_sink is not None:
                    on_sink(sink)
                last_at = now
                pending = False
                change = diff(last, current, self.take_news())
                last = current
                if change is not None:
                    on_change(change, current)
        while self.poll():  # what arrived before the stop still counts
            pass
        return self.analyze()


def static_evidence(paths: Iterable[str], config: IngestConfig) -> tuple[list[Evidence],
                                                                         list[InputReport]]:
    """Inputs that are not followed (dumps, bundles, code) analysed once."""
    from probes.pipeline import analyze_paths

    paths = list(paths)
    if not paths:
        return [], []
    a = analyze_paths(paths, config=config)
    return ([ev for ev in a.case.evidence if ev.probe != "logs"],
            [i for i in a.inputs])
