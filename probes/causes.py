"""The cause catalogue: ids (a contract, from CAUSES.md), titles, and fixes in our own words.

Ids never change. Finer causes may be added beneath an id as ``parent/child``; reports and
``--fail-on`` treat a child as its parent too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cause:
    id: str
    title: str
    summary: str
    broken: str
    fixed: str
    next_steps: tuple[str, ...]


HEALTHY = "healthy"
INCONCLUSIVE = "inconclusive"

_CAUSES = (
    Cause(
        "shared-instance",
        "One agent instance serves concurrent requests",
        "An agent, team, runtime or model client is created once per process and every request "
        "drives it; two requests' runs collide inside it.",
        "const agent = new AssistantAgent(...)   // module scope\n"
        "export async function POST(req) { return agent.run(prompt) }",
        "export async function POST(req) {\n"
        "  const agent = new AssistantAgent(...)  // per request or per session\n"
        "  return agent.run(prompt)\n}",
        ("Find where the agent/team/runtime is constructed (scaledoc code ./service).",
         "Create it per request or per session; share configuration, not runtime objects.",
         "If it must be shared, serialise access to it (a queue or lock per instance)."),
    ),
    Cause(
        "parallel-run-same-session",
        "Two runs at once on one conversation",
        "One request starts several runs on the same session or agent at the same time, for "
        "example Promise.all / asyncio.gather over one agent.",
        "await Promise.all([agent.run('Task A'), agent.run('Task B')])",
        "const r1 = await agent.run('Task A'); const r2 = await agent.run('Task B')\n"
        "// or one agent per branch: await Promise.all([makeAgent().run(a), makeAgent().run(b)])",
        ("Look for Promise.all / gather over one agent or session.",
         "Run the branches in sequence, or give each branch its own agent and session."),
    ),
    Cause(
        "reentrant-run",
        "A callback starts a run on the team that is calling it",
        "A message or tool callback awaits run() on the same team while that team's run is "
        "still active, re-entering its loop.",
        "team.onMessage(async (msg) => { await team.run('Continue') })",
        "team.onMessage((msg) => { followUps.push('Continue') })  // only record it\n"
        "let result = await team.run(task)\n"
        "while (followUps.length) result = await team.run(followUps.shift())  // after the run",
        ("Find run()/kickoff() calls inside onMessage/tool callbacks.",
         "Queue follow-up work and start it after the active run ends."),
    ),
    Cause(
        "overlapping-timer",
        "A periodic job starts a run before the last one ended",
        "setInterval or a scheduler fires a new run on a fixed period even when the previous "
        "run is still going, so runs pile up on one instance.",
        "setInterval(async () => { await agent.run('Poll inbox') }, 1000)",
        "let running = false\nsetInterval(async () => {\n  if (running) return; running = true\n"
        "  try { await agent.run('Poll inbox') } finally { running = false }\n}, 1000)",
        ("Find setInterval / cron jobs that call run().",
         "Add an in-progress guard, or schedule the next run when the current one ends."),
    ),
    Cause(
        "shared-history",
        "Conversation history lives in a module-level list",
        "Every request appends to one process-wide history/message buffer, so sessions see "
        "each other's messages and the buffer grows without bound.",
        "const history: string[] = []\nexport async function handle(p) { history.push(p); ... }",
        "export async function handle(p) { const history = await loadHistory(sessionId); ... }",
        ("Find module-level arrays/lists that handlers push/append to.",
         "Keep history per session, in a store keyed by the session id."),
    ),
    Cause(
        "stateful-tool",
        "A tool keeps per-request data on its own fields",
        "A long-lived tool or agent object stores request data (ids, caches) on itself; "
        "concurrent requests overwrite each other's values.",
        "tool.customerId = body.customerId   // shared tool instance\nawait crew.kickoff()",
        "const tool = new CaseTool(body.customerId)  // request-scoped, immutable",
        ("Find assignments to fields of shared tool/agent objects inside handlers.",
         "Pass request data through task inputs or build the tool per request."),
    ),
    Cause(
        "in-memory-state",
        "Session state is kept in process memory across replicas",
        "Workflow or session state lives in a process; with several replicas or workers each "
        "has its own copy, so updates seem lost and reads are stale.",
        "class LoanWorkflow { private state = { step: 0 } ... this.state.step += 1 }",
        "const current = await store.get(workflowId); ... await store.set(workflowId, next)",
        ("Log the workflow/session id with process.pid and the pod name on every turn.",
         "Move state to a shared store (Redis, Postgres, DynamoDB) keyed by the session id.",
         "Do not rely on sticky sessions for correctness."),
    ),
    Cause(
        "non-atomic-update",
        "Read-modify-write without a version check",
        "Two writers read the same version of a record and both write the next one; one "
        "update is silently lost.",
        "const cur = await store.get(id); cur.step += 1; await store.set(id, cur)",
        "await store.update(id, cur => ({ ...cur, step: cur.step + 1 }))  // atomic, or\n"
        "await store.set(id, next, { ifVersion: cur.version })            // compare-and-swap",
        ("Log the version read and written for every state update.",
         "Use atomic updates or versioned writes that reject stale versions, then retry."),
    ),
    Cause(
        "context-reset",
        "The agent is rebuilt per request and forgets the conversation",
        "A fresh agent is created on every request but its context is not loaded from a "
        "store, so each turn starts from nothing.",
        "export async function POST(req) { const agent = new AssistantAgent(...); "
        "return agent.run(lastMessage) }",
        "const messages = await loadMessages(sessionId)  // then run with the full context\n"
        "await saveMessages(sessionId, messages)",
        ("Check that each turn loads the session's history before the run.",
         "Persist the conversation after each turn, keyed by the session id."),
    ),
    Cause(
        "stale-module-state",
        "Module-level singletons survive across invocations",
        "On warm serverless instances or under hot reload, module-scope objects live on "
        "between invocations and carry state from one user to the next.",
        "export const assistant = new AssistantAgent(...)  // survives warm invocations",
        "export function createAssistant() { return new AssistantAgent(...) }  // per invocation",
        ("Log the instance id with the invocation id and the user.",
         "Create agents inside the handler or in a factory keyed by request/session."),
    ),
    Cause(
        "upstream-rate-limit",
        "The model provider is rate-limiting under load",
        "The provider answers 429/503 as concurrency grows and the service wraps it into a "
        "generic 500 without backing off.",
        "const result = await agent.run(prompt)  // 429 bubbles up as a 500",
        "await withRetry(() => agent.run(prompt), { attempts: 3, backoffMs: 200 })\n"
        "// and cap concurrency at the edge",
        ("Log the provider's status code and error body under the wrapped 500.",
         "Retry 429/503 with exponential backoff and jitter around the model call only.",
         "Cap concurrent model calls per replica; raise the quota if the load is real."),
    ),
    Cause(
        "unbounded-fanout",
        "Each request fans out with no concurrency limit",
        "A request starts many parallel model or tool calls at once; sockets, rate limits and "
        "memory run out together.",
        "await Promise.all(users.map(u => runAgent(u)))",
        "const limit = pLimit(5)\nawait Promise.all(users.map(u => limit(() => runAgent(u))))",
        ("Count outbound calls in flight per request.",
         "Bound the fan-out with a limiter (p-limit, asyncio.Semaphore) or a queue."),
    ),
    Cause(
        "tool-timeout",
        "Tool calls time out under queueing",
        "A tool's downstream call exceeds its timeout once requests queue up, and surfaces as a "
        "generic 500.",
        "await agent.run('lookup claim status', { timeoutMs: 3000 })",
        "await agent.run('lookup claim status', { timeoutMs: 15000 })  // plus retries on the tool",
        ("Log tool name and duration for each tool call.",
         "Set realistic per-tool timeouts and retries; bound concurrency in front of slow tools."),
    ),
    Cause(
        "platform-timeout",
        "The platform kills requests at a fixed limit",
        "The request outlives the gateway or serverless maximum duration before the run "
        "finishes; failures cluster at one duration.",
        "export const maxDuration = 10",
        "export const maxDuration = 60   // and time-budget the model calls, or go async",
        ("Compare failing requests' durations with the gateway/serverless limit.",
         "Raise the limit, or return early and finish the run in a background job."),
    ),
    Cause(
        "non-idempotent-side-effect",
        "Retries repeat a write",
        "A retried tool or task repeats a write (record, webhook, message) and the duplicate "
        "fails downstream.",
        "await claimsTool.createClaim({ policyId, amount })",
        "await claimsTool.createClaim({ policyId, amount, idempotencyKey: requestId })",
        ("Look for duplicate-key / already-exists errors with one request id.",
         "Give every write an idempotency key; move side effects after success."),
    ),
    Cause(
        "serialization",
        "Non-JSON-safe objects are serialised",
        "Circular structures or request objects are put into logs, queues or stores and fail to "
        "serialise intermittently.",
        "await queue.publish({ message, context: req })",
        "await queue.publish({ message, context: { requestId, userId, tenantId } })",
        ("Find what is being serialised at the failing call (log the keys, not the object).",
         "Pass plain JSON-safe data: ids and values, never request or client objects."),
    ),
    Cause(
        "oom",
        "Containers are OOMKilled",
        "Memory grows with accumulated context or parallel work until the kernel kills the "
        "container.",
        "resources:\n  limits:\n    memory: <below the working set, or not set at all>",
        "resources:\n  limits:\n    memory: <above the observed peak>\n"
        "# and bound history size and parallel work per replica",
        ("kubectl describe pod: lastState.terminated.reason OOMKilled.",
         "Watch RSS per request (scaledoc ps); cap history and fan-out; set a memory limit that "
         "fits the working set."),
    ),
    Cause(
        "probe-kill",
        "The liveness probe kills slow or busy containers",
        "The liveness probe fails while the container is still starting or busy, and the kubelet "
        "restarts it; liveness and readiness are often the same check.",
        "livenessProbe: { httpGet: { path: /health, port: 3000 }, initialDelaySeconds: 5 }",
        "startupProbe: { httpGet: { path: /health, port: 3000 }, failureThreshold: 30, "
        "periodSeconds: 5 }\nlivenessProbe: { httpGet: { path: /livez, port: 3000 } }  "
        "# cheap, separate from readiness",
        ("kubectl get events: 'Liveness probe failed' followed by 'Killing'.",
         "Add a startupProbe, lengthen timeouts, and keep liveness cheap and separate from "
         "readiness."),
    ),
    Cause(
        "version-mismatch",
        "Framework packages at mixed versions",
        "Packages of one framework family are at incompatible versions; calls fail with 'is not "
        "a function' or 'not initialized' at start.",
        '"@autogen/core": "^0.4.0", "@autogen/openai": "^0.3.1"',
        '"@autogen/core": "0.4.2", "@autogen/openai": "0.4.2"   // one version, locked',
        ("List the family's packages in the lockfile (scaledoc code ./service).",
         "Align them on one version and lock it with a workspace policy."),
    ),
    Cause(
        HEALTHY,
        "No scaling fault in the evidence",
        "Runs do not overlap on shared instances, the error rate is flat across concurrency and "
        "no container restarted.",
        "",
        "",
        ("Keep the capture as a baseline; re-run scaledoc when the symptom returns.",),
    ),
    Cause(
        INCONCLUSIVE,
        "Too little evidence to decide",
        "The inputs held too few recognisable events or nothing could be checked; this is not "
        "a clean bill of health.",
        "",
        "",
        ("Add structured logs with instance, session, request and run ids around every run.",),
    ),
)

CAUSES: dict[str, Cause] = {c.id: c for c in _CAUSES}


def cause(cause_id: str) -> Cause:
    """The catalogue entry for an id; a finer id ``parent/child`` falls back to its parent."""
    if cause_id in CAUSES:
        return CAUSES[cause_id]
    return CAUSES[cause_id.split("/", 1)[0]]
