"""The command line: ``scaledoc`` and ``kubectl-scaledoc``.

stdout carries data (the report, the JSON document); stderr carries diagnostics (input
errors, progress). Exit codes come from ``tui.exit_codes.ExitCode``. Textual is imported
only when a TUI is actually opened, so headless commands start fast and run anywhere.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from probes import __version__
from probes.evidence import Answer, Case
from probes.redact import redact_obj
from probes.signals import SIGNALS
from tui.diagnostics import err, run_interruptibly
from tui.exit_codes import ExitCode

COMMAND_MODULES: tuple[str, ...] = ("tui.live", "tui.code_cli", "tui.kubectl")
"""Modules that add sub-commands: each exposes ``register(subparsers)``."""

FORMATS = ("text", "markdown", "json")
LIVE_PROBES = ("process", "ramp")
"""Probes of live targets (--port/--pid, --ramp): their failures are UNREACHABLE."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags, but 2 means '--fail-on matched' here: a typo in a CI
    gate must not pass for a verdict. Bad flags exit INPUT_ERROR (1), like every input error.
    Sub-parsers inherit this class through ``add_subparsers``."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.INPUT_ERROR, f"{self.prog}: error: {message}\n")


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="log files, directories, .gz, trace exports, kubectl dumps, capture "
                        "bundles, source trees; '-' reads stdin")
    p.add_argument("--field", action="append", default=[], metavar="ROLE=KEY",
                   help="map a field role to a key, e.g. instance=agent.instanceId (repeatable)")
    p.add_argument("--config", metavar="FILE", help="TOML config with a [fields] table")
    p.add_argument("--answer", action="append", default=[], metavar="KEY=yes|no",
                   help="answer a question of the tree yourself (repeatable)")
    live = p.add_argument_group("live evidence, joined to the inputs")
    live.add_argument("--port", type=int, help="sample the processes serving this local port")
    live.add_argument("--pid", type=int, help="sample this process and its workers")
    live.add_argument("--ramp", metavar="URL",
                      help="run a bounded concurrency ramp against URL (loopback unless --yes)")
    live.add_argument("--ramp-levels", default="1,10,25,50", metavar="N,N,...",
                      help="concurrency levels of the ramp (default 1,10,25,50)")
    live.add_argument("--ramp-per-level", type=int, default=40, metavar="N",
                      help="requests per level (default 40)")
    live.add_argument("--ramp-body", metavar="JSON", help="JSON body for the ramp's POSTs")
    live.add_argument("--yes", action="store_true",
                      help="allow a ramp against a target outside loopback")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scaledoc",
        description="Find why an AI-agent service breaks when scaled out: logs, traces, pods, "
                    "processes and code joined into one ranked verdict. Deterministic, offline, "
                    "no LLM.",
        epilog="Run 'scaledoc demo' to see it on the bundled incident; 'scaledoc PATH...' opens "
               "the TUI on your own inputs.")
    parser.add_argument("--version", action="version", version=f"scaledoc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="analyse inputs offline and print a report",
                       description="Analyse inputs offline and print the verdict with evidence.")
    _add_input_options(a)
    a.add_argument("--format", choices=FORMATS, default=None,
                   help="report format (default: text)")
    a.add_argument("--json", action="store_true", help="same as --format json")
    a.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    a.add_argument("--save-case", metavar="FILE",
                   help="also write the full case (all evidence and answers) as JSON")
    a.add_argument("--chrome-trace", metavar="FILE",
                   help="also write the runs as a Chrome trace for Perfetto / chrome://tracing "
                        "(overlapping runs as async slices per instance)")
    a.add_argument("--fail-on", metavar="IDS",
                   help="exit 2 when the verdict is one of these cause ids (comma-separated; "
                        "'any' = any cause, not healthy or inconclusive)")
    a.set_defaults(func=cmd_analyze)

    t = sub.add_parser("tui", help="open the incident TUI on inputs")
    _add_input_options(t)
    t.set_defaults(func=cmd_tui)

    d = sub.add_parser("demo", help="the bundled demo incident (TUI on a terminal, else report)")
    d.add_argument("--format", choices=FORMATS, default=None,
                   help="print a report instead of opening the TUI")
    d.add_argument("--json", action="store_true", help="same as --format json")
    d.set_defaults(func=cmd_demo, paths=[], field=[], config=None, answer=[], output=None,
                   save_case=None, fail_on=None)

    s = sub.add_parser("signals", help="list the signal keys the tree asks about")
    s.set_defaults(func=cmd_signals)

    v = sub.add_parser("version", help="print the version (same as --version)")
    v.set_defaults(func=cmd_version)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if Path(sys.argv[0]).name.startswith("kubectl-scaledoc") and argv is None:
        from tui.kubectl import kubectl_main

        return kubectl_main(args_list, report=_report_case, tui=_tui_case)
    parser = build_parser()
    commands = _command_names(parser)
    if args_list and args_list[0] not in commands and args_list[0] not in (
            "-h", "--help", "--version"):
        typo = _mistyped_command(args_list[0], commands)
        if typo:
            parser.print_usage(sys.stderr)
            err(f"unknown command '{args_list[0]}'; did you mean '{typo}'?")
            return ExitCode.INPUT_ERROR
        args_list = ["tui", *args_list]  # 'scaledoc PATH...' / 'scaledoc --ramp URL' open the TUI
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.OK
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        err("interrupted")
        return ExitCode.INTERRUPTED


