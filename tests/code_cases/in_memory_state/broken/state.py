"""Python twin: workflow state in a module-level dict keyed by workflow id."""
from collections import defaultdict

from fastapi import FastAPI

app = FastAPI()
WORKFLOWS: dict[str, dict] = {}
turns = defaultdict(list)


@app.post("/workflows/{workflow_id}/step")
async def step(workflow_id: str, body: dict):
    state = WORKFLOWS.get(workflow_id, {"step": 0})
    WORKFLOWS[workflow_id] = {**state, "step": state["step"] + 1}  # expect: code.in_memory_state
    turns.setdefault(body["session_id"], []).append(body["text"])  # expect: code.in_memory_state
    return WORKFLOWS[workflow_id]
