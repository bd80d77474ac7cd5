"""Bounded concurrency ramp against one service on 127.0.0.1, with the client's own record.

Why a driver of our own and not ``scaledoc ramp``: the lab's ground truth must not come from
the tool under test. This driver records what a client saw (status, body, latency, level) and
a per-scenario check on the body (a response naming another user, a turn-2 answer that lost
turn 1); ``rebuild.py`` turns that record into ``measured`` in truth.json.

Limits, always: only 127.0.0.1, at most ``MAX_REQUESTS`` requests, a per-request timeout and a
total time cap after which remaining requests are not sent (counted as ``not_sent``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_REQUESTS = 400
LEVELS = ((1, 10), (5, 20), (10, 30), (25, 50))  # (concurrency, requests at that level)


@dataclass
class Result:
    level: int
    seq: int
    status: int  # 0 when the client got no response (timeout, reset)
    seconds: float
    body: str
    error: str = ""
    check: dict[str, Any] = field(default_factory=dict)


# One request: given the client, the level and a sequence number, send it and return a Result.
Send = Callable[[httpx.AsyncClient, int, int], Awaitable[Result]]


def local_only(url: str) -> None:
    """Refuse any target that is not the loopback address."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise SystemExit(f"driver: refusing non-local target {url!r}")


async def post_json(client: httpx.AsyncClient, url: str, payload: dict[str, Any],
                    level: int, seq: int) -> Result:
    local_only(url)
    t0 = time.monotonic()
    try:
        r = await client.post(url, json=payload)
        return Result(level, seq, r.status_code, time.monotonic() - t0, r.text[:2000])
    except httpx.HTTPError as exc:
        return Result(level, seq, 0, time.monotonic() - t0, "", f"{type(exc).__name__}: {exc}")


async def ramp(send: Send, *, levels: tuple[tuple[int, int], ...] = LEVELS,
               request_timeout: float = 30.0, total_cap: float = 150.0,
               pause: float = 0.5) -> tuple[list[Result], int]:
    """Run each level in turn: ``n`` requests with at most ``c`` in flight.

    Returns the results and the number of requests not sent because the time cap hit.
    """
    results: list[Result] = []
    not_sent = 0
    deadline = time.monotonic() + total_cap
    seq = 0
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=request_timeout, limits=limits) as client:
        for conc, count in levels:
            sem = asyncio.Semaphore(conc)

            async def one(level: int, s: int, sem: asyncio.Semaphore = sem) -> Result | None:
                async with sem:
                    if time.monotonic() > deadline:
                        return None
                    return await send(client, level, s)

            tasks = []
            for _ in range(count):
                seq += 1
                if seq > MAX_REQUESTS:
                    break
                tasks.append(one(conc, seq))
            for res in await asyncio.gather(*tasks):
                if res is None:
                    not_sent += 1
                else:
                    results.append(res)
            await asyncio.sleep(pause)
    return results, not_sent


def summarise(results: list[Result], not_sent: int) -> dict[str, Any]:
    """Statuses by level, 5xx by level, and the distinct 5xx bodies (first 200 chars)."""
    by_level: dict[str, dict[str, int]] = {}
    five_by_level: dict[str, int] = {}
    bodies: dict[str, int] = {}
    slowest: dict[str, float] = {}
    for r in results:
        lv = str(r.level)
        key = str(r.status) if r.status else "no-response"
        by_level.setdefault(lv, {})
        by_level[lv][key] = by_level[lv].get(key, 0) + 1
        if r.status >= 500:
            five_by_level[lv] = five_by_level.get(lv, 0) + 1
            b = r.body[:200]
            bodies[b] = bodies.get(b, 0) + 1
        slowest[lv] = round(max(slowest.get(lv, 0.0), r.seconds), 3)
    return {
        "requests_sent": len(results),
        "not_sent_time_cap": not_sent,
        "status_by_level": by_level,
        "client_5xx": sum(five_by_level.values()),
        "client_5xx_by_level": five_by_level,
        "client_no_response": sum(1 for r in results if r.status == 0),
        # the ten commonest 5xx bodies; bodies carrying ids are each distinct, so count them too
        "client_5xx_bodies": dict(sorted(bodies.items(), key=lambda kv: -kv[1])[:10]),
        "client_5xx_distinct_bodies": len(bodies),
        "slowest_seconds_by_level": slowest,
    }


def dump(results: list[Result], path: str) -> None:
    """The raw client record, kept outside the capture (it is not what on-call has)."""
    with open(path, "w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(r.__dict__) + "\n")
