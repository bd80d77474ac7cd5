"""kubectl's conventions on every command, run as a user runs them (a real subprocess):
``-o text|json|yaml|markdown``, ``--output-file``, ``--version``, a did-you-mean for a
mistyped flag with the sub-command's own usage, one message per error, ``--fail-on`` with
a score, ``scaledoc causes``, and shell completion scripts from argcomplete."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CONTEXT_RESET = sorted(str(p) for p in (GOLDEN / "context-reset-per-request-agent").glob("*.log"))
BIN = Path(sys.executable).parent


def run(*args: str, exe: str = "scaledoc", env: dict[str, str] | None = None,
        cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=180, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def error_lines(stderr: str) -> list[str]:
    """The messages on stderr, without argparse's usage block."""
    return [ln for ln in stderr.splitlines()
            if ln.strip() and not ln.startswith(("usage:", " "))]


# ----------------------------------------------------------------------------- -o


def test_analyze_prints_each_format_and_json_is_an_alias() -> None:
    as_json = run("analyze", "-o", "json", *CONTEXT_RESET)
    alias = run("analyze", "--json", *CONTEXT_RESET)
    as_yaml = run("analyze", "-oyaml", *CONTEXT_RESET)
    as_md = run("analyze", "--output=markdown", *CONTEXT_RESET)
    assert {p.returncode for p in (as_json, alias, as_yaml, as_md)} == {0}
    def timeless(d: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in d.items() if k != "probes"}  # probes carry collected_at

    doc = json.loads(as_json.stdout)
    assert doc["verdict"] == "context-reset"
    assert timeless(json.loads(alias.stdout)) == timeless(doc)
    assert timeless(yaml.safe_load(as_yaml.stdout)) == timeless(doc)
    assert as_md.stdout.startswith("## scaledoc verdict: `context-reset`")