def cmd_version(args: argparse.Namespace) -> int:
    print(f"scaledoc {__version__}")
    return ExitCode.OK


def _mistyped_command(word: str, commands: set[str]) -> str | None:
    """The command a first word was probably meant to be ('analyse' -> 'analyze'), when
    it is no path that exists: 'scaledoc PATH' opens the TUI, so a typo must not open an
    empty TUI on a file that is not there."""
    import difflib

    if word.startswith("-") or word == "-" or Path(word).exists():
        return None
    close = difflib.get_close_matches(word, sorted(commands), n=1, cutoff=0.75)
    return close[0] if close else None


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


# ----------------------------------------------------------------------------- analyze


def _answers(specs: Sequence[str]) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    for spec in specs:
        key, sep, val = spec.partition("=")
        if not sep or val.lower() not in ("yes", "no", "y", "n"):
            raise ValueError(f"--answer {spec!r}: expected KEY=yes or KEY=no")
        if key not in SIGNALS:
            raise ValueError(f"--answer {spec!r}: unknown question key {key!r} "
                             "(see 'scaledoc signals')")
        out[key] = Answer.YES if val.lower().startswith("y") else Answer.NO
    return out


def _ramp_plan(args: argparse.Namespace) -> Any:
    """The ramp asked for with --ramp, or None; ValueError for bad flags or a refused
    target (not loopback without --yes), before any request is sent, as 'scaledoc ramp'."""
    if not getattr(args, "ramp", None):
        return None
    from probes.ramp import RampPlan, check_plan

    try:
        levels = tuple(int(x) for x in args.ramp_levels.split(",") if x.strip())
        body = json.loads(args.ramp_body) if args.ramp_body else None
    except ValueError as exc:
        raise ValueError(f"--ramp-levels/--ramp-body: {exc}") from exc
    plan = RampPlan(url=args.ramp, json_body=body, levels=levels,
                    per_level=args.ramp_per_level, allow_remote=args.yes,
                    method="POST" if body is not None else "GET")
    _, problem = check_plan(plan)
    if problem is not None:
        raise ValueError(f"--ramp: {problem}")
    return plan


def _check_live_flags(args: argparse.Namespace) -> None:
    """ValueError for a bad --port or --ramp, so the TUI and reports refuse up front."""
    port = getattr(args, "port", None)
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"--port {port} is out of range 1-65535")
    _ramp_plan(args)


def _live_evidence(args: argparse.Namespace, cancel: threading.Event | None = None) -> list[Any]:
    """Run the live probes the flags ask for; each returns Evidence (a target that cannot
    be reached is Evidence with an error). Bad flags raise ValueError before any probe."""
    _check_live_flags(args)
    out: list[Any] = []
    if getattr(args, "port", None) is not None or getattr(args, "pid", None) is not None:
        from probes.process import ProcessTarget
        from probes.process import collect as collect_processes

        out.append(collect_processes(ProcessTarget(port=args.port, pid=args.pid), cancel))
    plan = _ramp_plan(args)
    if plan is not None:
        from probes.ramp import run_ramp

        out.append(run_ramp(plan, cancel))
    return out


