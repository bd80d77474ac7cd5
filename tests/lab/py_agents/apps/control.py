"""Scenario 6: a healthy control -- an AutoGen team per request, under gunicorn.

Same shape of work as the broken AutoGen scenarios (a model call of ~0.25 s per request) but
built correctly: the team, agent and model client are created per request, and nothing is
kept between requests. Served by gunicorn with two UvicornWorker processes.

Logging: python logging in gunicorn's own style (``[pid] [LEVEL]``) with a run id per run,
gunicorn's access log with the request time; no trace export.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from pydantic import BaseModel

from apps import _measure

logging.basicConfig(level=logging.INFO,
                    format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                    datefmt="%Y-%m-%d %H:%M:%S %z")
logging.getLogger("autogen_core").setLevel(logging.WARNING)
log = logging.getLogger("faq_agent")
app = FastAPI()


class SlowReplayClient(ReplayChatCompletionClient):
    async def create(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        await asyncio.sleep(0.25)
        return await super().create(*args, **kwargs)


class Chat(BaseModel):
    session_id: str
    message: str


@app.post("/chat")
async def chat(body: Chat) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    agent = AssistantAgent("faq_agent", model_client=SlowReplayClient(["See the FAQ, section 3."]))
    team = RoundRobinGroupChat([agent], termination_condition=MaxMessageTermination(2))
    t0 = time.monotonic()
    log.info("run started run_id=%s session=%s", run_id, body.session_id)
    result = await team.run(task=body.message)
    log.info("run finished run_id=%s session=%s duration_ms=%d", run_id, body.session_id,
             (time.monotonic() - t0) * 1000)
    _measure.record("run_done")
    return {"answer": result.messages[-1].content, "run_id": run_id}
