"""Where lines come from: files, directories, ``.gz``, stdin, read in bounded pieces.

* ``discover`` expands the user's paths into ``InputFile``s; a path that cannot be
  read becomes an ``InputFile`` with ``error`` set (errors are data, never raised).
* ``open_input`` opens one input as a binary stream, gunzipping by magic bytes (not by
  name, so ``kubectl logs | gzip`` on stdin works too).
* ``ReplayStream`` lets ``sniff`` read a head sample of a pipe and hand the very same
  bytes on to the reader: nothing read from stdin is lost.
* ``capped_lines`` yields physical lines cut to the line cap WITHOUT building an
  over-long line first (``readline(limit)`` then discarding the rest in chunks), and
  turns a truncated gzip stream into a counted reason instead of an exception.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import weakref
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

SAMPLE_BYTES = 64 * 1024
"""Bound on the head sample ``sniff`` reads (also through gzip)."""

GZIP_MAGIC = b"\x1f\x8b"
DISCARD_CHUNK = 64 * 1024


@dataclass
class InputFile:
    """One input as the user named it. ``path`` is None for stdin (``name == "-"``);
    ``error`` says why it cannot be read ("no such file", "permission denied"...)."""

    name: str
    path: Path | None
    error: str | None = None


def discover(paths: Sequence[str]) -> list[InputFile]:
    """Expand paths into inputs: files kept, directories walked recursively in sorted
    order (hidden directories skipped), ``-`` is stdin. Never raises."""
    out: list[InputFile] = []
    for given in paths:
        if given == "-":
            out.append(InputFile("-", None))
            continue
        p = Path(given)
        try:
            if p.is_dir():
                out.extend(_walk_dir(given, p))
            elif p.exists():
                out.append(InputFile(given, p, _unreadable(p)))
            elif p.is_symlink():
                out.append(InputFile(given, p, "broken symlink"))
            else:
                out.append(InputFile(given, p, "no such file"))
        except OSError as exc:
            out.append(InputFile(given, p, _os_error_text(exc)))
    return out


def _walk_dir(given: str, root: Path) -> list[InputFile]:
    found: list[InputFile] = []
    errors: list[str] = []

    def on_error(exc: OSError) -> None:
        errors.append(_os_error_text(exc))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            full = Path(dirpath) / fname
            if not full.is_file():
                continue  # sockets, fifos, broken links inside a tree are not logs
            name = os.path.join(given, os.path.relpath(full, root))
            found.append(InputFile(name, full, _unreadable(full)))
    if not found:
        reason = errors[0] if errors else "is a directory with no files"
        return [InputFile(given, root, reason)]
    return found


def _unreadable(p: Path) -> str | None:
    if not os.access(p, os.R_OK):
        return "permission denied"
    return None


def _os_error_text(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror.lower() if exc.strerror else str(exc)


class ReplayStream(io.RawIOBase):
    """A read-only stream that first replays ``head`` and then reads on from ``rest``.

    ``sniff`` reads a sample of stdin into ``head``; the reader then reads this stream
    and sees every byte, sample included. Wrap it in ``io.BufferedReader`` for lines.
    """

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self.head = head
        self._pos = 0
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(b)
        if self._pos < len(self.head):
            n = min(len(view), len(self.head) - self._pos)
            view[:n] = self.head[self._pos : self._pos + n]
            self._pos += n
            return n
        data = self._rest.read(len(view))
        if not data:
            return 0
        n = len(data)
        view[:n] = data
        return n


_REPLAYS: weakref.WeakKeyDictionary[Any, ReplayStream] = weakref.WeakKeyDictionary()
"""Pipes already peeked, so ``sniff(inp, stdin=s)`` followed by ``LogReader(inp, ...,
stdin=s)`` with the same raw stream still sees the sampled bytes."""


def peek_stdin(stdin: BinaryIO, size: int = SAMPLE_BYTES) -> BinaryIO:
    """Read up to ``size`` bytes of a pipe (stopping early at EOF) and wrap the pipe so
    the bytes are replayed. A ReplayStream, or a pipe peeked before, gives the same
    replaying wrapper again: the sample is never lost between sniff and reader."""
    if isinstance(stdin, ReplayStream):
        return cast(BinaryIO, stdin)
    try:
        known = _REPLAYS.get(stdin)
    except TypeError:  # not weak-referenceable: no registry for this stream
        known = None
    if known is not None:
        return cast(BinaryIO, known)
    chunks: list[bytes] = []
    got = 0
    read1 = getattr(stdin, "read1", None)
    while got < size:
        data = read1(size - got) if read1 is not None else stdin.read(size - got)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    replay = ReplayStream(b"".join(chunks), stdin)
    with contextlib.suppress(TypeError):
        _REPLAYS[stdin] = replay
    return cast(BinaryIO, replay)


def open_raw(inp: InputFile, stdin: BinaryIO | None) -> BinaryIO:
    """The input's bytes as stored (still gzipped if it is). Raises OSError."""
    if inp.path is None:
        if stdin is None:
            raise OSError("stdin was not given to the reader")
        return stdin
    return open(inp.path, "rb")  # noqa: SIM115 - closed by the caller


