// a lazy singleton handed out by value: the getter is passed around, never called by name
import { RoundRobinGroupChat } from "@autogen/agentchat";
let team: RoundRobinGroupChat | undefined;
export function sharedTeam() {
  team ??= new RoundRobinGroupChat([]); // expect: code.shared_instance
  return team;
}
export const app = makeApp(sharedTeam);
