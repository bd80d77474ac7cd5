// seed 001 FIXED: isolate state per request/session
import { AssistantAgent } from "@autogen/core";
import { OpenAIChatCompletionClient } from "@autogen/openai";

function createAgent() {
  const modelClient = new OpenAIChatCompletionClient({
    model: "gpt-4o-mini",
    apiKey: process.env.OPENAI_API_KEY!,
  });

  return new AssistantAgent({
    name: "support_agent",
    modelClient,
  });
}

export async function handler(req: Request) {
  const body = await req.json();
  const sessionId = body.sessionId;

  const messages = await loadMessages(sessionId); // Redis/DB
  messages.push({ role: "user", content: body.message });

  const agent = createAgent();
  const result = await agent.run(messages);

  await saveMessages(sessionId, messages);
  return Response.json({ result });
}
