"""FIXED: one task at a time; the scheduler's default single instance."""
import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler


async def poll_forever(agent):
    task = None
    while True:
        if task is None or task.done():
            task = asyncio.create_task(agent.run(task="Poll inbox"))
        await asyncio.sleep(1)


async def poll_sequential(agent):
    while True:
        await agent.run(task="Poll inbox")
        await asyncio.sleep(1)


scheduler = AsyncIOScheduler()
scheduler.add_job(poll_inbox, "interval", seconds=1)
