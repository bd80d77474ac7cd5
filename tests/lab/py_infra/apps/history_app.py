"""Assistant service that keeps each session's whole transcript in worker memory.

Every turn appends the prompt plus the retrieved context to HISTORY[session] and the
model sees the full transcript. MAX_TURNS=0 keeps everything (memory grows per request);
MAX_TURNS=N keeps the last N turns. Runs under gunicorn with uvicorn workers; the
gunicorn error log is the default one and the app logs python logging text.
"""

import collections
import logging
import os

from fastapi import FastAPI
from pydantic import BaseModel

logging.basicConfig(
    level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
)
log = logging.getLogger("assistant")

MAX_TURNS = int(os.environ.get("MAX_TURNS", "0"))
CONTEXT_KB = int(os.environ.get("CONTEXT_KB", "512"))
HISTORY: dict[str, collections.deque] = {}
app = FastAPI()


class Ask(BaseModel):
    session: str
    question: str


def retrieve(question: str) -> str:
    """Stands in for the retrieved documents pasted into the prompt (CONTEXT_KB of text)."""
    return os.urandom(CONTEXT_KB * 512).hex()


@app.post("/ask")
async def ask(body: Ask):
    turns = HISTORY.setdefault(body.session, collections.deque(maxlen=MAX_TURNS or None))
    turns.append({"q": body.question, "context": retrieve(body.question)})
    prompt_chars = sum(len(t["context"]) + len(t["q"]) for t in turns)
    log.info("session %s: turn %d, prompt %d chars", body.session, len(turns), prompt_chars)
    return {"session": body.session, "turn": len(turns), "answer": "ok"}
