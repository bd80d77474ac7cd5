"""``scaledoc -f PATH...`` / ``scaledoc analyze -f``: follow growing inputs, headless.

stdout gets one record per *changed* verdict, flushed at once: with ``-o json`` an NDJSON
line (the ``--json`` report plus a ``follow`` object saying what changed), in text mode
one line per change ("verdict: oom -> shared-instance (0.91)", "new: runs.overlap_instance
yes"). Ctrl-C (SIGINT) ends following and prints the final report in the chosen format
(in JSON, one more NDJSON line with ``"final": true``), with the usual exit code.
The core is ``probes.follow``; this module only parses flags and prints.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.commands.diagnostics import err
from tui.exit_codes import ExitCode

if TYPE_CHECKING:  # loaded when following starts, not for --help
    from probes.follow import Change, Follower
    from probes.follow_config import FollowConfig
    from probes.pipeline import Analysis

FOLLOW_HELP = ("follow growing log files (like tail -F: rotation and truncation handled; "
               "files created in a followed directory join) and re-rank the verdict as "
               "lines arrive; one line (-o json: one NDJSON object) per change; Ctrl-C prints "
               "the final report. Memory is bounded: the analysis sees a window of the last "
               "--window minutes (by the logs' clock) and at most --window-events events")


def add_follow_options(p: argparse.ArgumentParser) -> None:
    """``-f/--follow`` and its window on a parser (analyze, tui)."""
    from probes.follow_config import FollowConfig

    d = FollowConfig()
    g = p.add_argument_group("live follow (-f)")
    g.add_argument("-f", "--follow", action="store_true", help=FOLLOW_HELP)
    g.add_argument("--window", type=_positive, default=d.window_s / 60, metavar="MINUTES",
                   help=f"with -f: minutes of log time the analysis keeps "
                        f"(default {d.window_s / 60:g})")
    g.add_argument("--window-events", type=int, default=d.max_events, metavar="N",
                   help=f"with -f: at most N events kept for re-analysis (default "
                        f"{d.max_events})")
    g.add_argument("--poll", type=_positive, default=d.poll_s, metavar="SECONDS",
                   help=f"with -f: how often idle files are looked at (default {d.poll_s:g})")
    g.add_argument("--interval", type=_positive, default=d.interval_s, metavar="SECONDS",
                   help=f"with -f: re-rank at most this often (default {d.interval_s:g})")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def follow_config(args: argparse.Namespace) -> FollowConfig:
    from probes.follow_config import FollowConfig

    return FollowConfig(poll_s=args.poll, interval_s=args.interval, window_s=args.window * 60,
                        max_events=max(1, args.window_events))


def start_follower(args: argparse.Namespace, paths: Sequence[str],
                   cancel: threading.Event | None = None) -> tuple[Follower | None, list[str]]:
    """A running ``Follower`` on the inputs (files tailed, the rest read once), or None and
    the errors that prevent it. ValueError for a bad config or answer."""
    from probes.follow import Follower, plan_inputs, static_evidence
    from probes.ingest import IngestConfig
    from tui.commands.cli import _answers, _live_evidence

    config = IngestConfig.load(args.config, args.field)
    answers = _answers(args.answer)
    fc = follow_config(args)
    plan = plan_inputs(paths, fc.max_files)
    if plan.errors:
        return None, plan.errors
    static, static_inputs = static_evidence(plan.once, config)
    static.extend(_live_evidence(args, cancel))
    if not plan.files and not plan.dirs and not static:
        return None, ["nothing to follow: no log or trace files among the inputs"]
    f = Follower(config=config, follow=fc, static=static, static_inputs=static_inputs,
                 answers=answers, cancel=cancel or threading.Event())
    f.start(plan)  # files tailed, directories watched for files created in them
    return f, []


NO_FOLLOWED_METRICS = ("--prometheus asks for a window once and cannot be followed: drop -f, "
                       "or follow the logs and ask Prometheus in a separate run")


def _started(args: argparse.Namespace) -> Follower | None:
    """A running follower on ``args.paths``, or None after saying on stderr why not."""
    if getattr(args, "prometheus", None):
        err(NO_FOLLOWED_METRICS)
        return None
    try:
        follower, errors = start_follower(args, args.paths)
    except ValueError as exc:
        err(str(exc))
        return None
    for e in errors if follower is None else ():
        err(e)
    return follower


def cmd_follow(args: argparse.Namespace) -> int:
    """The headless follow loop (see the module docstring)."""
    from tui.commands.cli import _emit

    if not args.paths:
        err("-f needs at least one PATH to follow")
        return ExitCode.INPUT_ERROR
    follower = _started(args)
    if follower is None:
        return ExitCode.INPUT_ERROR
    fmt = args.format or ("json" if getattr(args, "json", False) else "text")
    fc = follower.follow
    dirs = len(follower._dirs)
    watched = f" and watching {dirs} directory(ies) for new files" if dirs else ""
    err(f"following {len(follower._sources)} file(s){watched}; window {fc.window_s / 60:g} min "
        f"of log time, at most {fc.max_events} events; Ctrl-C ends with the final report")
    final, seq = follow_loop(follower, fmt)
    if final is None:
        return ExitCode.INTERRUPTED
    if fmt == "json":
        args.json_extra = {"follow": _follow_json(follower, seq + 1, None, final=True)}
    elif fmt == "text":
        sys.stdout.write("\n")
    return _emit(args, final)


def follow_loop(follower: Follower, fmt: str) -> tuple[Analysis | None, int]:
    """Print a line (text) or an NDJSON object (json) per changed verdict until Ctrl-C;
    return the final analysis (None after a second Ctrl-C) and the number of changes.
    Shared by ``scaledoc -f`` and ``kubectl scaledoc -f``."""
    from probes.redact import strict_json
    from tui.render import report

    seq = 0

    def on_change(change: Change, analysis: Analysis) -> None:
        nonlocal seq
        seq += 1
        if fmt == "json":
            doc = report.to_json(analysis)
            doc["follow"] = _follow_json(follower, seq, change.to_json(), final=False)
            sys.stdout.write(strict_json(doc, ensure_ascii=False, compact=True) + "\n")
        else:
            stamp = time.strftime("%H:%M:%S")
            for line in change.lines():
                sys.stdout.write(f"{stamp} {report.clean(line)}\n")
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):
        follower.run(on_change)
    try:
        follower.stop()
        return follower.analyze(), seq
    except KeyboardInterrupt:  # a second Ctrl-C: stop without the report
        return None, seq


def _follow_json(follower: Follower, seq: int, change: dict[str, object] | None, *,
                 final: bool) -> dict[str, Any]:  # Any: a JSON document
    fc = follower.follow
    return {"seq": seq, "final": final, "change": change,
            "window": {"events": follower.window_size,
                       "span_s": round(follower.window_span_s(), 3),
                       "max_events": fc.max_events, "minutes": fc.window_s / 60},
            "events_taken": follower.taken, "events_dropped": follower.dropped}


def open_tui_follow(args: argparse.Namespace) -> int:
    """The TUI on followed inputs: it re-ranks as evidence arrives (``ScaledocApp``'s
    ``follower``)."""
    follower = _started(args)
    if follower is None:
        return ExitCode.INPUT_ERROR
    from tui.app.main import run_app

    return run_app(follower=follower, title="scaledoc -f")
