// seed 004: module-scope singleton survives reloads/invocations
import { AssistantAgent } from "@autogen/core";
export const assistant = new AssistantAgent({ name: "support", modelClient }); // expect: code.shared_instance
