"""Temporary space owned by one context per process, cleaned on exit, on signals and at
the next start.

Everything scaledoc writes to the temp folder (bundle logs extracted for the reader,
live pod logs handed to it) lives under one folder per process,
``scaledoc-tmp-<pid>-<random>``. It is removed when the process exits normally, on
SIGTERM and SIGHUP (the default action is then taken, so the exit status is the
signal's), and, for a process that was killed outright (SIGKILL, a power cut), by the
next scaledoc process that needs temp space: folders whose pid is no longer running
are stale and removed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

PREFIX = "scaledoc-tmp-"
_STALE = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    return True


def clean_stale(base: Path | None = None) -> list[Path]:
    """Remove the temp folders of scaledoc processes that are gone; return them."""
    base = Path(base or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            m = _STALE.match(entry.name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


class TempSpace:
    """The process's temp folder: created on first use, removed by ``cleanup``."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = base
        self.root: Path | None = None
        self._lock = threading.Lock()

    def folder(self, purpose: str) -> Path:
        """A new private folder (mode 0700) for one use, inside the process's root."""
        with self._lock:
            if self.root is None or not self.root.exists():
                clean_stale(self.base)
                self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-",
                                                  dir=self.base))
            return Path(tempfile.mkdtemp(prefix=f"{purpose}-", dir=self.root))

    @contextlib.contextmanager
    def scoped(self, purpose: str) -> Iterator[Path]:
        """A folder removed when the block ends (and with the root in any case)."""
        path = self.folder(purpose)
        try:
            yield path
        finally:
            release(path)

    def cleanup(self) -> None:
        with self._lock:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None


def release(path: Path) -> None:
    """Remove one folder handed out by ``TempSpace.folder`` (before the process ends)."""
    shutil.rmtree(path, ignore_errors=True)


_SPACE: TempSpace | None = None
_SPACE_LOCK = threading.Lock()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _SPACE is not None:
        _SPACE.cleanup()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def space() -> TempSpace:
    """The process's temp space. The first call registers the cleanup at exit and, from
    the main thread, on SIGTERM/SIGHUP where nobody else handles them."""
    global _SPACE
    with _SPACE_LOCK:
        if _SPACE is None:
            _SPACE = TempSpace()
            atexit.register(_SPACE.cleanup)
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                    if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
                        signal.signal(sig, _on_signal)
        return _SPACE
