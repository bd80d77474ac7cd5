"""Scenario 8: one AutoGen AssistantAgent at module scope, shared by concurrent requests.

Unlike a team, AssistantAgent has no "already running" guard: concurrent ``agent.run`` calls
proceed on one object and share its model context, so each model call carries the other
requests' messages and the context grows across users. No request fails.
Fixed (LAB_FIXED=1): an agent (and model client) per request.

Served by gunicorn with two UvicornWorker processes. Logging: structlog JSON with a
request id, gunicorn's output; OTel spans (AutoGen's and FastAPI's) pretty-printed by the
ConsoleSpanExporter into a file per worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from collections import defaultdict
from typing import Any

import structlog
from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from pydantic import BaseModel

from apps import _measure, _otel

FIXED = os.environ.get("LAB_FIXED") == "1"
logging.getLogger("autogen_core").setLevel(logging.WARNING)
structlog.configure(
    processors=[structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", key="ts"),
                structlog.processors.JSONRenderer()],
    logger_factory=structlog.PrintLoggerFactory(sys.stdout))
log = structlog.get_logger()
_otel.setup("billing-agent")


class SlowReplayClient(ReplayChatCompletionClient):
    async def create(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        await asyncio.sleep(0.25)
        return await super().create(*args, **kwargs)


def build_agent() -> AssistantAgent:
    return AssistantAgent("billing_agent",
                          model_client=SlowReplayClient(["Your invoice is attached."] * 1000),
                          system_message="You answer billing questions.")


shared_agent = None if FIXED else build_agent()
app = FastAPI()
_active: dict[int, int] = defaultdict(int)


class Chat(BaseModel):
    customer: str
    message: str


@app.post("/billing")
async def billing(body: Chat) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    agent = shared_agent if shared_agent is not None else build_agent()
    key = id(agent)
    _active[key] += 1
    _measure.record("run_start", obj=key, active=_active[key])
    log.info("billing question", request_id=request_id, customer=body.customer)
    try:
        result = await agent.run(task=f"{body.customer}: {body.message}")
    finally:
        _active[key] -= 1
    context = await agent.model_context.get_messages()
    others = sum(1 for m in context if getattr(m, "source", "") == "user"
                 and not str(m.content).startswith(f"{body.customer}: "))
    _measure.record("context", messages=len(context), other_customers=others)
    log.info("billing answered", request_id=request_id, customer=body.customer,
             context_messages=len(context))
    return {"answer": result.messages[-1].content, "request_id": request_id}
