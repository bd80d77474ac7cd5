"""What walking the README as a first user found: each test pins a README promise that the
code broke (exit codes, readable tables) so it stays true. Real subprocesses and files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
SHARED_INSTANCE = GOLDEN / "shared-instance-autogen-ts"


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("argv", [
    ("analyze", "--format", "xml", str(SHARED_INSTANCE)),
    ("analyze", "--no-such-flag", str(SHARED_INSTANCE)),
    ("--no-such-flag",),
    ("ps", "--port", "not-a-number"),
    ("code",),
])
def test_bad_flags_exit_1_not_2(argv: tuple[str, ...]) -> None:
    """README: 1 is 'bad flags', 2 is '--fail-on matched'; argparse's own 2 must not leak,
    or a CI gate reads a typo as a verdict."""
    out = run(*argv)
    assert out.returncode == 1, out.stderr.decode()
    assert b"usage:" in out.stderr and out.stdout == b""


def test_help_still_exits_0() -> None:
    out = run("analyze", "--help")
    assert out.returncode == 0 and b"--fail-on" in out.stdout


def test_fail_on_rejects_unknown_cause_ids_before_analysing() -> None:
    """A misspelt id would never match, so the gate would pass silently: refuse it."""
    out = run("analyze", "--fail-on", "shared-instanse", str(SHARED_INSTANCE))
    assert out.returncode == 1
    assert b"unknown cause id(s) shared-instanse" in out.stderr
    assert out.stdout == b""


def test_fail_on_known_ids_still_match_with_spaces() -> None:
    out = run("analyze", "--fail-on", " oom , shared-instance ", str(SHARED_INSTANCE))
    assert out.returncode == 2, out.stderr.decode()
    out = run("analyze", "--fail-on", "oom,healthy,inconclusive", str(SHARED_INSTANCE))
    assert out.returncode == 0, out.stderr.decode()
