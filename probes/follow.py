"""Live follow: growing inputs tailed, the same analysis re-run on a window, changes named.

``scaledoc -f PATH...`` and ``kubectl scaledoc -f`` keep reading while the incident goes
on. The pieces, in the order data flows:

* ``LiveStream``: a blocking byte stream that ends only when cancelled. ``TailStream``
  follows a file across rotation (a new inode at the path: read from its start) and
  truncation (the size fell below our position: read again from 0), each read bounded
  to ``READ_CAP`` bytes. ``probes.kube.watch`` gives log-follow HTTP bodies the same shape.
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
  says it its own way (an NDJSON object, a text line, a toast).

Nothing here imports Textual or Rich.
"""

from __future__ import annotations

import io
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, cast

from probes.analysis import LogAnalysis
from probes.diagnose import diagnose
from probes.events import LogEvent
from probes.evidence import Answer, Case, Evidence, InputReport
from probes.follow_config import FollowConfig  # apart: the CLI's --help states its defaults
from probes.ingest import IngestConfig, InputFile, LogReader, merge_by_time
from probes.ingest.lineformats import LineParser, detect_format
from probes.ingest.sniff import classify_head, sample_lines
from probes.ingest.sources import SAMPLE_BYTES, ReplayStream
from probes.ingest.wrappers import Unwrapper, detect_wrappers, inner_sample
from probes.pipeline import Analysis

READ_CAP = 1 << 20
"""At most this many bytes per read of a followed source (one poll's worth)."""


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


class TailStream(LiveStream):
    """A file followed like ``tail -F``: rotation and truncation handled, said in ``notes``."""

    def __init__(self, path: Path, cancel: threading.Event, poll_s: float = 0.5) -> None:
        super().__init__(cancel)
        self.path = path
        self.poll_s = poll_s
        self.rotations = 0
        self.truncations = 0
        self._fh: BinaryIO | None = None
        self._open()

    def _open(self) -> None:
        try:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError:
            self._fh = None  # rotated away and not created again yet: keep looking

    def _chunk(self, n: int) -> bytes | None:
        if self._fh is None:
            self._open()
            if self._fh is None:
                return b""
        data = self._fh.read(n)
        if data:
            return data
        try:
            at_path = os.stat(self.path)
            mine = os.fstat(self._fh.fileno())
        except OSError:
            return b""  # the path is gone for now (rotation in progress)
        if (at_path.st_ino, at_path.st_dev) != (mine.st_ino, mine.st_dev):
            self._fh.close()
            self._open()
            self.rotations += 1
            self.notes.append(f"rotated: a new file appeared at {self.path.name}, read from "
                              "its start")
            return self._fh.read(n) if self._fh is not None else b""
        if mine.st_size < self._fh.tell():
            self._fh.seek(0)
            self.truncations += 1
            self.notes.append("truncated: the file shrank, read again from its start")
            return self._fh.read(n)
        return b""

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
        if not self.stream.notes:
            return rep
        notes = list(dict.fromkeys(self.stream.notes))  # each kind of note once
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
        return out

    def to_json(self) -> dict[str, object]:
        return {"verdict_before": self.verdict_before, "verdict": self.verdict_after,
                "top_before": self.top_before, "top": self.top_after,
                "new_yes": list(self.new_yes), "gone_yes": list(self.gone_yes)}


def yes_keys(analysis: Analysis) -> frozenset[str]:
    return frozenset(k for k, s in analysis.case.signals().items() if s.answer == Answer.YES)


def diff(before: Analysis | None, after: Analysis) -> Change | None:
    """The change from ``before`` to ``after``, or None when nothing an operator acts on
    changed (the verdict, the top cause, the set of signals answered yes)."""
    v = after.verdict
    top = v.top.id if v.top else None
    score = round(v.top.score, 3) if v.top and v.top.id == v.verdict else None
    now = yes_keys(after)
    if before is None:
        return Change(None, v.verdict, score, tuple(sorted(now)), (), None, top)
    b = before.verdict
    b_top = b.top.id if b.top else None
    was = yes_keys(before)
    if b.verdict == v.verdict and b_top == top and was == now:
        return None
    return Change(b.verdict, v.verdict, score, tuple(sorted(now - was)),
                  tuple(sorted(was - now)), b_top, top)


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
    (``add``: a new pod's log). Thread-safe for one consumer calling ``poll``/``analyze``.
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

    def add_file(self, path: Path, name: str | None = None) -> FollowReader:
        return self.add(name or str(path), TailStream(path, self.cancel, self.follow.poll_s))

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
        """Take at most ``max_per_poll`` waiting events into the window (waiting up to
        ``wait_s`` for the first); returns how many were taken."""
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
    def analyze(self) -> Analysis:
        """The window through a fresh ``LogAnalysis``, joined to the static evidence."""
        with self._lock:
            sources = list(self._sources)
        per_source: list[list[LogEvent]] = [[] for _ in sources]
        for index, ev in self._window:
            per_source[index].append(ev)
        la = LogAnalysis()
        for ev in merge_by_time([iter(evs) for evs in per_source]):
            la.feed(ev)
        log_ev = la.finish()
        reports = [s.reader.report() for s in sources]
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
            should_stop: Callable[[], bool] = lambda: False) -> Analysis:
        """Poll, re-rank at most every ``interval_s`` while events arrive, report each
        change, until ``should_stop()`` or cancel; returns the last analysis (fresh)."""
        last: Analysis | None = None
        last_at = 0.0
        pending = True  # analyse once at the start, even with no events yet
        while not self.cancel.is_set() and not should_stop():
            if self.poll(wait_s=self.follow.poll_s) or self._dirty.is_set():
                self._dirty.clear()
                pending = True
            now = time.monotonic()
            if pending and now - last_at >= self.follow.interval_s:
                current = self.analyze()
                last_at = now
                pending = False
                change = diff(last, current)
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
