"""Rich tables of one probe's Evidence, for the headless commands (``ps``, ``ramp``,
``kube``, ``code``) and the plugin.

Apart from the commands so that a command module's import (every ``scaledoc --help``
registers them all) does not load Rich and the core: the commands import this module when
they print. Texts from logs, processes and clusters are plain ``Text``, never markup.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from probes.evidence import Answer, Evidence
from probes.safe_text import visible
from tui.render.plain import clip

ANSWER_STYLE = {Answer.YES: "bold red", Answer.NO: "green", Answer.UNKNOWN: "yellow"}
MIB = 1024 * 1024
COMMAND_CHARS = 100
MESSAGE_CHARS = 80


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


def _t(value: object) -> Text:
    """Cluster text as plain, visible text: never markup, never raw escapes."""
    return Text(visible("" if value is None else str(value)))


def pods_table(ev: Evidence) -> Table:
    table = plain_table(f"Pods: {visible(ev.target)}")
    for col in ("pod", "ready", "phase", "restarts", "last termination", "node"):
        # Replicas differ at the end of their names: keep the pod whole, wrap the rest.
        table.add_column(col, overflow="fold", no_wrap=col == "pod")
    for row in ev.data.get("pods", []):
        t = row.get("last_termination") or {}
        last = f"{t.get('ended')} ({t.get('reason')}, exit {t.get('exit_code')})" if t else ""
        table.add_row(_t(row.get("pod")), _t(row.get("ready")),
                      _t(row.get("reason") or row.get("phase")), _t(row.get("restarts")),
                      _t(last), _t(row.get("node")))
    return table


def replica_tables(ev: Evidence) -> list[Table]:
    tables = []
    for group in ev.data.get("replicas", []):
        differs = set(group.get("differs", []))
        table = plain_table(f"Replicas of {visible(group.get('owner', '?'))} "
                            f"(differ in: {', '.join(sorted(differs)) or 'nothing'})")
        cols = ("pod", "node", "restarts", "last_reason", "last_exit", "ready", "images")
        for col in cols:
            table.add_column(col, overflow="fold", no_wrap=col == "pod")
        outliers = group.get("outliers", {})
        for row in group.get("replicas", []):
            cells = []
            for col in cols:
                style = "bold red" if row["pod"] in outliers.get(col, []) else ""
                value = row.get(col)
                cells.append(Text(visible("" if value is None else str(value)), style=style))
            table.add_row(*cells)
        tables.append(table)
    return tables


def findings_table(ev: Evidence, width: int = 120) -> Table:
    """One row per finding; the file:line column takes at most 2/5 of the width."""
    table = Table(title="Code findings (risks seen in source; weaker than runtime evidence)",
                  title_justify="left", expand=True, show_lines=True)
    table.add_column("where / cause", overflow="fold", max_width=max(30, width * 2 // 5))
    table.add_column("why", ratio=3)
    table.add_column("excerpt", ratio=3, overflow="fold")
    for f in ev.data.get("findings", []):
        where = Text(visible(f"{f['path']}:{f['line']}"))
        where.append("\n" + f["cause"], style="bold")
        table.add_row(where, Text(visible(f["why"])), Text(visible(f["excerpt"])))
    return table


def summary_lines(ev: Evidence) -> list[Text]:
    out: list[Text] = []
    for r in ev.inputs:
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(r.skipped.items()))
        line = f"{r.name}: {r.notes[0] if r.notes else ''}"
        if skipped:
            line += f"; skipped: {skipped}"
        if r.error:
            line += f"; error: {r.error}"
        out.append(Text(visible(line)))
        out.extend(Text("  " + visible(n)) for n in r.notes[1:])
    return out
