// seed 004 (AutoGen TS, async event loop error): shared runtime, agent and team
import { AssistantAgent, SingleThreadedAgentRuntime, RoundRobinGroupChat } from "@autogen/core";
import express from "express";
const runtime = new SingleThreadedAgentRuntime(); // expect: code.shared_instance
const agent = new AssistantAgent({ // expect: code.shared_instance
  name: "support-agent",
  modelClient,
});
const agentA = new AssistantAgent({ name: "a", modelClient }); // expect: code.shared_instance
const agentB = new AssistantAgent({ name: "b", modelClient }); // expect: code.shared_instance
const team = new RoundRobinGroupChat([agentA, agentB]); // expect: code.shared_instance
const app = express();
export async function handler(req: Request) {
  // Multiple requests can hit this at once
  await runtime.start();
  const result = await agent.run("Summarize this claim");
  return Response.json({ result });
}
app.post("/run", async (req) => {
  const output = await team.run("Handle this policy question");
  return Response.json(output);
});
