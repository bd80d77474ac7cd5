"""The ``--prometheus`` flags, shared by ``scaledoc analyze``/``tui`` and ``kubectl scaledoc``.

Secrets never travel on the command line, where ``ps`` and shell history show them: the
bearer token comes from a file (``--prom-token-file``) or ``SCALEDOC_PROM_TOKEN``, the
basic-auth password from ``SCALEDOC_PROM_PASSWORD``. Flags are checked before any
request: a bad URL, selector or window is an input error (exit 1), not a probe failure.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.prometheus import PromTarget

TOKEN_ENV = "SCALEDOC_PROM_TOKEN"
PASSWORD_ENV = "SCALEDOC_PROM_PASSWORD"
MAX_TOKEN_BYTES = 64 << 10


def add_prometheus_flags(p: argparse.ArgumentParser, *, selector: bool = True,
                         since: bool = True) -> None:
    """The flags; ``selector``/``since`` False where the command has its own (kubectl's
    ``-l/--selector`` and ``--since`` keep their kubectl meanings)."""
    g = p.add_argument_group(
        "fleet metrics from Prometheus (or Thanos, Mimir, VictoriaMetrics), joined to the "
        "inputs")
    g.add_argument("--prometheus", metavar="URL",
                   help="ask this Prometheus-compatible server for restarts, OOM kills, "
                        "memory, 5xx by concurrency, latency and upstream 429s of the fleet")
    if selector:
        g.add_argument("--selector", metavar="MATCHERS", default="",
                       help='PromQL label matchers for the fleet, e.g. '
                            'namespace="prod",pod=~"agent-.*"')
    else:
        g.add_argument("--prom-selector", dest="prom_selector", metavar="MATCHERS", default=None,
                       help="PromQL label matchers (default: the namespace and the target's "
                            "pods)")
    if since:
        g.add_argument("--since", metavar="DURATION", default="1h",
                       help="the window asked about, ending now (default 1h; e.g. 30m, 2h, "
                            "1d)")
    g.add_argument("--until", metavar="TIME",
                   help="end the window at this RFC 3339 time instead of now, e.g. "
                        "2026-12-06T16:00:00Z")
    g.add_argument("--prom-token-file", metavar="FILE",
                   help=f"bearer token for the server, read from FILE (or ${TOKEN_ENV})")
    g.add_argument("--prom-user", metavar="USER",
                   help=f"basic-auth user; the password comes from ${PASSWORD_ENV}")
    g.add_argument("--prom-ca", metavar="FILE", help="CA bundle to verify the server's TLS")
    g.add_argument("--prom-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="deadline of each call to the server (default 10)")


def prometheus_target(args: argparse.Namespace, *, selector: str | None = None,
                      since_s: float | None = None) -> PromTarget | None:
    """The target the flags ask for, or None without ``--prometheus``; ValueError (with
    the flag's name) for anything wrong, before any request is sent."""
    url = getattr(args, "prometheus", None)
    if not url:
        return None
    from probes.prometheus import PromTarget, check_target, parse_since
    from probes.prometheus.client import PromAuth

    if since_s is None:
        since_s = parse_since(str(getattr(args, "since", "1h") or "1h"))
    until = _until(args.until) if getattr(args, "until", None) else None
    timeout = float(getattr(args, "prom_timeout", 10.0))
    if not 0 < timeout <= 600:
        raise ValueError("--prom-timeout: must be more than 0 and at most 600 seconds")
    token = _token(getattr(args, "prom_token_file", None))
    user = getattr(args, "prom_user", None)
    password = os.environ.get(PASSWORD_ENV) if user else None
    if user and token:
        raise ValueError("--prom-user and a bearer token: give one or the other")
    ca = getattr(args, "prom_ca", None)
    if ca and not Path(ca).is_file():
        raise ValueError(f"--prom-ca {ca}: no such file")
    chosen = selector if selector is not None else str(getattr(args, "selector", "") or "")
    target = PromTarget(url=url, selector=chosen, since_s=since_s, until=until,
                        auth=PromAuth(bearer_token=token, username=user, password=password,
                                      ca_file=ca),
                        timeout_s=timeout, deadline_s=max(60.0, 6 * timeout))
    problem = check_target(target)
    if problem is not None:
        raise ValueError(problem)
    return target


def _until(text: str) -> float:
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--until: not an RFC 3339 time: {text!r} (e.g. "
                         "2026-12-06T16:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _token(path: str | None) -> str | None:
    """The bearer token from its file, else the environment; never from a flag's value."""
    if path:
        p = Path(path)
        try:
            if p.stat().st_size > MAX_TOKEN_BYTES:
                raise ValueError(f"--prom-token-file {path}: larger than 64 KiB, not a token")
            text = p.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"--prom-token-file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ValueError(f"--prom-token-file {path}: not text") from None
        if not text or any(c in text for c in "\r\n"):
            raise ValueError(f"--prom-token-file {path}: expected one token on one line")
        return text
    env = os.environ.get(TOKEN_ENV, "").strip()
    return env or None
