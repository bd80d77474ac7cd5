"""Multi-line records that have no level field: tracebacks, Node stacks, V8 fatals.

A Python service prints an unhandled exception as a block: ``Traceback (most recent
call last):``, indented ``File ...`` frames, and the exception line (``ValueError:
bad``) last; Node prints the error line and ``    at fn (file.js:10:5)`` frames; V8
prints ``<--- Last few GCs --->``, GC lines, ``FATAL ERROR: ...`` and native frames
before it aborts. Read line by line none of these lines carries a level, so the
failure was invisible. ``BlockJoiner`` folds each block into ONE event: kind ERROR,
``error`` the exception line(s) (a chain reads ``final <- earlier``),
``fields["frames"]`` the innermost frame as ``file:line in func``, ``line`` the block's
first line and ``text`` that line as it is (so an excerpt is found on the line it cites).

A block right after an error-level text line (``logger.exception("boom")``, uvicorn's
``ERROR: Exception in ASGI application``, Node's ``TypeError: x is not a function``)
belongs to that line: the line is held back until the next line shows whether a
block follows, and the block's exception becomes its ``error``, so one failure is
one event, not two. Only error-level text lines are held (one per host, at most
``MAX_HELD``); every other line passes straight through, so an event may come out a few
lines after an event of another pod that followed it in the file.

Blocks are tracked per host (pod), so stacks of two pods interleaved by ``kubectl
logs --prefix`` stay apart; a line that is not part of an unfinished Python
traceback (an access line printed meanwhile by another worker) is passed through and
the traceback stays open, up to ``MAX_INTERLEAVED`` such lines. Rules are tables of
prefixes; every block is bounded (``MAX_BLOCK_LINES``, ``MAX_BLOCK_BYTES``) and
counted when cut.

=================  ==========================================  ===========================
block              continues with                               ends at
=================  ==========================================  ===========================
Python traceback   indented lines (frames, code, ``^^^``, group  the first plain line after
                   ``|`` lines), chain sentences, loguru         the exception line (and its
                   ``> File``, psycopg ``DETAIL:`` lines         indented / DETAIL lines)
Node stack         indented lines after an error line: ``at``    the first plain line;
                   frames, ``--> starting at`` details, ``{``    ``Node.js vN`` is kept
                   props ``}``
V8 fatal           GC lines of one pid, ``)`` wraps, markers,    another process's GC line
                   ``FATAL ERROR:``, native frames               or fatal; ``Aborted``
=================  ==========================================  ===========================

Fields: ``frames`` (innermost frame), ``block`` (python-traceback, stack,
continuation, v8-fatal), ``detail`` (a few non-frame lines: Node's circular-structure
path, psycopg's DETAIL), ``fatal`` (heap_oom, memory_error...), ``heap_mb`` (V8: the heap
after the last GC before the fatal).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from probes.events import ERROR, FATAL, WARN, EventKind, LogEvent
from probes.ingest.roles import MAX_ERROR_TEXT
from probes.ingest.textshapes import is_exception_line, marks_of

MAX_BLOCK_LINES = 400
MAX_BLOCK_BYTES = 64 * 1024
MAX_INTERLEAVED = 64
MAX_DETAIL_LINES = 8
MAX_FRAME_LINE = 2048
"""Frame rules look at a line's first this many characters (a frame is short; the
regular expressions stay cheap on a 1 MiB line)."""
MAX_HELD = 64
"""Error lines held back at once (one per host) while waiting to see if a block follows."""

PY_START = "Traceback (most recent call last):"
PY_GROUP_START = "+ Exception Group Traceback (most recent call last):"
PY_CHAIN = {
    "During handling of the above exception, another exception occurred:": "during",
    "The above exception was the direct cause of the following exception:": "cause",
}
PY_MESSAGE_MORE = ("DETAIL:  ", "HINT:  ", "CONTEXT:  ", "LINE ")
"""Unindented lines that continue an exception's message (PostgreSQL errors as psycopg
and asyncpg print them)."""
V8_MARKERS = ("<--- Last few GCs --->", "<--- JS stacktrace --->", "==== JS stack trace",
              "----- Native stack trace -----", "Security context:")
V8_START = ("<--- Last few GCs --->", "<--- JS stacktrace --->", "FATAL ERROR:")

_PY_FRAME = re.compile(r'[\s|]*File "([^"]+)", line (\d+)(?:, in (.+))?')
_PY_EXC = re.compile(r"[A-Za-z_][\w.]*(?::|$)")
_PY_GROUP_LINE = re.compile(r"(?:\s*\|)+ (.*)")
_LEVEL_WORD = re.compile(r"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\b")
_NODE_AT = re.compile(r"\s+at (?:async )?(?:(.+?) \((.+?):(\d+):\d+\)|(.+?):(\d+):\d+)\s*\{?$")
_V8_GC = re.compile(r"\[(\d+):(?:0x)?[0-9A-Fa-f]+\]")
_V8_HEAP = re.compile(r"-> ([\d.]+) \([\d.]+\) MB")
_V8_NATIVE = re.compile(r"\s*\d+: (?:0x)?[0-9A-Fa-f]+")

_CONT, _DONE, _NO, _PASS = 0, 1, 2, 3


class _Block:
    __slots__ = ("detail", "errors", "first", "frame", "group", "head", "host", "kind",
                 "line", "lines", "passes", "pid", "size", "state", "time_ns")

    def __init__(self, kind: str, head: LogEvent | None, line: int, time_ns: int | None,
                 host: str | None, first: str) -> None:
        self.kind = kind  # "py" | "node" | "v8"
        self.head = head
        self.line = line
        self.time_ns = time_ns
        self.host = host
        self.first = first
        self.lines = 1
        self.size = len(first)
        self.state = "frames"
        self.errors: list[str] = []
        self.detail: list[str] = []  # a Node block's lines that are not frames, a few
        self.frame: str | None = None
        self.group = False  # py: an exception-group traceback; node: an "at" frame seen
        self.passes = 0
        self.pid: str | None = None


def start_kind(s: str) -> str | None:
    """Which block a line opens: "py", "node" (an ``at`` frame), "v8", or None."""
    c = s[:1]
    if c == "T":
        return "py" if s.startswith(PY_START) else None
    if c == " " or c == "\t":
        st = s.lstrip()
        if st.startswith("at "):
            return "node"
        if st.startswith(PY_GROUP_START):
            return "py"
        return None
    if (c == "<" or c == "F") and s.startswith(V8_START):
        return "v8"
    return None


def _py_frame(s: str) -> str | None:
    m = _PY_FRAME.match(s[:MAX_FRAME_LINE])
    if m is None:
        return None
    where = f"{m.group(1)}:{m.group(2)}"
    return f"{where} in {m.group(3).strip()}" if m.group(3) else where


def _node_frame(s: str) -> str | None:
    m = _NODE_AT.match(s[:MAX_FRAME_LINE].rstrip())
    if m is None:
        return None
    if m.group(2) is not None:
        return f"{m.group(2)}:{m.group(3)} in {m.group(1)}"
    return f"{m.group(4)}:{m.group(5)}"


class BlockJoiner:
    """Folds the blocks of one input into events (see the module docstring).

    ``feed`` takes each inner line (after unwrapping) and returns the events that are
    complete; ``close`` returns what is still open at the end. ``active`` is False
    when nothing is held or open, so the reader can send JSON lines past it."""

    def __init__(self, parse: Callable[[str, int, int | None, str | None], LogEvent],
                 source: str) -> None:
        self.parse = parse
        self.source = source
        self.held: dict[str | None, LogEvent] = {}
        self.blocks: dict[str | None, _Block] = {}
        self.folded = 0
        self.cut = 0
        self.active = False

    # ------------------------------------------------------------------ feeding

    def feed(self, s: str, line_no: int, t: int | None, host: str | None) -> list[LogEvent]:
        out: list[LogEvent] = []
        if self.blocks:
            b = self.blocks.get(host)
            if b is not None:
                # an empty inner line (CRI "stderr F " + nothing) sits between chained
                # tracebacks; a blank line of the file itself never reaches here
                r = _CONT if not s or s.isspace() else self._accept(b, s)
                if r in (_CONT, _DONE):
                    self.folded += 1
                    b.lines += 1
                    b.size += len(s)
                    if r == _DONE or b.lines >= MAX_BLOCK_LINES or b.size >= MAX_BLOCK_BYTES:
                        if r == _CONT:
                            self.cut += 1
                        del self.blocks[host]
                        out.append(self._finish(b))
                    self.active = bool(self.held) or bool(self.blocks)
                    return out
                if r == _NO:
                    del self.blocks[host]
                    out.append(self._finish(b))
        self._line(s, line_no, t, host, out)
        self.active = bool(self.held) or bool(self.blocks)
        return out

    def close(self) -> list[LogEvent]:
        """Everything still held or open (end of input)."""
        out: list[LogEvent] = list(self.held.values())
        self.held.clear()
        for b in self.blocks.values():
            out.append(self._finish(b))
        self.blocks.clear()
        self.active = False
        return out

    def _line(self, s: str, line_no: int, t: int | None, host: str | None,
              out: list[LogEvent]) -> None:
        start = start_kind(s)
        held = self.held.pop(host, None) if self.held else None
        if held is not None:
            if start is None and (s[:1] == " " or s[:1] == "\t"):
                start = "node"  # an indented detail line under an error line (Node's
                # "    --> starting at object..." before its frames)
            if (start == "py" or start == "node") and host not in self.blocks:
                b = _Block(start, held, held.line, held.time_ns, host, s)
                if start == "node":
                    b.frame = _node_frame(s)
                    b.group = s.lstrip().startswith("at ")
                    if not b.group:
                        b.detail.append(s.strip()[:MAX_ERROR_TEXT])
                elif s.lstrip().startswith("+"):
                    b.group = True
                self.blocks[host] = b
                self.folded += 1
                return
            out.append(held)
        if start is None and s.endswith(PY_START) and host not in self.blocks:
            # "TypeError('...')Traceback (most recent call last):" (a pasted repr glued
            # to its traceback): the text before is the header the block belongs to
            head = self.parse(s[: -len(PY_START)].rstrip(), line_no, t, host)
            head.text = s
            if head.level is None or head.level < ERROR:
                head.level = ERROR
            self.blocks[host] = _Block("py", head, line_no, head.time_ns, host, s)
            return
        if (start == "py" or start == "v8") and host not in self.blocks:
            b = _Block(start, None, line_no, t, host, s)
            if start == "v8" and s.startswith("FATAL ERROR:"):
                b.errors.append(s[:MAX_ERROR_TEXT])
            elif start == "py" and s.lstrip().startswith("+"):
                b.group = True
            self.blocks[host] = b
            return
        ev = self.parse(s, line_no, t, host)
        if ev.level is not None and ev.level >= ERROR and s[:1] != "{" \
                and ev.kind is not EventKind.REQUEST_END \
                and not (ev.fields and "resolver" in ev.fields):  # resolver lines: each its own
            if len(self.held) >= MAX_HELD:  # many pods at once: release the oldest
                oldest = next(iter(self.held))
                out.append(self.held.pop(oldest))
            self.held[host] = ev
        else:
            out.append(ev)

    # ------------------------------------------------------------------ rules

    def _accept(self, b: _Block, s: str) -> int:
        if b.kind == "py":
            return self._accept_py(b, s)
        if b.kind == "node":
            return self._accept_node(b, s)
        return self._accept_v8(b, s)

    def _accept_py(self, b: _Block, s: str) -> int:
        c = s[:1]
        indented = c == " " or c == "\t"
        if b.state == "frames":
            if indented:
                if "|" in s[:40]:
                    gm = _PY_GROUP_LINE.match(s[:MAX_FRAME_LINE])
                    if gm is not None:
                        inner = gm.group(1)
                        if inner[:1] not in (" ", "") and not inner.startswith(PY_START) \
                                and inner not in PY_CHAIN and _PY_EXC.match(inner) \
                                and not inner.startswith("File "):
                            b.errors.append(inner[:MAX_ERROR_TEXT])
                            return _CONT
                if "File " in s[:60]:
                    fr = _py_frame(s)
                    if fr is not None:
                        b.frame = fr
                return _CONT
            if s.startswith("> File "):  # loguru marks the frame that raised
                fr = _py_frame(s[2:])
                if fr is not None:
                    b.frame = fr
                return _CONT
            if s.startswith(PY_START):
                return _NO  # a new traceback: the open one never printed its exception
            if s in PY_CHAIN:
                b.state = "chain"
                return _CONT
            if b.group:
                return _NO  # a group traceback is all indented: the first plain line ends it
            if _PY_EXC.match(s) and not _LEVEL_WORD.match(s):
                b.errors.append(s[:MAX_ERROR_TEXT])
                b.state = "after"
                return _CONT
            b.passes += 1
            return _NO if b.passes > MAX_INTERLEAVED else _PASS
        if b.state == "after":
            if indented:
                return _CONT  # detail lines under the exception (pydantic, notes)
            if s.startswith(PY_MESSAGE_MORE):  # psycopg: the server's DETAIL/HINT lines
                if len(b.detail) < MAX_DETAIL_LINES:
                    b.detail.append(s[:MAX_ERROR_TEXT])
                return _CONT
            if s in PY_CHAIN:
                b.state = "chain"
                return _CONT
            return _NO
        # chain: the next traceback of the chain
        if s.startswith(PY_START):
            b.state = "frames"
            return _CONT
        if indented and s.lstrip().startswith(PY_GROUP_START):
            b.state = "frames"
            b.group = True
            return _CONT
        return _NO

    def _accept_node(self, b: _Block, s: str) -> int:
        c = s[:1]
        if b.state == "props":
            if c == " " or c == "\t":
                return _CONT
            if c == "}":
                b.state = "frames"
                return _CONT
            return _NO
        if c == " " or c == "\t":
            st = s.lstrip()
            if st.startswith("at "):
                b.group = True  # for a Node block: an "at" frame was seen
                if b.frame is None:
                    b.frame = _node_frame(s)
                if s.rstrip().endswith("{"):
                    b.state = "props"
                return _CONT
            if b.frame is None and not b.errors and is_exception_line(st):
                b.errors.append(st[:MAX_ERROR_TEXT])  # the error under a bare "Error" line
            elif len(b.detail) < MAX_DETAIL_LINES:
                b.detail.append(st[:MAX_ERROR_TEXT])
            return _CONT  # detail lines ("--> starting at object", "... 3 more")
        if s.startswith("Node.js v"):
            return _DONE
        return _NO

    def _accept_v8(self, b: _Block, s: str) -> int:
        c = s[:1]
        if s.startswith("FATAL ERROR:"):
            if b.errors:
                return _NO  # the next process's fatal (cluster workers share stderr)
            b.errors.append(s[:MAX_ERROR_TEXT])
            return _CONT
        if b.errors and s.startswith("<--- Last few GCs --->"):
            return _NO
        if c == "[":
            m = _V8_GC.match(s)
            if m is not None:
                if b.pid is not None and m.group(1) != b.pid:
                    return _NO  # another process's GC lines
                b.pid = m.group(1)
                b.detail[:] = [s[:MAX_FRAME_LINE]]  # the last GC line: the heap when it died
                return _CONT
            return _NO
        if c == ")" or c == " " or c == "\t" or s.startswith(V8_MARKERS):
            return _CONT
        if c.isdigit() and _V8_NATIVE.match(s):
            return _CONT
        if s.startswith("Aborted"):
            return _DONE
        return _NO

    # ------------------------------------------------------------------ events

    def _finish(self, b: _Block) -> LogEvent:
        if b.kind == "v8":
            return self._finish_v8(b)
        fields: dict[str, object] = {}
        if b.frame is not None:
            fields["frames"] = b.frame[:MAX_ERROR_TEXT]
        fields["block"] = "python-traceback" if b.kind == "py" else (
            "stack" if b.frame is not None or b.group else "continuation")
        if b.detail:
            fields["detail"] = " | ".join(b.detail)[:MAX_ERROR_TEXT]
        error: str | None = None
        if b.errors:
            error = " <- ".join(reversed(b.errors))[:MAX_ERROR_TEXT]
            got = marks_of(b.errors[-1])
            if got is not None:
                fields.update(got[1])
        ev = b.head
        if ev is None:
            text = b.first  # the raw first line: an excerpt must be found on its line
            return LogEvent(b.time_ns, self.source, b.line, ERROR,
                            error or "Python traceback (no exception line)", EventKind.ERROR,
                            b.host, None, None, None, None, None,
                            error or "Python traceback (no exception line)", None, None,
                            fields, text[:MAX_ERROR_TEXT * 4])
        if error is not None:
            ev.error = error
        elif ev.error is None:
            ev.error = ev.message[:MAX_ERROR_TEXT] or None
        if ev.level is None or ev.level < ERROR:
            ev.level = ERROR
        if ev.kind is EventKind.OTHER or ev.kind is EventKind.PROCESS_START:
            ev.kind = EventKind.ERROR
        ev.fields = {**ev.fields, **fields} if ev.fields else fields
        return ev

    def _finish_v8(self, b: _Block) -> LogEvent:
        fields: dict[str, object] = {"block": "v8-fatal"}
        gc = _V8_HEAP.search(b.detail[0]) if b.detail else None
        if gc is not None:
            fields["heap_mb"] = float(gc.group(1))
        if b.errors:
            error: str | None = b.errors[-1]
            fields["fatal"] = "heap_oom" if "heap out of memory" in b.errors[-1] else "v8_fatal"
            level, kind, message = FATAL, EventKind.ERROR, b.errors[-1]
            text = b.first
        else:
            error = None
            level, kind, message, text = WARN, EventKind.OTHER, b.first, b.first
        return LogEvent(b.time_ns, self.source, b.line, level, message, kind, b.host, b.pid,
                        None, None, None, None, error, None, None, fields, text)
