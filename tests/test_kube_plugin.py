"""The kubectl plugin and the ``kube`` / ``capture`` commands, against the local fake API
server (tests/kube_server.py) with the real kubernetes client, and through the real
``kubectl`` binary when it is installed. The report and TUI callbacks are the lead's;
here they are recording functions, since what is under test is what they receive."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from probes.evidence import Answer, Case
from probes.kube import read_kube_path
from tests.kube_server import NS, FakeKube, load_agent_scenario
from tui.commands.kubectl import kubectl_main, parse_duration, register
from tui.exit_codes import ExitCode


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    with FakeKube() as fake:
        names = load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        yield fake, names, cfg


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Case, tuple[Any, ...]]] = []

    def report(self, case: Case, *fmt: Any) -> int:
        self.calls.append(("report", case, fmt))
        return 0

    def tui(self, case: Case, *, log_index: Any = None) -> int:
        self.calls.append(("tui", case, ()))
        return 0


def test_report_gets_pods_and_pod_logs(cluster: Any) -> None:
    fake, names, cfg = cluster
    rec = Recorder()
    code = kubectl_main(["--kubeconfig", str(cfg), "deploy/agent", "--since", "1h",
                         "--request-timeout", "5s"], rec.report, rec.tui)
    assert code == ExitCode.OK
    [(kind, case, fmt)] = rec.calls
    assert kind == "report" and fmt == ()  # stdout is not a terminal under pytest
    kube_ev = next(e for e in case.evidence if e.probe == "kube")
    assert kube_ev.target == f"namespace {NS}: deploy/agent"
    assert case.signals()["pods.oomkilled"].answer is Answer.YES
    log_inputs = {i.name for e in case.evidence if e.probe != "kube" for i in e.inputs}
    assert f"pod/{names[0]}/config-db (previous)" in log_inputs
    assert {f"pod/{n}/config-db" for n in names} <= log_inputs
    assert all(q.get("sinceSeconds") == ["3600"] for _, p, q in fake.requests
               if p.endswith("/log"))
    assert fake.verbs() == {"GET"}


def test_output_format_is_passed_to_report(cluster: Any) -> None:
    _, _, cfg = cluster
    rec = Recorder()
    assert kubectl_main(["--kubeconfig", str(cfg), "-o", "json"], rec.report, rec.tui) == 0
    assert rec.calls[0][2] == ("json",)


def test_plugin_capture(cluster: Any, tmp_path: Path) -> None:
    _, names, cfg = cluster
    rec = Recorder()
    out = tmp_path / "incident.tar.gz"
    code = kubectl_main(["capture", "--kubeconfig", str(cfg), "-n", NS, "deploy/agent",
                         "-o", str(out)], rec.report, rec.tui)
    assert code == ExitCode.OK and rec.calls == []
    ev = read_kube_path(out)
    assert ev is not None and {r["pod"] for r in ev.data["pods"]} == set(names)


def test_exit_codes(cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake, _, cfg = cluster
    rec = Recorder()
    assert kubectl_main(["--help"], rec.report, rec.tui) == ExitCode.OK
    assert "kubectl scaledoc" in capsys.readouterr().out
    assert kubectl_main(["--kubeconfig", str(cfg), "svc/x"], rec.report, rec.tui) \
        == ExitCode.INPUT_ERROR
    assert "unsupported target" in capsys.readouterr().err
    assert kubectl_main(["--bogus"], rec.report, rec.tui) == ExitCode.INPUT_ERROR
    assert kubectl_main(["--kubeconfig", str(tmp_path / "none")], rec.report, rec.tui) \
        == ExitCode.INPUT_ERROR
    fake.delay = 2.0
    assert kubectl_main(["--kubeconfig", str(cfg), "--request-timeout", "0.3"], rec.report,
                        rec.tui) == ExitCode.UNREACHABLE
    assert "cannot reach the API server" in capsys.readouterr().err
    assert rec.calls == []


def test_forbidden_is_partial_not_failure(cluster: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fake, _, cfg = cluster
    fake.forbidden.add(("events", NS))
    rec = Recorder()
    assert kubectl_main(["--kubeconfig", str(cfg)], rec.report, rec.tui) == ExitCode.OK
    assert "not collected: list events in namespace agents" in capsys.readouterr().err
    case = rec.calls[0][1]
    assert case.signals()["pods.probe_killed"].answer is Answer.UNKNOWN


def _run_sub(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scaledoc")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_scaledoc_kube_command(cluster: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, names, cfg = cluster
    assert _run_sub(["kube", "--kubeconfig", str(cfg), "deploy/agent", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["probe"] == "kube"
    assert {r["pod"] for r in doc["data"]["pods"]} == set(names)
    assert _run_sub(["kube", "--kubeconfig", str(cfg), "deploy/agent"]) == 0
    out = capsys.readouterr().out
    assert "pods.oomkilled" in out and "Replicas of agents/deploy/agent" in out


def test_scaledoc_capture_command(cluster: Any, tmp_path: Path) -> None:
    _, _, cfg = cluster
    out = tmp_path / "b.tar.gz"
    assert _run_sub(["capture", "--kubeconfig", str(cfg), "-o", str(out), "--no-logs"]) == 0
    ev = read_kube_path(out)
    assert ev is not None and ev.data["manifest"]["collected"]["logs"] == 0
    assert _run_sub(["capture", "--kubeconfig", str(cfg), "-o", str(tmp_path)]) \
        == ExitCode.INPUT_ERROR


def test_terminal_text_is_made_visible(cluster: Any,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An event message carrying an escape sequence must not reach the terminal raw."""
    fake, names, cfg = cluster
    fake.events[0]["message"] = "Liveness probe failed: \x1b[2J\x1b]0;pwned\x07"
    assert _run_sub(["kube", "--kubeconfig", str(cfg), "deploy/agent"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\x07" not in out


def test_parse_duration() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2.5s") == 2.5
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")


def _plugin_dir() -> Path | None:
    scripts = Path(sysconfig.get_path("scripts"))
    return scripts if (scripts / "kubectl-scaledoc").exists() else None


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.skipif(_plugin_dir() is None, reason="kubectl-scaledoc is not installed "
                    "(pip install -e . puts it in the interpreter's scripts folder)")
def test_kubectl_finds_and_runs_the_plugin(cluster: Any) -> None:
    _, _, cfg = cluster
    plugin_dir = _plugin_dir()
    kubectl_dir = Path(shutil.which("kubectl") or "").parent
    env = dict(os.environ, PATH=f"{plugin_dir}{os.pathsep}{kubectl_dir}{os.pathsep}/bin",
               KUBECONFIG=str(cfg))
    listed = subprocess.run(["kubectl", "plugin", "list"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert f"{plugin_dir}/kubectl-scaledoc" in listed.stdout
    helped = subprocess.run(["kubectl", "scaledoc", "--help"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: kubectl scaledoc")
    for flag in ("--kubeconfig", "--context", "-n NS", "-A", "-l SELECTOR", "-c NAME",
                 "--since", "--request-timeout"):
        assert flag in helped.stdout
    # a real run through kubectl: it forwards the flags, the plugin reads the fake cluster
    ran = subprocess.run(["kubectl", "scaledoc", "-n", NS, "deploy/agent", "-o", "json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)  # the lead's JSON report


def test_no_matching_pods_says_so_on_stderr(cluster: Any,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A selector that matches nothing is named on stderr, not left to an empty report."""
    _, _, cfg = cluster
    rec = Recorder()
    kubectl_main(["--kubeconfig", str(cfg), "-l", "app=nothing-here", "--report"],
                 report=rec.report, tui=rec.tui)
    assert f"no pods found in namespace {NS} for -l app=nothing-here" in capsys.readouterr().err
    assert rec.calls and rec.calls[0][0] == "report"  # the (empty) report still runs


async def test_the_plugin_tui_shows_the_pods_logs_read_in_the_analysis_pass(
        cluster: Any) -> None:
    """kubectl scaledoc's TUI: the pods' logs exist only in temp files while they are
    analysed, so the Logs view's index is filled in that pass (texts kept) and handed to the
    app; the view lists every pod's lines under the pod's name. Real client, fake API server
    over HTTP, the same calls kubectl_main makes on a terminal."""
    from probes.kube.live import gather
    from probes.pipeline import Analysis, cluster_case
    from tests.test_app import until
    from tui.app.logview import LogIndex
    from tui.app.main import ScaledocApp
    from tui.app.widgets.log_view import LogView
    from tui.commands.kubectl import plugin_parser, target_from

    fake, names, cfg = cluster
    target = target_from(plugin_parser().parse_args(["--kubeconfig", str(cfg), "deploy/agent"]))
    got = gather(target, logs=True)
    index = LogIndex(keep_text=True)
    case = cluster_case(got, target, sink=index)
    index.finish()
    read = sum(i.events for e in case.evidence if e.probe == "logs" for i in e.inputs
               if i.kind == "log")
    assert read > 0 and len(index) == read
    app = ScaledocApp(analysis=Analysis.of_case(case), log_index=index, index_logs=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.analysis is not None and app.log_index is not None)
        assert app.log_index is index  # no second read: the temp files are gone
        await pilot.press("4")
        await until(pilot, lambda: len(app.screen.query_one(LogView).rows) == read)
        view = app.screen.query_one(LogView)
        assert len(view.rows) == read
        sources = {index.source_name(r) for r in range(len(index))}
        assert {f"pod/{n}/config-db" for n in names} <= sources
        assert all(index.text(r) for r in range(len(index)))  # texts kept, not offsets


def test_previous_and_since_time_behave_as_in_kubectl_logs(cluster: Any) -> None:
    """``-p/--previous`` reads only previous instances' logs; ``--since-time`` asks the
    server for sinceSeconds (the client has no sinceTime) and drops the lines before the
    time itself, to the nanosecond; ``--since`` and ``--since-time``, ``-c`` and
    ``--all-containers`` exclude each other, as in kubectl logs."""
    from probes.evidence import parse_iso_ns
    from probes.kube.live import gather
    from tui.commands.kubectl import plugin_parser, target_from

    fake, names, cfg = cluster
    parser = plugin_parser()
    target = target_from(parser.parse_args(["--kubeconfig", str(cfg), "deploy/agent", "-p"]))
    got = gather(target, logs=True)
    sources = [source for source, _ in got.logs]
    assert sources == [f"pod/{names[0]}/config-db (previous)"]
    log_calls = [q for _, p, q in fake.requests if p.endswith("/log")]
    assert log_calls and all(q.get("previous") == ["true"] for q in log_calls)

    current = fake.logs[(NS, names[0], "config-db", False)].splitlines()
    second = current[1].split(" ", 1)[0]  # the second line's own timestamp
    fake.requests.clear()
    target = target_from(parser.parse_args(["--kubeconfig", str(cfg), "deploy/agent",
                                            "--since-time", second]))
    assert target.since_time_ns == parse_iso_ns(second)
    got = gather(target, logs=True)
    mine = dict(got.logs)[f"pod/{names[0]}/config-db"]
    assert mine == [current[1]]  # the first line is a nanosecond older: dropped
    log_calls = [q for _, p, q in fake.requests if p.endswith("/log")]
    assert log_calls and all("sinceSeconds" in q for q in log_calls)

    for bad in (["--since", "1h", "--since-time", second], ["-c", "x", "--all-containers"],
                ["--since-time", "yesterday"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
