"""``LogReader``: one input streamed into ``LogEvent``s, with an honest report.

The reader opens the input (file, gzip, stdin), takes a 64 KiB head sample to decide
what it is and which format to lock (``sniff.classify_head``), replays that sample
and streams the rest line by line: unwrap container prefixes, join partial records,
parse, classify. Nothing is held but the current record, so memory stays bounded
whatever the file size. Every physical line is counted: it becomes an event, is
joined into a record (CRI ``P`` / Docker partials), or is skipped with a reason.
``report()`` is valid at any moment, during or after iteration.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

from probes.events import LogEvent
from probes.evidence import InputReport
from probes.ingest.blocks import MAX_BLOCK_BYTES, MAX_BLOCK_LINES, BlockJoiner
from probes.ingest.config import IngestConfig
from probes.ingest.limits import DEEP_REASON, text_too_deep
from probes.ingest.lineformats import LineParser, detect_format
from probes.ingest.sniff import classify_head, sample_lines
from probes.ingest.sources import (
    SAMPLE_BYTES,
    InputFile,
    LineCounter,
    ReplayStream,
    capped_lines,
    decoded_stream,
    gzip_problem,
    open_raw,
    peek_stdin,
    read_sample,
)
from probes.ingest.traces import console_objects, trace_object_events
from probes.ingest.wrappers import Unwrapper, detect_wrappers, inner_sample

CANCEL_EVERY = 1024
_POD_SOURCE = re.compile(r"pod/([^/\s]+)/\S")
"""Inputs named for a pod (``pod/NAME/CONTAINER``, as bundle logs are) give that pod as
the host of lines that name none."""
TRACE_LINE_FACTOR = 16
"""An OTLP line holds a whole batch of spans: one trace object may be this many times
the line cap before it is skipped as too large."""


class _Pending:
    """A record being joined from partial lines (CRI ``P``, Docker without ``\\n``)."""

    __slots__ = ("cut", "host", "line", "parts", "size", "time_ns")

    def __init__(self, line: int, time_ns: int | None, host: str | None) -> None:
        self.line = line
        self.time_ns = time_ns
        self.host = host
        self.parts: list[str] = []
        self.size = 0
        self.cut = False


class LogReader:
    """Streams one log or trace input as LogEvents (see the module docstring)."""

    def __init__(self, inp: InputFile, config: IngestConfig, *, stdin: BinaryIO | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.inp = inp
        self.config = config
        self.stdin = stdin
        self.cancel = cancel
        self._kind = "log"
        self._format = ""
        self._error: str | None = inp.error
        self._counter = LineCounter()
        self._decoded: BinaryIO | None = None  # the decompressing stream, for gzip_problem
        self._events = 0
        self._skipped: Counter[str] = Counter()
        self._replaced = 0
        self._joined = 0
        self._unterminated = 0
        self._parser: LineParser | None = None
        self._joiner: BlockJoiner | None = None
        self._notes: list[str] = []
        self._started = False
        m = _POD_SOURCE.match(inp.name)
        self._name_host = m.group(1) if m else None

    # ------------------------------------------------------------------ report

    def report(self) -> InputReport:
        """What happened to this input so far (final once ``events()`` is exhausted)."""
        c = self._counter
        notes = list(self._notes)
        if c.cut:
            notes.append(f"{c.cut} line(s) longer than {self.config.max_line_bytes} bytes, cut")
        if self._replaced:
            notes.append(f"{self._replaced} line(s) had invalid UTF-8 (replaced with U+FFFD)")
        if self._joined:
            notes.append(f"{self._joined} partial line(s) joined into the following record")
        if self._unterminated:
            notes.append(f"{self._unterminated} partial record(s) never finished (kept as is)")
        j = self._joiner
        if j is not None and j.folded:
            notes.append(f"{j.folded} line(s) of tracebacks/stacks joined into their error "
                         "event")
        if j is not None and j.cut:
            notes.append(f"{j.cut} traceback/stack block(s) longer than {MAX_BLOCK_LINES} lines "
                         f"or {MAX_BLOCK_BYTES} bytes, cut (the rest read as lines)")
        if self._parser is not None and self._parser.split_lines:
            notes.append(f"{self._parser.split_lines} line(s) held several JSON records "
                         f"(writers sharing a stream), read as {self._parser.split_events} "
                         "events")
        if self._parser is not None and self._parser.shapes.too_long:
            notes.append(f"{self._parser.shapes.too_long} line(s) too long for the access/error "
                         "layouts, read as plain text")
        if self._parser is not None and self._parser.unparsed:
            notes.append(f"{self._parser.unparsed} line(s) of unparsed text "
                         f"(not {self._parser.format}; kept as text events)")
        return InputReport(
            name=self.inp.name, kind=self._kind, format=self._format, lines_read=c.lines,
            events=self._events, skipped=dict(self._skipped), bytes_read=c.bytes_read,
            error=self._error, notes=tuple(notes),
        )

    # ------------------------------------------------------------------ reading

    def events(self) -> Iterator[LogEvent]:
        """The input's events in file order. Expected failures end up in ``report()``."""
        if self._started:
            raise RuntimeError("LogReader.events() can be iterated once")
        self._started = True
        if self.inp.error:
            return
        try:
            raw = open_raw(self.inp, self.stdin)
        except OSError as exc:
            self._error = "permission denied" if isinstance(exc, PermissionError) else str(exc)
            return
        try:
            yield from self._read(raw)
        except OSError as exc:  # a device error mid-file: keep what was read
            self._error = f"read error: {exc}"
        finally:
            if self.inp.path is not None:
                raw.close()

    def _read(self, raw: BinaryIO) -> Iterator[LogEvent]:
        if self.inp.path is None:
            raw = peek_stdin(raw)
        stream, _gz = decoded_stream(raw)
        self._decoded = stream
        head, head_err = read_sample(stream)
        complete = len(head) < SAMPLE_BYTES
        kind, fmt, reason = classify_head(self.inp.name if self.inp.path else "-", head,
                                          complete, False)
        self._format = fmt
        if head_err and not head:
            self._error = f"cannot read: {head_err}"
            return
        if kind == "empty":
            self._notes.append("empty file" if not head else "file has only whitespace")
            if head_err:
                self._skipped[head_err] += 1
            elif head:
                # count the blank lines as such, so lines_read stays truthful
                yield from self._lines(self._body(head, stream, None), Unwrapper(()), None)
            return
        if kind == "binary":
            self._error = "binary file"
            self._notes.append(reason)
            return
        if kind in ("kube", "bundle", "code"):
            self._kind = kind
            self._error = f"not a log or trace: {reason}"
            return
        body = self._body(head, stream, head_err)
        if kind == "trace":
            self._kind = "trace"
            yield from self._trace_objects(body)
            return
        lines = sample_lines(head, complete)
        wrappers = detect_wrappers(lines)
        unwrap = Unwrapper(wrappers)
        inner_fmt, samples = detect_format(inner_sample(lines, unwrap))
        self._parser = LineParser(inner_fmt, samples, self.config.field_overrides, self.inp.name)
        yield from self._lines(body, unwrap, self._parser)

    def _body(self, head: bytes, stream: BinaryIO, head_err: str | None) -> BinaryIO:
        """The stream from its first byte again: the sample replayed, then the rest."""
        if head_err:
            self._counter.stop_reason = head_err
            return cast(BinaryIO, io.BufferedReader(ReplayStream(head, io.BytesIO())))
        return cast(BinaryIO, io.BufferedReader(ReplayStream(head, stream),
                                                buffer_size=SAMPLE_BYTES))

    def _cancelled(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            self._error = "cancelled"
            return True
        return False

    def _finish(self) -> None:
        reason = self._counter.stop_reason or gzip_problem(self._decoded)
        if reason:
            self._skipped[reason] += 1
            self._notes.append(f"stopped early: {reason}; kept what was read before it")

    def _lines(self, body: BinaryIO, unwrap: Unwrapper,
               parser: LineParser | None) -> Iterator[LogEvent]:
        counter = self._counter
        skipped = self._skipped
        wrapped = bool(unwrap.names)
        name_host = self._name_host
        pending: dict[str, _Pending] = {}
        cap = self.config.max_line_bytes
        joiner = None if parser is None else BlockJoiner(parser.parse, self.inp.name)
        self._joiner = joiner
        extra: list[LogEvent] = parser.extra if parser is not None else []
        for b in capped_lines(body, cap, counter):
            line_no = counter.lines
            if (line_no & (CANCEL_EVERY - 1)) == 0 and self._cancelled():
                return
            if not b or b.isspace():
                skipped["empty line"] += 1
                continue
            if b"\x00" in b:
                skipped["line has NUL bytes"] += 1
                continue
            try:
                s = b.decode()
            except UnicodeDecodeError:
                s = b.decode(errors="replace")
                self._replaced += 1
            if parser is None:  # only blank lines were expected
                skipped["not parsed"] += 1
                continue
            wrap_time: int | None = None
            wrap_host = name_host
            if wrapped:
                got = self._unwrap_line(s, line_no, unwrap, pending)
                if got is None:
                    continue
                s, line_no, wrap_time, wrap_host = got
            if "{" in s and text_too_deep(s):
                skipped[DEEP_REASON] += 1  # before any decoder or walk can recurse on it
                continue
            # JSON lines go straight to the parser unless a block is open or a line held
            if s[:1] != "{" or joiner.active:  # type: ignore[union-attr]
                out = joiner.feed(s, line_no, wrap_time, wrap_host)  # type: ignore[union-attr]
                if out:
                    self._events += len(out)
                    yield from out
            else:
                self._events += 1
                yield parser.parse(s, line_no, wrap_time, wrap_host)
            if extra:  # the line held several JSON records (two writers, one pipe)
                self._events += len(extra)
                yield from extra
                extra.clear()
        if parser is not None and joiner is not None:
            for text, first, wrap_time, wrap_host in self._unfinished(pending):
                out = joiner.feed(text, first, wrap_time, wrap_host)
                self._events += len(out)
                yield from out
        if joiner is not None:
            out = joiner.close()
            self._events += len(out)
            yield from out
        self._finish()

    def _unwrap_line(self, s: str, line_no: int, unwrap: Unwrapper,
                     pending: dict[str, _Pending]
                     ) -> tuple[str, int, int | None, str | None] | None:
        """One wrapped line's inner text, line number, wrapper time and host; None when
        it is a partial (CRI ``P``, Docker without ``\\n``) held for the next line of its
        stream. The line that ends a partial record gives the joined record under the
        record's first line, time and host. A method of its own so that the columnar
        decoder (``probes.columnar.decode``) unwraps and joins by this very code."""
        u = unwrap(s)
        s, wrap_time, wrap_host = u.text, u.time_ns, u.host or self._name_host
        cap = self.config.max_line_bytes
        if u.partial:
            part = pending.get(u.stream or "")
            if part is None:
                part = pending[u.stream or ""] = _Pending(line_no, wrap_time, wrap_host)
            self._add_part(part, s, cap)
            self._joined += 1
            return None
        done = pending.pop(u.stream or "", None) if pending else None
        if done is not None:
            self._add_part(done, s, cap)
            return "".join(done.parts), done.line, done.time_ns, done.host
        return s, line_no, wrap_time, wrap_host

    def _unfinished(self, pending: dict[str, _Pending]
                    ) -> list[tuple[str, int, int | None, str | None]]:
        """The partial records still open at the end of the input, each as (text, first
        line, time, host), counted as never finished; the caller feeds them to the
        block joiner."""
        out = []
        for part in pending.values():
            self._unterminated += 1
            self._joined -= 1  # its first line is now the event's line
            out.append(("".join(part.parts), part.line, part.time_ns, part.host))
        return out

    def _add_part(self, part: _Pending, s: str, cap: int) -> None:
        if part.cut:
            return
        if part.size + len(s) > cap:
            s = s[: max(0, cap - part.size)]
            part.cut = True
            self._counter.cut += 1
        part.parts.append(s)
        part.size += len(s)

    def _trace_objects(self, body: BinaryIO) -> Iterator[LogEvent]:
        counter = self._counter

        def on_skip(reason: str) -> None:
            self._skipped[reason] += 1

        def on_chunk(newlines: int, nbytes: int) -> None:
            counter.lines += newlines
            counter.bytes_read += nbytes

        objects = 0
        for line_no, obj in console_objects(body, self.config.max_line_bytes * TRACE_LINE_FACTOR,
                                            on_skip, on_chunk):
            objects += 1
            if (objects & (CANCEL_EVERY - 1)) == 0 and self._cancelled():
                return
            evs = trace_object_events(obj, self.inp.name, line_no)
            if evs is None:
                self._skipped["JSON object is not a span or OTLP record"] += 1
                continue
            self._events += len(evs)
            yield from evs
        self._notes.append(f"{objects} JSON object(s) read")
        self._finish()


def read_all(inp: InputFile, config: IngestConfig | None = None, **kw: Any
             ) -> tuple[list[LogEvent], InputReport]:
    """Convenience for tests and small inputs: every event plus the final report."""
    reader = LogReader(inp, config or IngestConfig(), **kw)
    evs = list(reader.events())
    return evs, reader.report()
