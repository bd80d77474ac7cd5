"""A local inventory API that serves ``LAB_DOWNSTREAM_SLOTS`` requests at a time.

Each lookup takes ``LAB_DOWNSTREAM_SECONDS``; the rest wait in line, so the latency a caller
sees grows with the number of callers (a database with a small pool behaves like this).
Not part of the capture.
"""

from __future__ import annotations

import asyncio
import os

from fastapi import FastAPI

from apps import _measure

SLOTS = asyncio.Semaphore(int(os.environ.get("LAB_DOWNSTREAM_SLOTS", "2")))
SECONDS = float(os.environ.get("LAB_DOWNSTREAM_SECONDS", "0.35"))
app = FastAPI()
_waiting = 0


@app.get("/stock/{sku}")
async def stock(sku: str) -> dict[str, object]:
    global _waiting
    _waiting += 1
    _measure.record("downstream_queue", waiting=_waiting)
    async with SLOTS:
        _waiting -= 1
        await asyncio.sleep(SECONDS)
    return {"sku": sku, "available": 7, "warehouse": "ams-2"}
