"""The code probe's public API: signals, input accounting, options and edge cases."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from probes.code import Finding, is_code_dir, scan
from probes.code.scan import MAX_SOURCE_BYTES, STRENGTH
from probes.evidence import Answer, Evidence
from probes.signals import SIGNALS

SHARED_TS = """import { AssistantAgent } from "@autogen/core";
const agent = new AssistantAgent({ name: "support" });
export async function POST(req: Request) {
  return Response.json(await agent.run(await req.text()));
}
"""
FIXED_PY = """from fastapi import FastAPI
app = FastAPI()

@app.post("/ask")
async def ask(body: dict):
    from autogen_agentchat.agents import AssistantAgent
    agent = AssistantAgent("support")
    return await agent.run(task=body["q"])
"""


def write(root: Path, rel: str, text: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def signal(ev: Evidence, key: str):  # type: ignore[no-untyped-def]
    return next(s for s in ev.signals if s.key == key)


def test_yes_signal_points_at_the_line_with_strength_and_cause(tmp_path: Path) -> None:
    write(tmp_path, "src/app/api/chat/route.ts", SHARED_TS)
    ev = scan([tmp_path])
    assert ev.probe == "code" and ev.error is None
    s = signal(ev, "code.shared_instance")
    assert s.answer is Answer.YES and s.strength == STRENGTH == 0.4
    assert "weaker" in s.detail
    ex = s.examples[0]
    assert ex.source.endswith("src/app/api/chat/route.ts") and ex.line == 2
    assert "new AssistantAgent" in ex.text and "POST" in ex.note
    assert s.data["cause"] == "shared-instance"
    [finding] = ev.data["findings"]
    assert Finding(**finding).where.endswith("route.ts:2")
    assert {s.key for s in ev.signals} == {k for k in SIGNALS if k.startswith("code.")}


def test_no_when_scanned_unknown_when_nothing_to_scan(tmp_path: Path) -> None:
    write(tmp_path, "svc/app.py", FIXED_PY)
    ev = scan([tmp_path / "svc"])
    assert signal(ev, "code.shared_instance").answer is Answer.NO
    assert signal(ev, "code.shared_history").answer is Answer.NO
    dep = signal(ev, "code.version_mismatch")
    assert dep.answer is Answer.UNKNOWN and "manifest" in dep.reason
    write(tmp_path, "empty/README.md", "# nothing here\n")
    ev = scan([tmp_path / "empty"])
    s = signal(ev, "code.shared_instance")
    assert s.answer is Answer.UNKNOWN and "no Python or TypeScript" in s.reason


def test_missing_path_is_an_error_not_an_exception(tmp_path: Path) -> None:
    ev = scan([tmp_path / "nope"])
    assert ev.error is not None and "no such file" in ev.error
    assert all(s.answer is Answer.UNKNOWN for s in ev.signals)
    assert scan([]).error == "no path given"


def test_vendored_and_build_folders_are_skipped_and_counted(tmp_path: Path) -> None:
    for folder in ("node_modules/x", ".git/hooks", "dist", "build", ".venv/lib", "venv",
                   "__pycache__"):
        write(tmp_path, f"{folder}/route.ts", SHARED_TS)
    write(tmp_path, "app.py", FIXED_PY)
    ev = scan([tmp_path])
    assert ev.data["findings"] == []
    [report] = ev.inputs
    assert report.kind == "code" and report.skipped["excluded folder"] == 7
    assert ev.data["files"]["source"] == 1


def test_unparseable_files_are_counted_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "ok.ts", SHARED_TS)
    write(tmp_path, "bad.py", "def f(:\n    pass\n")
    write(tmp_path, "bad.ts", "const a = 1;\n\nfunction f() {\n  return )\n}\n")
    write(tmp_path, "huge.js", "// x\n" * (MAX_SOURCE_BYTES // 5 + 10))
    write(tmp_path, "blob.js", b"\x00\x01\x02binary")
    ev = scan([tmp_path])
    [report] = ev.inputs
    assert report.skipped == {"syntax error": 2, "too large": 1, "binary": 1}
    notes = " ".join(report.notes)
    assert f"syntax error at {tmp_path.as_posix()}/bad.py:1" in notes
    assert f"syntax error at {tmp_path.as_posix()}/bad.ts:4" in notes
    assert "too large" in notes and "binary" in notes
    assert report.lines_read > 0 and report.events == 1
    assert signal(ev, "code.shared_instance").answer is Answer.YES


def test_frameworks_mapping_extends_the_class_table(tmp_path: Path) -> None:
    write(tmp_path, "bot.py", """from flask import Flask, request
