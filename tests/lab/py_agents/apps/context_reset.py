"""Scenario 5: a LangGraph chat graph compiled per request without a checkpointer.

Broken (LAB_FIXED unset): each request builds and compiles the graph and invokes it with the
new message only; nothing loads the thread's earlier turns, so turn 2 ("what did I say
first?") is answered from turn 2 alone.
Fixed (LAB_FIXED=1): the graph is compiled once with an ``InMemorySaver`` checkpointer and
invoked with ``configurable.thread_id`` = the session, so each turn sees the thread's history.
One uvicorn worker in both (an in-process checkpointer cannot be shared by two workers).

The "model" node is deterministic: it answers a question about the first message from the
messages in the graph state, which is what an LLM given that state would do.

Logging: python logging text (``%(asctime)s %(levelname)s %(name)s``) and uvicorn's default.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from fastapi import FastAPI
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from pydantic import BaseModel

from apps import _measure

FIXED = os.environ.get("LAB_FIXED") == "1"
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("notes_agent")


def respond(state: MessagesState) -> dict[str, Any]:
    humans = [m for m in state["messages"] if isinstance(m, HumanMessage)]
    last = str(humans[-1].content)
    if "what did i say first" in last.lower():
        text = (f'You first said: "{humans[0].content}"' if len(humans) > 1
                else "I don't have anything earlier from you in this conversation.")
    else:
        text = "Noted."
    return {"messages": [AIMessage(text)]}


def build() -> StateGraph:
    g = StateGraph(MessagesState)
    g.add_node("respond", respond)
    g.add_edge(START, "respond")
    return g


shared_graph = build().compile(checkpointer=InMemorySaver()) if FIXED else None
app = FastAPI()


class Turn(BaseModel):
    session_id: str
    message: str


@app.post("/chat")
async def chat(body: Turn) -> dict[str, Any]:
    graph = shared_graph if shared_graph is not None else build().compile()
    config = {"configurable": {"thread_id": body.session_id}}
    state = await graph.ainvoke({"messages": [HumanMessage(body.message)]}, config)
    log.info("thread=%s messages_in_state=%d", body.session_id, len(state["messages"]))
    _measure.record("turn", session=body.session_id, messages=len(state["messages"]))
    return {"answer": state["messages"][-1].content, "id": uuid.uuid4().hex[:12]}
