// seed 004 FIXED: isolated instances per request, factories instead of singletons
import { AssistantAgent, SingleThreadedAgentRuntime, RoundRobinGroupChat } from "@autogen/core";
export async function handler(req: Request) {
  const runtime = new SingleThreadedAgentRuntime();
  const agent = new AssistantAgent({
    name: "support-agent",
    modelClient,
  });
  try {
    const result = await agent.run("Summarize this claim");
    return Response.json({ result });
  } finally {
    // await runtime.close();
  }
}
app.post("/run", async (req) => {
  const agentA = new AssistantAgent({ name: "a", modelClient });
  const agentB = new AssistantAgent({ name: "b", modelClient });
  const team = new RoundRobinGroupChat([agentA, agentB]);
  const output = await team.run("Handle this policy question");
  return Response.json(output);
});
export function createAssistant() {
  return new AssistantAgent({ name: "support", modelClient });
}
