"""Usage-metering service: every request adds one to a per-tenant counter in Redis.

ATOMIC=0 does it as read, add one, write back (GET then SET), which is what the first
version of most metering code looks like; ATOMIC=1 uses INCR. Logs are structlog JSON.
"""

import logging
import os
import sys
import uuid

import redis.asyncio as aioredis
import structlog
from fastapi import FastAPI, Request

logging.basicConfig(format="%(message)s", stream=sys.stdout, level=logging.INFO)
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
)
log = structlog.get_logger("metering")

ATOMIC = os.environ.get("ATOMIC", "0") == "1"
r = aioredis.Redis(host="127.0.0.1", port=int(os.environ.get("REDIS_PORT", "18279")))
app = FastAPI()


async def price_for(tenant: str) -> int:
    """The plan lookup the handler does between reading and writing the counter."""
    await r.hget(f"plan:{tenant}", "unit_price")
    return 1


@app.post("/tenants/{tenant}/usage")
async def record_usage(tenant: str, request: Request):
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:12]
    structlog.contextvars.bind_contextvars(request_id=request_id, tenant=tenant, pid=os.getpid())
    key = f"usage:{tenant}"
    try:
        if ATOMIC:
            new = await r.incr(key)
            log.info("usage recorded", new=new)
        else:
            old = int(await r.get(key) or 0)
            units = await price_for(tenant)
            new = old + units
            await r.set(key, new)
            log.info("usage recorded", old=old, new=new)
        return {"tenant": tenant, "usage": new}
    finally:
        structlog.contextvars.clear_contextvars()


@app.get("/tenants/{tenant}/usage")
async def read_usage(tenant: str):
    value = int(await r.get(f"usage:{tenant}") or 0)
    log.info("usage read", tenant=tenant, usage=value, pid=os.getpid())
    return {"tenant": tenant, "usage": value}
