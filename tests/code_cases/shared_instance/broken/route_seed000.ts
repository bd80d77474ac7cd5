// seed 000 (AutoGen TS, intermittent 500s): shared agent instance across requests
import { AssistantAgent } from "@autogen/agent";
const agent = new AssistantAgent({ // expect: code.shared_instance
  name: "support-agent",
  systemMessage: "You help users with policy questions.",
});
export async function POST(req: Request) {
  const { prompt } = await req.json();
  // Multiple concurrent requests mutate the same agent state
  const result = await agent.run(prompt);
  return Response.json({ result });
}
