"""A tiny OpenAI-compatible chat-completions server that rate-limits like the real one.

Beyond ``LAB_PROVIDER_LIMIT`` requests in flight it answers 429 with the body and headers
the OpenAI API sends (``error.code = rate_limit_exceeded``, ``retry-after-ms``,
``x-ratelimit-*``), so the real ``openai`` client raises its real ``RateLimitError``.
Each completion takes ``LAB_PROVIDER_LATENCY`` seconds. Its own 200/429 counts go to the
lab record; its log is not part of the capture (on-call does not have the provider's logs).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from apps import _measure

LIMIT = int(os.environ.get("LAB_PROVIDER_LIMIT", "4"))
LATENCY = float(os.environ.get("LAB_PROVIDER_LATENCY", "0.2"))
app = FastAPI()
_in_flight = 0


@app.post("/v1/chat/completions")
async def completions(request: Request) -> Any:
    global _in_flight
    body = await request.json()
    model = body.get("model", "gpt-4o-mini")
    if _in_flight >= LIMIT:
        _measure.record("provider_429", in_flight=_in_flight)
        msg = (f"Rate limit reached for {model} in organization org-lab on requests per min "
               f"(RPM): Limit {LIMIT}, Used {LIMIT}, Requested 1. Please try again in 200ms. "
               "Visit https://platform.openai.com/account/rate-limits to learn more.")
        return JSONResponse(
            status_code=429,
            content={"error": {"message": msg, "type": "requests", "param": None,
                               "code": "rate_limit_exceeded"}},
            headers={"retry-after-ms": "200", "x-ratelimit-limit-requests": str(LIMIT),
                     "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "200ms",
                     "x-request-id": f"req_{uuid.uuid4().hex}"})
    _in_flight += 1
    try:
        await asyncio.sleep(LATENCY)
    finally:
        _in_flight -= 1
    _measure.record("provider_200")
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion",
        "created": int(time.time()), "model": model, "system_fingerprint": "fp_lab",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "refusal": None,
                                 "content": "Your order ships within 2 business days."}}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51},
    }
