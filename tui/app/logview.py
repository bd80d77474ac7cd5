"""A compact, columnar index of log lines for the Logs screen.

The Logs screen must scroll a million merged lines without stutter, so it never holds a
Python object per line. Ingestion (``probes.ingest.LogReader``) streams ``LogEvent``s
once, in a thread worker; for each we keep only small columns in ``array``s: the time,
a source id, the line number, the level and interned ids for instance, session, request,
host/pod and run (about 40 bytes a line). The text is fetched lazily, when a row is
drawn, by seeking to the line's byte offset in its file (offsets are found by one scan
of each plain file). Sources that are not plain files on disk (inside an archive, or
decoded from JSON) keep the event's excerpt instead.

Filtering (``apply_filter``) also runs in a worker and returns an ``array`` of row
numbers in time order: the view only ever indexes into it. Nothing here imports Textual.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from probes.events import DEBUG, ERROR, FATAL, INFO, TRACE, WARN, LogEvent
from probes.redact import redact_text

if TYPE_CHECKING:  # the ingest stack loads when the logs are read (read_events)
    from probes.columnar import EventColumns
    from probes.ingest import IngestConfig

NO_TIME = -(2**63)
"""Stored for events with no clock (none of their own and no earlier line gave one)."""

MAX_LINE_CHARS = 4000
"""Text fetched for display is cut here; the file holds the rest."""

LEVEL_NAMES: dict[int, str] = {
    TRACE: "trace", DEBUG: "debug", INFO: "info", WARN: "warn", ERROR: "error", FATAL: "fatal",
}
LEVEL_BY_NAME: dict[str, int] = {
    **{name: level for level, name in LEVEL_NAMES.items()},
    "warning": WARN, "err": ERROR, "critical": FATAL, "crit": FATAL, "dbg": DEBUG,
}

Progress = Callable[[str, int, int], None]


def level_name(level: int) -> str:
    """The nearest level name at or below ``level`` (0 means unknown: empty string)."""
    if level <= 0:
        return ""
    best = ""
    for value in sorted(LEVEL_NAMES):
        if level >= value:
            best = LEVEL_NAMES[value]
    return best or LEVEL_NAMES[TRACE]


SUMMARY_HIDDEN_KEYS = frozenset({
    "level", "time", "timestamp", "@timestamp", "ts", "pid", "hostname", "v", "msg",
    "message", "event", "levelname", "levelno", "severity", "asctime", "created",
})
"""Keys a structured line's summary leaves out: shown in their own columns already."""
MESSAGE_KEYS = ("msg", "message", "event")


def summarise_line(text: str) -> str:
    """A structured (JSON) line as ``message  key=value ...``; other lines unchanged.

    The Logs view shows this by default (``m`` toggles the raw line): on an 80-column
    terminal a raw pino line is all ``{"level": 30, "time": ...`` and no message. A
    container prefix (kubectl ``--timestamps``) before the ``{`` is dropped.
    """
    start = text.find("{")
    if start < 0 or start > 48 or not text.rstrip().endswith("}"):
        return text
    try:
        doc = json.loads(text[start:])
    except ValueError:
        return text
    if not isinstance(doc, dict):
        return text
    message = next((str(doc[k]) for k in MESSAGE_KEYS if isinstance(doc.get(k), str)), "")
    parts = [message] if message else []
    for key, value in doc.items():
        if key in SUMMARY_HIDDEN_KEYS:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        parts.append(f"{key}={shown}")
    return "  ".join(parts)


class Interner:
    """Strings to small ints and back; id 0 is None. Values repeat a lot (pods, ids)."""

    def __init__(self) -> None:
        self._values: list[str | None] = [None]
        self._ids: dict[str, int] = {}

    def intern(self, value: str | None) -> int:
        if value is None or value == "":
            return 0
        found = self._ids.get(value)
        if found is None:
            found = len(self._values)
            self._values.append(value)
            self._ids[value] = found
        return found

    def get(self, ident: int) -> str | None:
        return self._values[ident]

    def lookup(self, value: str) -> int | None:
        """The id of exactly ``value``, or None when it never occurred."""
        return self._ids.get(value)

    def matching(self, needle: str) -> set[int]:
        """Ids of every value containing ``needle`` (case-insensitive)."""
        low = needle.lower()
        return {i for i, v in enumerate(self._values) if v is not None and low in v.lower()}

    def values(self) -> list[str]:
        return [v for v in self._values if v is not None]

    def __len__(self) -> int:
        return len(self._values) - 1


