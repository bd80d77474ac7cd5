"""Scenario 3: a tool's downstream call with a 1 s timeout, in front of a queueing service.

The service answers stock questions: it calls its ``check_stock`` tool (an AutoGen
FunctionTool around an httpx call to the inventory API), then a per-request AutoGen agent
writes the answer. Broken (LAB_FIXED unset): every request calls the inventory API at once
with ``httpx.AsyncClient(timeout=1.0)``; the API serves two at a time, so under load the
wait passes 1 s and ``httpx.ReadTimeout`` escapes the handler: uvicorn prints the
traceback and the client gets a 500.
Fixed (LAB_FIXED=1): one inventory call in flight per worker (two workers = the API's two
slots) and a timeout sized to one call plus margin (5 s), so nobody times out.

Logging: python logging text with timestamps (``%(asctime)s %(levelname)s %(name)s``) and
uvicorn's default output; captured through the container runtime (CRI lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import httpx
from autogen_agentchat.agents import AssistantAgent
from autogen_core import CancellationToken
from autogen_core.tools import FunctionTool
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from pydantic import BaseModel

from apps import _measure

FIXED = os.environ.get("LAB_FIXED") == "1"
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("autogen_core").setLevel(logging.WARNING)
logging.getLogger("httpx").setLevel(logging.WARNING)
log = logging.getLogger("stock_agent")

INVENTORY = os.environ.get("LAB_INVENTORY_URL", "http://127.0.0.1:18120")
http = httpx.AsyncClient(base_url=INVENTORY, timeout=5.0 if FIXED else 1.0)
_calls = asyncio.Semaphore(1) if FIXED else None


async def check_stock(sku: str) -> str:
    """Look up how many units of ``sku`` are in stock."""
    async with _calls if _calls is not None else contextlib.nullcontext():
        r = await http.get(f"/stock/{sku}")
    r.raise_for_status()
    d = r.json()
    return f"{d['available']} units of {d['sku']} in {d['warehouse']}"


stock_tool = FunctionTool(check_stock, description="Look up stock for a SKU.")
app = FastAPI()


class Ask(BaseModel):
    sku: str
    question: str


@app.post("/ask")
async def ask(body: Ask) -> dict[str, Any]:
    log.info("ask sku=%s", body.sku)
    try:
        stock = await stock_tool.run_json({"sku": body.sku}, CancellationToken())
    except Exception as exc:
        _measure.record("tool_error", error=type(exc).__name__)
        raise
    agent = AssistantAgent("stock_agent", model_client=ReplayChatCompletionClient(
        [f"We have {stock_tool.return_value_as_string(stock)}."]))
    result = await agent.run(task=body.question)
    return {"answer": result.messages[-1].content}
