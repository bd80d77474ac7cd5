// seed 003 (AutoGen TS, state not updating): read-modify-write without a version
export async function advance(id: string) {
  const current = await store.get(id);
  current.step += 1;
  await store.set(id, current); // expect: code.non_atomic_update
}

class LoanWorkflow {
  constructor(private agent: AssistantAgent, private store: StateStore,
              private workflowId: string) {}

  async run() {
    const current =
      (await this.store.get(this.workflowId)) ?? { step: 0, approved: false };
    const nextState = { ...current, step: current.step + 1 };
    await this.store.set(this.workflowId, nextState); // expect: code.non_atomic_update
    return nextState;
  }
}
