"""Safety audit of every command line front end: hostile text in, nothing interpreted out.

Each command runs as a real subprocess (``python -m tui.commands.cli`` or the installed
``kubectl-scaledoc``) on real inputs holding Rich markup, terminal escapes (OSC 52
clipboard write, clear screen), a bidi override, a bare ``[`` and ``\\`` and secrets (a
bearer JWT, a password in a URL): the files of ``tests/test_safety_tui.py``, a real
process whose command line carries them, the fake Kubernetes API server of
``tests/kube_server.py`` (real HTTP on 127.0.0.1) and a real local HTTP server for the
load ramp. Output is checked on stdout and stderr, with colour forced on (as on a
terminal) and off: the only escapes are Rich's own colour codes, markup shows as its
characters, and no secret is printed. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.kube_server import NS, FakeKube, load_agent_scenario
from tests.test_safety_tui import (
    BEARER,
    BIDI,
    CLEAR,
    HOSTILE,
    LINK,
    MARKUP,
    OSC52,
    SECRET_PARTS,
    URL,
    write_inputs,
)

ROOT = Path(__file__).resolve().parent.parent
# Rich's own codes (colour forced on below): colours, and the progress bar's cursor
# hiding and line erasing. A clear screen (\x1b[2J) from input is not among them.
RICH_CODES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[1A|\r")
NAME_MARKUP = "[bold red]x[b]"  # markup that can be part of a file name (no "/")
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run(*args: str, colour: bool = False, exe: list[str] | None = None,
        env: dict[str, str] | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    full_env.update(COLUMNS="200", PYTHONPATH=str(ROOT), **(env or {}))
    if colour:
        full_env.update(FORCE_COLOR="1", TERM="xterm-256color")
    else:
        full_env["NO_COLOR"] = "1"
    return subprocess.run([*(exe or [sys.executable, "-m", "tui.commands.cli"]), *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", env=full_env,
                          timeout=timeout)


def shown(stream: str, where: str) -> str:
    """The stream without Rich's colour codes; asserts nothing else raw is left."""
    text = RICH_CODES.sub("", stream)
    bad = RAW_CONTROL.search(text.replace("\n", ""))
    assert bad is None, (where, repr(text[max(0, bad.start() - 60):bad.end() + 20]))
    assert "\x1b]8;" not in stream, where  # no hyperlink from [link=...]
    for secret in SECRET_PARTS:
        assert secret not in text, (where, secret)
    return text


def check(proc: subprocess.CompletedProcess[str], where: str) -> tuple[str, str]:
    return shown(proc.stdout, f"{where} stdout"), shown(proc.stderr, f"{where} stderr")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return write_inputs(tmp_path_factory.mktemp("hostile-cli"))


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_analyze_reports_show_hostile_text_and_no_secret(
        inputs: list[str], fmt: str, colour: bool) -> None:
    proc = run("analyze", *inputs, "--format", fmt, colour=colour)
    assert proc.returncode == 0, proc.stderr
    out, _ = check(proc, f"analyze {fmt}")
    if fmt == "json":
        doc = json.loads(proc.stdout)
        flat = json.dumps(doc, ensure_ascii=False)
        assert MARKUP in flat and not RAW_CONTROL.search(flat)
    elif fmt == "text":
        assert MARKUP in out and "\\e[2J" in out
    else:
        assert "\\[bold red\\]x\\[/\\]" in out or f"`{MARKUP}" in out


def test_saved_case_and_output_file_hold_no_secret(inputs: list[str], tmp_path: Path) -> None:
    case, report = tmp_path / "case.json", tmp_path / "report.txt"
    proc = run("analyze", *inputs, "--save-case", str(case), "--output-file", str(report))
    assert proc.returncode == 0, proc.stderr
    check(proc, "analyze --output-file")
    for path in (case, report):
        body = path.read_text(encoding="utf-8")
        shown(body, path.name)
    assert MARKUP in report.read_text(encoding="utf-8")


