"""Chat endpoint whose model call is limited to a few at a time (a provider quota).

Requests beyond the limit wait for a slot, so latency grows with concurrency. Runs
under plain uvicorn with its default logging, behind nginx.
"""

import asyncio
import os
import random

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
MODEL_SLOTS = asyncio.Semaphore(int(os.environ.get("MODEL_SLOTS", "2")))
MODEL_SECONDS = float(os.environ.get("MODEL_SECONDS", "0.5"))


class Chat(BaseModel):
    session: str
    message: str


async def call_model(prompt: str) -> str:
    async with MODEL_SLOTS:
        await asyncio.sleep(MODEL_SECONDS * random.uniform(0.8, 1.2))
        return f"echo: {prompt[:40]}"


@app.post("/chat")
async def chat(body: Chat):
    reply = await call_model(body.message)
    return {"session": body.session, "reply": reply}
