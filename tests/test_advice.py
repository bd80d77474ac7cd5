"""Advice in the service's language, naming what the evidence holds (issue 9, advice).

Every case here is real material analysed end to end with ``analyze_paths``: the bundled
demo (a real Python uvicorn service, ``tests/make_demo_incident.py``), the golden folders
(Kubernetes captures from public repositories, see ``tests/kube_fixtures/SOURCES.md``,
and the seeded log cases of ``tests/golden/make_cases.py``), the code probe's fixtures
(``tests/code_cases/``) and, when committed, the incident lab's captures
(``tests/lab/scenarios/``). The assertions are about the fix the operator reads: its
language and framework, and the object, file:line and numbers it names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from probes.advice import NODE, PYTHON, detect_stack, tailor
from probes.causes import cause
from probes.pipeline import Analysis, analyze_paths, demo_paths
from probes.verdict import RankedCause

TESTS = Path(__file__).parent
GOLDEN = TESTS / "golden"
LAB = TESTS / "lab" / "scenarios"
CODE = TESTS / "code_cases"


def golden(name: str) -> Analysis:
    folder = GOLDEN / name
    return analyze_paths([str(p) for p in sorted(folder.iterdir())
                          if p.name != "expected.json"])


def lab(name: str) -> Analysis:
    folder = LAB / name
    if not (folder / "truth.json").exists():
        pytest.skip(f"lab scenario {name} not committed")
    truth = json.loads((folder / "truth.json").read_text())
    names = truth.get("inputs") or [p.name for p in sorted(folder.iterdir())
                                    if p.name != "truth.json"]
    return analyze_paths([str(folder / n) for n in names])


def advice_for(analysis: Analysis, cause_id: str) -> RankedCause:
    """The tailored advice for a cause on this case, whatever the verdict is: the lab's
    verdicts are others' work in progress, the advice for the measured cause is ours."""
    for rc in analysis.verdict.causes:
        if rc.id == cause_id:
            return rc
    info = cause(cause_id)
    return tailor(analysis.case, RankedCause(cause_id, info.title, 0.0, "", (), (),
                                             info.broken, info.fixed, info.next_steps))


def top(analysis: Analysis, cause_id: str) -> RankedCause:
    assert analysis.verdict.verdict == cause_id, analysis.verdict.summary
    rc = analysis.verdict.top
    assert rc is not None
    return rc


def steps(rc: RankedCause) -> str:
    return "\n".join(rc.next_steps)


PY_MARKS = ("async def ", "await ")
NODE_MARKS = ("const ", "=> {")


def is_python(code: str) -> bool:
    return any(m in code for m in PY_MARKS) and not any(m in code for m in NODE_MARKS)


def is_node(code: str) -> bool:
    return any(m in code for m in NODE_MARKS) and "async def " not in code


# ----------------------------------------------------------------------------- language


def test_demo_python_autogen_service_gets_a_python_autogen_fix() -> None:
    """The demo is tests/services/agent_app.py under uvicorn: Python, AutoGen's own
    'team is already running' error, even though it logs pino-shaped JSON."""
    a = analyze_paths(demo_paths())
    rc = top(a, "shared-instance")
    assert is_python(rc.fixed), rc.fixed
    assert "build_team()" in rc.fixed and "load_state" in rc.fixed
    assert "RoundRobinGroupChat" in rc.fixed
    text = steps(rc)
    assert "Fix written for Python · AutoGen AgentChat" in text
    # the instance, its sessions and overlaps, as the logs counted them
    assert "Instance team-23f77049 served 80 session(s)" in text
    assert "57 overlapping run pair(s)" in text
    assert "agent-7d9f8b6c4-x2k9p/25910" in text


def test_fastify_service_gets_a_node_fix() -> None:
    # tests/golden/shared-instance-autogen-ts: fastify (pino) logs, @autogen/* errors
    rc = top(golden("shared-instance-autogen-ts"), "shared-instance")
    assert is_node(rc.fixed) and is_node(rc.broken), rc.fixed
    assert "async (req, reply) =>" in rc.fixed and "reply.send(" in rc.fixed  # fastify's API
    text = steps(rc)
    assert "Fix written for Node.js/TypeScript" in text and "fastify" in text
    assert "Instance agent-0e63b0bb served 25 session(s)" in text


