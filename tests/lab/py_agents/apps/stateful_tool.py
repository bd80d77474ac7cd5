"""Scenario 4: a tool object shared by every request keeps the caller's ids on ``self``.

``profile_tool`` is built once per worker. Each request binds its user and request id on it,
then a per-request AutoGen agent calls the tool; the tool awaits the CRM and only then reads
``self.user_id`` -- by which time another request may have bound its own. The answer then
carries another user's profile. Nothing fails: the client gets a 200 with the wrong data.

Fixed (LAB_FIXED=1): a tool object per request.

Logging: structlog logfmt (key=value) lines, uvicorn's default output, and OTel spans
(FastAPI's and AutoGen's own, plus the tool's ``crm.lookup`` span) to a file per worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import uuid
from typing import Any

import structlog
from autogen_agentchat.agents import AssistantAgent
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelFamily, RequestUsage
from autogen_core.tools import FunctionTool
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from opentelemetry import trace
from pydantic import BaseModel

from apps import _measure, _otel

FIXED = os.environ.get("LAB_FIXED") == "1"
logging.basicConfig(format="%(message)s", stream=sys.stdout, level=logging.INFO)
logging.getLogger("autogen_core").setLevel(logging.WARNING)
structlog.configure(
    processors=[structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.LogfmtRenderer(key_order=["timestamp", "level", "event"])],
    logger_factory=structlog.PrintLoggerFactory(sys.stdout))
log = structlog.get_logger("profile_agent")
tracer = _otel.setup("profile-agent")
MODEL_INFO = {"vision": False, "function_calling": True, "json_output": False,
              "family": ModelFamily.GPT_4O, "structured_output": False}


class CustomerProfileTool:
    """Looks up the caller's CRM profile; the caller is whoever was bound last."""

    def __init__(self) -> None:
        self.user_id: str | None = None
        self.request_id: str | None = None

    def bind(self, user_id: str, request_id: str) -> None:
        self.user_id = user_id
        self.request_id = request_id

    async def lookup_profile(self) -> str:
        """Return the current customer's plan and open tickets."""
        with tracer.start_as_current_span("crm.lookup") as span:
            await asyncio.sleep(random.uniform(0.05, 0.2))  # the CRM round trip
            user_id, request_id = self.user_id, self.request_id
            span.set_attribute("user.id", str(user_id))
            span.set_attribute("request.id", str(request_id))
            log.info("crm.lookup", user_id=user_id, request_id=request_id)
            return f"Customer {user_id}: plan=gold open_tickets=2"


shared_tool = None if FIXED else CustomerProfileTool()
app = FastAPI()


class Chat(BaseModel):
    user_id: str
    message: str


@app.post("/chat")
async def chat(body: Chat) -> dict[str, Any]:
    request_id = uuid.uuid4().hex[:12]
    trace.get_current_span().set_attribute("user.id", body.user_id)
    trace.get_current_span().set_attribute("request.id", request_id)
    tool = shared_tool if shared_tool is not None else CustomerProfileTool()
    tool.bind(body.user_id, request_id)
    log.info("chat.start", user_id=body.user_id, request_id=request_id)
    client = ReplayChatCompletionClient([CreateResult(
        finish_reason="function_calls", cached=False, usage=RequestUsage(0, 0),
        content=[FunctionCall(id=f"call_{request_id}", name="lookup_profile", arguments="{}")])],
        model_info=MODEL_INFO)
    agent = AssistantAgent("profile_agent", model_client=client,
                           tools=[FunctionTool(tool.lookup_profile, description="CRM profile")])
    result = await agent.run(task=body.message)
    answer = str(result.messages[-1].content)
    # lab record: did the answer come back for the user this request bound?
    _measure.record("tool_read", set_user=body.user_id, match=f"Customer {body.user_id}:" in answer)
    log.info("chat.done", user_id=body.user_id, request_id=request_id)
    return {"answer": answer, "request_id": request_id}
