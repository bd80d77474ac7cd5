"""FIXED: workflow state lives in Redis; module dicts hold only configuration."""
from fastapi import FastAPI

app = FastAPI()
LIMITS: dict[str, int] = {}
LIMITS["default"] = 10


@app.post("/workflows/{workflow_id}/step")
async def step(workflow_id: str, body: dict):
    await redis.hincrby(f"workflow:{workflow_id}", "step", 1)
    return await redis.hgetall(f"workflow:{workflow_id}")
