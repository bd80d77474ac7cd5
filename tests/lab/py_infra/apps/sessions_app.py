"""Chat-session service: each turn is stored, and the client reads the session back.

STATE=memory keeps sessions in a module-level dict (each gunicorn worker has its own
copy); STATE=redis keeps them in a Redis list shared by all workers. Logging is the
usual python logging text with the pid, configured once at import.
"""

import logging
import os

from fastapi import FastAPI
from pydantic import BaseModel

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)s [pid %(process)d] %(name)s: %(message)s",
)
log = logging.getLogger("sessions")

STATE = os.environ.get("STATE", "memory")
app = FastAPI()

SESSIONS: dict[str, list[dict]] = {}
_redis = None
if STATE == "redis":
    import redis.asyncio as aioredis

    _redis = aioredis.Redis(
        host="127.0.0.1", port=int(os.environ.get("REDIS_PORT", "18279")), decode_responses=True
    )


class Turn(BaseModel):
    turn: int
    text: str


async def load(session_id: str) -> list[dict]:
    if _redis is None:
        return SESSIONS.get(session_id, [])
    import json

    return [json.loads(x) for x in await _redis.lrange(f"session:{session_id}", 0, -1)]


async def append(session_id: str, turn: dict) -> int:
    if _redis is None:
        SESSIONS.setdefault(session_id, []).append(turn)
        return len(SESSIONS[session_id])
    import json

    return int(await _redis.rpush(f"session:{session_id}", json.dumps(turn)))


@app.post("/sessions/{session_id}/turns")
async def add_turn(session_id: str, body: Turn):
    n = await append(session_id, {"turn": body.turn, "text": body.text})
    log.info("session %s: stored turn %d, history now %d turns", session_id, body.turn, n)
    return {"session": session_id, "turns": n}


@app.get("/sessions/{session_id}")
async def get_session(session_id: str):
    turns = await load(session_id)
    last = turns[-1]["turn"] if turns else 0
    log.info("session %s: loaded %d turns (last turn %d)", session_id, len(turns), last)
    return {"session": session_id, "turns": turns}


@app.get("/healthz")
async def healthz():
    return {"ok": True}
