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
from typing import TYPE_CHECKING, NoReturn

from probes import __version__
from tui.commands.diagnostics import err, run_interruptibly
from tui.exit_codes import ExitCode
from tui.render.formats import add_output_option, format_type, render_document, with_output_formats

if TYPE_CHECKING:  # each loads when its command runs ('scaledoc --help' stays light)
    from probes.evidence import Answer, Case, Evidence
    from probes.pipeline import Analysis
    from probes.ramp import RampPlan
    from probes.verdict import Verdict
    from tui.app.logview import LogIndex

COMMAND_MODULES: tuple[str, ...] = (
    "tui.commands.live", "tui.commands.code", "tui.commands.kubectl")
"""Modules that add sub-commands: each exposes ``register(subparsers)``."""

EVIDENCE_COMMANDS: tuple[str, ...] = ("ps", "ramp", "kube")
"""Commands that print one probe's Evidence; ``-o`` is added to them here (tui.render.formats)."""
COMPLETION_SHELLS = ("bash", "zsh", "fish")
LIVE_PROBES = ("process", "ramp", "prometheus")
"""Probes of live targets (--port/--pid, --ramp, --prometheus): a target that cannot be
reached is UNREACHABLE."""


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
    from tui.commands.follow import add_follow_options
    from tui.commands.prometheus import add_prometheus_flags

    add_prometheus_flags(p)
    add_follow_options(p)


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
    _add_report_options(a)
    a.add_argument("--save-case", metavar="FILE",
                   help="also write the full case (all evidence and answers) as JSON")
    a.add_argument("--chrome-trace", metavar="FILE",
                   help="also write the runs as a Chrome trace for Perfetto / chrome://tracing "
                        "(overlapping runs as async slices per instance)")
    a.add_argument("--fail-on", metavar="IDS",
                   help="exit 2 when the verdict is one of these cause ids (comma-separated; "
                        "'any' = any cause, not healthy or inconclusive); ID:SCORE (e.g. "
                        "any:0.5) when that cause, or any cause, scores at least SCORE")
    a.set_defaults(func=cmd_analyze)

    t = sub.add_parser("tui", help="open the incident TUI on inputs")
    _add_input_options(t)
    t.set_defaults(func=cmd_tui)

    d = sub.add_parser("demo", help="the bundled demo incident (TUI on a terminal, else report)")
    _add_report_options(d)
    d.set_defaults(func=cmd_demo, paths=[], field=[], config=None, answer=[],
                   save_case=None, fail_on=None)

    s = sub.add_parser("signals", help="list the signal keys the tree asks about")
    s.set_defaults(func=cmd_signals)

    v = sub.add_parser("version", help="print the version (same as --version)")
    v.set_defaults(func=cmd_version)

    c = sub.add_parser("causes", help="the cause catalogue: ids, meaning, signals, fixes",
                       description="Every cause id a verdict can name, what it means, the "
                                   "signals that point at it and how to fix it (the same as "
                                   "docs/causes.md).")
    add_output_option(c, "format", what="the catalogue")
    c.add_argument("--json", action="store_true", help="same as -o json")
    c.set_defaults(func=cmd_causes)

    comp = sub.add_parser("completion", help="print a shell completion script (bash, zsh, fish)",
                          description="Print the completion script for a shell, e.g. "
                                      "'eval \"$(scaledoc completion bash)\"' in ~/.bashrc, or "
                                      "'scaledoc completion fish | source' in fish.")
    comp.add_argument("shell", choices=COMPLETION_SHELLS)
    comp.set_defaults(func=cmd_completion)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for name in EVIDENCE_COMMANDS:
        _add_evidence_formats(sub.choices.get(name), name)
    return parser


def _add_report_options(p: argparse.ArgumentParser) -> None:
    """kubectl's convention: ``-o`` is a format; the file is ``--output-file``."""
    add_output_option(p, "format")
    p.add_argument("--format", dest="format", type=format_type(), help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="same as -o json")
    p.add_argument("--output-file", "--report-file", dest="output", metavar="FILE",
                   help="write the report to FILE instead of stdout")


