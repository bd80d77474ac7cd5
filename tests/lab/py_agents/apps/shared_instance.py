"""Scenario 1: one AutoGen AgentChat team created at module scope, shared by every request.

Broken (LAB_FIXED unset): ``team`` is built once per worker process and every POST /chat
calls ``team.run`` on it; under concurrency a second run starts while the first is active
and AutoGen raises "The team is already running, it cannot run again until it is stopped."
FastAPI lets it propagate, so the client sees a 500 and uvicorn prints the traceback.

Fixed (LAB_FIXED=1): a team (agent + model client) per request.

Logging: default python logging (``logging.basicConfig(level=INFO)``) plus uvicorn's own
default output; OTel spans (AutoGen's own plus one per request) to a file when
OTEL_SPANS_FILE is set.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import defaultdict
from typing import Any

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_ext.models.replay import ReplayChatCompletionClient
from fastapi import FastAPI
from pydantic import BaseModel

from apps import _measure, _otel

logging.basicConfig(level=logging.INFO)
# AutoGen's runtime logs every message at INFO; the service keeps its warnings only.
logging.getLogger("autogen_core").setLevel(logging.WARNING)
log = logging.getLogger("support_agent")
_otel.setup("support-agent")
FIXED = os.environ.get("LAB_FIXED") == "1"


class SlowReplayClient(ReplayChatCompletionClient):
    """The replay client with a model's latency (a real model takes time to answer)."""

    async def create(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        await asyncio.sleep(0.25)
        return await super().create(*args, **kwargs)


def build_team() -> RoundRobinGroupChat:
    client = SlowReplayClient(["Our refund window is 30 days from delivery."] * 500)
    agent = AssistantAgent("support_agent", model_client=client,
                           system_message="You help users with policy questions.")
    return RoundRobinGroupChat([agent], termination_condition=MaxMessageTermination(2))


team = None if FIXED else build_team()
app = FastAPI()

# The lab's own count of runs that overlapped on one object (ground truth, not a log).
_active: dict[int, int] = defaultdict(int)


class Chat(BaseModel):
    session_id: str
    message: str


@app.post("/chat")
async def chat(body: Chat) -> dict[str, Any]:
    t = team if team is not None else build_team()
    key = id(t)
    _active[key] += 1
    _measure.record("run_start", obj=key, active=_active[key])
    log.info("chat session=%s", body.session_id)
    try:
        result = await t.run(task=body.message)
    except Exception as exc:
        _measure.record("run_error", obj=key, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        _active[key] -= 1
    return {"session_id": body.session_id, "answer": result.messages[-1].content,
            "id": str(uuid.uuid4())}
