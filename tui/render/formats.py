"""Output formats shared by every headless command: ``-o text|json|yaml|markdown``.

kubectl's convention: ``-o``/``--output`` names a *format*, never a file (a report file
is ``--output-file``/``--report-file``). ``--json`` stays as an alias of ``-o json``.

The commands that print one probe's Evidence (``ps``, ``ramp``, ``kube``) already print it
as JSON with ``--json``; :func:`with_output_formats` adds ``-o`` to them from outside and
turns that JSON document into YAML or Markdown, so every command speaks the same formats
without each re-implementing them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Callable
from typing import Any

FORMATS: tuple[str, ...] = ("text", "json", "yaml", "markdown")
"""What ``-o`` takes on every command (``code`` adds ``sarif``)."""

Command = Callable[[argparse.Namespace], int]


def format_type(formats: tuple[str, ...] = FORMATS) -> Callable[[str], str]:
    """An argparse ``type`` for ``-o``: a format name, case-insensitive. A value that looks
    like a file name (``-o report.md``, the old meaning) says where a file now goes."""

    def parse(value: str) -> str:
        v = value.strip().lower()
        if v in formats:
            return v
        hint = ""
        if "." in value or "/" in value:
            hint = f"; -o names a format: write a file with --output-file {value}"
        raise argparse.ArgumentTypeError(
            f"unknown format {value!r} (choose from {', '.join(formats)}){hint}")

    return parse


def add_output_option(p: argparse.ArgumentParser, dest: str,
                      formats: tuple[str, ...] = FORMATS, *, what: str = "the report") -> None:
    """``-o/--output FORMAT`` on a parser, stored in ``dest``."""
    p.add_argument("-o", "--output", dest=dest, type=format_type(formats), default=None,
                   metavar="FORMAT",
                   help=f"how to print {what}: {', '.join(formats)} (default text)")


def to_yaml(doc: Any) -> str:
    """A document as YAML, with keys in the JSON order and no line folding (a long log
    excerpt stays one line, as in the JSON). Redacted and finite like ``json_out``."""
    import yaml

    from probes.redact import finite, redact_obj

    clean, _ = finite(redact_obj(doc))
    return str(yaml.safe_dump(clean, sort_keys=False, allow_unicode=True, width=2**31 - 1,
                              default_flow_style=False))


# ----------------------------------------------------------------------------- Evidence


def evidence_markdown(doc: dict[str, Any], command: str) -> str:
    """One probe's Evidence (``Evidence.to_json()``) as Markdown for a ticket: target,
    error, the signals it answered, and its inputs."""
    from tui.render.report import _md, _md_code

    lines = [f"## scaledoc {command}: {_md(str(doc.get('target', '')))}", ""]
    if doc.get("error"):
        lines += [f"**Error:** {_md(str(doc['error']))}", ""]
    signals = doc.get("signals") or []
    if signals:
        lines += ["| signal | answer | detail |", "|---|---|---|"]
        for s in signals:
            lines.append(f"| `{s.get('key', '')}` | **{s.get('answer', '')}** | "
                         f"{_md(str(s.get('detail', '')))} |")
        lines.append("")
        for s in signals:
            for e in (s.get("evidence") or [])[:3]:
                where = e.get("where") or e.get("source", "")
                lines.append(f"- `{s.get('key', '')}` {_md_code(str(where))} "
                             f"{_md_code(str(e.get('text') or e.get('note') or ''))}")
        if any(s.get("evidence") for s in signals):
            lines.append("")
    for i in doc.get("inputs") or []:
        note = "; ".join(str(n) for n in i.get("notes") or [])
        lines.append(f"- input {_md_code(str(i.get('name', '')))}: {_md(note)}".rstrip(": "))
    collected = doc.get("collected_at")
    lines += ["", f"_collected {collected or 'at an unknown time'} by scaledoc {command}._", ""]
    return "\n".join(lines)


def render_document(doc: Any, fmt: str, *, command: str = "") -> str:
    """A JSON-able document in ``fmt`` (json, yaml or markdown), ending with a newline."""
    if fmt == "yaml":
        return to_yaml(doc)
    if fmt == "markdown":
        return evidence_markdown(doc, command)
    from probes.redact import json_out

    return json_out(doc) + "\n"


def with_output_formats(func: Command, command: str, dest: str = "output_format") -> Command:
    """Wrap a command that prints its Evidence as JSON with ``--json`` so that ``-o`` gives
    json, yaml or markdown too. Text is the command's own tables, untouched."""

    def run(args: argparse.Namespace) -> int:
        fmt = getattr(args, dest, None) or ("json" if getattr(args, "json", False) else "text")
        if fmt in ("text", "json"):  # the command's own tables, or its own JSON as printed
            args.json = fmt == "json"
            return func(args)
        args.json = True
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = func(args)
        out = buf.getvalue()
        if out.strip():
            try:
                doc = json.loads(out)
            except ValueError:  # not one document: pass it through as printed
                sys.stdout.write(out)
            else:
                sys.stdout.write(render_document(doc, fmt, command=command))
        return code

    return run
