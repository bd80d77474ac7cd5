"""Python twin of seed 000: asyncio.gather over one agent run per user."""
import asyncio


async def summarize(agent_factory, users):
    return await asyncio.gather(*[agent_factory(u).run(task=u.prompt) for u in users])  # expect: code.unbounded_fanout


async def score_all(client, docs):
    tasks = [client.chat.completions.create(model="gpt-4o", messages=d) for d in docs]
    return await asyncio.gather(*tasks)  # expect: code.unbounded_fanout
