"""The scenario table: each entry names its service, load, capture and rule.

Every broken scenario has a ``-fixed`` twin with the same load. ``decide`` is the rule in
code: it reads only ``measured``, so a twin whose run still measured a fault is not labelled
healthy.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

import driver
from rebuild import Proc, Scenario, chat_sender, uvicorn

# --------------------------------------------------------------------------------------------
# 1. py-shared-instance-autogen

P_SHARED = 18101


def shared_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    env = {"LAB_MEASURE_DIR": tmp, "OTEL_SPANS_FILE": os.path.join(out, "spans-{pid}.json"),
           # AutoGen's documented switch: keep its gen_ai spans, drop one span per message.
           "AUTOGEN_DISABLE_RUNTIME_TRACING": "true"}
    if fixed:
        env["LAB_FIXED"] = "1"
    p = Proc("uvicorn", uvicorn("apps.shared_instance", P_SHARED, 2),
             os.path.join(out, "uvicorn.log"), env)
    return [(p, "Application startup complete.", 2)]


def shared_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_SHARED}/chat",
                       lambda lv, s: {"session_id": f"s-{s}",
                                      "message": "What is the refund window?"})


def shared_measure(summary: dict[str, Any], results: list[driver.Result],
                   rows: list[dict[str, Any]]) -> dict[str, Any]:
    starts = [r for r in rows if r["kind"] == "run_start"]
    errors = Counter(r["error"][:120] for r in rows if r["kind"] == "run_error")
    return {**summary,
            "app_runs_started": len(starts),
            "app_runs_started_while_another_active_on_same_object": sum(
                1 for r in starts if r["active"] > 1),
            "app_max_concurrent_runs_on_one_object": max((r["active"] for r in starts), default=0),
            "app_run_errors": dict(errors)}


def shared_decide(m: dict[str, Any]) -> str:
    if m["app_runs_started_while_another_active_on_same_object"] > 0 and m["client_5xx"] > 0:
        return "shared-instance"
    if m["client_5xx"] > 0 or m["app_runs_started_while_another_active_on_same_object"] > 0:
        return "inconclusive"
    return "healthy"


SHARED_RULE = ("app_runs_started_while_another_active_on_same_object > 0 and client_5xx > 0 "
               "=> shared-instance; either alone => inconclusive; neither => healthy")

ALL: list[Scenario] = []
for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-shared-instance-autogen" + ("-fixed" if _fixed else ""),
        twin="py-shared-instance-autogen" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 RoundRobinGroupChat + ReplayChatCompletionClient "
              "+ FastAPI + uvicorn --workers 2",
        logging="python logging default format (basicConfig) + uvicorn default output "
                "+ OTel spans (ConsoleSpanExporter to a file per worker)",
        rule=SHARED_RULE, servers=shared_servers, send=shared_send, measure=shared_measure,
        decide=shared_decide, fixed=_fixed,
        # a traceback (~4.7 kB) per collision and six spans per request: keep the folder small
        levels=((1, 8), (5, 15), (10, 20), (25, 35))))

# --------------------------------------------------------------------------------------------
# 2. py-upstream-rate-limit

P_RATE, P_PROVIDER = 18111, 18110


def rate_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    prov = Proc("provider", uvicorn("apps.fake_provider", P_PROVIDER, 1),
                os.path.join(tmp, "provider.log"),
                {"LAB_MEASURE_DIR": tmp, "LAB_PROVIDER_LIMIT": "4", "LAB_PROVIDER_LATENCY": "0.2"})
    env = {"LAB_MEASURE_DIR": tmp, "LAB_PROVIDER_URL": f"http://127.0.0.1:{P_PROVIDER}/v1"}
    if fixed:
        env["LAB_FIXED"] = "1"
    svc = Proc("uvicorn", uvicorn("apps.rate_limit", P_RATE, 2),
               os.path.join(out, "service.log"), env)
    return [(prov, "Application startup complete.", 1), (svc, "Application startup complete.", 2)]


def rate_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_RATE}/chat",
                       lambda lv, s: {"session_id": f"sess-{s % 17}",
                                      "message": "Where is my order?"})


def rate_measure(summary: dict[str, Any], results: list[driver.Result],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**summary,
            "provider_429_sent": sum(1 for r in rows if r["kind"] == "provider_429"),
            "provider_200_sent": sum(1 for r in rows if r["kind"] == "provider_200"),
            "app_500_by_error": dict(Counter(r["error"] for r in rows if r["kind"] == "app_500"))}


def rate_decide(m: dict[str, Any]) -> str:
    if m["client_5xx"] > 0 and m["app_500_by_error"].get("RateLimitError", 0) > 0:
        return "upstream-rate-limit"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


RATE_RULE = ("client_5xx > 0 and the app's 500s include RateLimitError (provider 429) "
             "=> upstream-rate-limit; other 5xx => inconclusive; no 5xx => healthy")

for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-upstream-rate-limit" + ("-fixed" if _fixed else ""),
        twin="py-upstream-rate-limit" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 AssistantAgent + autogen-ext OpenAIChatCompletionClient "
              "(openai 3.63) + FastAPI + uvicorn --workers 2; local OpenAI-compatible provider "
              "limited to 4 requests in flight",
        logging="structlog JSON (request_id, session_id) + uvicorn default output",
        rule=RATE_RULE, servers=rate_servers, send=rate_send, measure=rate_measure,
        decide=rate_decide, fixed=_fixed))

# --------------------------------------------------------------------------------------------
# 3. py-tool-timeout

P_TOOL, P_INVENTORY = 18121, 18120


def tool_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    inv = Proc("inventory", uvicorn("apps.slow_downstream", P_INVENTORY, 1),
               os.path.join(tmp, "inventory.log"),
               {"LAB_MEASURE_DIR": tmp, "LAB_DOWNSTREAM_SLOTS": "2",
                "LAB_DOWNSTREAM_SECONDS": "0.35"})
    env = {"LAB_MEASURE_DIR": tmp, "LAB_INVENTORY_URL": f"http://127.0.0.1:{P_INVENTORY}"}
    if fixed:
        env["LAB_FIXED"] = "1"
    svc = Proc("uvicorn", uvicorn("apps.tool_timeout", P_TOOL, 2),
               os.path.join(out, "stock-agent-0.log"), env, cri=True)
    return [(inv, "Application startup complete.", 1), (svc, "Application startup complete.", 2)]


def tool_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_TOOL}/ask",
                       lambda lv, s: {"sku": f"SKU-{1000 + s % 40}",
                                      "question": "Is it in stock?"})


def tool_measure(summary: dict[str, Any], results: list[driver.Result],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    waits = [r["waiting"] for r in rows if r["kind"] == "downstream_queue"]
    return {**summary,
            "app_tool_errors": dict(Counter(r["error"] for r in rows if r["kind"] == "tool_error")),
            "downstream_max_waiting": max(waits, default=0)}


def tool_decide(m: dict[str, Any]) -> str:
    timeouts = sum(v for k, v in m["app_tool_errors"].items() if "Timeout" in k)
    if m["client_5xx"] > 0 and timeouts > 0:
        return "tool-timeout"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


TOOL_RULE = ("client_5xx > 0 and the app's tool errors include a timeout (httpx *Timeout) "
             "=> tool-timeout; other 5xx => inconclusive; no 5xx => healthy")

for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-tool-timeout" + ("-fixed" if _fixed else ""),
        twin="py-tool-timeout" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 (autogen_core FunctionTool + AssistantAgent with "
              "ReplayChatCompletionClient) + httpx + FastAPI + uvicorn --workers 2; local "
              "inventory API serving 2 requests at a time, 0.35 s each",
        logging="python logging text with asctime + uvicorn default output, as CRI log lines "
                "(containerd file format)",
        rule=TOOL_RULE, servers=tool_servers, send=tool_send, measure=tool_measure,
        decide=tool_decide, fixed=_fixed,
        # a chained httpx/httpcore traceback is ~14 kB: fewer requests keep the folder small
        levels=((1, 8), (5, 15), (10, 20), (20, 20))))

# --------------------------------------------------------------------------------------------
# 4. py-stateful-tool

P_STATEFUL = 18131


def stateful_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    env = {"LAB_MEASURE_DIR": tmp, "OTEL_SPANS_FILE": os.path.join(out, "spans-{pid}.jsonl"),
           "OTEL_SPANS_FORMAT": "console-compact", "AUTOGEN_DISABLE_RUNTIME_TRACING": "true"}
    if fixed:
        env["LAB_FIXED"] = "1"
    p = Proc("uvicorn", uvicorn("apps.stateful_tool", P_STATEFUL, 2),
             os.path.join(out, "uvicorn.log"), env)
    return [(p, "Application startup complete.", 2)]


def stateful_send() -> driver.Send:
    url = f"http://127.0.0.1:{P_STATEFUL}/chat"

    async def send(client: Any, level: int, seq: int) -> driver.Result:
        user = f"u-{seq:04d}"
        r = await driver.post_json(client, url, {"user_id": user, "message": "What plan am I on?"},
                                   level, seq)
        if r.status == 200:
            r.check = {"own_profile": f"Customer {user}:" in r.body}
        return r
    return send


def stateful_measure(summary: dict[str, Any], results: list[driver.Result],
                     rows: list[dict[str, Any]]) -> dict[str, Any]:
    reads = [r for r in rows if r["kind"] == "tool_read"]
    by_level: Counter[str] = Counter(str(r.level) for r in results
                                     if r.check.get("own_profile") is False)
    return {**summary,
            "client_answers_for_another_user": sum(by_level.values()),
            "client_answers_for_another_user_by_level": dict(by_level),
            "app_tool_reads": len(reads),
            "app_tool_reads_differing_from_value_set": sum(1 for r in reads if not r["match"])}


def stateful_decide(m: dict[str, Any]) -> str:
    if m["app_tool_reads_differing_from_value_set"] > 0 or m["client_answers_for_another_user"] > 0:
        return "stateful-tool"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


STATEFUL_RULE = ("any tool read that differs from the value its own request set (app record) "
                 "or any answer naming another user (client) => stateful-tool; else 5xx => "
                 "inconclusive; else healthy")

for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-stateful-tool" + ("-fixed" if _fixed else ""),
        twin="py-stateful-tool" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 AssistantAgent + FunctionTool (bound method of a "
              "module-level tool object) + ReplayChatCompletionClient + FastAPI "
              "+ uvicorn --workers 2",
        logging="structlog logfmt (user_id, request_id) + uvicorn default output + OTel spans "
                "(ConsoleSpanExporter, one span per line, a file per worker)",
        rule=STATEFUL_RULE, servers=stateful_servers, send=stateful_send,
        measure=stateful_measure, decide=stateful_decide, fixed=_fixed,
        # eight spans per request: fewer requests keep the folder small
        levels=((1, 8), (5, 15), (10, 20), (25, 35))))

# --------------------------------------------------------------------------------------------
# 5. py-context-reset-langgraph

P_CONTEXT = 18141


def context_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    env = {"LAB_MEASURE_DIR": tmp}
    if fixed:
        env["LAB_FIXED"] = "1"
    p = Proc("uvicorn", uvicorn("apps.context_reset", P_CONTEXT, 1),
             os.path.join(out, "uvicorn.log"), env)
    return [(p, "Application startup complete.", 1)]


def context_send() -> driver.Send:
    """One conversation of three turns per call: a fact, small talk, then the question."""
    url = f"http://127.0.0.1:{P_CONTEXT}/chat"

    async def send(client: Any, level: int, seq: int) -> driver.Result:
        sid = f"conv-{seq:04d}"
        first = f"My order number is {7000 + seq}."
        for msg in (first, "Thanks, that is all for now.", "What did I say first?"):
            r = await driver.post_json(client, url, {"session_id": sid, "message": msg}, level, seq)
            if r.status != 200:
                return r
        r.check = {"remembered_turn1": str(7000 + seq) in r.body}
        return r
    return send


def context_measure(summary: dict[str, Any], results: list[driver.Result],
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
    forgot = Counter(str(r.level) for r in results if r.check.get("remembered_turn1") is False)
    summary = {**summary, "conversations": summary["requests_sent"],
               "requests_sent": 3 * summary["requests_sent"],
               "status_by_level_counts": "one status per conversation: its first non-200 turn, "
                                         "else its third turn"}
    return {**summary,
            "client_turn3_answers_missing_turn1": sum(forgot.values()),
            "client_turn3_answers_missing_turn1_by_level": dict(forgot),
            "app_max_messages_in_state": max((r["messages"] for r in rows), default=0)}


def context_decide(m: dict[str, Any]) -> str:
    if m["client_turn3_answers_missing_turn1"] > 0:
        return "context-reset"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


CONTEXT_RULE = ("any turn-3 answer that does not contain the fact given in turn 1 (client "
                "check) => context-reset; else 5xx => inconclusive; else healthy")

for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-context-reset-langgraph" + ("-fixed" if _fixed else ""),
        twin="py-context-reset-langgraph" + ("" if _fixed else "-fixed"),
        stack="LangGraph 1.2 StateGraph(MessagesState) + FastAPI + uvicorn (1 worker); fixed: "
              "compiled once with InMemorySaver, thread_id = session",
        logging="python logging text with asctime + uvicorn default output",
        rule=CONTEXT_RULE, servers=context_servers, send=context_send,
        measure=context_measure, decide=context_decide, fixed=_fixed,
        levels=((1, 5), (5, 10), (10, 20), (25, 40))))

# --------------------------------------------------------------------------------------------
# 6. py-healthy-gunicorn-autogen (control, no twin)

P_CONTROL = 18151


def control_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    argv = [sys.executable, "-m", "gunicorn", "apps.control:app", "-k",
            "uvicorn.workers.UvicornWorker", "-w", "2", "-b", f"127.0.0.1:{P_CONTROL}",
            "--access-logfile", "-", "--error-logfile", "-",
            "--access-logformat", '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %(L)s']
    p = Proc("gunicorn", argv, os.path.join(out, "gunicorn.log"), {"LAB_MEASURE_DIR": tmp})
    return [(p, "Application startup complete.", 2)]


def control_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_CONTROL}/chat",
                       lambda lv, s: {"session_id": f"s-{s}", "message": "Opening hours?"})


def control_measure(summary: dict[str, Any], results: list[driver.Result],
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**summary, "app_runs_finished": sum(1 for r in rows if r["kind"] == "run_done")}


def control_decide(m: dict[str, Any]) -> str:
    bad = m["client_5xx"] + m["client_no_response"]
    ok = bad == 0 and m["app_runs_finished"] == m["requests_sent"]
    return "healthy" if ok else "inconclusive"


ALL.append(Scenario(
    name="py-healthy-gunicorn-autogen", twin="",
    stack="AutoGen AgentChat 0.7.5 RoundRobinGroupChat per request + ReplayChatCompletionClient "
          "+ FastAPI + gunicorn -w 2 -k uvicorn.workers.UvicornWorker",
    logging="python logging in gunicorn style ([pid] [LEVEL], run_id) + access lines as "
            "UvicornWorker prints them (it ignores gunicorn's --access-logformat); no spans",
    rule="no 5xx, no unanswered request and every request's run finished => healthy; "
         "else inconclusive",
    servers=control_servers,
    send=control_send, measure=control_measure, decide=control_decide))

# --------------------------------------------------------------------------------------------
# 7. py-shared-history-autogen

P_HISTORY = 18161


def history_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    env = {"LAB_MEASURE_DIR": tmp, "OTEL_SPANS_FILE": os.path.join(out, "traces.json"),
           "OTEL_SPANS_FORMAT": "otlp-json", "AUTOGEN_DISABLE_RUNTIME_TRACING": "true"}
    if fixed:
        env["LAB_FIXED"] = "1"
    p = Proc("uvicorn", uvicorn("apps.shared_history", P_HISTORY, 1),
             os.path.join(out, "uvicorn.log"), env)
    return [(p, "Application startup complete.", 1)]


def history_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_HISTORY}/chat",
                       lambda lv, s: {"session_id": f"s-{s}", "message": "Reset my password."})


def history_measure(summary: dict[str, Any], results: list[driver.Result],
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
    prompts = [r for r in rows if r["kind"] == "prompt"]
    return {**summary,
            "app_prompts": len(prompts),
            "app_prompts_with_other_sessions_turns": sum(1 for r in prompts if r["foreign"] > 0),
            "app_max_turns_in_one_prompt": max((r["turns"] for r in prompts), default=0)}


def history_decide(m: dict[str, Any]) -> str:
    if m["app_prompts_with_other_sessions_turns"] > 0:
        return "shared-history"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-shared-history-autogen" + ("-fixed" if _fixed else ""),
        twin="py-shared-history-autogen" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 AssistantAgent per request + ReplayChatCompletionClient "
              "+ module-level history list + FastAPI + uvicorn (1 worker)",
        logging="structlog unconfigured (default console renderer) + uvicorn default output "
                "+ OTel spans as OTLP/JSON lines (SDK encoder, collector file-exporter shape)",
        rule="any prompt holding turns of another session (app record) => shared-history; "
             "else 5xx => inconclusive; else healthy",
        servers=history_servers, send=history_send, measure=history_measure,
        decide=history_decide, fixed=_fixed, levels=((1, 8), (5, 15), (10, 20), (25, 35))))

# --------------------------------------------------------------------------------------------
# 8. py-shared-instance-agent-gunicorn

P_AGENT = 18171


def agent_servers(tmp: str, out: str, fixed: bool) -> list[tuple[Proc, str, int]]:
    env = {"LAB_MEASURE_DIR": tmp, "OTEL_SPANS_FILE": os.path.join(out, "spans-{pid}.json"),
           "AUTOGEN_DISABLE_RUNTIME_TRACING": "true"}
    if fixed:
        env["LAB_FIXED"] = "1"
    argv = [sys.executable, "-m", "gunicorn", "apps.shared_agent:app", "-k",
            "uvicorn.workers.UvicornWorker", "-w", "2", "-b", f"127.0.0.1:{P_AGENT}",
            "--access-logfile", "-", "--error-logfile", "-"]
    p = Proc("gunicorn", argv, os.path.join(out, "gunicorn.log"), env)
    return [(p, "Application startup complete.", 2)]


def agent_send() -> driver.Send:
    return chat_sender(f"http://127.0.0.1:{P_AGENT}/billing",
                       lambda lv, s: {"customer": f"cust-{s:04d}",
                                      "message": "Why was I charged twice?"})


def agent_measure(summary: dict[str, Any], results: list[driver.Result],
                  rows: list[dict[str, Any]]) -> dict[str, Any]:
    starts = [r for r in rows if r["kind"] == "run_start"]
    ctx = [r for r in rows if r["kind"] == "context"]
    return {**summary,
            "app_runs_started": len(starts),
            "app_runs_started_while_another_active_on_same_object": sum(
                1 for r in starts if r["active"] > 1),
            "app_max_concurrent_runs_on_one_object": max((r["active"] for r in starts), default=0),
            "app_runs_whose_context_held_other_customers": sum(
                1 for r in ctx if r["other_customers"] > 0),
            "app_max_context_messages": max((r["messages"] for r in ctx), default=0)}


def agent_decide(m: dict[str, Any]) -> str:
    if m["app_runs_started_while_another_active_on_same_object"] > 0:
        return "shared-instance"
    if m["client_5xx"] > 0:
        return "inconclusive"
    return "healthy"


for _fixed in (False, True):
    ALL.append(Scenario(
        name="py-shared-instance-agent-gunicorn" + ("-fixed" if _fixed else ""),
        twin="py-shared-instance-agent-gunicorn" + ("" if _fixed else "-fixed"),
        stack="AutoGen AgentChat 0.7.5 AssistantAgent at module scope + ReplayChatCompletionClient "
              "+ FastAPI + gunicorn -w 2 -k uvicorn.workers.UvicornWorker",
        logging="structlog JSON (request_id, customer) + gunicorn output + OTel spans "
                "(ConsoleSpanExporter, pretty-printed, a file per worker)",
        rule="app_runs_started_while_another_active_on_same_object > 0 => shared-instance "
             "(runs collide on one agent; no error is raised); else 5xx => inconclusive; "
             "else healthy",
        servers=agent_servers, send=agent_send, measure=agent_measure, decide=agent_decide,
        fixed=_fixed, levels=((1, 8), (5, 15), (10, 20), (25, 35))))
