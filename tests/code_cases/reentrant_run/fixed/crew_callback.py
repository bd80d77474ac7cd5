"""FIXED: callbacks only record; follow-up runs are queued and run after the run ends."""
import asyncio

from crewai import Crew

follow_ups: asyncio.Queue = asyncio.Queue()


@team.on_message
async def follow_up(msg):
    if msg.type == "tool_call":
        follow_ups.put_nowait(msg)


def on_step(step):
    print("step", step.topic)


crew = Crew(agents=[], tasks=[], step_callback=on_step)
