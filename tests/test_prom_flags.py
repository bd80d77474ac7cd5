"""The Prometheus probe's inputs: selectors, windows, URLs, credentials and the flags.

No server here: these are the checks made before any request is sent (a bad flag is an
input error, exit 1) and the promises about secrets (never in a repr, a URL shown, an
error message or argv).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from probes.prometheus import (
    PromTarget,
    check_target,
    collect,
    parse_selector,
    parse_since,
    workload_selector,
)
from probes.prometheus.client import PromAuth, check_url, display_url
from tui.commands.prometheus import PASSWORD_ENV, TOKEN_ENV, add_prometheus_flags, prometheus_target


@pytest.mark.parametrize(("text", "normal"), [
    ('namespace="prod"', 'namespace="prod"'),
    ('{namespace="prod", pod=~"agent-.*"}', 'namespace="prod",pod=~"agent-.*"'),
    ('  job!="x" ,  le!~"\\\\d+"  ', 'job!="x",le!~"\\\\d+"'),
    ('a="with \\"quote\\" inside"', 'a="with \\"quote\\" inside"'),
    ("", ""),
    ("{}", ""),
    ('namespace="prod",', 'namespace="prod"'),  # PromQL allows a trailing comma
])
def test_selector_normal_form(text: str, normal: str) -> None:
    assert parse_selector(text) == normal
    assert parse_selector(normal) == normal  # idempotent


@pytest.mark.parametrize("text", [
    "namespace=prod",                       # unquoted value
    'namespace="prod"}) or vector(1) #',    # an attempt to leave the braces
    'namespace="prod" pod="x"',             # no comma
    '1ns="x"',                              # not a label name
    'ns="x\ny"',                            # a raw newline in a value
    "sum(rate(x[5m]))",                     # a query, not matchers
])
def test_selector_refuses_what_is_not_matchers(text: str) -> None:
    with pytest.raises(ValueError, match="label matcher"):
        parse_selector(text)


@pytest.mark.parametrize(("text", "seconds"), [
    ("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("1d", 86400), ("45", 45), ("30s", 30),
])
def test_since(text: str, seconds: float) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "31d", "2 hours", "-1h", "1w"])
def test_since_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_since(text)


def test_workload_selector_matches_the_pods_a_workload_makes() -> None:
    import re

    sel = workload_selector("prod", ("deploy/agent",))
    assert sel.startswith('namespace="prod",pod=~"')
    regex = sel.split('pod=~"', 1)[1][:-1].replace("\\\\", "\\")
    pattern = re.compile(f"^(?:{regex})$")
    assert pattern.match("agent-7c9f8b6d4-q8wzm")       # a ReplicaSet's pod
    assert pattern.match("agent-5d4c7b8f69-x2k9p")      # a newer ReplicaSet's
    assert not pattern.match("agent-api-7c9f8b6d4-q8wzm")  # another Deployment
    assert not pattern.match("agent-x")
    sts = workload_selector("prod", ("sts/db",))
    assert 'pod=~"db-[0-9]+"' in sts
    dotted = workload_selector("prod", ("pod/a.b",))
    assert parse_selector(dotted) == dotted
    assert re.fullmatch(dotted.split('pod=~"', 1)[1][:-1].replace("\\\\", "\\"), "a.b")
    assert not re.fullmatch(dotted.split('pod=~"', 1)[1][:-1].replace("\\\\", "\\"), "axb")
    # a label selector names no workload: the pods found now
    assert workload_selector("prod", (), ("agent-1",)) == 'namespace="prod",pod=~"agent\\\\-1"'
    assert workload_selector(None, ()) == ""


@pytest.mark.parametrize(("url", "problem"), [
    ("http://prometheus:9090", None),
    ("https://thanos.example/prom", None),
    ("prometheus:9090", "http"),
    ("ftp://x", "http"),
    ("http://", "no host"),
    ("http://p:9090/?q=1", "base URL"),
    ("http://p:99999", "not a URL"),
])
def test_url_checked(url: str, problem: str | None) -> None:
    got = check_url(url)
    assert (got is None) if problem is None else (got is not None and problem in got)


def test_secrets_never_shown() -> None:
    auth = PromAuth(bearer_token="tok-SECRET-123", username="ops", password="pw-SECRET-456")
    assert "SECRET" not in repr(auth) and "SECRET" not in str(auth)
    assert display_url("https://ops:pw-SECRET@prom.example:9443/x?token=SECRET#f") == \
        "https://prom.example:9443/x"
    t = PromTarget("http://127.0.0.1:1", auth=auth)
    assert "SECRET" not in repr(t)


def test_a_bad_target_is_an_error_before_any_request() -> None:
    ev = collect(PromTarget("http://user:SECRET@p:9090", selector="ns=prod"))
    assert ev.error is not None and "--selector" in ev.error
    assert "SECRET" not in ev.error and "SECRET" not in ev.target
    assert check_target(PromTarget("p:9090")) is not None


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_prometheus_flags(p)
    return p.parse_args(list(argv))


def test_flags_make_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert prometheus_target(_args()) is None
    token = tmp_path / "token"
    token.write_text("abc.def.ghi\n")
    t = prometheus_target(_args("--prometheus", "http://127.0.0.1:9090", "--selector",
                                '{namespace="prod"}', "--since", "2h", "--until",
                                "2026-12-06T16:00:00Z", "--prom-token-file", str(token)))
    assert t is not None
    assert t.selector == '{namespace="prod"}' and t.since_s == 7200
    assert t.until == 1796572800.0
    assert t.auth.bearer_token == "abc.def.ghi"


def test_token_and_password_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "env-token")
    t = prometheus_target(_args("--prometheus", "http://127.0.0.1:9090"))
    assert t is not None and t.auth.bearer_token == "env-token"
    monkeypatch.delenv(TOKEN_ENV)
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    t = prometheus_target(_args("--prometheus", "http://127.0.0.1:9090", "--prom-user", "ops"))
    assert t is not None and (t.auth.username, t.auth.password) == ("ops", "pw")


@pytest.mark.parametrize(("argv", "message"), [
    (["--prometheus", "prom:9090"], "http"),
    (["--prometheus", "http://p:9090", "--selector", "ns=prod"], "--selector"),
    (["--prometheus", "http://p:9090", "--since", "2 hours"], "duration"),
    (["--prometheus", "http://p:9090", "--until", "yesterday"], "--until"),
    (["--prometheus", "http://p:9090", "--prom-timeout", "0"], "--prom-timeout"),
    (["--prometheus", "http://p:9090", "--prom-ca", "/nonexistent/ca.pem"], "--prom-ca"),
    (["--prometheus", "http://p:9090", "--prom-token-file", "/nonexistent/t"], "token"),
])
def test_bad_flags(argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ValueError, match=message):
        prometheus_target(_args(*argv))


def test_a_token_file_of_two_lines_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "t"
    f.write_text("one\ntwo\n")
    with pytest.raises(ValueError, match="one token"):
        prometheus_target(_args("--prometheus", "http://p:9090", "--prom-token-file", str(f)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scaledoc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *argv],
                          capture_output=True, text=True, timeout=60)


def test_cli_unreachable_server_exits_3_within_the_timeout() -> None:
    import time

    port = _free_port()
    t0 = time.monotonic()
    out = _scaledoc("analyze", "--prometheus", f"http://127.0.0.1:{port}", "--prom-timeout",
                    "2")
    assert out.returncode == 3, out.stderr
    assert time.monotonic() - t0 < 20
    assert "cannot connect" in out.stderr and f"127.0.0.1:{port}" in out.stderr
    assert "verdict: inconclusive" in out.stdout  # the report still printed


def test_cli_bad_selector_is_an_input_error() -> None:
    out = _scaledoc("analyze", "--prometheus", "http://127.0.0.1:9", "--selector", "ns=prod")
    assert out.returncode == 1
    assert "--selector" in out.stderr and "label matcher" in out.stderr


def test_cli_token_is_never_printed(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok-SECRET-789\n")
    out = _scaledoc("analyze", "-o", "json", "--prometheus", f"http://127.0.0.1:{_free_port()}",
                    "--prom-token-file", str(token))
    assert out.returncode == 3
    assert "SECRET" not in out.stdout and "SECRET" not in out.stderr


def test_follow_refuses_prometheus_instead_of_ignoring_it(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text('{"level":30,"msg":"x"}\n')
    out = _scaledoc("analyze", "-f", str(log), "--prometheus", "http://127.0.0.1:9")
    assert out.returncode == 1
    assert "--prometheus asks for a window once and cannot be followed" in out.stderr


def test_kubectl_follow_refuses_prometheus() -> None:
    from tui.commands.kubectl import kubectl_main

    code = kubectl_main(["-f", "--prometheus", "http://127.0.0.1:9"],
                        lambda case, *fmt: 0, lambda case, **kw: 0)
    assert code == 1