@dataclass(frozen=True, slots=True)
class RunWindow:
    """Select a run's lines: those tagged with its id, or on its instance within its span
    (and, when the run has a request id, carrying that request or none at all)."""

    run_id: str
    instance: str | None
    start_ns: int | None
    end_ns: int | None  # None: the run never ended, so up to the end of the logs
    request: str | None = None


FILTER_KEYS: dict[str, str] = {
    "instance": "instance", "inst": "instance", "i": "instance",
    "session": "session", "sess": "session", "s": "session",
    "request": "request", "req": "request", "r": "request",
    "pod": "host", "host": "host", "p": "host",
    "run": "run",
    "source": "source", "file": "source",
}


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What the Logs screen shows. Every set field must match (AND).

    Field values match by case-insensitive substring, so ``pod:web`` matches every
    ``web-7d9...`` replica. ``text`` is matched against the raw line.
    """

    text: str = ""
    instance: str | None = None
    session: str | None = None
    request: str | None = None
    host: str | None = None
    run: str | None = None
    source: str | None = None
    min_level: int | None = None
    window: RunWindow | None = None

    @property
    def is_empty(self) -> bool:
        return self == LogFilter()

    @classmethod
    def parse(cls, query: str) -> LogFilter:
        """Parse ``instance:a1 pod:web level>=warn some text`` (lnav-like, keyboard-first).

        Known ``key:value`` tokens set fields; ``level>=warn`` / ``level:error`` set the
        minimum level; every other token is part of the free text (joined by spaces).
        """
        fields: dict[str, Any] = {}  # LogFilter's keyword arguments, of several types
        words: list[str] = []
        for token in query.split():
            low = token.lower()
            if low.startswith(("level>=", "level:", "lvl:", "lvl>=")):
                name = low.split(">=", 1)[-1] if ">=" in low else low.split(":", 1)[-1]
                if name in LEVEL_BY_NAME:
                    fields["min_level"] = LEVEL_BY_NAME[name]
                    continue
                if name.isdigit():
                    fields["min_level"] = int(name)
                    continue
            key, sep, value = token.partition(":")
            if sep and value and key.lower() in FILTER_KEYS:
                fields[FILTER_KEYS[key.lower()]] = value
                continue
            words.append(token)
        return cls(text=" ".join(words), **fields)

    def describe(self) -> str:
        parts = [f"{name}:{getattr(self, name)}" for name in
                 ("instance", "session", "request", "host", "run", "source")
                 if getattr(self, name)]
        if self.min_level is not None:
            parts.append(f"level>={level_name(self.min_level) or self.min_level}")
        if self.window is not None:
            parts.append(f"run {self.window.run_id}")
        if self.text:
            parts.append(repr(self.text))
        return " ".join(parts) if parts else "all lines"


@dataclass(slots=True)
class _Source:
    name: str
    path: str | None  # a plain file we can seek in, or None (use stored excerpts)
    offsets: array[int] = field(default_factory=lambda: array("q"))


def _plain_file(name: str) -> str | None:
    try:
        if not os.path.isfile(name):
            return None
        with open(name, "rb") as fh:
            if fh.read(2) == b"\x1f\x8b":  # gzip: not seekable by line offset
                return None
    except OSError:
        return None
    return name


def _line_offsets(path: str, cancel: threading.Event | None) -> array[int]:
    """Byte offset of the start of each line (index 0 is line 1)."""
    import numpy as np

    offsets = array("q", [0])
    base = 0
    with open(path, "rb") as fh:
        while True:
            if cancel is not None and cancel.is_set():
                break
            chunk = fh.read(1 << 22)
            if not chunk:
                break
            # numpy finds the newlines: 3x faster than re.finditer on a million lines
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10) + (base + 1)
            offsets.frombytes(ends.astype(np.int64).tobytes())
            base += len(chunk)
    if len(offsets) > 1 and offsets[-1] == base:
        offsets.pop()  # the file ends with a newline: no line starts there
    return offsets


class LogIndex:
    """The columns. Build with ``add()`` for each event, then ``finish()`` once."""

    def __init__(self, keep_text: bool = False) -> None:
        self.keep_text = keep_text
        """Keep every row's text instead of reading plain files back by offset: a followed
        file grows, rotates or is truncated under the view, so offsets go stale."""
        self.sources: list[_Source] = []
        self._source_ids: dict[str, int] = {}
        self.time_ns = array("q")
        self.source = array("I")
        self.line = array("I")
        self.level = array("B")
        self.instances = Interner()
        self.sessions = Interner()
        self.requests = Interner()
        self.hosts = Interner()
        self.runs = Interner()
        self.instance = array("I")
        self.session = array("I")
        self.request = array("I")
        self.host = array("I")
        self.run = array("I")
        self.order = array("I")
        """Row numbers sorted by time (stable: file order within equal times)."""
        # Text of rows whose source is not a seekable plain file (gzip, decoded JSON):
        # one UTF-8 blob, with the rows and their start offsets in two arrays.
        self._blob = bytearray()
        self._excerpt_rows = array("I")
        self._excerpt_starts = array("Q")
        self._last_time: dict[int, int] = {}
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._handles: dict[int, IO[bytes]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.line)

    def _source_id(self, name: str) -> int:
        found = self._source_ids.get(name)
        if found is None:
            found = len(self.sources)
            path = None if self.keep_text else _plain_file(name)
            self.sources.append(_Source(name, path))
            self._source_ids[name] = found
        return found

    def add(self, event: LogEvent) -> None:
        sid = self._source_id(event.source)
        t = event.time_ns
        if t is None:  # keep its place in the merge: the source's previous clock
            t = self._last_time.get(sid, NO_TIME)
        else:
            self._last_time[sid] = t
        row = len(self.line)
        self.time_ns.append(t)
        self.source.append(sid)
        self.line.append(max(0, event.line))
        self.level.append(max(0, min(255, event.level or 0)))
        self.instance.append(self.instances.intern(event.instance))
        self.session.append(self.sessions.intern(event.session))
        self.request.append(self.requests.intern(event.request))
        self.host.append(self.hosts.intern(event.host))
        self.run.append(self.runs.intern(event.run))
        if self.sources[sid].path is None:
            self._keep_text(row, event.text or event.message)
        elif event.text.startswith("span ") and " trace=" in event.text:
            # A trace export holds many spans on one physical line: show the span, not
            # the whole resourceSpans document.
            extra = [f"{event.kind.value}"]
            if event.status is not None:
                extra.append(f"status={event.status}")
            if event.error:
                extra.append(f"error={event.error}")
            self._keep_text(row, f"{event.text}  " + "  ".join(extra))

    def add_columns(self, cols: EventColumns) -> None:
        """Every row of ``cols``, as ``add`` would take each of its events, by columns.

        The columnar path (``probes.columnar``) never builds a ``LogEvent`` per line, so
        the Logs view is filled from the same columns the analysis reads (issue: one pass
        for the TUI). Equal to ``add`` row by row (tests/test_logview_columns.py), with one
        documented difference: ``add`` decorates a trace exporter's synthesized
        ``span ... trace=`` text, and the columnar decoder reads no trace exports, so raw
        lines are kept as they are."""
        import numpy as np

        from probes.columnar import NO_CODE, NO_INT

        n = len(cols)
        if n == 0:
            return
        base = len(self.line)
        sids = np.asarray([self._source_id(name) for name in cols.sources], dtype=np.uint32)
        sid = sids[cols.src]
        times = cols.time_ns.copy()
        for s in np.unique(sid):
            rows = np.flatnonzero(sid == s)
            t = times[rows]
            known = t != NO_INT
            # an untimed row keeps its place: the source's previous clock (as ``add``)
            last = np.maximum.accumulate(np.where(known, np.arange(len(t)), -1))
            prior = self._last_time.get(int(s), NO_TIME)
            filled = np.where(last >= 0, t[np.maximum(last, 0)], prior)
            times[rows] = filled
            if known.any():
                self._last_time[int(s)] = int(t[np.flatnonzero(known)[-1]])
        self.time_ns.frombytes(times.astype(np.int64).tobytes())
        self.source.frombytes(sid.astype(np.uint32).tobytes())
        self.line.frombytes(np.maximum(cols.line, 0).astype(np.uint32).tobytes())
        level = np.where(cols.level == NO_INT, 0, cols.level)
        self.level.frombytes(np.clip(level, 0, 255).astype(np.uint8).tobytes())
        strings = cols.strings
        for interner, column, target in (
                (self.instances, cols.instance, self.instance),
                (self.sessions, cols.session, self.session),
                (self.requests, cols.request, self.request),
                (self.hosts, cols.host, self.host),
                (self.runs, cols.run, self.run)):
            codes, inverse = np.unique(column, return_inverse=True)
            ids = np.asarray([interner.intern(None if c == NO_CODE else strings[c])
                              for c in codes.tolist()], dtype=np.uint32)
            target.frombytes(ids[inverse.reshape(-1)].astype(np.uint32).tobytes())
        kept = [int(s) for s in np.unique(sid) if self.sources[int(s)].path is None]
        if kept:  # rows whose source cannot be read back by offset keep their text
            for row in np.flatnonzero(np.isin(sid, kept)).tolist():
                self._keep_text(base + row,
                                cols.texts.text(row) or strings[int(cols.message[row])])

    def _keep_text(self, row: int, text: str) -> None:
        self._excerpt_rows.append(row)
        self._excerpt_starts.append(len(self._blob))
        # redacted before it is cut: a secret straddling the cut would leave its head
        self._blob += redact_text(text)[:MAX_LINE_CHARS].encode("utf-8", "replace")

    def finish(self, cancel: threading.Event | None = None) -> None:
        """Sort into time order and find line offsets of each plain file."""
        import numpy as np

        times = np.frombuffer(self.time_ns, dtype=np.int64) if len(self.time_ns) else (
            np.zeros(0, dtype=np.int64))
        # Ingestion already merges sources by time, so the sort is usually a no-op:
        # checked first (stable: file order within equal times, as before).
        if bool(np.all(times[1:] >= times[:-1])):
            order = np.arange(len(times), dtype=np.uint32)
        else:
            order = np.argsort(times, kind="stable").astype(np.uint32)
        self.order = array("I")
        self.order.frombytes(order.tobytes())
        for src in self.sources:
            if cancel is not None and cancel.is_set():
                return
            if src.path is not None:
                try:
                    src.offsets = _line_offsets(src.path, cancel)
                except OSError:
                    src.path = None

    # -- text ---------------------------------------------------------------------

    def text(self, row: int) -> str:
        """The text of a row (first line of its record), redacted, then cut to
        ``MAX_LINE_CHARS``."""
        cached = self._cache.get(row)
        if cached is not None:
            self._cache.move_to_end(row)
            return cached
        text = self._read(row)
        self._cache[row] = text
        if len(self._cache) > 4096:
            self._cache.popitem(last=False)
        return text

    def _read(self, row: int) -> str:
        excerpt = self.excerpt(row)
        if excerpt is not None:
            return excerpt
        sid = self.source[row]
        src = self.sources[sid]
        line = self.line[row]
        if src.path is None or not 1 <= line <= len(src.offsets):
            return ""
        with self._lock:
            try:
                fh = self._handles.get(sid)
                if fh is None:
                    fh = self._handles[sid] = open(src.path, "rb")  # noqa: SIM115 (kept open)
                fh.seek(src.offsets[line - 1])
                raw = fh.readline(MAX_LINE_CHARS * 4)
            except OSError as exc:
                return f"<cannot read {src.name}:{line}: {exc.strerror or exc}>"
        # redacted before it is cut (the view redacts again what it draws: a no-op then)
        return redact_text(raw.decode("utf-8", "replace").rstrip("\r\n"))[:MAX_LINE_CHARS]

    @property
    def excerpts(self) -> int:
        """How many rows keep their text in memory (sources that cannot be seeked)."""
        return len(self._excerpt_rows)

    def excerpt(self, row: int) -> str | None:
        """The kept text of ``row``, or None when it is read from its file instead."""
        rows = self._excerpt_rows
        at = bisect.bisect_left(rows, row)
        if at == len(rows) or rows[at] != row:
            return None
        end = self._excerpt_starts[at + 1] if at + 1 < len(rows) else len(self._blob)
        return self._blob[self._excerpt_starts[at]:end].decode("utf-8", "replace")

    def close(self) -> None:
        with self._lock:
            for fh in self._handles.values():
                fh.close()
            self._handles.clear()

    # -- lookups ------------------------------------------------------------------

    def source_name(self, row: int) -> str:
        return self.sources[self.source[row]].name

    def where(self, row: int) -> str:
        return f"{self.source_name(row)}:{self.line[row]}"

    def has_source(self, source: str) -> bool:
        """Is ``source`` (or a file of that name) one of the indexed sources?"""
        base = os.path.basename(source)
        return any(s.name == source or os.path.basename(s.name) == base for s in self.sources)

    def find(self, rows: Sequence[int], source: str, line: int | None) -> int | None:
        """Position in ``rows`` of ``source:line`` (or of the nearest later line).

        ``source`` matches a source name exactly, or by its file name when the example
        names the file without its directory.
        """
        sids = {i for i, s in enumerate(self.sources)
                if s.name == source or os.path.basename(s.name) == os.path.basename(source)}
        if not sids:
            return None
        best: tuple[int, int] | None = None  # (line distance, position)
        for pos, row in enumerate(rows):
            if self.source[row] in sids:
                if line is None:
                    return pos
                distance = self.line[row] - line
                if distance == 0:
                    return pos
                if distance > 0 and (best is None or distance < best[0]):
                    best = (distance, pos)
        return best[1] if best else None


def _text_hits(index: LogIndex, needle: str, cancel: threading.Event | None) -> bytearray:
    """A flag per row: does its raw text contain ``needle`` (case-insensitive)?

    Each file is read once, front to back, in step with its rows (a source's rows are
    in line order), so no per-line table is built; one byte per row holds the answer.
    """
    hits = bytearray(len(index))
    low = needle.lower()
    low_bytes = low.encode("utf-8") if low.isascii() else None
    by_source: dict[int, array[int]] = {}
    for row in range(len(index)):
        excerpt = index.excerpt(row) if index.excerpts else None
        if excerpt is not None:
            hits[row] = low in excerpt.lower()
        else:
            by_source.setdefault(index.source[row], array("I")).append(row)
    for sid, rows in by_source.items():
        path = index.sources[sid].path
        if path is None:
            continue
        lines = index.line
        if any(lines[rows[i]] > lines[rows[i + 1]] for i in range(len(rows) - 1)):
            rows = array("I", sorted(rows, key=lines.__getitem__))
        at = 0
        try:
            with open(path, "rb") as fh:
                for number, raw in enumerate(fh, start=1):
                    if number % 65536 == 0 and cancel is not None and cancel.is_set():
                        return hits
                    while at < len(rows) and lines[rows[at]] < number:
                        at += 1
                    if at >= len(rows):
                        break
                    if lines[rows[at]] != number:
                        continue
                    if low_bytes is not None:
                        found = low_bytes in raw.lower()
                    else:
                        found = low in raw.decode("utf-8", "replace").lower()
                    while at < len(rows) and lines[rows[at]] == number:
                        hits[rows[at]] = found  # several events can share a line (spans)
                        at += 1
        except OSError:
            continue
    return hits


def find_hits(index: LogIndex, term: str, cancel: threading.Event | None = None) -> bytearray:
    """A flag per index row: does its text hold ``term`` (case-insensitive)? For the Logs
    view's find (``f``, then ``n``/``N``): one pass over the files, like the text filter."""
    return _text_hits(index, term, cancel)


