"""Rule tables tested with small golden inputs: what counts as a request handler, how
version ranges are read, which keys are per-session."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.code import scan
from probes.code.dependencies import base_version, satisfies
from probes.code.tables import has_version_guard, is_session_key

TS_AGENT = ('import { AssistantAgent } from "@autogen/core";\n'
            "const agent = new AssistantAgent({});\n")
PY_AGENT = "from autogen_agentchat.agents import AssistantAgent\nagent = AssistantAgent('a')\n"

# (file name, body after the module-level agent, whether it is a request path)
HANDLER_SHAPES = [
    ("route.ts", "export async function POST() { return agent.run('x'); }", True),
    ("route.ts", "export const GET = async () => agent.run('x');", True),
    ("api.ts", "export default async function (req, res) { res.json(await agent.run('x')); }",
     True),
    ("server.js", "app.post('/run', async (req, res) => res.json(await agent.run('x')));",
     True),
    ("server.js", "async function run(q) { return agent.run(q); }\n"
                  "router.post('/run', run);", True),
    ("server.js", "const go = (req) => agent.run(req.body);", True),
    ("ctl.ts", "class ChatController { async ask(q: string) { return agent.run(q); } }", True),
    ("ctl.ts", "class Chat { @Post() async ask(q: string) { return agent.run(q); } }", True),
    ("deep.ts", "async function step(q: string) { return agent.run(q); }\n"
                "export async function handler(req: Request) { return step('x'); }", True),
    ("actions.tsx", "export async function send(form: FormData) {\n"
                    "  return <p>{await agent.run(String(form.get('q')))}</p>;\n}", False),
    ("script.ts", "async function main() { await agent.run('once'); }\nmain();", False),
    ("script.ts", "const cache = new Map(); cache.get('x');", False),
    ("app.py", "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/a')\n"
               "async def a():\n    return await agent.run(task='x')", True),
    ("app.py", "from flask import Blueprint\nbp = Blueprint('b', __name__)\n"
               "@bp.route('/a')\ndef a():\n    return agent.run(task='x')", True),
    ("app.py", "async def view(request):\n    return await agent.run(task='x')", True),
    ("app.py", "def ask():\n    return agent.run(task='x')\n"
               "app.add_url_rule('/ask', view_func=ask)", True),
    ("app.py", "class AskView(MethodView):\n    def post(self):\n"
               "        return agent.run(task='x')", True),
    ("app.py", "def lambda_handler(event, context):\n    return agent.run(task='x')", True),
    ("app.py", "def helper():\n    return agent.run(task='x')\n"
               "def handle_chat(msg):\n    return helper()", True),
    ("cli.py", "def main():\n    agent.run(task='x')\nif __name__ == '__main__':\n    main()",
     False),
]


@pytest.mark.parametrize(("name", "body", "is_handler"), HANDLER_SHAPES,
                         ids=[f"{i}-{s[0]}" for i, s in enumerate(HANDLER_SHAPES)])
def test_request_handler_shapes(tmp_path: Path, name: str, body: str, is_handler: bool) -> None:
    head = PY_AGENT if name.endswith(".py") else TS_AGENT
    (tmp_path / name).write_text(head + body + "\n")
    ev = scan([tmp_path])
    found = [f for f in ev.data["findings"] if f["signal"] == "code.shared_instance"]
    assert bool(found) is is_handler, found
    if found:
        assert found[0]["line"] == 2


def test_shadowing_local_is_not_the_module_instance(tmp_path: Path) -> None:
    (tmp_path / "route.ts").write_text(TS_AGENT + "export async function POST() {\n"
                                       "  const agent = makeAgent();\n"
                                       "  return agent.run('x');\n}\n")
    (tmp_path / "app.py").write_text(PY_AGENT + "def handler(event):\n"
                                     "    agent = make_agent()\n"
                                     "    return agent.run(task='x')\n")
    assert scan([tmp_path]).data["findings"] == []


@pytest.mark.parametrize(("spec", "base"), [
    ("^0.4.0", (0, 4, 0)), ("~=0.4.1", (0, 4, 1)), (">=0.3,<0.4", (0, 3, 0)),
    ("==1.2.3", (1, 2, 3)), ("*", None), ("git+https://x/y.git", None),
    ("workspace:*", None),
])
def test_base_version(spec: str, base: tuple[int, int, int] | None) -> None:
    assert base_version(spec) == base


@pytest.mark.parametrize(("version", "spec", "eco", "ok"), [
    ((0, 4, 2), "^0.4.0", "npm", True),
    ((0, 5, 0), "^0.4.0", "npm", False),
    ((1, 9, 0), "^1.2.0", "npm", True),
    ((2, 0, 0), "^1.2.0", "npm", False),
    ((0, 0, 4), "^0.0.3", "npm", False),
    ((1, 2, 9), "~1.2.3", "npm", True),
    ((1, 3, 0), "~1.2.3", "npm", False),
    ((4, 40, 0), ">=4.50.0 <5", "npm", False),
    ((0, 4, 1), "0.4.1", "npm", True),
    ((0, 4, 7), "0.4.x", "npm", True),
    ((0, 4, 1), "^1 || ^0.4", "npm", None),
    ((0, 3, 9), ">=0.3,<0.4", "pypi", True),
    ((0, 4, 0), ">=0.3,<0.4", "pypi", False),
    ((0, 4, 9), "~=0.4.1", "pypi", True),
    ((0, 5, 0), "~=0.4.1", "pypi", False),
    ((1, 9, 0), "~=1.2", "pypi", True),
    ((0, 4, 7), "==0.4.*", "pypi", True),
    ((0, 4, 7), "^0.4.2", "pypi", True),
])
def test_satisfies(version: tuple[int, int, int], spec: str, eco: str, ok: bool | None) -> None:
    assert satisfies(version, spec, eco) is ok


@pytest.mark.parametrize(("key", "session"), [
    ("sessionId", True), ("body.workflow_id", True), ("id", True), ("threadKey", True),
    ('"default"', False), ("name", False), ("0", False), ("req.params.userId", True),
])
def test_session_keys(key: str, session: bool) -> None:
    assert is_session_key(key) is session


@pytest.mark.parametrize(("src", "guarded"), [
    ("await store.set(id, next, { ifVersion: cur.version })", True),
    ("await db.transaction(async (tx) => ...)", True),
    ("await store.set(id, cur, expected_version=v)", True),
    ("await store.set(id, current) // the case of caster", False),
    ("const block = await store.get(id); await store.set(id, block)", False),
])
def test_version_guard_words(src: str, guarded: bool) -> None:
    assert has_version_guard(src) is guarded


def test_a_comment_is_not_a_version_check(tmp_path: Path) -> None:
    (tmp_path / "step.ts").write_text(
        "export async function advance(id: string) {\n"
        "  // TODO: add a version check / transaction here\n"
        "  const current = await store.get(id);\n"
        "  current.step += 1;\n"
        "  await store.set(id, current);\n"
        "}\n")
    [f] = scan([tmp_path]).data["findings"]
    assert (f["signal"], f["line"]) == ("code.non_atomic_update", 5)


def test_lockfile_dialects() -> None:
    """pnpm v5/v6/v9 keys and yarn classic/berry entries give name, version and line."""
    from probes.code.dependencies import read_pnpm_lock, read_yarn_lock

    pnpm = ("lockfileVersion: 5.4\n\npackages:\n\n"
            "  /@autogen/core/0.4.1:\n    resolution: {integrity: x}\n\n"
            "  /@autogen/openai@0.3.2(@autogen/core@0.4.1):\n    resolution: {integrity: y}\n\n"
            "  /left-pad/1.3.0:\n    resolution: {integrity: z}\n")
    got = [(d.name, d.spec, d.line) for d in read_pnpm_lock("p", pnpm)]
    assert got == [("@autogen/core", "0.4.1", 5), ("@autogen/openai", "0.3.2", 8)]
    berry = ('__metadata:\n  version: 6\n\n'
             '"@autogen/core@npm:^0.4.0, @autogen/core@npm:^0.4.1":\n'
             '  version: 0.4.1\n  resolution: "@autogen/core@npm:0.4.1"\n\n'
             '"crewai@npm:1.2.0":\n  version: 1.2.0\n')
    got = [(d.name, d.spec, d.line) for d in read_yarn_lock("y", berry)]
    assert got == [("@autogen/core", "0.4.1", 4), ("crewai", "1.2.0", 8)]


def test_requirements_and_pyproject_lines() -> None:
    from probes.code.dependencies import read_pyproject, read_requirements

    req = "-r base.txt\n# c\ncrewai[tools]>=0.80 ; python_version>'3.10'\n\nopenai\n"
    assert [(d.name, d.spec, d.line) for d in read_requirements("r", req)] == [
        ("crewai", ">=0.80", 3), ("openai", "", 5)]
    toml = ('[tool.poetry.dependencies]\npython = "^3.11"\n'
            'autogen-core = "^0.4.1"\nautogen-agentchat = { version = "0.5.0" }\n')
    assert [(d.name, d.spec, d.line) for d in read_pyproject("p", toml)] == [
        ("autogen-core", "^0.4.1", 3), ("autogen-agentchat", "0.5.0", 4)]


def test_next_server_actions_are_handlers(tmp_path: Path) -> None:
    (tmp_path / "actions.tsx").write_text(
        '"use server";\n' + TS_AGENT +
        "export async function send(form: FormData) {\n"
        "  return <p>{await agent.run(String(form.get('q')))}</p>;\n}\n")
    [f] = scan([tmp_path]).data["findings"]
    assert (f["signal"], f["line"]) == ("code.shared_instance", 3)
    assert "server action" in f["why"]
