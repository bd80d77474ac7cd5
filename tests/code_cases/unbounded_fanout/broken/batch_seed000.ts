// seed 000 (AutoGen TS): too many parallel model calls
async function runAgent(u: User) {
  const agent = makeAgent(u);
  return agent.run(`Summarize account ${u.id}`);
}
export async function POST(req: Request) {
  const { users } = await req.json();
  await Promise.all(users.map((u) => runAgent(u))); // expect: code.unbounded_fanout
  return Response.json({ ok: true });
}
