"""Python twins: a polling loop that spawns a task per tick; an interval job allowed
to overlap itself."""
import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler


async def poll_forever(agent):
    while True:
        asyncio.create_task(agent.run(task="Poll inbox"))  # expect: code.overlapping_timer
        await asyncio.sleep(1)


scheduler = AsyncIOScheduler()
scheduler.add_job(poll_inbox, "interval", seconds=1, max_instances=5)  # expect: code.overlapping_timer
