// seed 004 (AutoGen TS): mixing Node timers with a long-running loop
setInterval(async () => {  // expect: code.overlapping_timer
  await agent.run("Poll inbox");
}, 1000);
