// seed 000 FIXED: bound concurrency with p-limit
import pLimit from "p-limit";
const limit = pLimit(5);
async function runAgent(u: User) {
  return makeAgent(u).run(`Summarize account ${u.id}`);
}
export async function POST(req: Request) {
  const { users } = await req.json();
  await Promise.all(users.map((u) => limit(() => runAgent(u))));
  // a fixed pair of lookups is bounded by the code itself
  await Promise.all([loadUser(users[0]), loadPolicy(users[0])]);
  // fan-out over work that calls no model
  await Promise.all(users.map((u) => db.users.touch(u.id)));
  return Response.json({ ok: true });
}