def head_of(raw: BinaryIO) -> bytes:
    """The first bytes of a stream without consuming them where possible."""
    if isinstance(raw, ReplayStream):
        return raw.head[:SAMPLE_BYTES]
    peek = getattr(raw, "peek", None)
    if peek is not None:
        return bytes(peek(SAMPLE_BYTES)[:SAMPLE_BYTES])
    return b""


class GunzipReader(io.RawIOBase):
    """Decompress gzip (several members too) without ever losing decoded bytes.

    ``gzip.GzipFile`` raises EOFError on a truncated stream from inside a buffered read,
    and the bytes that read had already decoded are lost with the exception (up to a
    buffer's worth, or the whole head of a small file). Here a truncated or corrupt
    stream simply ends after the last decoded byte, and ``problem`` says why, so the
    reader keeps every line before the cut and reports the rest as skipped.
    """

    def __init__(self, source: Any) -> None:
        self._source = source
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False
        self.problem: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            self._fill()
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _fill(self) -> None:
        chunk = self._source.read(SAMPLE_BYTES)
        if not chunk:
            if not self._inflate.eof:
                self.problem = "gzip stream truncated"
            self._done = True
            return
        try:
            self._pending = self._inflate.decompress(chunk)
            while self._inflate.eof and self._inflate.unused_data:
                rest = self._inflate.unused_data  # the next gzip member
                if rest.strip(b"\0") == b"":
                    break  # trailing padding, as gzip tolerates
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._pending += self._inflate.decompress(rest)
        except zlib.error:
            self.problem = "gzip data corrupt"
            self._done = True


def decoded_stream(raw: BinaryIO) -> tuple[BinaryIO, bool]:
    """Wrap a raw stream so reads give decompressed bytes when it is gzip.
    Returns (stream, is_gzip); for gzip, ``gzip_problem(stream)`` tells, once the stream
    is exhausted, whether it ended early."""
    buffered: Any = raw
    if isinstance(raw, ReplayStream) or not hasattr(raw, "peek"):
        buffered = io.BufferedReader(cast(Any, raw), buffer_size=SAMPLE_BYTES)
    magic = buffered.peek(2)[:2]
    if magic == GZIP_MAGIC:
        return cast(BinaryIO, io.BufferedReader(GunzipReader(buffered),
                                                buffer_size=SAMPLE_BYTES)), True
    return cast(BinaryIO, buffered), False


def gzip_problem(stream: Any) -> str | None:
    """Why a gzip stream from ``decoded_stream`` ended early (None: it did not)."""
    raw = getattr(stream, "raw", None)
    return raw.problem if isinstance(raw, GunzipReader) else None


def read_sample(stream: BinaryIO, size: int = SAMPLE_BYTES) -> tuple[bytes, str | None]:
    """Read at most ``size`` bytes (decompressed); a broken gzip gives what decoded
    plus the reason."""
    chunks: list[bytes] = []
    got = 0
    while got < size:
        try:
            data = stream.read(min(8192, size - got))
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            return b"".join(chunks), stream_error_text(exc)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    return b"".join(chunks), gzip_problem(stream)


def stream_error_text(exc: Exception) -> str:
    """Why reading stopped, as a skip reason."""
    if isinstance(exc, EOFError):
        return "gzip stream truncated"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return "gzip data corrupt"
    return f"read error: {exc}"


class LineCounter:
    """Counts shared between ``capped_lines`` and its consumer (lines and bytes seen,
    lines cut, the reason the stream stopped early)."""

    __slots__ = ("bytes_read", "cut", "lines", "stop_reason")

    def __init__(self) -> None:
        self.lines = 0
        self.bytes_read = 0
        self.cut = 0
        self.stop_reason: str | None = None


def capped_lines(stream: BinaryIO, cap: int, counter: LineCounter) -> Iterator[bytes]:
    """Physical lines without their line ending, each at most ``cap`` bytes.

    A longer line is cut at ``cap``: the rest is read and dropped in 64 KiB pieces, so
    a 50 MB line costs ``cap`` bytes of memory, not 50 MB. A truncated or corrupt gzip
    ends the iteration with ``counter.stop_reason`` set; lines decoded before it count.
    """
    readline = stream.readline
    limit = cap + 1  # one more than the cap so a line of exactly ``cap`` bytes + "\n" fits
    while True:
        try:
            b = readline(limit)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            counter.stop_reason = stream_error_text(exc)
            return
        if not b:
            return
        counter.lines += 1
        counter.bytes_read += len(b)
        if b[-1:] == b"\n":
            b = b[:-2] if b[-2:] == b"\r\n" else b[:-1]
        elif len(b) == limit:
            dropped = _discard_rest(readline, counter)
            if dropped < 0:
                return
            if dropped > 0 or b[-1:] != b"\r":
                counter.cut += 1
                b = b[:cap]
            else:
                b = b[:-1]
        yield b


def _discard_rest(readline: object, counter: LineCounter) -> int:
    """Drop the rest of an over-long line. Returns bytes dropped (excluding the line
    ending), or -1 when the stream broke while doing it."""
    dropped = 0
    rl = readline  # callable: (int) -> bytes
    while True:
        try:
            chunk = rl(DISCARD_CHUNK)  # type: ignore[operator]
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            counter.stop_reason = stream_error_text(exc)
            return -1
        if not chunk:
            return dropped
        counter.bytes_read += len(chunk)
        if chunk[-1:] == b"\n":
            return dropped + len(chunk) - 1
        dropped += len(chunk)
