// seed 000 FIXED: request-scoped history
export async function handle(prompt: string) {
  const history = [prompt];
  history.push("(end)");
  return agent.run(history.join("\n"));
}
// lists filled once at start-up are configuration, not history
const ROUTES: string[] = [];
ROUTES.push("/chat");
