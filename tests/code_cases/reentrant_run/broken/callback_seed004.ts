// seed 004 (AutoGen TS): nested await inside an event callback of the same team
team.onMessage(async (msg) => {
  if (msg.type === "tool_call") {
    await team.run("Continue"); // expect: code.reentrant_run
  }
});
