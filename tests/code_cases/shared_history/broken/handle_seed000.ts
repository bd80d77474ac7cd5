// seed 000 (AutoGen TS): a second variant, one conversation history for everyone
import { agent } from "./agent";
const history: string[] = [];
export async function handle(prompt: string) {
  history.push(prompt); // expect: code.shared_history
  return agent.run(history.join("\n"));
}