def _add_evidence_formats(p: argparse.ArgumentParser | None, name: str) -> None:
    """``-o text|json|yaml|markdown`` on a command that prints its Evidence with --json."""
    if p is None or any("-o" in a.option_strings for a in p._actions):
        return
    add_output_option(p, "output_format", what="the evidence")
    p.set_defaults(func=with_output_formats(p.get_default("func"), name))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if Path(sys.argv[0]).name.startswith("kubectl-scaledoc") and argv is None:
        return plugin_main(args_list)
    parser = build_parser()
    _autocomplete(parser)
    commands = _command_names(parser)
    implicit = False
    if args_list and args_list[0] not in commands and args_list[0] not in (
            "-h", "--help", "--version"):
        typo = _mistyped_command(args_list[0], commands)
        if typo:
            parser.print_usage(sys.stderr)
            err(f"unknown command '{args_list[0]}'; did you mean '{typo}'?")
            return ExitCode.INPUT_ERROR
        args_list = ["tui", *args_list]  # 'scaledoc PATH...' / 'scaledoc --ramp URL' open the TUI
        implicit = True
    args, extra = parser.parse_known_args(args_list)
    if extra:
        sub = _subparser(parser, getattr(args, "command", None))
        options = _option_names(sub) + (_option_names(parser) if implicit else [])
        # The sub-command's own usage (the top one when 'scaledoc --flag' meant the TUI).
        (parser if implicit or sub is None else sub).error(_unrecognized(extra, options))
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.OK
    # The temp space's cleanup on SIGTERM/SIGHUP is installed from the main thread, before
    # any worker thread might be the first to use it (then only exit and next-start clean).
    from probes.tempspace import space

    space()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        err("interrupted")
        return ExitCode.INTERRUPTED


def cmd_version(args: argparse.Namespace) -> int:
    print(f"scaledoc {__version__}")
    return ExitCode.OK


def _autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request (argcomplete sets _ARGCOMPLETE and exits);
    a no-op otherwise. The scripts come from 'scaledoc completion SHELL'."""
    import os

    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def cmd_completion(args: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["scaledoc", "kubectl-scaledoc"], shell=args.shell))
    return ExitCode.OK


def cmd_causes(args: argparse.Namespace) -> int:
    from tui.render import catalogue

    fmt = args.format or ("json" if args.json else "text")
    if fmt == "text":
        sys.stdout.write(catalogue.render_text())
    elif fmt == "markdown":
        sys.stdout.write(catalogue.render_markdown())
    else:
        sys.stdout.write(render_document({"causes": catalogue.catalogue()}, fmt))
    return ExitCode.OK


def _subparser(parser: argparse.ArgumentParser, name: str | None
               ) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name:
            found = action.choices.get(name)
            return found if isinstance(found, argparse.ArgumentParser) else None
    return None


def _option_names(p: argparse.ArgumentParser | None) -> list[str]:
    if p is None:
        return []
    return [o for a in p._actions if a.help != argparse.SUPPRESS for o in a.option_strings]


def _unrecognized(extra: Sequence[str], options: Sequence[str]) -> str:
    """argparse's 'unrecognized arguments' with a did-you-mean for the first bad flag."""
    import difflib

    message = f"unrecognized arguments: {' '.join(extra)}"
    for word in extra:
        if word.startswith("-") and word != "-":
            flag = word.split("=", 1)[0]
            close = difflib.get_close_matches(flag, options, n=1, cutoff=0.75)
            if close:
                return f"{message}; did you mean '{close[0]}'?"
    return message


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
    from probes.evidence import Answer
    from probes.signals import SIGNALS

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


def _ramp_plan(args: argparse.Namespace) -> RampPlan | None:
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
    from tui.commands.prometheus import prometheus_target

    prometheus_target(args)


def _live_evidence(args: argparse.Namespace,
                   cancel: threading.Event | None = None) -> list[Evidence]:
    """Run the live probes the flags ask for; each returns Evidence (a target that cannot
    be reached is Evidence with an error). Bad flags raise ValueError before any probe."""
    _check_live_flags(args)
    from probes.pipeline import live_evidence
    from tui.commands.prometheus import prometheus_target

    return live_evidence(port=getattr(args, "port", None), pid=getattr(args, "pid", None),
                         ramp=_ramp_plan(args), prometheus=prometheus_target(args),
                         cancel=cancel)


def _analyze(args: argparse.Namespace, paths: Sequence[str],
             cancel: threading.Event | None = None) -> Analysis:
    from probes.ingest import IngestConfig
    from probes.pipeline import analyze_paths

    config = IngestConfig.load(args.config, args.field)
    answers = _answers(args.answer)
    extra = _live_evidence(args, cancel)
    analysis = analyze_paths(paths, config=config, extra=extra, cancel=cancel,
                             stdin=sys.stdin.buffer if "-" in paths else None)
    return analysis.with_answers(answers)


