"""What walking the README as a first user found: each test pins a README promise that the
code broke (exit codes, readable tables) so it stays true. Real subprocesses and files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kube_server import NS, FakeKube, load_agent_scenario
from tests.services.launch import free_port, running
from tui.commands.kubectl import kubectl_main

GOLDEN = Path(__file__).resolve().parent / "golden"
SHARED_INSTANCE = GOLDEN / "shared-instance-autogen-ts"


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *args], capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("argv", [
    ("analyze", "--format", "xml", str(SHARED_INSTANCE)),
    ("analyze", "--no-such-flag", str(SHARED_INSTANCE)),
    ("--no-such-flag",),
    ("ps", "--port", "not-a-number"),
    ("code",),
])
def test_bad_flags_exit_1_not_2(argv: tuple[str, ...]) -> None:
    """README: 1 is 'bad flags', 2 is '--fail-on matched'; argparse's own 2 must not leak,
    or a CI gate reads a typo as a verdict."""
    out = run(*argv)
    assert out.returncode == 1, out.stderr.decode()
    assert b"usage:" in out.stderr and out.stdout == b""


def test_help_still_exits_0() -> None:
    out = run("analyze", "--help")
    assert out.returncode == 0 and b"--fail-on" in out.stdout


def test_fail_on_rejects_unknown_cause_ids_before_analysing() -> None:
    """A misspelt id would never match, so the gate would pass silently: refuse it."""
    out = run("analyze", "--fail-on", "shared-instanse", str(SHARED_INSTANCE))
    assert out.returncode == 1
    assert b"unknown cause id(s) shared-instanse" in out.stderr
    assert out.stdout == b""


def test_fail_on_known_ids_still_match_with_spaces() -> None:
    out = run("analyze", "--fail-on", " oom , shared-instance ", str(SHARED_INSTANCE))
    assert out.returncode == 2, out.stderr.decode()
    out = run("analyze", "--fail-on", "oom,healthy,inconclusive", str(SHARED_INSTANCE))
    assert out.returncode == 0, out.stderr.decode()


# --- narrow terminals and pipes (80 columns): values are wrapped, never cut to '…' -----


def run80(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_ps_and_ramp_tables_keep_pids_levels_and_5xx_messages_at_80_columns() -> None:
    """Piped output is 80 columns wide: the pid of every worker and the 5xx message of the
    ramp (the clue) used to be cut to '…' or squeezed out of the table."""
    with running(mode="buggy", workers=2) as svc:
        ps = run80("ps", "--port", str(svc.port), "--sample", "0")
        assert ps.returncode == 0, ps.stderr
        for pid in (svc.proc.pid, *svc.worker_pids()):
            assert re.search(rf"^\s*{pid}\s", ps.stdout, re.M), ps.stdout
        assert "command lines" in ps.stdout and "uvicorn" in ps.stdout
        ramp = run80("ramp", f"{svc.url}/chat", "--json-body", '{"message": "hi"}',
                     "--levels", "1,6", "--per-level", "12")
    assert ramp.returncode == 0, ramp.stderr
    assert all(len(line) <= 80 for line in ramp.stdout.splitlines())
    assert re.search(r"^\s*6\s+12\s", ramp.stdout, re.M), ramp.stdout  # level 6, 12 sent
    assert "level 6: " in ramp.stdout and "HTTP 500 The team is already running" in ramp.stdout


def test_kube_tables_keep_pod_names_whole_at_80_columns(tmp_path: Path) -> None:
    """Replicas differ only at the end of their names: 'agent-5d8f7c9…' three times told
    the operator nothing."""
    with FakeKube() as fake:
        names = load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        out = run80("kube", "--kubeconfig", str(cfg), "deploy/agent")
    assert out.returncode == 0, out.stderr
    for name in names:
        assert out.stdout.count(name) >= 2, out.stdout  # pods table and replicas table


@pytest.mark.parametrize("argv", [
    ("kube", "-l", "app=nothing-here"),
    ("kube", "pod/no-such-pod"),
    ("capture", "-l", "app=nothing-here", "-o", "{tmp}/empty.tar.gz"),
])
def test_no_matching_pod_is_nothing_usable_exit_1(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """Like a deploy/NAME that does not exist (already exit 1): a mistyped namespace or
    selector must not pass for a clean run in a script."""
    with FakeKube() as fake:
        load_agent_scenario(fake)
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        out = run80(args[0], "--kubeconfig", str(cfg), *args[1:])
        assert out.returncode == 1, out.stderr
        assert "no pods found in namespace agents" in out.stderr
        rec: list[str] = []

        def report(case: object, *fmt: object) -> int:
            rec.append("report")
            return 0

        code = kubectl_main(["--kubeconfig", str(cfg), "-l", "app=nothing-here", "--report"],
                            report=report, tui=lambda case: 0)
    assert code == 1 and rec == ["report"]  # the (empty) report still printed


# --- analyze with live targets: README's exit 3 and the ramp's loopback rule ----------------


def test_analyze_with_unreachable_port_or_url_exits_3_and_still_reports() -> None:
    """'scaledoc ps'/'ramp' already exit 3 for these; analyze exited 0 (no word) or 1."""
    port = free_port()
    out = run("analyze", "--json", "--port", str(port), str(SHARED_INSTANCE))
    assert out.returncode == 3, out.stderr.decode()
    assert f"no process found for port {port}".encode() in out.stderr
    assert json.loads(out.stdout)["verdict"] == "shared-instance"
    out = run("analyze", "--json", "--ramp", f"http://127.0.0.1:{port}/chat",
              "--ramp-levels", "1", "--ramp-per-level", "2", str(SHARED_INSTANCE))
    assert out.returncode == 3, out.stderr.decode()
    assert b"cannot reach" in out.stderr and json.loads(out.stdout)["verdict"]


@pytest.mark.parametrize("flags,message", [
    (("--ramp", "http://192.0.2.1/chat"), b"not a loopback address"),
    (("--port", "70000"), b"out of range"),
])
def test_analyze_refuses_a_remote_ramp_or_bad_port_up_front(flags: tuple[str, ...],
                                                            message: bytes) -> None:
    """A remote ramp without --yes was refused silently and the run exited 0."""
    out = run("analyze", *flags, str(SHARED_INSTANCE))
    assert out.returncode == 1 and message in out.stderr and out.stdout == b""


def test_ctrl_c_during_analyze_reports_what_was_read_and_exits_130(tmp_path: Path) -> None:
    """README: '130 interrupted (Ctrl-C); what ran is reported'. analyze printed nothing."""
    demo = (Path(__file__).resolve().parent.parent / "probes" / "demo"
            / "agent-7d9f8b6c4-x2k9p.log").read_bytes()
    big = tmp_path / "big.log"
    big.write_bytes(demo * 1000)  # ~80 MB: far longer to read per event than the 2 s we wait
    # (the columnar path reads it all within them: its Ctrl-C is tested in
    # test_columnar_pipeline.py, where the cancel comes while the file is decoded)
    proc = subprocess.Popen([sys.executable, "-m", "tui.commands.cli", "analyze", "--json",
                             str(big)], env={**os.environ, "SCALEDOC_COLUMNAR": "0"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, errs = proc.communicate(timeout=60)
    assert proc.returncode == 130, errs.decode()
    doc = json.loads(out)
    assert doc["cancelled"] is True
    assert 0 < doc["inputs"][0]["lines_read"] < 321 * 1000
    assert b"interrupted" in errs


def test_markdown_evidence_carries_the_note_like_the_text_report() -> None:
    """An overlap is two lines (A, B) and A repeats across pairs; without the note the
    Markdown list showed the same line twice with no word on why."""
    md = run("analyze", "--format", "markdown", str(SHARED_INSTANCE))
    text = run("analyze", "--format", "text", str(SHARED_INSTANCE))
    assert md.returncode == text.returncode == 0
    assert b"started while A" in text.stdout
    assert b"started while A" in md.stdout


def test_headerless_event_rows_are_read_like_headed_ones(tmp_path: Path) -> None:
    """Rows pasted without the header were 'not Kubernetes material: kubectl get events
    rows', which reads as a contradiction at 3 a.m.; now the rows are read with or without
    the header, and both readings find the same events."""
    rows = (Path(__file__).resolve().parent / "ingest_cases" / "kube"
            / "events-startup-probe-failed-mysql-k8s-issue-98780.txt").read_text()
    bare = tmp_path / "events.txt"
    bare.write_text(rows)
    headed = tmp_path / "events-with-header.txt"
    headed.write_text("LAST SEEN   TYPE      REASON              OBJECT"
                      "                           MESSAGE\n" + rows)
    bare_out = run("analyze", "--json", str(bare))
    headed_out = run("analyze", "--json", str(headed))
    assert bare_out.returncode == headed_out.returncode == 0, bare_out.stderr
    bare_in = json.loads(bare_out.stdout)["inputs"][0]
    headed_in = json.loads(headed_out.stdout)["inputs"][0]
    assert bare_in["error"] is None and headed_in["error"] is None
    assert bare_in["events"] == headed_in["events"] > 0


def test_missing_kubeconfig_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code = kubectl_main(["--kubeconfig", str(missing), "--report"],
                        report=lambda case, *fmt: 0, tui=lambda case: 0)
    assert code == 1
    out = run("kube", "--kubeconfig", str(missing))
    assert out.returncode == 1
    assert f"--kubeconfig {missing}: no such file".encode() in out.stderr