def test_structlog_service_gets_a_python_fix_with_the_clean_concurrency() -> None:
    """upstream-rate-limit-openai: structlog lines, openai.RateLimitError. Requests at 1
    and 2 in flight never failed; failures start at 3-4, so the cap is 2."""
    rc = top(golden("upstream-rate-limit-openai"), "upstream-rate-limit")
    assert is_python(rc.fixed), rc.fixed
    assert "max_retries=5" in rc.fixed and "asyncio.Semaphore(2)" in rc.fixed
    text = steps(rc)
    assert "Fix written for Python" in text
    assert "45 rate-limit error line(s)" in text
    assert "Failures start at 3-4 request(s) in flight (31% failed)" in text


def test_mixed_source_tree_gives_both_languages_and_says_why() -> None:
    """tests/code_cases/in_memory_state/broken holds state.py and sessions.ts: the
    language cannot be chosen, so both variants are shown, never one silently."""
    a = analyze_paths([str(CODE / "in_memory_state" / "broken")])
    rc = top(a, "in-memory-state")
    assert "# Python" in rc.fixed and "// Node.js / TypeScript" in rc.fixed
    assert "redis.asyncio" in rc.fixed and "createClient" in rc.fixed
    assert "Fix given for Python and for Node.js" in steps(rc)
    # each language's clue is named, so the operator sees why neither was chosen
    assert "Python: the code probe's finding (state.py:" in steps(rc)
    assert "Node.js/TypeScript: the code probe's finding (sessions.ts:" in steps(rc)
    stack = detect_stack(a.case)
    assert stack.language is None and stack.mixed


def test_code_finding_names_the_file_line_and_the_framework() -> None:
    # tests/code_cases/shared_instance/broken/crew_app.py: a module-level CrewAI crew
    a = analyze_paths([str(CODE / "shared_instance" / "broken" / "crew_app.py")])
    rc = top(a, "shared-instance")
    assert rc.broken.startswith("# tests/code_cases/shared_instance/broken/crew_app.py:6\n")
    assert "analyst = Agent(" in rc.broken
    assert "build_crew()" in rc.fixed and "akickoff(inputs=" in rc.fixed
    assert "Python · CrewAI" in steps(rc)


def test_version_mismatch_pins_the_family_on_the_highest_version_seen() -> None:
    # tests/code_cases/version_mismatch/broken/pip/requirements.txt: ext at 0.3.1
    a = analyze_paths([str(CODE / "version_mismatch" / "broken" / "pip" / "requirements.txt")])
    rc = top(a, "version-mismatch")
    assert "autogen-ext[openai]==0.3.1" in rc.broken
    assert "autogen-ext[openai]==0.4.7" in rc.fixed
    assert "autogen-core==0.4.7" in rc.fixed
    assert "npm" not in rc.fixed


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("name", "limit", "raised", "restarts"), [
    ("oom-config-db-restarts101", "4Gi", "8Gi", 101),  # is-healthy pod YAML
    ("oom-busybox-describe", "50Mi", "100Mi", 16),  # holmesgpt kubectl describe
    ("oom-memory-eater-describe", "100Mi", "200Mi", 6),
])
def test_oom_fix_names_the_real_limit_never_an_empty_resources(
        name: str, limit: str, raised: str, restarts: int) -> None:
    rc = top(golden(name), "oom")
    assert "resources: {}" not in rc.broken + rc.fixed
    assert f"memory: {limit}" in rc.broken
    assert f"memory: {raised}" in rc.fixed and f"was {limit}" in rc.fixed
    assert "raise limits.memory above" in rc.fixed
    assert f"{restarts} restart(s)" in steps(rc)
    assert f"limits.memory is {limit}" in steps(rc)


