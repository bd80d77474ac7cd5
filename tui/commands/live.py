"""Live sub-commands: ``scaledoc ps`` (process probe) and ``scaledoc ramp`` (concurrency ramp).

stdout carries data (tables, or the Evidence as JSON with ``--json``); stderr carries
diagnostics and the ramp's progress bar. Exit codes (``tui.exit_codes.ExitCode``):
INPUT_ERROR for bad flags or a refused target, UNREACHABLE when no process is found or
the URL cannot be reached at all, INTERRUPTED after Ctrl-C (what ran is still printed).

The probe runs in a worker thread so that Ctrl-C in the main thread can set the probe's
cancel event and still collect the partial Evidence, instead of unwinding through it.
Everything read from processes and responses is shown as plain ``rich.text.Text`` after
``visible()``: a command line or error body holding escape sequences cannot drive the
terminal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands.diagnostics import err, run_interruptibly
from tui.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.progress import Progress

    from probes.evidence import Evidence
    from probes.ramp import RampPlan

# psutil (probes.process) and httpx (probes.ramp) are imported by the commands that use
# them: building the parser for '--help' or another command must not load them.


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ps`` and ``ramp`` to the scaledoc command line."""
    ps = subparsers.add_parser(
        "ps", help="find the processes serving a port, pid or command, and their pressure",
        description="Find the processes that serve an app (by listening port, pid or command "
                    "pattern, plus their master and workers) and report identity, memory "
                    "growth, file descriptors and sockets.")
    ps.add_argument("--port", type=int, help="TCP port the app listens on")
    ps.add_argument("--pid", type=int, help="a process id")
    ps.add_argument("--match", metavar="PAT", help="regular expression for the command line")
    ps.add_argument("--sample", type=float, default=2.0, metavar="SECONDS",
                    help="how long to sample memory and CPU (default 2)")
    ps.add_argument("--json", action="store_true", help="print the Evidence as JSON")
    ps.set_defaults(func=cmd_ps)

    ramp = subparsers.add_parser(
        "ramp", help="send one request at rising concurrency and watch errors and latency",
        description="Send the same request at rising concurrency levels and report error rate, "
                    "status mix, latency and distinct 5xx messages per level. Each request "
                    "carries x-request-id: scaledoc-<level>-<n>. Loopback targets only unless "
                    "--yes.")
    ramp.add_argument("url", metavar="URL")
    body = ramp.add_mutually_exclusive_group()
    body.add_argument("--json-body", metavar="JSON", help="JSON request body")
    body.add_argument("--body-file", metavar="F", help="file holding the raw request body")
    ramp.add_argument("-H", "--header", action="append", default=[], metavar="'K: V'",
                      help="request header (repeatable)")
    ramp.add_argument("--method", default="POST", help="HTTP method (default POST)")
    ramp.add_argument("--levels", default="1,10,25,50",
                      help="comma-separated concurrency levels (default 1,10,25,50)")
    ramp.add_argument("--per-level", type=int, default=40, help="requests per level (40)")
    ramp.add_argument("--timeout", type=float, default=10.0, help="per-request seconds (10)")
    ramp.add_argument("--max-requests", type=int, default=2000, help="cap on requests (2000)")
    ramp.add_argument("--max-seconds", type=float, default=120.0, help="cap on seconds (120)")
    ramp.add_argument("--yes", action="store_true",
                      help="allow a target outside loopback (you are sending load to it)")
    ramp.add_argument("--json", action="store_true", help="print the Evidence as JSON")
    ramp.set_defaults(func=cmd_ramp)


def _interruptibly(probe: Callable[[threading.Event], Evidence]) -> tuple[Evidence, bool]:
    """Probes return errors as Evidence; anything else they raise is a bug: re-raise it."""
    result, interrupted = run_interruptibly(probe, name="scaledoc-probe")
    if isinstance(result, BaseException):
        raise result
    return result, interrupted


# --- ps -----------------------------------------------------------------------------------