def test_hostile_file_names_in_errors_are_visible(tmp_path: Path) -> None:
    missing = f"gone {NAME_MARKUP} {OSC52} {BIDI}.log"
    proc = run("analyze", str(tmp_path / missing), colour=True)
    assert proc.returncode != 0
    _, err = check(proc, "analyze missing file")
    assert NAME_MARKUP in err and "\\e]52;c;aGk=\\a" in err and "\\u202e" in err


def test_code_command_shows_excerpts_and_paths_as_text(inputs: list[str],
                                                      tmp_path: Path) -> None:
    src = Path(inputs[-1])
    for colour in (False, True):
        proc = run("code", str(src), colour=colour)
        assert proc.returncode == 0, proc.stderr
        out, _ = check(proc, "code")
        assert MARKUP in out and LINK.split("]")[0] in out
    proc = run("code", str(src), "--json")
    check(proc, "code --json")
    # A folder with no source, and a path that does not exist, both with hostile names.
    empty = tmp_path / f"empty {NAME_MARKUP} {CLEAR}"
    empty.mkdir()
    proc = run("code", str(empty), colour=True)
    assert proc.returncode != 0
    _, err = check(proc, "code empty folder")
    assert f"{NAME_MARKUP} \\e[2J" in err
    proc = run("code", str(tmp_path / f"nope {OSC52}.py"), colour=True)
    _, err = check(proc, "code missing")
    assert "\\e]52;c;aGk=\\a" in err


@pytest.fixture
def hostile_process() -> Iterator[int]:
    """A real process whose command line holds markup, escapes and secrets."""
    proc = subprocess.Popen(["py", "-c", "import time;time.sleep(60)",
                             "--password", "hunter2", MARKUP, OSC52, CLEAR, BIDI, "[", "\\",
                             LINK, URL, BEARER], executable=sys.executable)
    try:
        time.sleep(0.3)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_ps_shows_the_command_line_redacted_and_visible(hostile_process: int) -> None:
    proc = run("ps", "--pid", str(hostile_process), "--sample", "0", colour=True)
    assert proc.returncode == 0, proc.stderr
    out, _ = check(proc, "ps")
    assert MARKUP in out and "--password ***" in out
    proc = run("ps", "--pid", str(hostile_process), "--sample", "0", "--json")
    check(proc, "ps --json")
    cmdline = json.loads(proc.stdout)["data"]["processes"][0]["cmdline"]
    assert OSC52 in cmdline and "hunter2" not in cmdline  # JSON escapes it; data kept


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeKube, list[str], Path]]:
    with FakeKube() as fake:
        names = load_agent_scenario(fake)
        pod = next(p for p in fake.pods if p["metadata"]["name"] == names[0])
        pod["spec"]["nodeName"] = f"node-{MARKUP}-{CLEAR}"
        for status in pod["status"].get("containerStatuses", []):
            status["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": f"back-off {HOSTILE} {BEARER}"}}
        fake.events.append({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "hostile", "namespace": NS},
            "involvedObject": {"kind": "Pod", "name": names[0], "namespace": NS},
            "reason": "BackOff", "type": "Warning", "count": 3,
            "message": f"Back-off restarting {HOSTILE} {URL}",
            "firstTimestamp": "2025-11-22T00:06:00Z", "lastTimestamp": "2025-11-22T00:06:40Z"})
        key = (NS, names[0], "config-db", False)
        fake.logs[key] = fake.logs[key] + (
            f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}.000000009Z "
            f"error {HOSTILE} {BEARER} {URL}\n")
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        yield fake, names, cfg