def _analyze(args: argparse.Namespace, paths: Sequence[str],
             cancel: threading.Event | None = None) -> Any:
    from probes.ingest import IngestConfig
    from probes.pipeline import analyze_paths

    config = IngestConfig.load(args.config, args.field)
    answers = _answers(args.answer)
    extra = _live_evidence(args, cancel)
    analysis = analyze_paths(paths, config=config, extra=extra, cancel=cancel,
                             stdin=sys.stdin.buffer if "-" in paths else None)
    return analysis.with_answers(answers)


def _fail_on_ids(spec: str | None) -> set[str]:
    """The ids of ``--fail-on``, checked before any work: a misspelt id would otherwise
    never match and a CI gate would pass silently."""
    from probes.causes import CAUSES

    wanted = {w.strip() for w in (spec or "").split(",") if w.strip()}
    unknown = sorted(w for w in wanted if w != "any" and w.split("/")[0] not in CAUSES)
    if unknown:
        raise ValueError(f"--fail-on: unknown cause id(s) {', '.join(unknown)}; use 'any' or "
                         f"ids from: {', '.join(CAUSES)}")
    return wanted


def cmd_analyze(args: argparse.Namespace) -> int:
    if not args.paths and not (args.port or args.pid or args.ramp):
        err("analyze needs at least one PATH ('-' for stdin)")
        return ExitCode.INPUT_ERROR
    try:
        _fail_on_ids(args.fail_on)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR
    if "-" in args.paths:
        # A read from stdin cannot be cancelled; Ctrl-C ends it the plain way (main()).
        result: Any = _try_analyze(args)
    else:
        # Files: Ctrl-C stops the reading, and the report covers what was read (README).
        result, interrupted = run_interruptibly(lambda cancel: _try_analyze(args, cancel),
                                                name="scaledoc-analyze")
        if interrupted and not isinstance(result, BaseException):
            _emit(args, result)
            err("interrupted: the report covers only what was read before Ctrl-C")
            return ExitCode.INTERRUPTED
    if isinstance(result, ValueError):
        err(str(result))
        return ExitCode.INPUT_ERROR
    if isinstance(result, BaseException):
        raise result
    return _emit(args, result)


def _try_analyze(args: argparse.Namespace, cancel: threading.Event | None = None) -> Any:
    """The analysis, or the ValueError of a bad flag or config (as data)."""
    try:
        return _analyze(args, args.paths, cancel)
    except ValueError as exc:
        return exc


def _emit(args: argparse.Namespace, analysis: Any) -> int:
    from tui import report

    fmt = "json" if getattr(args, "json", False) else (args.format or "text")
    code = ExitCode.OK
    said: set[str] = set()
    for inp in analysis.inputs:
        if inp.error:
            err(f"{report.clean(inp.name)}: {report.clean(inp.error)}")
            said.add(inp.error)
            if inp.kind not in LIVE_PROBES:
                code = ExitCode.INPUT_ERROR
    # A process or URL asked for with --port/--pid/--ramp that could not be reached is
    # exit 3, as with 'scaledoc ps' and 'scaledoc ramp'; the report on the files still runs.
    unreachable = [ev for ev in analysis.case.evidence if ev.probe in LIVE_PROBES and ev.error]
    for ev in unreachable:
        if ev.error not in said:
            err(f"{report.clean(ev.target)}: {report.clean(ev.error)}")
    if unreachable and code == ExitCode.OK:
        code = ExitCode.UNREACHABLE
    opened = analysis.opened > 0 or bool(analysis.case.evidence)
    if not analysis.usable:
        err("no recognisable events in the inputs: verdict is inconclusive "
             "(see the inputs table for what each file held)")
        code = ExitCode.INPUT_ERROR
        if not opened:
            return code
    out_text: str | None = None
    if fmt == "json":
        out_text = report.render_json(analysis) + "\n"
    elif fmt == "markdown":
        out_text = report.render_markdown(analysis)
    if args.output:
        from rich.console import Console

        with open(args.output, "w", encoding="utf-8") as fh:
            if out_text is not None:
                fh.write(out_text)
            else:
                report.print_text(analysis, Console(file=fh, markup=False, highlight=False,
                                                    emoji=False, width=120, no_color=True))
    elif out_text is not None:
        sys.stdout.write(out_text)
    else:
        from rich.console import Console

        report.print_text(analysis, Console(markup=False, highlight=False, emoji=False))
    if getattr(args, "chrome_trace", None):
        from tui.trace_export import write_chrome_trace

        n = write_chrome_trace(analysis, args.chrome_trace)
        if not n:
            err(f"{args.chrome_trace}: no runs with start times to export")
    if args.save_case:
        # A saved case travels with tickets like a report: secrets are redacted from it too.
        Path(args.save_case).write_text(json.dumps(redact_obj(analysis.case.to_json()),
                                                   indent=1))
    if code == ExitCode.OK and args.fail_on:
        wanted = _fail_on_ids(args.fail_on)
        v = analysis.verdict.verdict
        hit = v in wanted or v.split("/")[0] in wanted or (
            "any" in wanted and v not in ("healthy", "inconclusive"))
        if hit:
            err(f"verdict {v} matches --fail-on")
            return ExitCode.FAIL_ON
    return code