def apply_filter(index: LogIndex, flt: LogFilter,
                 cancel: threading.Event | None = None) -> array[int]:
    """Rows matching ``flt``, in time order. Runs in a worker for large indexes."""
    if flt.is_empty:
        return array("I", index.order)

    checks: list[tuple[array[int], set[int]]] = []
    for name, column, interner in (
        ("instance", index.instance, index.instances),
        ("session", index.session, index.sessions),
        ("request", index.request, index.requests),
        ("host", index.host, index.hosts),
        ("run", index.run, index.runs),
    ):
        value = getattr(flt, name)
        if value:
            ids = interner.matching(value)
            if not ids:
                return array("I")
            checks.append((column, ids))
    if flt.source:
        sids = {i for i, s in enumerate(index.sources) if flt.source.lower() in s.name.lower()}
        if not sids:
            return array("I")
        checks.append((index.source, sids))

    window = flt.window
    run_id = index.runs.lookup(window.run_id) if window else None
    win_instance = index.instances.lookup(window.instance) if window and window.instance else None
    start = window.start_ns if window and window.start_ns is not None else NO_TIME
    end = window.end_ns if window and window.end_ns is not None else 2**63 - 1
    win_request = -1  # -1: any request; otherwise that request's id (or 0, none)
    if window is not None and window.request:
        found = index.requests.lookup(window.request)
        win_request = found if found is not None else -2

    hits = _text_hits(index, flt.text, cancel) if flt.text else None
    min_level = flt.min_level
    out = array("I")
    for n, row in enumerate(index.order):
        if n % 65536 == 0 and cancel is not None and cancel.is_set():
            break
        if hits is not None and not hits[row]:
            continue
        if min_level is not None and index.level[row] < min_level:
            continue
        if any(column[row] not in ids for column, ids in checks):
            continue
        if window is not None:
            tagged = run_id is not None and index.run[row] == run_id
            in_span = (win_instance is not None and index.instance[row] == win_instance
                       and start <= index.time_ns[row] <= end
                       and (win_request == -1 or index.request[row] in (0, win_request)))
            if not (tagged or in_span):
                continue
        out.append(row)
    return out


