// seed 001 (AutoGen TS, deployment crash): module-level messages and a shared agent
import { AssistantAgent } from "@autogen/core";
import { OpenAIChatCompletionClient } from "@autogen/openai";

const modelClient = new OpenAIChatCompletionClient({ // expect: code.shared_instance
  model: "gpt-4o-mini",
  apiKey: process.env.OPENAI_API_KEY!,
});

const agent = new AssistantAgent({ // expect: code.shared_instance
  name: "support_agent",
  modelClient,
});

let messages: Array<{ role: string; content: string }> = [];

export async function handler(req: Request) {
  const body = await req.json();
  messages.push({ role: "user", content: body.message }); // expect: code.shared_history

  const result = await agent.run(messages);
  return Response.json({ result });
}
