// seed 002 FIXED: request-scoped instances, data through constructor and task inputs
import { Crew, Agent, Task } from "crewai";

class CaseTool {
  constructor(private readonly customerId: string) {}

  async execute() {
    return `Processing ${this.customerId}`;
  }
}

export async function handler(req: Request) {
  const body = await req.json();

  const agent = new Agent({
    role: "Analyst",
    goal: "Summarize customer cases",
  });

  const tool = new CaseTool(body.customerId);

  const task = new Task({
    description: `Summarize the case for customer ${body.customerId}`,
    agent,
    tools: [tool],
  });

  const crew = new Crew({
    agents: [agent],
    tasks: [task],
  });

  return await crew.kickoff();
}
