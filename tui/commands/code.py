"""``scaledoc code PATH... [-o text|json|yaml|markdown|sarif]``: risky places in a service's
source and manifests.

Prints one row per finding (file:line, cause, why, excerpt); ``-o json`` (``--json``) the
code probe's Evidence as JSON, ``-o yaml``/``markdown`` the same Evidence, ``-o sarif`` the
findings as SARIF 2.1.0 for CI code scanning (``tui.render.sarif``). Exit 0 whether or not
anything was found; 1 when no path could be scanned (missing, or holding no source or
manifest). Source excerpts are untrusted text: redacted by the probe, shown here through
``visible`` as plain ``Text``, never as markup.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.exit_codes import ExitCode
from tui.render.formats import FORMATS, add_output_option, render_document

if TYPE_CHECKING:  # annotations only: the modules load when a command runs
    from probes.evidence import Evidence

CODE_FORMATS = (*FORMATS, "sarif")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "code", help="show risky places in source and manifests (file:line)",
        description="Scan Python and TypeScript/JavaScript sources and package manifests "
                    "for scaling risks: shared agent instances, shared history, stateful "
                    "tools, unbounded fan-out, re-entrant runs, overlapping timers, "
                    "in-memory state, unversioned updates and mixed framework versions. "
                    "Code findings are risks, weaker evidence than runtime logs.")
    p.add_argument("code_paths", nargs="+", metavar="PATH",
                   help="source folders or files, manifests, lockfiles")
    add_output_option(p, "output_format", CODE_FORMATS, what="the findings")
    p.add_argument("--json", action="store_true", help="same as -o json")
    p.set_defaults(func=cmd_code)


def path_problem(p: Path) -> str:
    """Why a path given on the command line cannot be scanned ('' when it can)."""
    from probes.code.dependencies import is_manifest  # tree-sitter: only when used
    from probes.code.scan import SOURCE_SUFFIXES

    if not p.exists():
        return f"no such file or folder: {p}"
    if p.is_file() and p.suffix not in SOURCE_SUFFIXES and not is_manifest(p):
        return f"not a source file or manifest: {p}"
    return ""


def _print_document(ev: Evidence, fmt: str) -> None:
    from probes.redact import json_out

    if fmt == "json":
        print(json_out(ev.to_json(), indent=1))
    elif fmt == "sarif":
        from tui.render.sarif import to_sarif

        print(json_out(to_sarif(ev), indent=1))
    else:
        sys.stdout.write(render_document(ev.to_json(), fmt, command="code"))


def cmd_code(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from probes.code import scan
    from probes.safe_text import visible
    from tui.render.evidence_tables import findings_table, summary_lines

    paths = [Path(p) for p in args.code_paths]
    good: list[Path] = []
    for p in paths:
        problem = path_problem(p)
        if problem:
            print(f"scaledoc code: {visible(problem)}", file=sys.stderr)
        else:
            good.append(p)
    if not good:
        return ExitCode.INPUT_ERROR
    ev = scan(good)
    fmt = getattr(args, "output_format", None) or ("json" if args.json else "text")
    files = ev.data.get("files", {})
    if not files.get("source") and not files.get("manifests"):
        print("scaledoc code: no Python/TypeScript/JavaScript source or manifest found in "
              + visible(", ".join(str(p) for p in good)), file=sys.stderr)
        if fmt != "text":
            _print_document(ev, fmt)
        return ExitCode.INPUT_ERROR
    if fmt != "text":
        _print_document(ev, fmt)
        return ExitCode.OK
    console = Console(markup=False, highlight=False, emoji=False)
    if ev.data.get("findings"):
        console.print(findings_table(ev, console.width))
    else:
        console.print(Text("No risky patterns found."))
    for line in summary_lines(ev):
        console.print(line)
    return ExitCode.OK