def _fail_on_ids(spec: str | None) -> list[tuple[str, float | None]]:
    """The rules of ``--fail-on``: ``(id, None)`` matches the verdict, ``(id, score)`` any
    ranked cause of that id (``any``: every cause) scoring at least ``score``. Checked
    before any work: a misspelt id or score would otherwise never match and a CI gate
    would pass silently."""
    from probes.causes import CAUSES, HEALTHY, INCONCLUSIVE

    rules: list[tuple[str, float | None]] = []
    unknown: list[str] = []
    for word in (w.strip() for w in (spec or "").split(",")):
        if not word:
            continue
        cid, sep, score = word.partition(":")
        threshold: float | None = None
        if sep:
            try:
                threshold = float(score)
            except ValueError:
                threshold = -1.0
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"--fail-on {word}: the score after ':' must be a number "
                                 "from 0 to 1, e.g. any:0.5")
            if cid in (HEALTHY, INCONCLUSIVE):
                raise ValueError(f"--fail-on {word}: {cid} has no score; use '{cid}' alone")
        if cid != "any" and cid.split("/")[0] not in CAUSES:
            unknown.append(cid)
        rules.append((cid, threshold))
    if unknown:
        raise ValueError(f"--fail-on: unknown cause id(s) {', '.join(sorted(unknown))}; use "
                         f"'any' or ids from: {', '.join(CAUSES)} (see 'scaledoc causes')")
    return rules


def _fail_on_match(rules: Sequence[tuple[str, float | None]], verdict: Verdict) -> str | None:
    """Why the verdict trips ``--fail-on`` (one sentence), or None."""
    from probes.causes import HEALTHY, INCONCLUSIVE

    def named(cid: str, wanted: str) -> bool:
        if wanted == "any":
            return cid not in (HEALTHY, INCONCLUSIVE)
        return cid == wanted or cid.split("/")[0] == wanted

    for wanted, threshold in rules:
        if threshold is None:
            if named(verdict.verdict, wanted):
                return f"verdict {verdict.verdict} matches --fail-on {wanted}"
            continue
        for c in verdict.causes:
            if named(c.id, wanted) and c.score >= threshold:
                return (f"cause {c.id} scores {c.score:.2f}, at least {threshold:g} "
                        f"(--fail-on {wanted}:{threshold:g})")
    return None


def cmd_analyze(args: argparse.Namespace) -> int:
    if getattr(args, "follow", False):
        from tui.commands.follow import cmd_follow

        return cmd_follow(args)
    if not args.paths and not (args.port or args.pid or args.ramp or args.prometheus):
        err("analyze needs at least one PATH ('-' for stdin)")
        return ExitCode.INPUT_ERROR
    try:
        _fail_on_ids(args.fail_on)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR
    if "-" in args.paths:
        # A read from stdin cannot be cancelled; Ctrl-C ends it the plain way (main()).
        result: Analysis | BaseException = _try_analyze(args)
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


def _try_analyze(args: argparse.Namespace,
                 cancel: threading.Event | None = None) -> Analysis | ValueError:
    """The analysis, or the ValueError of a bad flag or config (as data)."""
    try:
        return _analyze(args, args.paths, cancel)
    except ValueError as exc:
        return exc


def _emit(args: argparse.Namespace, analysis: Analysis) -> int:
    from probes.redact import json_out, strict_json
    from tui.render import report

    fmt = args.format or ("json" if getattr(args, "json", False) else "text")
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
        if ev.error and ev.error not in said:
            err(f"{report.clean(ev.target)}: {report.clean(ev.error)}")
    if unreachable and code == ExitCode.OK:
        code = ExitCode.UNREACHABLE
    opened = analysis.opened > 0 or bool(analysis.case.evidence)
    if not analysis.usable:
        # One message per error: when every input already said why it held nothing,
        # the general line would only repeat it.
        if not analysis.inputs or not all(i.error for i in analysis.inputs):
            err("no recognisable events in the inputs: verdict is inconclusive "
                "(see the inputs table for what each file held)")
        # nothing but live targets, none reachable: that is the failure to report (3)
        only_live = all(i.kind in LIVE_PROBES for i in analysis.inputs if i.error)
        code = ExitCode.UNREACHABLE if unreachable and only_live else ExitCode.INPUT_ERROR
        if not opened:
            return code
    out_text: str | None = None
    json_extra = getattr(args, "json_extra", None)  # -f: the final NDJSON line
    if fmt == "json" and json_extra:
        out_text = strict_json(report.to_json(analysis) | json_extra, ensure_ascii=False,
                               compact=True) + "\n"
    elif fmt == "json":
        out_text = report.render_json(analysis) + "\n"
    elif fmt == "yaml":
        out_text = render_document(report.to_json(analysis), "yaml")
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
        from tui.render.trace_export import write_chrome_trace

        n = write_chrome_trace(analysis, args.chrome_trace)
        if not n:
            err(f"{args.chrome_trace}: no runs with start times to export")
    if args.save_case:
        # A saved case travels with tickets like a report: secrets are redacted from it too.
        # json_out: redacted and strict (a NaN becomes null with a note, never 'NaN').
        Path(args.save_case).write_text(json_out(analysis.case.to_json(), indent=1))
    if code == ExitCode.OK and args.fail_on:
        hit = _fail_on_match(_fail_on_ids(args.fail_on), analysis.verdict)
        if hit:
            err(hit)
            return ExitCode.FAIL_ON
    return code


