"""The kubectl plugin (``kubectl scaledoc``) and the ``scaledoc kube`` / ``capture`` commands.

kubectl finds any executable named ``kubectl-scaledoc`` on PATH and runs it for
``kubectl scaledoc ...`` with all arguments (krew's plugin conventions). The flags are
kubectl's own, with kubectl's meanings: ``--kubeconfig``, ``--context``,
``-n/--namespace``, ``-A/--all-namespaces``, ``-l/--selector``, ``-c/--container``,
``--since``, ``--request-timeout``, ``-h/--help``, and ``TYPE/NAME`` targets (deploy,
sts, rs, pod) fanned out to every replica. ``-l`` and ``-h`` mean nothing else, ever.

Modes of the plugin:

* ``kubectl scaledoc [flags] [TYPE/NAME...]``: collect pods, events and current/previous
  logs (read-only), analyse the logs with the pod identity as source, then open the TUI
  on a terminal or print the report (``--report``, or ``-o text|markdown|json``; also
  when stdout is not a terminal);
* ``kubectl scaledoc capture [flags] [TYPE/NAME...] -o FILE.tar.gz``: write a redacted
  bundle to analyse later with ``scaledoc analyze FILE.tar.gz``.

The report and the TUI are the lead's (``kubectl_main(argv, report=..., tui=...)``), so
this module does not depend on them. ``scaledoc kube`` prints the pod evidence itself:
tables of pods, signals and replica differences, or the Evidence as JSON.

Exit codes: INPUT_ERROR for bad flags, kubeconfig or targets; UNREACHABLE when the API
server cannot be reached; INTERRUPTED after Ctrl-C; OK otherwise (a 403 on one kind is
a partial result, reported, not a failure).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from tui.commands.diagnostics import err, run_interruptibly
from tui.exit_codes import ExitCode

if TYPE_CHECKING:  # annotations only: the modules load when a command runs
    from probes.evidence import Case
    from probes.kube.live import Collected, KubeTarget
    from tui.app.logview import LogIndex

PLUGIN = "kubectl scaledoc"
DEFAULT_REQUEST_TIMEOUT = 10.0
REPORT_FORMATS = ("text", "markdown", "json")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")

ReportFn = Callable[..., int]
"""``report(case)`` or ``report(case, fmt)``: prints a report, returns an exit code."""
class TuiFn(Protocol):
    """Opens the TUI on the case, its Logs view on ``log_index``; returns an exit code."""

    def __call__(self, case: Case, *, log_index: LogIndex | None = None) -> int: ...
T = TypeVar("T")


def parse_duration(text: str) -> float:
    """kubectl durations: "30s", "5m", "1h30m", or plain seconds ("10", "2.5")."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (like 30s, 5m, 1h)")
    h, mins, secs = m.groups()
    return int(h or 0) * 3600 + int(mins or 0) * 60 + float(secs or 0)


def parse_rfc3339(text: str) -> int:
    """``--since-time``: an RFC 3339 time with its zone (as kubectl), to UTC nanoseconds."""
    from probes.evidence import parse_iso_ns

    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$",
                    text.strip()):
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r} "
                                         "(e.g. 2026-12-06T10:00:00Z)")
    ns = parse_iso_ns(text.strip())
    if ns is None:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}")
    return ns


