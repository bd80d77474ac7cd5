"""Exit codes of every headless command: stdout is data, stderr is diagnostics.

Shared by every front end (the commands exit with them, the app returns one), so it sits
beside ``tui.commands``, ``tui.app`` and ``tui.render`` rather than inside one of them.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """The analysis ran (whatever the verdict, including healthy and inconclusive)."""
    INPUT_ERROR = 1
    """A usage or input error: bad flags, a missing/unreadable/binary input, nothing usable."""
    FAIL_ON = 2
    """``--fail-on`` matched: the verdict is one the caller asked to fail on (CI use)."""
    UNREACHABLE = 3
    """A live target (cluster API, process, URL) could not be reached at all."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C; what ran is still reported."""
