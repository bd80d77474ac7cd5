"""FIXED: a semaphore bounds the runs in flight."""
import asyncio

sem = asyncio.Semaphore(5)


async def run_one(agent_factory, u):
    async with sem:
        return await agent_factory(u).run(task=u.prompt)


async def summarize(agent_factory, users):
    return await asyncio.gather(*[run_one(agent_factory, u) for u in users])


async def refresh(cache, keys):
    return await asyncio.gather(*[cache.refresh(k) for k in keys])
