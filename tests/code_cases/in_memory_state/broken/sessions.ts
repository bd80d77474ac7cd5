// seeds 001/003 (AutoGen TS): session state in process memory, one copy per replica
const sessions = new Map<string, WorkflowState>();
let cache: Record<string, string> = {};

const tools = [{
  name: "lookupCustomer",
  execute: async ({ id }: { id: string }) => {
    cache[id] = "loading"; // expect: code.in_memory_state
    return fetchCustomer(id);
  }
}];

export async function POST(req: Request) {
  const { sessionId, step } = await req.json();
  sessions.set(sessionId, { step, approved: false }); // expect: code.in_memory_state
  return Response.json(sessions.get(sessionId));
}
