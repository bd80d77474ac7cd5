// seed 004 FIXED: queue follow-up work outside the callback
team.onMessage((msg) => {
  if (msg.type === "tool_call") {
    void queueMicrotask(async () => {
      await followUp(msg);
    });
  }
});