def test_platform_timeout_names_the_ceiling() -> None:
    # tests/golden/platform-timeout-gateway-504: 23 failing requests end at ~30014 ms
    rc = top(golden("platform-timeout-gateway-504"), "platform-timeout")
    text = steps(rc)
    assert "Failing requests end at ~30.0 s (30014 ms)" in text
    assert "~30 s" in rc.broken
    assert is_node(rc.fixed)


def test_healthy_and_inconclusive_keep_the_catalogue_text() -> None:
    a = golden("healthy-per-session-agents")
    assert a.verdict.verdict == "healthy"
    assert all(not c.next_steps or not c.next_steps[0].startswith("Fix ")
               for c in a.verdict.causes if c.id in ("healthy", "inconclusive"))


# ----------------------------------------------------------------------------- lab


def test_lab_python_autogen_shared_team() -> None:
    # AutoGen AgentChat 0.7.5 RoundRobinGroupChat + FastAPI + uvicorn --workers 2
    a = lab("py-shared-instance-autogen")
    rc = advice_for(a, "shared-instance")
    assert is_python(rc.fixed), rc.fixed
    assert detect_stack(a.case).language == PYTHON
    assert "Python" in steps(rc) and "Node.js" not in rc.fixed


def test_lab_node_express_shared_agent() -> None:
    # express 5.3 + pino-http + Node cluster + @langchain/core: one agent per worker
    a = lab("node-shared-instance")
    rc = advice_for(a, "shared-instance")
    assert is_node(rc.fixed), rc.fixed
    assert detect_stack(a.case).language == NODE


def test_lab_console_text_with_morgan_lines_is_an_express_service() -> None:
    # express 5.3 + morgan('tiny') + console.log text lines: no logger that names Node,
    # only morgan's request lines (counted by the analysis) say express
    a = lab("node-context-reset")
    rc = advice_for(a, "context-reset")
    assert is_node(rc.fixed) and not is_python(rc.fixed), rc.fixed
    stack = detect_stack(a.case)
    assert (stack.language, stack.server) == (NODE, "express")


def test_lab_python_oom_under_gunicorn_is_not_given_node_heap_flags() -> None:
    # FastAPI + gunicorn -w 2 in a 230 MB cgroup: gunicorn's SIGKILL line
    a = lab("py-oom")
    rc = advice_for(a, "oom")
    assert "max-old-space-size" not in rc.fixed
    assert detect_stack(a.case).language == PYTHON


def test_lab_node_heap_oom_gets_the_v8_heap_advice() -> None:
    a = lab("node-oom-heap")
    rc = advice_for(a, "oom")
    assert "max-old-space-size" in rc.fixed
    assert detect_stack(a.case).language == NODE


def test_lab_nginx_gateway_timeout_names_nginx() -> None:
    # nginx 1.22.1 with proxy_read_timeout 2s in front of uvicorn
    a = lab("py-platform-timeout-nginx")
    rc = advice_for(a, "platform-timeout")
    assert "proxy_read_timeout" in steps(rc)
    assert "Failing requests end at ~2.0 s" in steps(rc)
    assert is_python(rc.fixed), rc.fixed


def test_lab_langgraph_capture_without_langgraph_names_gets_the_plain_python_fix() -> None:
    """The capture (uvicorn.log, python logging text) never names LangGraph: the fix is
    Python, and claims no framework the evidence does not show."""
    a = lab("py-context-reset-langgraph")
    rc = advice_for(a, "context-reset")
    assert is_python(rc.fixed)
    assert "LangGraph" not in steps(rc) and "checkpointer" not in rc.fixed