# ----------------------------------------------------------------------------- TUI


def _open_tui(paths: Sequence[str], args: argparse.Namespace, title: str) -> int:
    from probes.ingest import IngestConfig
    from probes.pipeline import EventSink, Preview, Progress, analyze_paths

    try:
        config = IngestConfig.load(args.config, args.field)
        answers = _answers(args.answer)
        _check_live_flags(args)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR

    def factory(cancel: threading.Event, progress: Progress | None = None,
                sink: EventSink | None = None, preview: Preview | None = None) -> Analysis:
        extra = _live_evidence(args, cancel)
        analysis = analyze_paths(paths, config=config, cancel=cancel, extra=extra,
                                 progress=progress, sink=sink, preview=preview)
        return analysis.with_answers(answers)

    from tui.app.main import run_app

    return run_app(factory, title=title)


def cmd_tui(args: argparse.Namespace) -> int:
    if not args.paths and not (args.port or args.pid or args.ramp or args.prometheus):
        err("give at least one PATH (or --port/--pid/--ramp/--prometheus), or run "
            "'scaledoc demo'")
        return ExitCode.INPUT_ERROR
    if "-" in args.paths:
        err("the TUI cannot read stdin (the terminal is its input); use 'scaledoc analyze -'")
        return ExitCode.INPUT_ERROR
    if not sys.stdout.isatty():
        return cmd_analyze(_as_report(args))
    if getattr(args, "follow", False):
        from tui.commands.follow import open_tui_follow

        return open_tui_follow(args)
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
    from probes.signals import SIGNALS

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


def plugin_main(argv: Sequence[str]) -> int:
    """``kubectl scaledoc``: kubectl's flags (tui.commands.kubectl), plus what every command here
    has: ``--version``/``version``, ``-o yaml``, a did-you-mean for a mistyped flag."""
    from tui.commands.kubectl import capture_parser, kubectl_main, plugin_parser

    args = list(argv)
    if args[:1] in (["--version"], ["version"]):
        print(f"kubectl-scaledoc {__version__}")
        return ExitCode.OK
    _autocomplete(plugin_parser())
    args, fmt = _take_output_format(args)
    parser = capture_parser("kubectl scaledoc capture") if args[:1] == ["capture"] \
        else plugin_parser()
    try:
        _, extra = parser.parse_known_args(args[1:] if args[:1] == ["capture"] else args)
    except SystemExit as exc:  # argparse printed its one message (or the help)
        return ExitCode.OK if exc.code in (0, None) else ExitCode.INPUT_ERROR
    if extra:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{parser.prog}: error: {_unrecognized(extra, _option_names(parser))}\n")
        return ExitCode.INPUT_ERROR

    def report(case: Case, given: str = "text") -> int:
        return _report_case(case, fmt or given)

    return kubectl_main(args, report=report, tui=_tui_case)


def _take_output_format(args: list[str]) -> tuple[list[str], str | None]:
    """Lift ``-o yaml`` off the plugin's arguments (its own parser knows text, markdown and
    json) into ``--report``, so that every ``-o`` format works on the plugin too."""
    out: list[str] = []
    fmt: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        value: str | None = None
        if a in ("-o", "--output") and i + 1 < len(args):
            value, step = args[i + 1], 2
        elif a.startswith("--output="):
            value, step = a.split("=", 1)[1], 1
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):
            value, step = a[2:].lstrip("="), 1
        if value is not None and value.lower() == "yaml" and args[:1] != ["capture"]:
            fmt = "yaml"
            out.append("--report")
            i += step
            continue
        out.append(a)
        i += 1
    return out, fmt


def _tui_case(case: Case, log_index: LogIndex | None = None) -> int:
    from probes.pipeline import Analysis
    from tui.app.main import run_app

    return run_app(None, analysis=Analysis.of_case(case), title="kubectl scaledoc",
                   log_index=log_index)


if __name__ == "__main__":
    raise SystemExit(main())
