"""User settings for ingestion: field-role overrides and the line-length cap.

A service that logs its agent instance as ``agent.instanceId`` is found by the alias
table already; one that logs it as ``ctx.bot`` needs ``--field instance=ctx.bot`` or a
TOML file::

    [fields]
    instance = "ctx.bot"
    session = "conv"

Bad settings raise ``ValueError`` with a message meant for the operator (the CLI
prints it and exits with the usage code).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from probes.ingest.roles import ROLES

DEFAULT_MAX_LINE_BYTES = 1 << 20


@dataclass
class IngestConfig:
    """How to read inputs. ``field_overrides`` maps a role (``instance``, ``session``...,
    see ``probes.ingest.roles.ROLES``) to a dotted key path tried before the aliases."""

    field_overrides: dict[str, str] = field(default_factory=dict)
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES

    @classmethod
    def load(cls, path: str | None, overrides: Sequence[str] = ()) -> IngestConfig:
        """Settings from a TOML file (optional) plus ``role=key`` overrides, which win."""
        fields: dict[str, str] = {}
        max_line = DEFAULT_MAX_LINE_BYTES
        if path is not None:
            try:
                doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ValueError(f"config file {path}: no such file") from None
            except PermissionError:
                raise ValueError(f"config file {path}: permission denied") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"config file {path}: cannot read: {exc}") from None
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"config file {path}: not valid TOML: {exc}") from None
            unknown_tables = sorted(set(doc) - {"fields", "ingest"})
            if unknown_tables or not doc:
                raise ValueError(
                    f"config file {path}: expected a [fields] table (and optionally [ingest]); "
                    + (f"found {', '.join(unknown_tables)}" if unknown_tables else "it is empty"))
            table = doc.get("fields", {})
            if not isinstance(table, dict):
                raise ValueError(f"config file {path}: [fields] must be a table of role = \"key\"")
            for role, key in table.items():
                fields[_check_role(role, f"config file {path}")] = _check_key(
                    key, f"config file {path}: fields.{role}")
            ingest = doc.get("ingest", {})
            if isinstance(ingest, dict) and "max_line_bytes" in ingest:
                v = ingest["max_line_bytes"]
                if type(v) is not int or v < 1024:
                    raise ValueError(f"config file {path}: ingest.max_line_bytes must be an "
                                     "integer >= 1024")
                max_line = v
        for item in overrides:
            role, sep, key = item.partition("=")
            if not sep:
                raise ValueError(f"--field {item!r}: expected role=key, e.g. "
                                 "instance=agent.instanceId")
            fields[_check_role(role.strip(), f"--field {item!r}")] = _check_key(
                key.strip(), f"--field {item!r}")
        return cls(field_overrides=fields, max_line_bytes=max_line)


def _check_role(role: str, where: str) -> str:
    if role not in ROLES:
        raise ValueError(f"{where}: unknown role {role!r}; roles are: {', '.join(ROLES)}")
    return role


def _check_key(key: object, where: str) -> str:
    if not isinstance(key, str) or not key.strip() or key.startswith(".") or key.endswith(".") \
            or ".." in key:
        raise ValueError(f"{where}: the key must be a non-empty dotted path like "
                         "agent.instanceId")
    return key.strip()