def _positive_duration(text: str) -> float:
    value = parse_duration(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0: every call has a timeout")
    return value


def add_kube_flags(p: argparse.ArgumentParser) -> None:
    """kubectl's flags, with kubectl's names and meanings."""
    p.add_argument("targets", nargs="*", metavar="TYPE/NAME",
                   help="deploy/NAME, sts/NAME, rs/NAME or pod/NAME; a workload means all of "
                        "its replicas (default: every pod of the namespace)")
    p.add_argument("--kubeconfig", metavar="PATH", help="path to the kubeconfig file")
    p.add_argument("--context", metavar="NAME", help="the kubeconfig context to use")
    p.add_argument("-n", "--namespace", metavar="NS", help="namespace (default: the context's)")
    p.add_argument("-A", "--all-namespaces", action="store_true",
                   help="look in all namespaces")
    p.add_argument("-l", "--selector", metavar="SELECTOR",
                   help="label selector, e.g. app=agent,tier!=web")
    which = p.add_mutually_exclusive_group()  # as kubectl logs: one or the other
    which.add_argument("-c", "--container", metavar="NAME", help="only this container's logs")
    which.add_argument("--all-containers", action="store_true",
                       help="every container's logs (the default here; not with -c)")
    p.add_argument("-p", "--previous", action="store_true",
                   help="only the logs of containers' previous instances (restarted ones)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--since", type=parse_duration, metavar="DURATION",
                      help="only logs newer than this, e.g. 1h (default: all, up to --tail)")
    when.add_argument("--since-time", type=parse_rfc3339, metavar="TIME",
                      help="only logs at or after this RFC 3339 time, e.g. "
                           "2026-12-06T10:00:00Z")
    p.add_argument("--tail", type=int, default=5000, metavar="LINES",
                   help="last lines of each container log (default 5000)")
    p.add_argument("--request-timeout", type=_positive_duration,
                   default=DEFAULT_REQUEST_TIMEOUT, metavar="DURATION",
                   help="deadline of each whole API call and log stream: connect, headers "
                        f"and every byte (default {DEFAULT_REQUEST_TIMEOUT:g}s)")


def target_from(args: argparse.Namespace) -> KubeTarget:
    from probes.kube.live import KubeTarget

    return KubeTarget(
        kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace,
        all_namespaces=bool(args.all_namespaces), selector=args.selector,
        container=args.container, since_seconds=int(args.since) if args.since else None,
        since_time_ns=getattr(args, "since_time", None),
        previous_only=bool(getattr(args, "previous", False)),
        request_timeout=float(args.request_timeout), targets=tuple(args.targets),
        tail_lines=args.tail if args.tail and args.tail > 0 else None)


def _gather(target: KubeTarget, *, logs: bool) -> tuple[Collected | None, int]:
    """Collect, mapping failures to exit codes with a one-line message on stderr. A
    collection that found nothing usable comes back with its objects and INPUT_ERROR."""
    from probes.kube.live import Cancelled, Collected, NoConfig, Unreachable, gather

    if target.kubeconfig and not Path(target.kubeconfig).is_file():
        # The client's own words for this are "Invalid kube-config file. No configuration
        # found.", which sends the operator to check the file's content, not its name.
        what = "not a file" if Path(target.kubeconfig).exists() else "no such file"
        err(f"--kubeconfig {target.kubeconfig}: {what}")
        return None, ExitCode.INPUT_ERROR
    result, interrupted = run_interruptibly(lambda cancel: gather(target, cancel, logs=logs),
                                                name="scaledoc-kube")
    if isinstance(result, Collected):
        return result, _warn_denied(result, target)
    if interrupted or isinstance(result, Cancelled):
        err("interrupted")
        return None, ExitCode.INTERRUPTED
    if isinstance(result, NoConfig):
        err(str(result))
        return None, ExitCode.INPUT_ERROR
    if isinstance(result, Unreachable):
        err(str(result))
        return None, ExitCode.UNREACHABLE
    if isinstance(result, ValueError):
        err(str(result))
        return None, ExitCode.INPUT_ERROR
    raise result  # an unexpected bug: let it show


def _warn_denied(got: Collected, target: KubeTarget) -> int:
    """Name what was not collected on stderr. No pod at all (and nothing denied) is
    'nothing usable' (INPUT_ERROR, like a deploy/NAME that does not exist): a script must
    not read an empty report of a mistyped namespace or selector as a clean run."""
    for d in got.denied:
        err(f"not collected: {d.text()}")
    for reason, n in got.not_fetched.items():
        err(f"logs not fetched: {n} ({reason})")
    if not got.pods and not got.denied:
        where = "all namespaces" if target.all_namespaces else \
            f"namespace {got.namespace or 'default'}"
        what = ", ".join(filter(None, [f"-l {target.selector}" if target.selector else "",
                                       " ".join(target.targets)]))
        err(f"no pods found in {where}" + (f" for {what}" if what else "")
            + ": check -n/--namespace, -l/--selector and the TYPE/NAME")
        return ExitCode.INPUT_ERROR
    return ExitCode.OK


# --- the case: pod evidence plus the pods' logs ----------------------------------------


# --- kubectl scaledoc ------------------------------------------------------------------


def plugin_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PLUGIN,
        description="Diagnose why an AI-agent workload breaks when scaled out: pods, events "
                    "and the logs of every replica (current and previous), read-only.",
        epilog=f"examples:\n  {PLUGIN} -n prod deploy/agent\n"
               f"  {PLUGIN} -n prod -l app=agent --since 1h --report\n"
               f"  {PLUGIN} capture -n prod deploy/agent -o incident.tar.gz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_kube_flags(p)
    p.add_argument("--report", action="store_true",
                   help="print the report instead of opening the TUI")
    p.add_argument("-o", "--output", choices=REPORT_FORMATS, metavar="FORMAT",
                   help="report format: text, markdown or json (implies --report)")
    from tui.commands.follow import add_follow_options
    from tui.commands.prometheus import add_prometheus_flags

    add_follow_options(p)  # -f: watch pods and events, follow every container's log
    add_prometheus_flags(p, selector=False, since=False)  # -l and --since stay kubectl's
    return p


def capture_parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Write a redacted capture bundle (pods, events, owners, "
                               "current and previous logs, manifest) to analyse offline.")
    _capture_flags(p)
    return p


def _capture_flags(p: argparse.ArgumentParser) -> None:
    add_kube_flags(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="bundle to write, e.g. incident.tar.gz")
    p.add_argument("--no-logs", action="store_true", help="objects only, no container logs")


def kubectl_main(argv: Sequence[str], report: ReportFn, tui: TuiFn) -> int:
    """Entry point when run as ``kubectl-scaledoc`` (``kubectl scaledoc``).

    ``report(case)`` (or ``report(case, fmt)`` for ``-o markdown|json``) prints the
    headless report; ``tui(case)`` opens the TUI. Both return an exit code.
    """
    from probes.tempspace import space

    space()  # from the main thread: the temp space is also cleaned on SIGTERM/SIGHUP
    args_list = list(argv)
    if args_list[:1] == ["capture"]:
        parsed = _parse(capture_parser(f"{PLUGIN} capture"), args_list[1:])
        return parsed if isinstance(parsed, int) else run_capture(parsed)
    parsed = _parse(plugin_parser(), args_list)
    if isinstance(parsed, int):
        return parsed
    args = parsed
    target = target_from(args)
    try:
        _prometheus_flags(args)
    except ValueError as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR
    if getattr(args, "follow", False):
        if getattr(args, "prometheus", None):
            from tui.commands.follow import NO_FOLLOWED_METRICS

            err(NO_FOLLOWED_METRICS)
            return ExitCode.INPUT_ERROR
        return follow_cluster(args, target, report)
    got, found = _gather(target, logs=True)
    if got is None:
        return found
    from probes.pipeline import cluster_case  # the analysis loads only when it runs

    fmt = args.output or "text"
    if args.report or args.output or not sys.stdout.isatty():
        case, metrics = _with_metrics(cluster_case(got, target), args, got)
        code = report(case) if fmt == "text" else report(case, fmt)
        if code == ExitCode.OK and metrics != ExitCode.OK:
            return metrics
        return found if code == ExitCode.OK else code
    if found != ExitCode.OK:
        return found  # nothing to show: the message on stderr would hide behind a TUI
    from tui.app.logview import LogIndex

    # The pods' logs live in temp files only while they are analysed: the Logs view's
    # index is filled in that pass, texts kept (a second read would find nothing).
    index = LogIndex(keep_text=True)
    case, _ = _with_metrics(cluster_case(got, target, sink=index), args, got)
    index.finish()
    return tui(case, log_index=index)


def _prometheus_flags(args: argparse.Namespace) -> None:
    """ValueError for a bad ``--prometheus`` flag, before the cluster is asked anything."""
    from tui.commands.prometheus import prometheus_target

    prometheus_target(args, selector=getattr(args, "prom_selector", None) or "",
                      since_s=_window(args))


def _window(args: argparse.Namespace) -> float:
    """The metrics window: kubectl's ``--since`` when given (the logs' window), else 1h."""
    return float(args.since) if args.since else 3600.0


def _with_metrics(case: Case, args: argparse.Namespace, got: Collected) -> tuple[Case, int]:
    """The case with the fleet's metrics (``--prometheus``), asked for the namespace and
    the pods the target's workloads make; UNREACHABLE (said on stderr) when the server
    cannot be reached, the report still printed."""
    if not getattr(args, "prometheus", None):
        return case, ExitCode.OK
    from probes.prometheus import collect, workload_selector
    from tui.commands.prometheus import prometheus_target

    namespace = None if args.all_namespaces else (args.namespace or got.namespace)
    selector = getattr(args, "prom_selector", None)
    if selector is None:
        # workloads name their pods (the replaced ones too); -l only the pods found now
        pods = tuple(n for p in got.pods if isinstance(p, dict)
                     if (n := str((p.get("metadata") or {}).get("name") or "")))
        selector = workload_selector(namespace, tuple(args.targets),
                                     pods if args.selector else ())
    target = prometheus_target(args, selector=selector, since_s=_window(args))
    if target is None:
        return case, ExitCode.OK
    ev = collect(target)
    if ev.error:
        err(f"{ev.target}: {ev.error}")
    return case.with_evidence(ev), ExitCode.UNREACHABLE if ev.error else ExitCode.OK


def follow_cluster(args: argparse.Namespace, target: KubeTarget, report: ReportFn) -> int:
    """``kubectl scaledoc -f``: list then watch pods and events, follow every running
    container's log (new pods and restarts' previous logs too) into the same windowed
    analysis, and re-rank as evidence arrives: the TUI on a terminal, else one line (or
    one NDJSON object with ``-o json``) per changed verdict; Ctrl-C ends with the report.
    Read-only; a dropped watch retries with backoff and says so on stderr."""
    from probes.follow import Follower
    from probes.kube.live import NoConfig, Unreachable
    from probes.kube.watch import KubeFollow
    from tui.commands.follow import follow_config, follow_loop

    follower = Follower(follow=follow_config(args))
    fmt = args.output or "text"
    headless = bool(args.report or args.output or not sys.stdout.isatty())
    try:
        watch = KubeFollow(target, follower, say=err)
    except NoConfig as exc:
        err(str(exc))
        return ExitCode.INPUT_ERROR
    except Unreachable as exc:
        err(str(exc))
        return ExitCode.UNREACHABLE
    watch.start()
    try:
        if not headless:
            from tui.app.main import run_app

            return run_app(follower=follower, title=f"{PLUGIN} -f")
        err(f"following pods, events and logs in {watch.namespace}; window "
            f"{follower.follow.window_s / 60:g} min of log time; Ctrl-C ends with the report")
        final, changes = follow_loop(follower, "json" if fmt == "json" else "text")
        if final is None:
            return ExitCode.INTERRUPTED
        if fmt == "json":  # NDJSON to the end: the final report is one line too
            from probes.redact import strict_json
            from tui.render import report as reports

            doc = {**reports.to_json(final), "follow": {"seq": changes + 1, "final": True}}
            sys.stdout.write(strict_json(doc, ensure_ascii=False, compact=True) + "\n")
            return ExitCode.OK
        sys.stdout.write("\n")
        code = report(final.case) if fmt == "text" else report(final.case, fmt)
        return int(code)
    finally:
        watch.stop()


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """Parse, turning argparse's exits into exit codes (-h: OK, bad flags: INPUT_ERROR)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return ExitCode.OK if exc.code in (0, None) else ExitCode.INPUT_ERROR


def run_capture(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from probes.safe_text import visible

    out = Path(args.output)
    if out.is_dir():
        err(f"{out} is a directory; give a file name like incident.tar.gz")
        return ExitCode.INPUT_ERROR
    if not out.parent.exists():
        err(f"folder {out.parent} does not exist")
        return ExitCode.INPUT_ERROR
    target = target_from(args)
    got, found = _gather(target, logs=not args.no_logs)
    if got is None:
        return found
    from probes.kube.bundle import write_bundle

    try:
        write_bundle(got, target, out)
    except OSError as exc:
        err(f"cannot write {out}: {exc}")
        return ExitCode.INPUT_ERROR
    logs = sum(1 for e in got.log_files if "lines" in e)
    shown = visible(str(out))  # a file name is text from the user: escapes made visible
    Console(stderr=True, highlight=False).print(Text(
        f"wrote {shown}: {len(got.pods)} pod(s), {len(got.events)} event(s), {logs} log(s), "
        f"{len(got.denied)} denied; analyse with: scaledoc analyze {shown}"))
    return found


# --- scaledoc kube / scaledoc capture --------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``kube`` (live pod evidence, headless) and ``capture`` (write a bundle)."""
    kube = subparsers.add_parser(
        "kube", help="read pods, events and restarts of a workload (read-only) and report",
        description="Read pods, events and container terminations of a workload from the "
                    "cluster (read-only) and print pod signals, terminations and replica "
                    "differences. The same flags as kubectl.")
    add_kube_flags(kube)
    kube.add_argument("--json", action="store_true", help="print the Evidence as JSON")
    kube.set_defaults(func=cmd_kube)
    cap = subparsers.add_parser(
        "capture", help="write a redacted bundle of pods, events and logs for offline analysis",
        description="Collect pods, events, owners and current/previous logs (read-only) into "
                    "one redacted .tar.gz; analyse it later with 'scaledoc analyze FILE'.")
    _capture_flags(cap)
    cap.set_defaults(func=run_capture)


def cmd_kube(args: argparse.Namespace) -> int:
    from rich.console import Console

    from probes.kube.live import evidence_of
    from probes.redact import json_out
    from tui.render.evidence_tables import pods_table, replica_tables, signals_table

    target = target_from(args)
    got, found = _gather(target, logs=False)
    if got is None:
        return found
    ev = evidence_of(got, target)
    if args.json:
        print(json_out(ev.to_json(), indent=2))
        return found
    console = Console(highlight=False)
    console.print(pods_table(ev))
    console.print(signals_table(ev, "Pod signals"))
    for table in replica_tables(ev):
        console.print(table)
    return found


