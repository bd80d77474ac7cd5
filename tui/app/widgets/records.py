"""Show evidence ``data`` generically but readably: lists of records as tables.

The probes' ``data`` payloads are plain JSON values whose shapes grow as the probes do
(pods, processes, code findings, ramp levels). Rather than hard-code each, a list of
dicts becomes a table whose columns are the keys in first-seen order; nested values are
flattened to short text (``p50=12.0 p95=40.1``, ``3 items``). Every cell goes through
``plain()`` because the values come from clusters, processes and source files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tui.render.plain import clip, plain

CELL_CHARS = 60
MAX_COLUMNS = 14


def cell_text(value: Any, width: int = CELL_CHARS) -> str:
    """A JSON value as one short line of text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        keys = sorted(value, key=_key_rank)
        return clip(" ".join(f"{k}={cell_text(value[k], 20)}" for k in keys
                             if value[k] not in (None, "", False)), width)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if all(isinstance(v, str | int | float) for v in value):
            return clip(", ".join(cell_text(v, 30) for v in value), width)
        return f"{len(value)} items"
    return clip(str(value), width)


_FIRST = ("reason", "exit_code", "ended", "finished", "status", "message")
"""In a nested record (a pod's last termination), what an operator reads first."""
_LAST = ("pod", "namespace", "container", "init", "which")
"""Identity keys the row already shows: last, so a cut cell keeps what matters."""


def _key_rank(key: str) -> tuple[int, int]:
    if key in _FIRST:
        return (0, _FIRST.index(key))
    return (2, 0) if key in _LAST else (1, 0)


def human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def column_text(column: str, value: Any) -> str:
    """A cell: sizes (``*_bytes``) in KiB/MiB, everything else by ``cell_text``."""
    if column.endswith("_bytes") and isinstance(value, int) and not isinstance(value, bool):
        return human_bytes(value)
    return cell_text(value)


def columns_of(records: Sequence[Mapping[str, Any]], limit: int = MAX_COLUMNS) -> list[str]:
    seen: dict[str, None] = {}
    for rec in records:
        for key in rec:
            seen.setdefault(str(key), None)
    return list(seen)[:limit]


def fill_table(table: DataTable[Any], records: Sequence[Mapping[str, Any]],
               columns: Sequence[str] | None = None) -> None:
    """Replace ``table``'s contents with ``records`` (one row each)."""
    table.clear(columns=True)
    cols = list(columns) if columns is not None else columns_of(records)
    for col in cols:
        table.add_column(plain(col, "bold"), key=col)
    for rec in records:
        table.add_row(*(plain(column_text(col, rec.get(col))) for col in cols))


def record_lists(data: Mapping[str, Any]) -> tuple[dict[str, list[Mapping[str, Any]]],
                                                    dict[str, Any]]:
    """Split ``data`` into lists of records (shown as tables) and everything else."""
    tables: dict[str, list[Mapping[str, Any]]] = {}
    scalars: dict[str, Any] = {}
    for key, value in data.items():
        if (isinstance(value, Sequence) and not isinstance(value, str) and value
                and all(isinstance(v, Mapping) for v in value)):
            tables[str(key)] = list(value)
        elif isinstance(value, Mapping) and value and all(
                isinstance(v, Mapping) for v in value.values()):
            tables[str(key)] = [{"name": k, **v} for k, v in value.items()]
        else:
            scalars[str(key)] = value
    return tables, scalars


def scalars_text(scalars: Mapping[str, Any]) -> Text:
    text = Text()
    for key, value in scalars.items():
        if value in (None, "", [], {}):
            continue
        text.append(f"{key}: ", style="dim")
        text.append_text(plain(cell_text(value, 200)))
        text.append("  ")
    return text