@pytest.mark.parametrize(("name", "language"), [
    ("node-serialization", NODE),  # express + morgan; V8's 'Converting circular structure'
    ("node-version-mismatch", NODE),  # npm install output, package.json
    ("node-parallel-run-same-session", NODE),  # bunyan
    ("py-upstream-rate-limit", PYTHON),  # uvicorn default output + OpenAI SDK error text
    ("node-upstream-rate-limit", NODE),  # winston text; the OpenAI Node SDK's "Error: 429 ..."
    ("py-oom", PYTHON),  # gunicorn 'Worker (pid:N) was sent SIGKILL'
    ("py-tool-timeout", PYTHON),  # Python traceback in CRI lines
    ("py-non-idempotent-postgres", PYTHON),
])
def test_lab_language_comes_from_the_capture(name: str, language: str) -> None:
    a = lab(name)
    assert detect_stack(a.case).language == language
    expected = json.loads((LAB / name / "truth.json").read_text())["expected"]
    rc = advice_for(a, expected)
    if expected not in ("oom", "probe-kill", "version-mismatch"):
        assert (is_python if language == PYTHON else is_node)(rc.fixed), rc.fixed
        assert f"Fix written for {'Python' if language == PYTHON else 'Node.js'}" in steps(rc)


def test_lab_rate_limit_names_the_clean_concurrency() -> None:
    a = lab("py-upstream-rate-limit")
    rc = advice_for(a, "upstream-rate-limit")
    sig = a.case.signals()["errors.rate_limit"]
    assert f"{sig.value} rate-limit error line(s) (429/503)" in steps(rc)
    assert "max_retries=5" in rc.fixed


# ----------------------------------------------------------------------------- reports


def test_piped_text_report_shows_the_fix_unwrapped_and_without_trailing_spaces() -> None:
    import io

    from rich.console import Console

    from tui.render import report

    a = analyze_paths(demo_paths())
    buf = io.StringIO()
    report.print_text(a, Console(file=buf, width=80, markup=False, highlight=False))
    out = buf.getvalue()
    lines = out.splitlines()
    assert not [n for n, line in enumerate(lines) if line != line.rstrip()]
    fix = next(line for line in lines if "Fix written for" in line)
    assert fix.startswith("  • Fix written for Python · AutoGen AgentChat")
    assert fix.rstrip().endswith(".")  # the whole sentence on one line, not wrapped at 80
    assert "      team = build_team()                 # per request" in lines


def test_markdown_report_fences_the_tailored_fix() -> None:
    from tui.render import report

    md = report.render_markdown(analyze_paths(demo_paths()))
    assert "### Fix for `shared-instance`" in md
    fixed = md[md.index("Fixed:"):]
    assert fixed.splitlines()[2] == "```"
    assert "def build_team() -> RoundRobinGroupChat:" in fixed
    assert "- Fix written for Python · AutoGen AgentChat" in md


def test_lab_tool_timeout_names_a_cap_only_when_a_clean_level_proves_it() -> None:
    """py-tool-timeout: a concurrency cap is a number only when the evidence shows a
    clean level below a failing one; otherwise it stays a named placeholder."""
    a = lab("py-tool-timeout")
    rc = advice_for(a, "tool-timeout")
    assert "asyncio.timeout(" in rc.fixed
    m = re.search(r"asyncio\.Semaphore\((\w+)\)", rc.fixed)
    assert m is not None
    if m.group(1).isdigit():
        assert f"up to {m.group(1)} in flight, none failed" in steps(rc)
    else:
        assert m.group(1) == "MAX_IN_FLIGHT"


def test_lab_gunicorn_oom_without_kubernetes_gets_the_process_fix() -> None:
    a = lab("py-oom")
    rc = advice_for(a, "oom")
    assert "--max-requests" in rc.fixed and "deque(maxlen=" in rc.fixed
    assert "resources:" not in rc.fixed
    assert "worker death(s)" in steps(rc)


# ----------------------------------------------------------------------------- corpus

CORPUS = TESTS / "corpus"


def corpus(name: str) -> tuple[Analysis, str]:
    folder = CORPUS / name
    if not (folder / "case.json").exists():
        pytest.skip(f"corpus case {name} not committed")
    case = json.loads((folder / "case.json").read_text())
    return analyze_paths([str(folder / n) for n in case["inputs"]]), str(case["expected"])


