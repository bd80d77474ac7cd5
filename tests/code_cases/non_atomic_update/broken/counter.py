"""Python twin: get, change, set on a shared store with no version check."""


async def advance(store, workflow_id: str) -> None:
    current = await store.get(workflow_id)
    current["step"] += 1
    await store.set(workflow_id, current)  # expect: code.non_atomic_update


async def count_visit(redis, user_id: str) -> None:
    visits = int(await redis.get(f"visits:{user_id}"))
    await redis.set(f"visits:{user_id}", visits + 1)  # expect: code.non_atomic_update
