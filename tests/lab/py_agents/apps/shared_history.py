"""Scenario 7: conversation history in a module-level list that every request appends to.

The Python form of the seed's broken pattern: the agent is built per request (correctly),
but ``history`` lives at module scope, so each request's prompt is every earlier request's
prompt, from every session, joined. Nothing fails; answers are built on other users' text and
prompts grow without bound.
Fixed (LAB_FIXED=1): request-scoped history (``history = [prompt]``).

Logging: structlog with no configuration at all (its default console renderer), plus
uvicorn's default output; spans (FastAPI's, AutoGen's) as OTLP/JSON lines. One uvicorn worker.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import structlog
from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from pydantic import BaseModel

from apps import _measure, _otel

FIXED = os.environ.get("LAB_FIXED") == "1"
log = structlog.get_logger()
_otel.setup("helpdesk-agent")
history: list[str] = []
app = FastAPI()


class SlowReplayClient(ReplayChatCompletionClient):
    async def create(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        await asyncio.sleep(0.1)
        return await super().create(*args, **kwargs)


class Chat(BaseModel):
    session_id: str
    message: str


@app.post("/chat")
async def chat(body: Chat) -> dict[str, Any]:
    prompt = f"[{body.session_id}] {body.message}"
    if FIXED:
        turns = [prompt]
    else:
        history.append(prompt)
        turns = history
    task = "\n".join(turns)
    foreign = sum(1 for t in turns if not t.startswith(f"[{body.session_id}] "))
    _measure.record("prompt", session=body.session_id, turns=len(turns), foreign=foreign)
    log.info("agent run", session_id=body.session_id, history_len=len(turns),
             prompt_chars=len(task))
    agent = AssistantAgent("helpdesk", model_client=SlowReplayClient(["Happy to help."]))
    result = await agent.run(task=task)
    return {"answer": result.messages[-1].content}