def index_events(events: Iterable[LogEvent], cancel: threading.Event | None = None,
                 progress: Progress | None = None, total: int = 0) -> LogIndex:
    """Index an event stream (stops early, keeping what it has, when ``cancel`` is set)."""
    index = LogIndex()
    for n, event in enumerate(events):
        if n % 4096 == 0:
            if cancel is not None and cancel.is_set():
                break
            if progress is not None and n:
                progress("indexing logs", n, total)
        index.add(event)
    if progress is not None:
        progress("sorting", len(index), len(index))
    index.finish(cancel)
    return index


def read_events(paths: Sequence[str], cancel: threading.Event | None = None,
                config: IngestConfig | None = None) -> Iterable[LogEvent]:
    """Stream the events of every log/trace file, merged by time, through the pipeline.

    Imported lazily: the index works on any event stream (tests feed events directly),
    and the Logs screen reports a failing reader as an error instead of crashing.
    """
    from probes.pipeline import iter_events

    return iter_events(paths, config=config, cancel=cancel)


def build_index(paths: Sequence[str], cancel: threading.Event | None = None,
                progress: Progress | None = None, config: IngestConfig | None = None
                ) -> LogIndex:
    """Index the log/trace files at ``paths`` (the ``Analysis.log_paths``), read with the
    analysis's ``config`` (its ``--field`` mappings) so both name the same instances."""
    total = 0
    for path in paths:
        try:
            total += max(1, os.path.getsize(path) // 120)  # a rough line estimate
        except OSError:
            continue
    return index_events(read_events(paths, cancel, config), cancel, progress, total)

