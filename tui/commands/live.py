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

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from probes.evidence import Answer, Evidence
from probes.redact import json_out
from probes.safe_text import visible
from tui.commands.diagnostics import err, run_interruptibly
from tui.exit_codes import ExitCode
from tui.render.plain import clip

if TYPE_CHECKING:
    from probes.ramp import RampPlan

# psutil (probes.process) and httpx (probes.ramp) are imported by the commands that use
# them: building the parser for '--help' or another command must not load them.

ANSWER_STYLE = {Answer.YES: "bold red", Answer.NO: "green", Answer.UNKNOWN: "yellow"}
MIB = 1024 * 1024
COMMAND_CHARS = 100
MESSAGE_CHARS = 80


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
    from probes.process import ProcessTarget
    from probes.process import collect as collect_processes

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


def _mib(value: object) -> str:
    return f"{value / MIB:.1f}" if isinstance(value, int) else "?"


def plain_table(title: str) -> Table:
    """A table that stays readable at 80 columns (a pipe, a small terminal): no side
    borders, one space between columns, a rule under the header and, with ``show_lines``,
    a blank line between multi-line rows."""
    return Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD,
                 show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")


def process_table(ev: Evidence) -> Table:
    """One row per process: identity, role, memory, fds, sockets, where it runs.

    The pid and role never shrink: on a narrow terminal (or a pipe, 80 columns) the other
    cells wrap instead of being cut to '…', so every value stays readable. Command lines
    are too long for a cell: ``process_commands`` prints them under the table."""
    table = plain_table(f"processes: {visible(ev.target)}")
    for col in ("pid", "role", "found by", "user", "RSS MiB", "growth", "fds/limit",
                "sockets", "thr", "cpu%", "pod/container"):
        table.add_column(col, no_wrap=col in ("pid", "role"), overflow="fold")
    for p in ev.data.get("processes", ()):
        sockets = p.get("sockets")
        socket_text = ("denied" if sockets is None
                       else " ".join(f"{k}={v}" for k, v in sockets.items()) or "-")
        growth = p.get("rss_growth_bytes") or 0
        where = p.get("pod") or (p.get("container_id") or "")[:12] or "-"
        fds = p.get("fds")
        limit = p.get("fd_soft_limit")
        cells = [
            str(p.get("pid")), str(p.get("role", "")), str(p.get("found_by", "")),
            str(p.get("user") or "?"), _mib(p.get("rss_bytes")), f"{growth / MIB:+.1f}",
            f"{fds if fds is not None else '?'} / {limit if limit else '?'}", socket_text,
            str(p.get("threads") if p.get("threads") is not None else "?"),
            str(p.get("cpu_percent") if p.get("cpu_percent") is not None else "?"),
            where,
        ]
        table.add_row(*(Text(visible(str(c))) for c in cells))
    return table


def process_commands(ev: Evidence) -> Text:
    """Each process's command line on its own line, keyed by pid (folded, never cut off
    by the table's width)."""
    processes = ev.data.get("processes", ())
    out = Text()
    if processes:
        out.append("command lines\n", style="bold")
    for p in processes:
        command = clip(p.get("cmdline") or p.get("name") or "", COMMAND_CHARS)
        out.append(f"  {p.get('pid')}", style="bold")
        out.append(f"  {visible(command)}\n")
    return out


def signals_table(ev: Evidence, title: str | None = None) -> Table:
    """Each signal with its answer, detail and the first pieces of evidence."""
    table = plain_table(title or f"signals ({ev.probe})")
    table.show_lines = True
    table.add_column("signal", overflow="fold")
    table.add_column("answer", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("evidence", overflow="fold")
    for s in ev.signals:
        evidence = "\n".join(
            visible(clip(f"{e.where}: {e.text}" + (f" ({e.note})" if e.note else ""),
                         COMMAND_CHARS)) for e in s.examples[:2])
        table.add_row(Text(s.key), Text(s.answer.value, style=ANSWER_STYLE[s.answer]),
                      Text(visible(s.detail)), Text(evidence))
    return table


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
    from probes.ramp import check_plan, run_ramp

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


def levels_table(ev: Evidence) -> Table:
    """One row per concurrency level: status mix, error rate, latency. The 5xx messages
    are the clue an operator reads first and too long for a cell: ``ramp_messages``
    prints them under the table, whole."""
    table = plain_table(f"ramp: {ev.data.get('method', '')} {visible(ev.target)}")
    for col in ("level", "sent", "ok", "failed", "error rate", "statuses", "p50 ms",
                "p95 ms", "max ms"):
        table.add_column(col, justify="left" if col == "statuses" else "right",
                         no_wrap=col == "level")
    for row in ev.data.get("levels", ()):
        rate = row.get("error_rate")
        lat = row.get("latency_ms", {})
        statuses = " ".join(f"{k}={v}" for k, v in row.get("statuses", {}).items())
        cells = [row.get("level"), row.get("sent"), row.get("ok"), row.get("failed"),
                 "-" if rate is None else f"{rate:.0%}", statuses,
                 lat.get("p50", "-"), lat.get("p95", "-"), lat.get("max", "-")]
        table.add_row(*(Text(visible(str("-" if c is None else c))) for c in cells))
    return table


def ramp_messages(ev: Evidence) -> Text:
    """The distinct 5xx messages of each level (up to three), one per line."""
    out = Text()
    for row in ev.data.get("levels", ()):
        for e in row.get("errors_5xx", ())[:3]:
            if not out:
                out.append("5xx messages\n", style="bold")
            out.append(f"  level {row.get('level')}: ", style="bold")
            out.append(visible(clip(f"{e['count']}x HTTP {e.get('status', '5xx')} "
                                    f"{e['message']}", MESSAGE_CHARS + 20)) + "\n")
    return out


# Manual use: python -m tui.commands.live ps --port 3000
if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="scaledoc")
    register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args()
    sys.exit(parsed.func(parsed))
