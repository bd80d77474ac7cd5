// seed 000 FIXED: create a fresh agent per request
import { AssistantAgent } from "@autogen/agent";
export async function POST(req: Request) {
  const { prompt } = await req.json();
  const agent = new AssistantAgent({
    name: "support-agent",
    systemMessage: "You help users with policy questions.",
  });
  const result = await agent.run(prompt);
  return Response.json({ result });
}
