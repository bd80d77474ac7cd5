// seed 004 FIXED: explicit in-progress guard
let running = false;
setInterval(async () => {
  if (running) return;
  running = true;
  try {
    await agent.run("Poll inbox");
  } finally {
    running = false;
  }
}, 1000);
// synchronous work cannot overlap itself
setInterval(() => metrics.flush(), 5000);
