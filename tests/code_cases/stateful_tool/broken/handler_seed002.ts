// seed 002 (CrewAI TS, intermittent 500s): request data on a shared tool's fields
import { Crew, Agent, Task } from "crewai";

const agent = new Agent({ // expect: code.shared_instance
  role: "Analyst",
  goal: "Summarize customer cases",
});

const crew = new Crew({ // expect: code.shared_instance
  agents: [agent],
  tasks: [],
});

class CaseTool {
  customerId = "";

  async execute() {
    return `Processing ${this.customerId}`;
  }
}

const tool = new CaseTool();

export async function handler(req: Request) {
  const body = await req.json();
  tool.customerId = body.customerId; // expect: code.stateful_tool

  const task = new Task({
    description: `Summarize the case for customer ${body.customerId}`,
    agent,
    tools: [tool],
  });
  crew.tasks = [task]; // expect: code.stateful_tool
  return await crew.kickoff();
}
