"""A bounded concurrency ramp with httpx, to 127.0.0.1 only.

At each level N, N virtual users run their script at the same time; the next level
starts when all of them are done. Every request has a timeout, the whole ramp has a
time cap, and every request's outcome is recorded for the truth file.
Keep-alive is off so each request opens a new connection and the kernel spreads them
over the server's workers, as a load balancer without stickiness would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

LEVELS = (1, 5, 10, 25)


@dataclass
class Outcome:
    level: int
    method: str
    path: str
    status: int | None  # None: no response (timeout, reset)
    error: str
    seconds: float
    body: str


@dataclass
class Ramp:
    base: str
    timeout: float = 10.0
    cap_seconds: float = 180.0
    outcomes: list[Outcome] = field(default_factory=list)
    client: httpx.AsyncClient | None = None
    level: int = 0

    async def request(self, method: str, path: str, *, seconds: float | None = None,
                      **kw) -> httpx.Response | None:
        """One request with its own timeout (`seconds`, else the ramp's); outcome recorded."""
        assert self.client is not None
        assert self.base.startswith("http://127.0.0.1:"), "lab load goes to loopback only"
        t0 = time.monotonic()
        try:
            resp = await self.client.request(method, self.base + path,
                                             timeout=seconds or self.timeout, **kw)
        except httpx.HTTPError as exc:
            self.outcomes.append(Outcome(self.level, method, path, None, type(exc).__name__,
                                         time.monotonic() - t0, ""))
            return None
        self.outcomes.append(Outcome(self.level, method, path, resp.status_code, "",
                                     time.monotonic() - t0, resp.text[:200]))
        return resp

    async def run(self, user: Callable[[Ramp, int, int], Awaitable[None]],
                  levels: tuple[int, ...] = LEVELS) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        started = time.monotonic()
        async with httpx.AsyncClient(limits=limits) as self.client:
            for level in levels:
                left = self.cap_seconds - (time.monotonic() - started)
                if left <= 0:
                    break
                self.level = level
                try:
                    await asyncio.wait_for(
                        asyncio.gather(*(user(self, level, u) for u in range(level))), left)
                except TimeoutError:
                    break
                await asyncio.sleep(0.5)

    def summary(self) -> dict:
        by_status: dict[str, int] = {}
        for o in self.outcomes:
            key = str(o.status) if o.status is not None else o.error
            by_status[key] = by_status.get(key, 0) + 1
        per_level = {}
        for level in sorted({o.level for o in self.outcomes}):
            os_ = [o for o in self.outcomes if o.level == level]
            secs = sorted(o.seconds for o in os_)
            per_level[str(level)] = {
                "requests": len(os_),
                "errors": sum(1 for o in os_ if o.status is None or o.status >= 500),
                "p50_s": round(secs[len(secs) // 2], 3),
                "max_s": round(secs[-1], 3),
            }
        return {
            "requests": len(self.outcomes),
            "client_statuses": dict(sorted(by_status.items())),
            "client_5xx": sum(1 for o in self.outcomes if o.status is not None and o.status >= 500),
            "client_no_response": sum(1 for o in self.outcomes if o.status is None),
            "per_level": per_level,
        }
