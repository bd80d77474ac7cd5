"""`scaledoc analyze` end to end, as a user runs it: a real subprocess, real files, stdin."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

T0 = 1_763_770_000_000  # ms


def _pino(host: str, pid: int, t_ms: int, msg: str, level: int = 30, **fields: object) -> str:
    doc: dict[str, object] = {"level": level, "time": t_ms, "pid": pid, "hostname": host}
    doc.update(fields)
    doc["msg"] = msg
    return json.dumps(doc)


def shared_instance_log(host: str = "agent-7d9f-x2k9p", pid: int = 41) -> str:
    """One module-level agent per process; concurrent requests overlap on it and fail."""
    lines = [_pino(host, pid, T0, "agent created", instanceId=f"inst-{host[-5:]}")]
    t = T0 + 1000
    for n in range(40):
        sess, req, run = f"sess-{n % 9}", f"req-{n}", f"run-{n}"
        start = t + n * 150
        lines.append(_pino(host, pid, start, "run started", instanceId=f"inst-{host[-5:]}",
                           sessionId=sess, reqId=req, runId=run))
        failed = n % 3 == 1
        end = start + 400
        if failed:
            lines.append(_pino(host, pid, end, "run failed", level=50,
                               instanceId=f"inst-{host[-5:]}", sessionId=sess, reqId=req,
                               runId=run, err={"type": "Error", "message": "The team is already "
                               "running, it cannot run again until it is stopped."}))
        else:
            lines.append(_pino(host, pid, end, "run finished", instanceId=f"inst-{host[-5:]}",
                               sessionId=sess, reqId=req, runId=run))
        lines.append(_pino(host, pid, end + 2, "request completed", reqId=req,
                           res={"statusCode": 500 if failed else 200}, responseTime=402))
    return "\n".join(lines) + "\n"


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *args], input=stdin,
                          capture_output=True, timeout=120, cwd=cwd)


@pytest.fixture()
def incident(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(shared_instance_log("agent-7d9f-x2k9p", 41))
    with gzip.open(d / "b.log.gz", "wt") as fh:
        fh.write(shared_instance_log("agent-7d9f-q8wzm", 17))
    return d


def test_json_report_is_one_object_with_the_contract_keys(incident: Path) -> None:
    out = run("analyze", "--json", str(incident))
    assert out.returncode == 0, out.stderr.decode()
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "shared-instance"
    for key in ("causes", "signals", "path", "inputs"):
        assert doc[key], key
    top = doc["causes"][0]
    assert top["id"] == "shared-instance" and 0 < top["score"] <= 1
    assert top["evidence"] and all(":" in e["where"] for e in top["evidence"])
    names = {i["name"] for i in doc["inputs"]}
    assert any(n.endswith("b.log.gz") for n in names)
    assert all(i["lines_read"] > 0 for i in doc["inputs"])


def test_stdin_is_read(incident: Path) -> None:
    out = run("analyze", "--json", "-", stdin=(incident / "a.log").read_bytes())
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(out.stdout)["verdict"] == "shared-instance"


def test_missing_file_is_an_input_error_but_json_still_covers_the_rest(incident: Path) -> None:
    out = run("analyze", "--json", str(incident / "a.log"), str(incident / "nope.log"))
    assert out.returncode == 1
    assert b"nope.log" in out.stderr
    doc = json.loads(out.stdout)
    bad = [i for i in doc["inputs"] if i["name"].endswith("nope.log")]
    assert bad and bad[0]["error"]


def test_only_missing_file_prints_no_json(tmp_path: Path) -> None:
    out = run("analyze", "--json", str(tmp_path / "missing.log"))
    assert out.returncode == 1
    assert out.stdout == b""
    assert b"missing.log" in out.stderr


def test_binary_and_empty_inputs_are_reported_not_crashed(tmp_path: Path) -> None:
    (tmp_path / "core.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "empty.log").write_bytes(b"")
    out = run("analyze", "--json", str(tmp_path / "core.bin"), str(tmp_path / "empty.log"))
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "inconclusive"
    by_name = {Path(i["name"]).name: i for i in doc["inputs"]}
    assert "binary" in (by_name["core.bin"]["error"] or "")
    assert b"no recognisable events" in out.stderr


def test_fail_on_and_operator_answers(incident: Path) -> None:
    out = run("analyze", "--json", "--fail-on", "shared-instance,oom", str(incident))
    assert out.returncode == 2
    out = run("analyze", "--json", "--fail-on", "oom", str(incident))
    assert out.returncode == 0
    out = run("analyze", "--json", "--answer", "pods.restarts=yes",
              "--answer", "pods.oomkilled=yes", str(incident))
    doc = json.loads(out.stdout)
    assert doc["answers"] == {"pods.restarts": "yes", "pods.oomkilled": "yes"}
    assert "oom" in [c["id"] for c in doc["causes"]]
    out = run("analyze", "--answer", "nonsense=yes", str(incident))
    assert out.returncode == 1 and b"unknown question key" in out.stderr


def test_hostile_log_text_is_shown_not_executed_and_secrets_are_redacted(tmp_path: Path) -> None:
    log = shared_instance_log()
    hostile = _pino("agent-7d9f-x2k9p", 41, T0 + 500, "run failed", level=50,
                    instanceId="inst-x2k9p", sessionId="s", reqId="r-h", runId="r-h",
                    err={"message": "The team is already running [bold red]x[/] \x1b]52;c;aGk=\x07"
                         "\x1b[2J token=sk-live-abcdefghijklmnopqrstuvwx"})
    (tmp_path / "h.log").write_text(hostile + "\n" + log)
    for fmt in ("text", "markdown", "json"):
        out = run("analyze", "--format", fmt, str(tmp_path / "h.log"),
                  "--save-case", str(tmp_path / f"case-{fmt}.json"))
        assert out.returncode == 0, out.stderr.decode()
        assert b"\x1b]52" not in out.stdout and b"\x1b[2J" not in out.stdout, fmt
        assert b"sk-live-abcdefghijklmnopqrstuvwx" not in out.stdout, fmt
        saved = (tmp_path / f"case-{fmt}.json").read_text()
        assert "sk-live-abcdefghijklmnopqrstuvwx" not in saved and "already running" in saved


def test_markdown_report_for_tickets(incident: Path) -> None:
    out = run("analyze", "--format", "markdown", str(incident))
    text = out.stdout.decode()
    assert text.startswith("## scaledoc verdict: `shared-instance`")
    assert "### Decision path" in text and "### Inputs" in text and "### Fix" in text


def test_save_case_round_trips(incident: Path, tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    out = run("analyze", "--json", "--save-case", str(case_file), str(incident))
    assert out.returncode == 0
    from probes.diagnose import diagnose
    from probes.evidence import Case

    case = Case.from_json(json.loads(case_file.read_text()))
    assert diagnose(case).verdict == json.loads(out.stdout)["verdict"]


def test_demo_prints_a_report_when_not_a_tty() -> None:
    out = run("demo", "--json")
    assert out.returncode == 0, out.stderr.decode()
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "shared-instance"
    assert len({i["name"] for i in doc["inputs"]}) >= 3


def test_a_saved_case_reopens_with_its_answers(incident: Path, tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    first = run("analyze", "--json", "--answer", "pods.restarts=no", "--save-case",
                str(case_file), str(incident))
    assert first.returncode == 0
    again = run("analyze", "--json", str(case_file))
    assert again.returncode == 0, again.stderr.decode()
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert b["verdict"] == a["verdict"] and b["answers"] == {"pods.restarts": "no"}
    assert [c["id"] for c in b["causes"]] == [c["id"] for c in a["causes"]]
    assert any(i["kind"] == "case" for i in b["inputs"])


def test_a_json_log_is_not_taken_for_a_saved_case(tmp_path: Path) -> None:
    log = tmp_path / "app.json"
    log.write_text(shared_instance_log())
    doc = json.loads(run("analyze", "--json", str(log)).stdout)
    assert doc["verdict"] == "shared-instance"
    assert all(i["kind"] != "case" for i in doc["inputs"])


def test_config_without_a_fields_table_is_refused(incident: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "scaledoc.toml"
    cfg.write_text('instance = "agent.instanceId"\n')  # forgot the [fields] header
    out = run("analyze", "--config", str(cfg), str(incident))
    assert out.returncode == 1
    assert b"expected a [fields] table" in out.stderr
    cfg.write_text('[fields]\ninstance = "agent.instanceId"\n')
    assert run("analyze", "--config", str(cfg), str(incident)).returncode == 0


def test_a_malformed_saved_case_is_reported_not_raised_nor_read_as_a_log(tmp_path: Path) -> None:
    """Issue 12: an evidence example that is a string crashed with AttributeError, and a
    case holding NaN made ``--json`` print NaN. Both are now an input error with the reason."""
    stringy = tmp_path / "stringy.json"
    stringy.write_text(json.dumps({"evidence": [{"probe": "logs", "signals": [
        {"key": "runs.overlap_instance", "answer": "yes", "evidence": ["a string"]}]}],
        "answers": {}}))
    nan = tmp_path / "nan.json"
    nan.write_text('{"evidence": [{"probe": "logs", "signals": [{"key": "runs.overlap_instance",'
                   ' "answer": "yes", "value": NaN, "evidence": [{"source": "x"}]}]}],'
                   ' "answers": {}}')
    for path, why in ((stringy, "malformed record"), (nan, "NaN or Infinity")):
        proc = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyze", "--json",
                               str(path)], capture_output=True, text=True, timeout=60)
        assert "Traceback" not in proc.stderr
        doc = json.loads(proc.stdout)  # strict JSON: no NaN
        assert why in doc["inputs"][0]["error"]
        assert doc["inputs"][0]["events"] == 0


def test_a_mistyped_command_gets_a_did_you_mean_not_an_empty_tui(tmp_path: Path) -> None:
    """Issue 11: 'scaledoc analyse x' opened the TUI on two missing paths."""
    proc = subprocess.run([sys.executable, "-m", "tui.commands.cli", "analyse", "x"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "did you mean 'analyze'?" in proc.stderr
    assert proc.stderr.count("scaledoc:") == 1  # one message per error
    version = subprocess.run([sys.executable, "-m", "tui.commands.cli", "version"],
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("scaledoc ")


def test_a_command_installs_the_temp_cleanup_on_sigterm_from_the_main_thread() -> None:
    """Temp folders of a killed run are removed at SIGTERM/SIGHUP; the CLI installs that
    from the main thread before any worker could be the first to use the temp space."""
    code = ("import signal\n"
            "from tui.commands.cli import main\n"
            "from probes import tempspace\n"
            "main(['signals'])\n"
            "print(signal.getsignal(signal.SIGTERM) is tempspace._on_signal,"
            " signal.getsignal(signal.SIGHUP) is tempspace._on_signal)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "True True"