@pytest.mark.parametrize(("name", "language"), [
    # crewAIInc/crewAI#3434: LiteLLM output under Python logging's default format
    ("crewai-litellm-ratelimit-gemini-429-tpm-crewai-3434", PYTHON),
    # langchain-ai/langchainjs#9635: V8's "Converting circular structure to JSON"
    ("langchainjs-circular-json-timeout-configurable-model-9635", NODE),
    # langchain-ai/langgraph#1115: a Python traceback
    ("langgraph-callbackmanager-not-json-serializable-1115", PYTHON),
    # google-gemini/gemini-cli#2993: "JavaScript heap out of memory"
    ("node-heap-oom-large-prompt-gemini-cli-2993", NODE),
])
def test_corpus_pasted_material_gets_its_own_language(name: str, language: str) -> None:
    a, expected = corpus(name)
    assert detect_stack(a.case).language == language
    rc = advice_for(a, expected)
    word = "Python" if language == PYTHON else "Node.js"
    assert f"Fix written for {word}" in steps(rc)


def test_corpus_serialization_names_the_object_that_failed() -> None:
    # langchain-ai/langgraph#1115: "Object of type CallbackManagerForToolRun is not JSON
    # serializable"
    a, expected = corpus("langgraph-callbackmanager-not-json-serializable-1115")
    rc = advice_for(a, expected)
    assert "CallbackManagerForToolRun" in rc.broken
    assert "json.dumps" in rc.fixed and "<<" not in rc.broken + rc.fixed


def test_corpus_pip_conflict_pins_what_the_resolver_asked_for() -> None:
    # crewAIInc/crewAI#837: "langchain-community 0.0.38 requires langchain-core<0.2.0,
    # >=0.1.52, but you have langchain-core 0.2.10 which is incompatible."
    a, expected = corpus("pip-requires-langchain-core-incompatible-crewai-837")
    rc = advice_for(a, expected)
    assert "langchain-core 0.2.10 which is incompatible" in rc.broken
    assert "langchain-core<0.2.0,>=0.1.52" in rc.fixed
    assert "npm" not in rc.fixed and "autogen" not in rc.fixed


def test_json_report_carries_the_tailored_fix() -> None:
    from tui.render import report

    doc = report.to_json(analyze_paths(demo_paths()))
    fix = doc["causes"][0]["fix"]
    assert fix["next_steps"][0].startswith("Fix written for Python · AutoGen AgentChat")
    assert "build_team()" in fix["fixed"]


def test_a_saved_case_with_odd_data_keeps_the_catalogue_advice(tmp_path: Path) -> None:
    """A saved case is a file anyone can edit: the demo's case with its instance table
    replaced by the wrong types still walks, and the advice falls back, never raises."""
    a = analyze_paths(demo_paths())
    doc = a.case.to_json()
    for ev in doc["evidence"]:
        if ev["probe"] == "logs":
            ev["data"]["instances"] = [{"id": 1, "sessions": "many", "requests": None}]
            ev["data"]["resources"] = "not a list"
    saved = tmp_path / "case.json"
    saved.write_text(json.dumps(doc))
    again = analyze_paths([str(saved)])
    assert again.verdict.verdict == "shared-instance"
    assert again.verdict.top is not None and again.verdict.top.fixed


LAB_SCENARIOS = Path(__file__).parent / "lab" / "scenarios"


def _lab_language(stack: str) -> str:
    """The language the run's own record names (truth.json ``stack``)."""
    if re.search(r"\b(?:express|fastify|Node|npm|@langchain)\b", stack):
        return NODE
    assert re.search(r"FastAPI|uvicorn|gunicorn|AutoGen|LangGraph|Python", stack), stack
    return PYTHON


@pytest.mark.parametrize("name", sorted(
    p.name for p in LAB_SCENARIOS.iterdir()
    if (p / "truth.json").is_file()
    and json.loads((p / "truth.json").read_text())["expected"] != "healthy"))
def test_every_broken_lab_service_gets_fixes_in_its_own_language(name: str) -> None:
    truth = json.loads((LAB_SCENARIOS / name / "truth.json").read_text())
    a = analyze_paths([str(LAB_SCENARIOS / name / i) for i in truth["inputs"]])
    assert detect_stack(a.case).language == _lab_language(truth["stack"]), truth["stack"]
