// seed 003 FIXED: persist state outside the process
const tools = [{
  name: "lookupCustomer",
  execute: async ({ id }: { id: string }) => {
    return fetchCustomer(id); // no shared mutation
  }
}];

export async function POST(req: Request) {
  const { sessionId, step } = await req.json();
  await store.update(sessionId, (current) => ({ ...current, step }));
  return Response.json(await store.get(sessionId));
}
// a lookup table filled once at start-up is configuration, not state
const PRICES: Record<string, number> = {};
PRICES["basic"] = 10;
