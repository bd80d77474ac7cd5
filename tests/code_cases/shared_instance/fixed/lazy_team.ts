// FIXED: the builder's own local shadows the module name; each call gets a new team
import { RoundRobinGroupChat } from "@autogen/agentchat";
let team: RoundRobinGroupChat | undefined;
export function buildTeam() {
  let team;
  team = new RoundRobinGroupChat([]);
  return team;
}
export const app = makeApp(buildTeam);
