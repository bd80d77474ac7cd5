"""Scenario 2: an AutoGen agent on the real OpenAI client, no retries, failures wrapped as 500.

Broken (LAB_FIXED unset): ``OpenAIChatCompletionClient(max_retries=0)``; a 429 from the
provider becomes ``openai.RateLimitError``, which the handler logs and turns into a generic
500 for the client.
Fixed (LAB_FIXED=1): at most 2 model calls in flight per worker (an asyncio.Semaphore) and
the openai client's own retries with backoff (``max_retries=6``, honouring retry-after-ms).

Logging: structlog JSON lines (request_id, session_id) on stdout; uvicorn's default output
beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import uuid
from typing import Any

import structlog
from autogen_agentchat.agents import AssistantAgent
from autogen_core.models import ModelFamily
from autogen_ext.models.openai import OpenAIChatCompletionClient
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from apps import _measure

FIXED = os.environ.get("LAB_FIXED") == "1"
logging.basicConfig(format="%(message)s", stream=sys.stdout, level=logging.INFO)
logging.getLogger("autogen_core").setLevel(logging.WARNING)
structlog.configure(
    processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
    logger_factory=structlog.PrintLoggerFactory(sys.stdout))
log = structlog.get_logger("order_agent")

model_client = OpenAIChatCompletionClient(
    model="gpt-4o-mini", api_key="sk-lab-not-a-key",
    base_url=os.environ.get("LAB_PROVIDER_URL", "http://127.0.0.1:18110/v1"),
    max_retries=6 if FIXED else 0,
    model_info={"vision": False, "function_calling": True, "json_output": False,
                "family": ModelFamily.GPT_4O, "structured_output": False})
_limit = asyncio.Semaphore(2) if FIXED else None
app = FastAPI()


class Chat(BaseModel):
    session_id: str
    message: str


@app.post("/chat")
async def chat(body: Chat) -> Any:
    request_id = uuid.uuid4().hex[:12]
    structlog.contextvars.clear_contextvars()  # each request runs in its own context copy
    structlog.contextvars.bind_contextvars(request_id=request_id, session_id=body.session_id)
    agent = AssistantAgent("order_agent", model_client=model_client,
                           system_message="You answer questions about orders.")
    log.info("agent.run.start")
    try:
        async with _limit if _limit is not None else contextlib.nullcontext():
            result = await agent.run(task=body.message)
    except Exception as exc:
        log.error("agent.run.failed", error=str(exc), error_type=type(exc).__name__)
        _measure.record("app_500", error=type(exc).__name__)
        return JSONResponse(status_code=500, content={"error": "agent failed",
                                                      "request_id": request_id})
    log.info("agent.run.done", messages=len(result.messages))
    return {"answer": result.messages[-1].content, "request_id": request_id}