def test_kube_and_capture_show_cluster_text_as_text(
        cluster: tuple[FakeKube, list[str], Path], tmp_path: Path) -> None:
    fake, _, cfg = cluster
    proc = run("kube", "--kubeconfig", str(cfg), "deploy/agent", colour=True)
    assert proc.returncode == 0, proc.stderr
    out, _ = check(proc, "kube")
    assert f"node-{MARKUP}-\\e[2J" in out
    proc = run("kube", "--kubeconfig", str(cfg), "deploy/agent", "--json")
    check(proc, "kube --json")
    bundle = tmp_path / f"bundle {NAME_MARKUP} {CLEAR}.tar.gz"
    proc = run("capture", "--kubeconfig", str(cfg), "deploy/agent", "-o", str(bundle),
               colour=True)
    assert proc.returncode == 0, proc.stderr
    _, err = check(proc, "capture")
    assert f"bundle {NAME_MARKUP} \\e[2J.tar.gz" in err
    with tarfile.open(bundle) as tar:  # the bundle itself travels: redacted inside
        for member in tar.getmembers():
            data = tar.extractfile(member) if member.isfile() else None
            if data is not None:
                body = data.read().decode("utf-8", "replace")
                for secret in (*SECRET_PARTS, "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"):
                    assert secret not in body, (member.name, secret)
    proc = run("analyze", str(bundle), colour=True)
    out, _ = check(proc, "analyze bundle")
    assert fake.verbs() == {"GET"}


@pytest.mark.skipif(shutil.which("kubectl-scaledoc") is None,
                    reason="the kubectl-scaledoc entry point is not installed")
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_kubectl_plugin_report_shows_cluster_text_as_text(
        cluster: tuple[FakeKube, list[str], Path], fmt: str) -> None:
    _, _, cfg = cluster
    exe = shutil.which("kubectl-scaledoc")
    assert exe is not None
    proc = run("--kubeconfig", str(cfg), "deploy/agent", "-o", fmt, exe=[exe], colour=True)
    assert proc.returncode in (0, 1), proc.stderr
    check(proc, f"kubectl-scaledoc -o {fmt}")


class _Hostile500(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"error": {"message": f"upstream {HOSTILE} {BEARER} {URL}"}})
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server_500() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/chat"
    finally:
        server.shutdown()
        server.server_close()


def test_ramp_shows_hostile_5xx_bodies_as_text(server_500: str) -> None:
    with_password = server_500.replace("http://", "http://user:hunter2@")
    proc = run("ramp", with_password, "--levels", "1,2", "--per-level", "3",
               "-H", BEARER, "-H", "Cookie: session=hunter2", colour=True)
    assert proc.returncode in (0, 1), proc.stderr
    out, _ = check(proc, "ramp")
    assert MARKUP in out
    proc = run("ramp", with_password, "--levels", "1", "--per-level", "2", "--json",
               "-H", BEARER)
    check(proc, "ramp --json")