from ourlib import SupportBot
app = Flask(__name__)
bot = SupportBot(tone="calm")

@app.route("/chat", methods=["POST"])
def chat():
    return bot.reply(request.json["q"])
""")
    assert signal(scan([tmp_path]), "code.shared_instance").answer is Answer.NO
    ev = scan([tmp_path], frameworks={"SupportBot": "in-house agent wrapper"})
    s = signal(ev, "code.shared_instance")
    assert s.answer is Answer.YES and s.examples[0].line == 4
    assert "in-house agent wrapper (SupportBot)" in s.examples[0].note


def test_cancel_stops_early_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, "a.ts", SHARED_TS)
    cancel = threading.Event()
    cancel.set()
    ev = scan([tmp_path], cancel=cancel)
    [report] = ev.inputs
    assert report.error == "stopped early: cancelled"
    assert ev.data["findings"] == []


def test_single_files_and_manifests_can_be_given(tmp_path: Path) -> None:
    f = write(tmp_path, "route.ts", SHARED_TS)
    req = write(tmp_path, "requirements-dev.txt",
                "autogen-agentchat==0.4.7\nautogen-core==0.5.0\n")
    ev = scan([f, req])
    assert signal(ev, "code.shared_instance").answer is Answer.YES
    vm = signal(ev, "code.version_mismatch")
    assert vm.answer is Answer.YES
    assert [(e.line, e.text) for e in vm.examples] == [
        (1, "autogen-agentchat==0.4.7"), (2, "autogen-core==0.5.0")]


def test_secrets_in_excerpts_are_redacted(tmp_path: Path) -> None:
    write(tmp_path, "client.ts", """import OpenAI from "openai";
const client = new OpenAI({ apiKey: "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789" });
export async function POST(req: Request) {
  return Response.json(await client.responses.create({ input: await req.text() }));
}
""")
    ev = scan([tmp_path])
    text = json.dumps(ev.to_json())
    assert "sk-proj-abcdef" not in text
    s = signal(ev, "code.shared_instance")
    assert s.answer is Answer.YES
    assert "provider SDK client keeps no conversation" in s.examples[0].note


def test_evidence_round_trips_through_json(tmp_path: Path) -> None:
    write(tmp_path, "route.ts", SHARED_TS)
    ev = scan([tmp_path])
    back = Evidence.from_json(json.loads(json.dumps(ev.to_json())))
    assert back.data["findings"] == ev.data["findings"]
    assert signal(back, "code.shared_instance").strength == 0.4


@pytest.mark.parametrize(("files", "expected"), [
    ({"package.json": "{}"}, True),
    ({"requirements.txt": "crewai\n"}, True),
    ({"pyproject.toml": "[project]\nname='x'\n"}, True),
    ({"setup.py": ""}, True),
    ({"lib/deep/worker.mjs": "export {}\n"}, True),
    ({"README.md": "hi"}, False),
    ({"node_modules/x/index.js": "module.exports = 1\n"}, False),
    ({}, False),
])
def test_is_code_dir(tmp_path: Path, files: dict[str, str], expected: bool) -> None:
    for rel, text in files.items():
        write(tmp_path, rel, text)
    assert is_code_dir(tmp_path) is expected
    assert is_code_dir(tmp_path / "missing") is False


def test_the_demo_service_lazy_team_is_found_with_its_class_named(tmp_path: Path) -> None:
    """tests/services/agent_app.py is the project's real buggy ASGI service (read only
    here): its ``Team`` is not a framework class, so it is found only when named."""
    service = Path(__file__).parent / "services"
    source = (service / "agent_app.py").read_text().splitlines()
    line = next(i for i, s in enumerate(source, 1) if s.strip() == "_SHARED_TEAM = Team()")
    assert signal(scan([service]), "code.shared_instance").answer is Answer.NO
    ev = scan([service], frameworks={"Team": "agent team"})
    s = signal(ev, "code.shared_instance")
    assert s.answer is Answer.YES
    assert [(Path(e.source).name, e.line) for e in s.examples] == [("agent_app.py", line)]
    assert "lazy singleton" in s.examples[0].note
