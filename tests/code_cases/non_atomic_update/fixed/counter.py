"""FIXED: atomic increments and a compare-and-swap with a version."""


async def count_visit(redis, user_id: str) -> None:
    await redis.incr(f"visits:{user_id}")


async def advance(store, workflow_id: str) -> None:
    current = await store.get(workflow_id)
    nxt = {**current, "step": current["step"] + 1, "version": current["version"] + 1}
    await store.set(workflow_id, nxt, expected_version=current["version"])


def settings(body: dict) -> dict:
    name = body.get("name")
    out = {}
    out.update(name=name)
    return out