# ----------------------------------------------------------------------------- TUI


def _open_tui(paths: Sequence[str], args: argparse.Namespace, title: str) -> int:
    from probes.ingest import IngestConfig
    from probes.pipeline import Analysis, Progress, analyze_paths

    try:
        config = IngestConfig.load(args.config, args.field)
        answers = _answers(args.answer)
        _check_live_flags(args)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR

    def factory(cancel: threading.Event, progress: Progress | None = None) -> Analysis:
        extra = _live_evidence(args, cancel)
        analysis = analyze_paths(paths, config=config, cancel=cancel, extra=extra,
                                 progress=progress)
        return analysis.with_answers(answers)

    from tui.app import run_app

    return run_app(factory, title=title)


def cmd_tui(args: argparse.Namespace) -> int:
    if not args.paths and not (args.port or args.pid or args.ramp):
        err("give at least one PATH (or --port/--pid/--ramp), or run 'scaledoc demo'")
        return ExitCode.INPUT_ERROR
    if "-" in args.paths:
        err("the TUI cannot read stdin (the terminal is its input); use 'scaledoc analyze -'")
        return ExitCode.INPUT_ERROR
    if not sys.stdout.isatty():
        return cmd_analyze(_as_report(args))
    return _open_tui(args.paths, args, "scaledoc")


def _as_report(args: argparse.Namespace) -> argparse.Namespace:
    defaults = {"format": None, "json": False, "output": None, "save_case": None,
                "fail_on": None}
    for k, v in defaults.items():
        if not hasattr(args, k):
            setattr(args, k, v)
    return args


def cmd_demo(args: argparse.Namespace) -> int:
    from probes.pipeline import demo_paths

    paths = demo_paths()
    if args.json or args.format or not sys.stdout.isatty():
        try:
            return _emit(args, _analyze(args, paths))
        except ValueError as exc:
            err(str(exc))
            return ExitCode.INPUT_ERROR
    return _open_tui(paths, args, "scaledoc demo")


def cmd_signals(args: argparse.Namespace) -> int:
    for key, spec in SIGNALS.items():
        print(f"{key:32} {','.join(spec.probes):16} {spec.meaning}")
    return ExitCode.OK


# ----------------------------------------------------------------------------- kubectl


def _report_case(case: Case, fmt: str = "text") -> int:
    """Report on a live case (kubectl-scaledoc --report)."""
    from probes.pipeline import Analysis

    analysis = Analysis.of_case(case)
    args = argparse.Namespace(format=fmt, json=fmt == "json", output=None, save_case=None,
                              fail_on=None)
    return _emit(args, analysis)


def _tui_case(case: Case) -> int:
    from probes.pipeline import Analysis
    from tui.app import run_app

    return run_app(None, analysis=Analysis.of_case(case), title="kubectl scaledoc")


if __name__ == "__main__":
    raise SystemExit(main())