def cmd_ps(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from probes.process import ProcessTarget
    from probes.process import collect as collect_processes
    from probes.redact import json_out
    from probes.safe_text import visible
    from tui.render.evidence_tables import process_commands, process_table, signals_table

    if args.port is None and args.pid is None and not args.match:
        err("ps needs --port, --pid or --match")
        return ExitCode.INPUT_ERROR
    if args.port is not None and not 0 < args.port < 65536:
        err(f"--port {args.port} is out of range 1-65535")
        return ExitCode.INPUT_ERROR
    if args.match:
        try:
            re.compile(args.match)
        except re.error as exc:
            err(f"--match {args.match!r} is not a regular expression: {exc}")
            return ExitCode.INPUT_ERROR
    if args.sample < 0:
        err("--sample must be 0 or more seconds")
        return ExitCode.INPUT_ERROR
    target = ProcessTarget(port=args.port, pid=args.pid, pattern=args.match,
                           sample_seconds=args.sample)
    ev, interrupted = _interruptibly(lambda cancel: collect_processes(target, cancel))
    if args.json:
        print(json_out(ev.to_json(), indent=2))
    elif ev.error is None:
        console = Console(highlight=False)
        console.print(process_table(ev))
        console.print(process_commands(ev), end="")
        console.print(signals_table(ev))
        for note in ev.data.get("notes", ()):
            console.print(Text(f"note: {visible(str(note))}", style="dim"))
    if ev.error is not None:
        err(ev.error)
        return ExitCode.UNREACHABLE
    return ExitCode.INTERRUPTED if interrupted else ExitCode.OK


# --- ramp ---------------------------------------------------------------------------------


def parse_levels(text: str) -> tuple[int, ...]:
    """'1,10,25' -> (1, 10, 25); raises ValueError with a readable message."""
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--levels {text!r}: expected comma-separated integers") from None
    if not levels or any(level < 1 for level in levels):
        raise ValueError(f"--levels {text!r}: need one or more levels of at least 1")
    return levels


def parse_headers(values: list[str]) -> dict[str, str]:
    """['K: V', ...] -> {K: V}; raises ValueError on a header without a colon."""
    headers: dict[str, str] = {}
    for raw in values:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header {raw!r}: expected 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _plan_from_args(args: argparse.Namespace) -> RampPlan:
    """Build the plan from flags; raises ValueError with the message to show."""
    from probes.ramp import RampPlan

    json_body: Any = None  # any JSON value the operator gave with --json-body
    body: bytes | None = None
    if args.json_body is not None:
        try:
            json_body = json.loads(args.json_body)
        except ValueError as exc:
            raise ValueError(f"--json-body is not JSON: {exc}") from None
    if args.body_file is not None:
        try:
            body = Path(args.body_file).read_bytes()
        except OSError as exc:
            raise ValueError(f"--body-file {args.body_file}: {exc.strerror or exc}") from None
    if args.per_level < 1 or args.max_requests < 1:
        raise ValueError("--per-level and --max-requests must be at least 1")
    if args.timeout <= 0 or args.max_seconds <= 0:
        raise ValueError("--timeout and --max-seconds must be positive")
    return RampPlan(url=args.url, method=args.method.upper(), headers=parse_headers(args.header),
                    json_body=json_body, body=body, levels=parse_levels(args.levels),
                    per_level=args.per_level, timeout_s=args.timeout,
                    max_requests=args.max_requests, max_seconds=args.max_seconds,
                    allow_remote=args.yes)


def cmd_ramp(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from probes.ramp import check_plan, run_ramp
    from probes.redact import json_out
    from tui.render.evidence_tables import levels_table, ramp_messages, signals_table

    try:
        plan = _plan_from_args(args)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR
    _, problem = check_plan(plan)
    if problem is not None:
        err(problem)
        return ExitCode.INPUT_ERROR
    err_console = Console(stderr=True)
    progress_bar: Progress | None = None
    if err_console.is_terminal:
        progress_bar = Progress(TextColumn("ramp"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=err_console, transient=True)
    task_id = progress_bar.add_task("ramp", total=None) if progress_bar else None

    def on_progress(done: int, total: int) -> None:
        if progress_bar is not None and task_id is not None:
            progress_bar.update(task_id, completed=done, total=total)

    if progress_bar is not None:
        progress_bar.start()
    try:
        ev, interrupted = _interruptibly(
            lambda cancel: run_ramp(plan, cancel=cancel, progress=on_progress))
    finally:
        if progress_bar is not None:
            progress_bar.stop()
    interrupted = interrupted or ev.data.get("stopped") == "interrupted"
    if args.json:
        print(json_out(ev.to_json(), indent=2))
    else:
        console = Console(highlight=False)
        if ev.data.get("levels"):
            console.print(levels_table(ev))
            console.print(ramp_messages(ev), end="")
        if ev.signals:
            console.print(signals_table(ev))
        stopped = "interrupted" if interrupted else ev.data.get("stopped")
        if stopped and stopped != "unreachable":
            console.print(Text(f"stopped early ({stopped}) after {ev.data.get('sent')} "
                               "requests", style="yellow"))
    if ev.error is not None:
        err(ev.error)
        return ExitCode.UNREACHABLE
    return ExitCode.INTERRUPTED if interrupted else ExitCode.OK


# Manual use: python -m tui.commands.live ps --port 3000
if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="scaledoc")
    register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args()
    sys.exit(parsed.func(parsed))
