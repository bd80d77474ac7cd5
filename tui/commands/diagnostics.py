"""What headless commands share: messages on stderr, and Ctrl-C that stops work cleanly.

stdout is data; everything for the human goes through ``err`` on stderr, redacted (an
error may quote a URL with its password, or a server's reply), made visible (control
characters escaped) and never parsed as markup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def err(msg: str) -> None:
    """One line on stderr, prefixed with the program name. Rich and the redaction patterns
    load here, not with the module: every command imports this one, 'scaledoc --help' too."""
    from rich.console import Console
    from rich.text import Text

    from probes.redact import redact_text
    from probes.safe_text import visible

    shown = visible(redact_text(msg))  # errors quote paths, URLs and server replies
    Console(stderr=True, highlight=False).print(Text(f"scaledoc: {shown}", style="red"),
                                               soft_wrap=True)


def run_interruptibly(work: Callable[[threading.Event], T], *, name: str = "scaledoc-work"
                      ) -> tuple[T | BaseException, bool]:
    """Run ``work(cancel)`` in a named thread; Ctrl-C sets ``cancel`` and waits for it.

    Returns the result, or the exception the work raised (as data), and whether Ctrl-C
    was pressed, so the caller can still report what ran. It waits on an Event rather
    than ``Thread.join``: a KeyboardInterrupt inside ``join()`` can leave ``is_alive()``
    wrongly False (CPython gh-90882), and we would return before the work did.
    """
    cancel = threading.Event()
    done = threading.Event()
    box: list[T | BaseException] = []

    def run() -> None:
        try:
            box.append(work(cancel))
        except BaseException as exc:  # handed back to the main thread as data
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=name).start()
    interrupted = False
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            interrupted = True
            cancel.set()
    return box[0], interrupted