def test_markdown_report_cannot_be_broken_out_of_by_backticks(tmp_path: Path) -> None:
    """A log line with two backticks, a link and an image must stay inside its code
    span when the Markdown report is rendered (markdown-it, the parser Rich uses)."""
    from markdown_it import MarkdownIt

    evil = "`` [click](http://evil) ![i](http://evil/i.png) <img src=x> ``"
    log = tmp_path / "rl.log"
    log.write_text("".join(
        json.dumps({"level": 50, "time": 1_763_770_000_000 + n, "pid": 7, "hostname": "web",
                    "reqId": f"r{n}", "msg": f"RateLimitError: 429 Too Many Requests {evil}"})
        + "\n" for n in range(5)), encoding="utf-8")
    proc = run("analyze", str(log), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "RateLimitError" in proc.stdout and "[click](http://evil)" in proc.stdout
    html = MarkdownIt("commonmark").render(proc.stdout)
    assert "http://evil" in html  # shown as text ...
    assert "<a " not in html and "<img" not in html  # ... never a link or an image


def test_error_messages_on_stderr_are_redacted(tmp_path: Path) -> None:
    """stderr is pasted into tickets as often as reports: a path or URL quoted in an
    error keeps its shape, not its password."""
    proc = run("analyze", f"{tmp_path}/https://user:hunter2@db.example/dump.log",
               f"{tmp_path}/token=hunter2.log")
    assert proc.returncode != 0
    _, err = check(proc, "analyze missing secret-looking paths")
    assert "user:***@db.example" in err and "token=***" in err


def test_report_renderers_clean_keys_and_every_field_of_a_hand_built_case() -> None:
    """The three renderers on a Case whose every free-text field is hostile, including
    mapping keys (a signal's data keyed by pod name, skip reasons): the JSON keeps the
    characters of markup, shows escapes, and holds no secret."""
    from io import StringIO

    from rich.console import Console

    from probes.diagnose import diagnose
    from probes.evidence import Case, Evidence, InputReport, example, yes
    from probes.pipeline import Analysis
    from tui.render import report

    pod = f"pod-{MARKUP}-{OSC52}-\x9b31m-{BIDI}"
    ex = example(f"{pod}.log", 3, None, f"{HOSTILE} {BEARER}", note=f"note {URL}")
    signal = yes("pods.oomkilled", "kube", f"detail {HOSTILE} {URL}", [ex],
                 data={pod: {"reason": f"OOMKilled {BEARER}"}})
    inp = InputReport(f"{pod}.json", "kube", "kubectl-json", 3, 1,
                      skipped={f"bad line {OSC52} {URL}": 2})
    case = Case((Evidence("kube", f"target {pod} {URL}", (signal,), (inp,),
                          error=f"partly denied {HOSTILE} {BEARER}"),))
    analysis = Analysis(case, diagnose(case), [inp])
    as_json = report.render_json(analysis)
    markdown = report.render_markdown(analysis)
    buf = StringIO()
    report.print_text(analysis, Console(file=buf, force_terminal=True, width=200,
                                        color_system="truecolor", markup=False))
    for name, body in (("json", as_json), ("markdown", markdown), ("text", buf.getvalue())):
        text = shown(body, name)
        assert "\\e]52;c;aGk=\\a" in text.replace("\\\\", "\\"), name
    assert MARKUP in as_json and "pod-[bold red]x[/]-\\\\e]52" in as_json


@pytest.mark.parametrize(("line", "kept"), [
    ("Cookie: theme=dark; sid=hunter2; x=1", "Cookie: ***"),
    ("Set-Cookie: JSESSIONID=hunter2; Path=/; HttpOnly", "Set-Cookie: ***"),
    ("curl -H 'Cookie: a=1; sid=hunter2' -X POST", "-X POST"),
    ("request headers {'cookie': 'a=1; sid=hunter2', 'accept': '*/*'}", "'accept': '*/*'"),
    ("config {'password': 'hunter2', 'user': 'bob'}", "'user': 'bob'"),
    ("kwargs={'api_key': 'hunter2abcdef', 'model': 'gpt-4o'}", "'model': 'gpt-4o'"),
])
def test_cookie_headers_and_python_dict_reprs_are_redacted(
        line: str, kept: str, tmp_path: Path) -> None:
    """Every cookie of a Cookie header (session cookies have harmless-looking names), and
    secret keys in Python dict reprs, in every report format of a real analysis."""
    from probes.redact import redact_text

    assert "hunter2" not in redact_text(line) and kept in redact_text(line)
    log = tmp_path / "svc.log"
    log.write_text("".join(
        json.dumps({"level": 50, "time": 1_763_770_000_000 + n, "pid": 7, "hostname": "web",
                    "reqId": f"r{n}", "msg": f"RateLimitError: 429 Too Many Requests {line}"})
        + "\n" for n in range(5)), encoding="utf-8")
    for fmt in ("text", "markdown", "json"):
        proc = run("analyze", str(log), "--format", fmt)
        assert proc.returncode == 0 and "RateLimitError" in proc.stdout, proc.stderr
        assert "hunter2" not in proc.stdout, (fmt, line)