def test_report_file_is_output_file_and_o_names_a_format(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    proc = run("analyze", "-o", "markdown", "--output-file", str(out), *CONTEXT_RESET)
    assert proc.returncode == 0 and proc.stdout == ""
    assert out.read_text().startswith("## scaledoc verdict: `context-reset`")
    also = tmp_path / "r.json"
    assert run("analyze", "--json", "--report-file", str(also), *CONTEXT_RESET).returncode == 0
    assert json.loads(also.read_text())["verdict"] == "context-reset"
    # The old meaning of -o (a file) is refused with where a file goes now, in one message.
    old = run("analyze", "-o", str(out), *CONTEXT_RESET)
    assert old.returncode == 1
    assert len(error_lines(old.stderr)) == 1
    assert "--output-file" in old.stderr and "usage: scaledoc analyze" in old.stderr


@pytest.mark.parametrize("fmt", ["json", "yaml", "markdown"])
def test_ps_takes_o_formats(fmt: str) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        proc = run("ps", "--pid", str(sleeper.pid), "--sample", "0", "-o", fmt)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert proc.returncode == 0, proc.stderr
    if fmt == "json":
        assert json.loads(proc.stdout)["probe"] == "process"
    elif fmt == "yaml":
        assert yaml.safe_load(proc.stdout)["target"] == f"pid {sleeper.pid}"
    else:
        assert proc.stdout.startswith(f"## scaledoc ps: pid {sleeper.pid}")
        assert "| `process.multiple_workers` |" in proc.stdout


def test_code_takes_o_yaml() -> None:
    proc = run("code", "-o", "yaml", "tests/code_cases/in_memory_state/broken")
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert doc["probe"] == "code"
    assert any(f["cause"] == "in-memory-state" for f in doc["data"]["findings"])


def test_every_command_that_reports_has_o() -> None:
    for cmd in ("analyze", "demo", "kube", "ps", "ramp", "code", "causes"):
        proc = run(cmd, "--help")
        assert proc.returncode == 0
        assert "-o FORMAT, --output FORMAT" in proc.stdout, cmd


# ----------------------------------------------------------------------------- errors


def test_version_flag_and_command_agree() -> None:
    flag, cmd = run("--version"), run("version")
    assert flag.returncode == cmd.returncode == 0
    assert flag.stdout == cmd.stdout and flag.stdout.startswith("scaledoc ")
    plugin = run("--version", exe="kubectl-scaledoc")
    assert plugin.returncode == 0 and plugin.stdout.startswith("kubectl-scaledoc ")


def test_mistyped_flag_gets_the_subcommands_usage_and_a_suggestion() -> None:
    proc = run("analyze", "--jsn", *CONTEXT_RESET)
    assert proc.returncode == 1
    assert proc.stderr.startswith("usage: scaledoc analyze")
    assert error_lines(proc.stderr) == [
        "scaledoc analyze: error: unrecognized arguments: --jsn; did you mean '--json'?"]
    ramp = run("ramp", "http://127.0.0.1:9/", "--levles", "1")
    assert ramp.returncode == 1 and ramp.stderr.startswith("usage: scaledoc ramp")
    assert "did you mean '--levels'?" in ramp.stderr


def test_mistyped_plugin_flag_gets_a_suggestion() -> None:
    proc = run("--namspace", "prod", exe="kubectl-scaledoc")
    assert proc.returncode == 1
    assert proc.stderr.startswith("usage: kubectl scaledoc")
    assert error_lines(proc.stderr) == ["kubectl scaledoc: error: unrecognized arguments: "
                                        "--namspace; did you mean '--namespace'?"]


def test_directory_with_no_usable_input_exits_1_with_one_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run("analyze", str(empty))
    assert proc.returncode == 1
    assert len(error_lines(proc.stderr)) == 1 and "no files" in proc.stderr
    only_empty = tmp_path / "holds-an-empty-file"
    only_empty.mkdir()
    (only_empty / "app.log").write_text("")
    proc = run("analyze", str(only_empty))
    assert proc.returncode == 1
    assert error_lines(proc.stderr) == [
        "scaledoc: no recognisable events in the inputs: verdict is inconclusive "
        "(see the inputs table for what each file held)"]


# ----------------------------------------------------------------------------- --fail-on


def test_fail_on_takes_a_score_threshold() -> None:
    score = json.loads(run("analyze", "--json", *CONTEXT_RESET).stdout)["score"]
    assert 0.5 <= score < 0.99
    hit = run("analyze", "--fail-on", "any:0.5", *CONTEXT_RESET)
    assert hit.returncode == 2
    assert f"cause context-reset scores {score:.2f}, at least 0.5" in hit.stderr
    assert run("analyze", "--fail-on", "any:0.99", *CONTEXT_RESET).returncode == 0
    assert run("analyze", "--fail-on", "context-reset:0.5", *CONTEXT_RESET).returncode == 2
    assert run("analyze", "--fail-on", "oom:0.1", *CONTEXT_RESET).returncode == 0
    bad = run("analyze", "--fail-on", "any:2", *CONTEXT_RESET)
    assert bad.returncode == 1 and "from 0 to 1" in bad.stderr


# ----------------------------------------------------------------------------- causes


def test_causes_lists_the_catalogue_as_text_and_json() -> None:
    from probes.causes import CAUSES

    text = run("causes")
    doc = json.loads(run("causes", "-o", "json").stdout)
    assert text.returncode == 0
    assert [c["id"] for c in doc["causes"]] == list(CAUSES)
    oom = next(c for c in doc["causes"] if c["id"] == "oom")
    assert "pods.oomkilled" in [s["key"] for s in oom["signals"]]
    assert oom["fix"]["next_steps"]
    for cid in CAUSES:
        assert f"\n{cid}: " in "\n" + text.stdout


# ----------------------------------------------------------------------------- completion


def test_bash_completion_script_loads_and_completes_subcommands(tmp_path: Path) -> None:
    script = run("completion", "bash")
    assert script.returncode == 0
    loaded = subprocess.run(["bash", "-c", script.stdout + "\ncomplete -p scaledoc"],
                            capture_output=True, text=True, timeout=30)
    assert loaded.returncode == 0, loaded.stderr
    assert "scaledoc" in loaded.stdout
    # The shell calls the program back with argcomplete's protocol: do what it does.
    out = tmp_path / "completions"
    line = "scaledoc ana"
    proc = subprocess.run(
        [str(BIN / "scaledoc")], capture_output=True, text=True, timeout=60,
        env={**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash",
             "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE_IFS": "\n",
             "_ARGCOMPLETE_STDOUT_FILENAME": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().split() == ["analyze"]
    line = "scaledoc analyze --js"
    subprocess.run([str(BIN / "scaledoc")], capture_output=True, text=True, timeout=60,
                   env={**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash",
                        "COMP_LINE": line, "COMP_POINT": str(len(line)),
                        "_ARGCOMPLETE_IFS": "\n", "_ARGCOMPLETE_STDOUT_FILENAME": str(out)})
    assert "--json" in out.read_text().split()


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_are_generated(shell: str) -> None:
    proc = run("completion", shell)
    assert proc.returncode == 0
    assert "scaledoc" in proc.stdout and "_ARGCOMPLETE" in proc.stdout
    binary = shutil.which(shell)
    if binary:  # a syntax check where the shell is installed
        check = subprocess.run([binary, "-n"], input=proc.stdout, capture_output=True,
                               text=True, timeout=30)
        assert check.returncode == 0, check.stderr
