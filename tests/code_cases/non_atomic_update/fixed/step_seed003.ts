// seed 003 BETTER: an atomic update, or a versioned write that rejects stale data
export async function advance(id: string) {
  await store.update(id, (current) => ({
    ...current,
    step: current.step + 1,
  }));
}

export async function advanceVersioned(id: string) {
  const current = await store.get(id);
  const next = { ...current, step: current.step + 1, version: current.version + 1 };
  await store.set(id, next, { ifVersion: current.version });
}
