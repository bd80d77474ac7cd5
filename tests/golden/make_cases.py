"""Generate the golden incident folders: realistic logs of agent services with one fault each.

Run ``python3 tests/golden/make_cases.py`` from the repository root; it rewrites every
case folder it knows (deterministic: each case has its own seeded ``random.Random``) and
leaves other folders (the kube engineer's ``oom-*``) alone. The generated files are
committed so the goldens never depend on this script at test time.

Each case writes the files a responder would have: one log per replica (2-3 pods, real
pids and hostnames), in the formats services really print (pino and Fastify/pino-http,
structlog JSON, winston JSON, logfmt, OTLP JSON lines), wrapped the way they are
collected (``kubectl logs --timestamps``, the CRI files under /var/log/pods), with normal
traffic around the fault. ``expected.json`` names the cause id the pipeline must reach.
"""

from __future__ import annotations

import json
import random
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE_MS = int(datetime(2026, 11, 20, 14, 0, 0, tzinfo=UTC).timestamp() * 1000)

PINO_LEVEL = {"debug": 20, "info": 30, "warn": 40, "error": 50, "fatal": 60}


# --------------------------------------------------------------------------- records
@dataclass
class Rec:
    """One log record before rendering: time in ms since BASE, who, what."""

    t: float
    host: str
    pid: int
    level: str
    msg: str
    fields: dict[str, Any] = field(default_factory=dict)


def iso(ms: float, digits: int = 3) -> str:
    """UTC ISO-8601 with ``digits`` fractional digits and a Z."""
    ns = int(round((BASE_MS + ms) * 1_000_000))
    dt = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    frac = f"{ns % 1_000_000_000:09d}"[:digits]
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hexid(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def pod_name(rng: random.Random, app: str, template_hash: str | None = None) -> str:
    """A Deployment's pod name: app, the ReplicaSet's template hash, five random chars."""
    alnum = "bcdfghjklmnpqrstvwxz2456789"
    rs = template_hash or "".join(rng.choice(alnum) for _ in range(9))
    return f"{app}-{rs}-{''.join(rng.choice(alnum) for _ in range(5))}"


# --------------------------------------------------------------------------- renderers
def pino(r: Rec) -> str:
    doc: dict[str, Any] = {"level": PINO_LEVEL[r.level], "time": int(BASE_MS + r.t),
                           "pid": r.pid, "hostname": r.host}
    doc.update(r.fields)
    doc["msg"] = r.msg
    return json.dumps(doc, separators=(",", ":"))


def structlog_json(r: Rec) -> str:
    doc: dict[str, Any] = {"event": r.msg, **r.fields, "level": r.level,
                           "logger": r.fields.get("logger", "app.chat"),
                           "timestamp": iso(r.t, 6), "pid": r.pid, "host": r.host}
    return json.dumps(doc, sort_keys=True)


def winston_json(r: Rec) -> str:
    doc: dict[str, Any] = {"level": r.level, "message": r.msg, **r.fields,
                           "service": "inbox-worker", "hostname": r.host, "pid": r.pid,
                           "timestamp": iso(r.t, 3)}
    return json.dumps(doc, separators=(",", ":"))


def _logfmt_value(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\t'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def logfmt(r: Rec) -> str:
    pairs = {"time": iso(r.t, 6), "level": r.level, "msg": r.msg, "host": r.host,
             "pid": r.pid, **r.fields}
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in pairs.items())


def kubectl_timestamps(render: Callable[[Rec], str], rng: random.Random
                       ) -> Callable[[Rec], str]:
    """``kubectl logs --timestamps``: the kubelet's receive time, 9 digits, then the line."""
    def wrap(r: Rec) -> str:
        return f"{iso(r.t + rng.uniform(0.05, 1.5), 9)} {render(r)}"
    return wrap


def cri(render: Callable[[Rec], str], rng: random.Random) -> Callable[[Rec], str]:
    """The CRI file format under /var/log/pods: time, stream, F (full line), content."""
    def wrap(r: Rec) -> str:
        stream = "stderr" if r.level in ("error", "fatal") else "stdout"
        return f"{iso(r.t + rng.uniform(0.05, 1.5), 9)} {stream} F {render(r)}"
    return wrap


# --------------------------------------------------------------------------- a case
@dataclass
class Case:
    name: str
    verdict: str
    also: list[str] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""

    def write(self, root: Path = HERE) -> None:
        folder = root / self.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for fname, lines in self.files.items():
            (folder / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
        doc: dict[str, Any] = {"verdict": self.verdict}
        if self.also:
            doc["also"] = self.also
        if self.note:
            doc["note"] = self.note
        (folder / "expected.json").write_text(json.dumps(doc, indent=2) + "\n",
                                              encoding="utf-8")


def render(recs: list[Rec], fmt: Callable[[Rec], str]) -> list[str]:
    return [fmt(r) for r in sorted(recs, key=lambda r: r.t)]


@dataclass
class Replica:
    host: str
    pid: int
    recs: list[Rec] = field(default_factory=list)
    busy_until: float = 0.0  # the shared agent's current run ends at

    def log(self, t: float, level: str, msg: str, **fields: Any) -> None:
        self.recs.append(Rec(t, self.host, self.pid, level, msg, fields))


def replicas(rng: random.Random, app: str, n: int) -> list[Replica]:
    """``n`` pods of one Deployment (one template hash), each with its node process pid."""
    rs = "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(9))
    pid = rng.choice([1, 7, 19, 23, 31])
    return [Replica(pod_name(rng, app, rs), pid) for _ in range(n)]


def arrivals(rng: random.Random, start: float, count: int, *, burst_every: int = 6,
             max_burst: int = 5, gap_ms: tuple[float, float] = (700, 2600)) -> list[float]:
    """Request arrival times: mostly one at a time, with bursts of near-simultaneous ones."""
    out: list[float] = []
    t = start
    while len(out) < count:
        t += rng.uniform(*gap_ms)
        if rng.randrange(burst_every) == 0:
            for _ in range(rng.randint(2, max_burst)):
                out.append(t + rng.uniform(0, 350))
        else:
            out.append(t)
    return sorted(out[:count])


def boot(rep: Replica, t: float, port: int = 3000) -> None:
    rep.log(t, "info", f"Server listening at http://0.0.0.0:{port}")


def fastify_in(rep: Replica, t: float, req: str, url: str, **extra: Any) -> None:
    rep.log(t, "info", "incoming request",
            reqId=req, req={"method": "POST", "url": url, "hostname": "api.internal",
                            "remoteAddress": "10.42.0.1", "remotePort": 41000 + int(t) % 2000},
            **extra)


def fastify_out(rep: Replica, t: float, req: str, status: int, dur: float, **extra: Any
                ) -> None:
    rep.log(t, "info" if status < 500 else "error", "request completed",
            reqId=req, res={"statusCode": status}, responseTime=round(dur, 3), **extra)


def pino_http_done(rep: Replica, t: float, counter: int, url: str, status: int, dur: float,
                   err: dict[str, Any] | None = None) -> None:
    """pino-http's completion line: ``req.id`` is a per-process counter (1, 2, 3...),
    "request errored" for status >= 500 with the ``err`` object."""
    fields: dict[str, Any] = {
        "req": {"id": counter, "method": "POST", "url": url,
                "headers": {"host": "edge.example.com", "user-agent": "research-ui/3.2"},
                "remoteAddress": "::ffff:10.42.0.9", "remotePort": 50000 + counter % 9000},
        "res": {"statusCode": status, "headers": {"content-type": "application/json"}},
        "responseTime": round(dur),
    }
    if err is not None:
        fields["err"] = err
    rep.log(t, "error" if status >= 500 else "info",
            "request errored" if status >= 500 else "request completed", **fields)


def health_checks(rep: Replica, rng: random.Random, start: float, end: float,
                  every: float = 10_000) -> None:
    t = start + rng.uniform(0, every)
    while t < end:
        rep.log(t, "debug", "health check ok", route="/healthz")
        t += every


# --------------------------------------------------------------------------- cases
def shared_instance() -> Case:
    """AutoGen TS service: one AssistantAgent at module scope per pod serves every request.

    When two requests reach one pod together, the second run collides with the first
    ("Cannot run while another task is active") and the request fails with a 500.
    Fastify + pino, collected with ``kubectl logs --timestamps`` per pod.
    """
    rng = random.Random(101)
    reps = replicas(rng, "support-agent", 3)
    agents = {}
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
        agents[rep.host] = f"agent-{hexid(rng)}"
        rep.log(rng.uniform(210, 400), "info", "agent created", instanceId=agents[rep.host],
                agentName="support-agent", model="gpt-4o-mini")
    users = [f"u-{hexid(rng, 6)}" for _ in range(30)]
    for i, t in enumerate(arrivals(rng, 2_000, 150, burst_every=4, max_burst=6)):
        rep = reps[i % 3]
        req, user = uid(rng), rng.choice(users)
        sess = f"sess-{user[2:]}"
        inst = agents[rep.host]
        fastify_in(rep, t, req, "/api/chat", sessionId=sess)
        run_start = t + rng.uniform(3, 12)
        rep.log(run_start, "info", "run started", reqId=req, sessionId=sess, instanceId=inst)
        if run_start < rep.busy_until:
            end = run_start + rng.uniform(1, 6)
            err = {"type": "Error", "message": "Cannot run while another task is active",
                   "stack": "Error: Cannot run while another task is active\n    at "
                            "AssistantAgent.run (/app/node_modules/@autogen/core/dist/agent.js:"
                            "211:13)"}
            rep.log(end, "error", "run failed", reqId=req, sessionId=sess, instanceId=inst,
                    err=err)
            rep.log(end + 0.4, "error", "AutoGen failed", reqId=req, err=err)
            fastify_out(rep, end + 1.1, req, 500, end + 1.1 - t)
        else:
            dur = rng.uniform(900, 3800)
            rep.busy_until = run_start + dur
            rep.log(run_start + dur, "info", "run finished", reqId=req, sessionId=sess,
                    instanceId=inst, durationMs=round(dur, 1), replies=rng.randint(2, 6))
            fastify_out(rep, run_start + dur + 2, req, 200, run_start + dur + 2 - t)
    files = {}
    for rep in reps:
        health_checks(rep, rng, 1_000, 400_000)
        files[f"{rep.host}.log"] = render(rep.recs, kubectl_timestamps(pino, rng))
    return Case("shared-instance-autogen-ts", "shared-instance", files=files)


def parallel_run_same_session() -> Case:
    """One agent per session (fine), but /api/compare runs two prompts on it with
    Promise.all: two runs of one session start together from one request."""
    rng = random.Random(202)
    reps = replicas(rng, "policy-agent", 2)
    for rep in reps:
        boot(rep, rng.uniform(0, 100))
    sessions: dict[str, tuple[Replica, str]] = {}
    for i, t in enumerate(arrivals(rng, 1_500, 110, burst_every=8, max_burst=3)):
        sid = f"thr_{hexid(rng, 4)}" if rng.random() < 0.35 or not sessions else \
            rng.choice(list(sessions))
        if sid not in sessions:
            rep = reps[len(sessions) % 2]
            inst = f"agent-{hexid(rng)}"
            sessions[sid] = (rep, inst)
            rep.log(t - 40, "info", "agent created", sessionId=sid, instanceId=inst)
        rep, inst = sessions[sid]
        req = uid(rng)
        compare = i % 5 == 2
        url = "/api/compare" if compare else "/api/chat"
        fastify_in(rep, t, req, url, sessionId=sid)
        if compare:
            a0 = t + rng.uniform(4, 9)
            rep.log(a0, "info", "run started", reqId=req, sessionId=sid, instanceId=inst,
                    runId=f"run_{hexid(rng, 6)}", task="summarise policy A")
            b0 = a0 + rng.uniform(0.2, 2)
            bid = f"run_{hexid(rng, 6)}"
            rep.log(b0, "info", "run started", reqId=req, sessionId=sid, instanceId=inst,
                    runId=bid, task="summarise policy B")
            b1 = b0 + rng.uniform(2, 8)
            err = {"type": "Error", "message": "Cannot run while another task is active"}
            rep.log(b1, "error", "run failed", reqId=req, sessionId=sid, instanceId=inst,
                    runId=bid, err=err)
            a1 = a0 + rng.uniform(1200, 3000)
            rep.log(a1, "info", "run finished", reqId=req, sessionId=sid, instanceId=inst,
                    runId=rep.recs[-3].fields["runId"], durationMs=round(a1 - a0, 1))
            fastify_out(rep, a1 + 3, req, 500, a1 + 3 - t, err=err)
        else:
            r0 = t + rng.uniform(4, 9)
            rid = f"run_{hexid(rng, 6)}"
            rep.log(r0, "info", "run started", reqId=req, sessionId=sid, instanceId=inst,
                    runId=rid)
            r1 = r0 + rng.uniform(700, 2500)
            rep.log(r1, "info", "run finished", reqId=req, sessionId=sid, instanceId=inst,
                    runId=rid, durationMs=round(r1 - r0, 1))
            fastify_out(rep, r1 + 2, req, 200, r1 + 2 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("parallel-run-promise-all", "parallel-run-same-session", files=files)


def reentrant_run() -> Case:
    """Python AutoGen team per request; an on-message callback calls team.run() again
    while the run is active. The nested run fails ("The team is already running") and
    retried re-entry ends in RecursionError. structlog JSON in CRI files."""
    rng = random.Random(303)
    reps = replicas(rng, "claims-team", 2)
    for rep in reps:
        rep.log(rng.uniform(0, 300), "info", "Application startup complete.",
                logger="uvicorn.error")
    for i, t in enumerate(arrivals(rng, 2_000, 90, burst_every=7, max_burst=3)):
        rep = reps[i % 2]
        req, sid = uid(rng), f"conv-{hexid(rng, 6)}"
        team = f"team-{hexid(rng)}"
        rep.log(t, "info", "request received", request_id=req, session_id=sid,
                path="/claims/triage")
        rep.log(t + 2, "info", "team created", request_id=req, session_id=sid, team_id=team,
                participants=["triage", "reviewer"])
        r0 = t + 5
        rep.log(r0, "info", "run started", request_id=req, session_id=sid, team_id=team,
                run_id=f"{hexid(rng, 12)}")
        outer = rep.recs[-1].fields["run_id"]
        dur = rng.uniform(1500, 4000)
        status = 200
        if i % 3 == 0:  # the tool-call callback re-enters the team
            n0 = r0 + rng.uniform(400, 1100)
            inner = hexid(rng, 12)
            rep.log(n0, "info", "on_message: tool_call received, continuing",
                    request_id=req, session_id=sid, team_id=team)
            rep.log(n0 + 1, "info", "run started", request_id=req, session_id=sid,
                    team_id=team, run_id=inner)
            if i % 2 == 0:
                exc = ("RuntimeError: The team is already running, it cannot run again until "
                       "it is stopped.")
            else:
                exc = "RecursionError: maximum recursion depth exceeded while calling a Python " \
                      "object"
            rep.log(n0 + rng.uniform(3, 20), "error", "run failed", request_id=req,
                    session_id=sid, team_id=team, run_id=inner, exception=exc)
            status = 500
        rep.log(r0 + dur, "info" if status == 200 else "error",
                "run finished" if status == 200 else "run failed", request_id=req,
                session_id=sid, team_id=team, run_id=outer, duration_ms=round(dur, 1),
                **({} if status == 200 else {"exception": "RuntimeError: nested run failed"}))
        rep.log(r0 + dur + 3, "info" if status == 200 else "error", "request finished",
                request_id=req, status_code=status, duration_ms=round(r0 + dur + 3 - t, 1))
    files = {f"{rep.host}_claims_0.log": render(rep.recs, cri(structlog_json, rng))
             for rep in reps}
    return Case("reentrant-run-callback-py", "reentrant-run", files=files)


def overlapping_timer() -> Case:
    """A winston-logging worker polls the inbox with setInterval(30 s) and no in-progress
    guard; when a poll takes longer than 30 s the next one starts on the same agent."""
    rng = random.Random(404)
    reps = replicas(rng, "inbox-worker", 2)
    worker, api = reps
    worker.log(0, "info", "inbox poller scheduled every 30000 ms", instanceId="inbox-agent-1")
    t = 1_000.0
    n = 0
    while t < 1_200_000:
        n += 1
        rid = f"poll-{n:04d}"
        worker.log(t, "info", "run started", instanceId="inbox-agent-1", runId=rid,
                   task="Poll inbox")
        slow = n % 4 == 0 or n in (9, 10)
        dur = rng.uniform(31_000, 44_000) if slow else rng.uniform(6_000, 14_000)
        msgs = rng.randint(0, 9)
        if slow:
            worker.log(t + dur, "error", "run failed", instanceId="inbox-agent-1", runId=rid,
                       error="Error: Cannot run while another task is active")
        else:
            worker.log(t + dur, "info", "run finished", instanceId="inbox-agent-1", runId=rid,
                       processed=msgs, durationMs=round(dur))
        t += 30_000 + rng.uniform(-4, 6)
    for rep in (api,):
        for k, ta in enumerate(arrivals(rng, 2_000, 80, burst_every=9, max_burst=2,
                                        gap_ms=(5_000, 20_000))):
            req = uid(rng)
            rep.log(ta, "http", "request received", requestId=req, path="/inbox/summary")
            rep.log(ta + rng.uniform(20, 90), "http", "request completed", requestId=req,
                    statusCode=200, durationMs=round(rng.uniform(20, 90), 1))
            if k % 20 == 0:
                rep.log(ta + 5, "warn", "summary cache miss", requestId=req)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(winston_json, rng))
             for rep in reps}
    return Case("overlapping-timer-winston", "overlapping-timer", files=files)


def shared_history() -> Case:
    """A module-level ``messages`` array: every request appends to it, so each new
    session starts with everyone else's history. Fastify + pino, CRI files."""
    rng = random.Random(505)
    reps = replicas(rng, "chat-api", 2)
    lengths = {rep.host: 0 for rep in reps}
    agents = {}
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
        agents[rep.host] = f"agent-{hexid(rng)}"
        rep.log(300, "info", "agent created", instanceId=agents[rep.host])
    sessions: list[tuple[str, Replica]] = []
    for t in arrivals(rng, 2_000, 120, burst_every=10, max_burst=2):
        if rng.random() < 0.6 or not sessions:
            sessions.append((f"s-{hexid(rng, 8)}", reps[len(sessions) % 2]))
            sid, rep = sessions[-1]
        else:
            sid, rep = rng.choice(sessions[-6:])
        req = uid(rng)
        fastify_in(rep, t, req, "/chat", sessionId=sid)
        lengths[rep.host] += 1
        rep.log(t + 3, "debug", "history size", reqId=req, sessionId=sid,
                historyLength=lengths[rep.host])
        r0 = t + 5
        rep.log(r0, "info", "run started", reqId=req, sessionId=sid,
                instanceId=agents[rep.host])
        dur = rng.uniform(600, 2200) + lengths[rep.host] * 9  # prompts grow with the history
        rep.log(r0 + dur, "info", "run finished", reqId=req, sessionId=sid,
                instanceId=agents[rep.host], durationMs=round(dur, 1))
        lengths[rep.host] += 1
        fastify_out(rep, r0 + dur + 2, req, 200, r0 + dur + 2 - t)
        rep.busy_until = max(rep.busy_until, r0 + dur)
    files = {f"{rep.host}_chat-api_0.log": render(rep.recs, cri(pino, rng)) for rep in reps}
    return Case("shared-history-module-array", "shared-history", also=["shared-instance"],
                files=files, note="the agent is module-level too: shared-instance ranks second")


def stateful_tool() -> Case:
    """CrewAI TS: one CaseTool instance whose ``customerId`` field is set per request;
    under concurrency a request's tool call reads another request's customer."""
    rng = random.Random(606)
    reps = replicas(rng, "case-crew", 2)
    tool_value = {rep.host: "" for rep in reps}
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
    events: list[tuple[float, int, Replica, str, str, str]] = []
    for i, t in enumerate(arrivals(rng, 2_000, 140, burst_every=4, max_burst=4)):
        rep = reps[i % 2]
        req, cust = uid(rng), f"cust-{rng.randint(1000, 9999)}"
        sid = f"case-{hexid(rng, 6)}"
        fastify_in(rep, t, req, "/cases/summarise", sessionId=sid, customerId=cust)
        events.append((t + 4, 0, rep, req, cust, sid))  # tool.customerId = body.customerId
        call = t + rng.uniform(250, 900)
        events.append((call, 1, rep, req, cust, sid))
        events.append((call + rng.uniform(300, 900), 2, rep, req, cust, sid))
    for t, step, rep, req, cust, sid in sorted(events, key=lambda e: (e[0], e[1])):
        if step == 0:
            tool_value[rep.host] = cust
            rep.log(t, "debug", "crew kickoff started", reqId=req, sessionId=sid)
        elif step == 1:
            rep.log(t, "info", "tool call", reqId=req, tool="CaseTool.execute",
                    expected=cust, value=tool_value[rep.host],
                    note=f"Processing {tool_value[rep.host]}")
        else:
            rep.log(t, "info", "crew kickoff finished", reqId=req, sessionId=sid)
            fastify_out(rep, t + 2, req, 200, rng.uniform(600, 1900))
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("stateful-tool-crewai", "stateful-tool", files=files)


def in_memory_state() -> Case:
    """AutoGen TS loan workflow keeps its state in a Map in process memory; three
    replicas behind a round-robin Service, so each turn may land on another pod and
    read that pod's own (older) copy."""
    rng = random.Random(707)
    reps = replicas(rng, "loan-flow", 3)
    memory: dict[tuple[str, str], int] = {}
    for rep in reps:
        boot(rep, rng.uniform(0, 200), 8080)
    flows = [f"wf-{hexid(rng, 10)}" for _ in range(25)]
    for i, t in enumerate(arrivals(rng, 2_000, 130, burst_every=9, max_burst=2)):
        rep = rng.choice(reps)
        wf = rng.choice(flows[: 6 + i // 6])
        req = uid(rng)
        fastify_in(rep, t, req, f"/workflows/{wf}/step", workflowId=wf)
        v = memory.get((rep.host, wf), 0)
        rep.log(t + 2, "debug", "state loaded", reqId=req, workflowId=wf, version=v,
                step=v, store="memory")
        r0 = t + 4
        rep.log(r0, "info", "run started", reqId=req, workflowId=wf)
        dur = rng.uniform(500, 1800)
        rep.log(r0 + dur, "info", "run finished", reqId=req, workflowId=wf,
                durationMs=round(dur, 1))
        memory[(rep.host, wf)] = v + 1
        rep.log(r0 + dur + 1, "debug", "state saved", reqId=req, workflowId=wf, version=v + 1,
                step=v + 1, store="memory")
        fastify_out(rep, r0 + dur + 3, req, 200, r0 + dur + 3 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("in-memory-state-replicas", "in-memory-state", files=files)


def non_atomic_update() -> Case:
    """Python workers update workflow state in Redis with GET then SET (no WATCH, no
    version check). Two workers handle events of one workflow at once: both read v and
    both write v+1. logfmt lines."""
    rng = random.Random(808)
    reps = replicas(rng, "approval-worker", 2)
    store: dict[str, int] = {}
    flows = [f"wf-{hexid(rng, 8)}" for _ in range(12)]
    for rep in reps:
        rep.log(rng.uniform(0, 100), "info", "worker started", queue="approvals")
    jobs: list[tuple[float, int, Replica, str, str, int]] = []
    t = 1_000.0
    for i in range(110):
        t += rng.uniform(300, 1800)
        wf = rng.choice(flows)
        if i % 6 == 0:  # two events of one workflow arrive together: one per worker
            for k, rep in enumerate(reps):
                jobs.append((t + k * rng.uniform(2, 30), 0, rep, wf, uid(rng), 0))
        else:
            jobs.append((t, 0, reps[i % 2], wf, uid(rng), 0))
    timeline: list[tuple[float, int, Replica, str, str, int]] = []
    for start, _, rep, wf, req, _ in jobs:
        timeline.append((start, 0, rep, wf, req, 0))
        timeline.append((start + rng.uniform(120, 400), 1, rep, wf, req, 0))
    reads: dict[str, int] = {}
    for tt, step, rep, wf, req, _ in sorted(timeline, key=lambda e: (e[0], e[1])):
        if step == 0:
            v = store.get(wf, 0)
            reads[req] = v
            rep.log(tt, "info", "job received", request_id=req, workflow_id=wf, event="approve")
            rep.log(tt + 1, "debug", "state loaded", request_id=req, workflow_id=wf, version=v,
                    approvals=v)
        else:
            v = reads[req] + 1
            store[wf] = v
            rep.log(tt, "info", "state saved", request_id=req, workflow_id=wf, version=v,
                    approvals=v)
            rep.log(tt + 1, "info", "job done", request_id=req, workflow_id=wf,
                    duration_ms=round(rng.uniform(120, 400), 1))
    files = {f"{rep.host}.log": render(rep.recs, logfmt) for rep in reps}
    return Case("non-atomic-update-redis", "non-atomic-update", files=files)


def context_reset() -> Case:
    """The agent is rebuilt in every handler and its history is never loaded: each
    turn of a conversation starts from nothing (history length 1, every time)."""
    rng = random.Random(909)
    reps = replicas(rng, "advisor", 2)
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
    convs = [f"c-{hexid(rng, 8)}" for _ in range(18)]
    for i, t in enumerate(arrivals(rng, 2_000, 120, burst_every=10, max_burst=2)):
        rep = reps[i % 2]
        sid = rng.choice(convs)
        req = uid(rng)
        inst = f"agent-{hexid(rng)}"
        fastify_in(rep, t, req, "/advisor/turn", sessionId=sid)
        rep.log(t + 1, "debug", "agent created", reqId=req, sessionId=sid, instanceId=inst)
        rep.log(t + 2, "debug", "history size", reqId=req, sessionId=sid, instanceId=inst,
                historyLength=1)
        r0 = t + 3
        rep.log(r0, "info", "run started", reqId=req, sessionId=sid, instanceId=inst)
        dur = rng.uniform(700, 2000)
        rep.log(r0 + dur, "info", "run finished", reqId=req, sessionId=sid, instanceId=inst,
                durationMs=round(dur, 1))
        fastify_out(rep, r0 + dur + 2, req, 200, r0 + dur + 2 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("context-reset-per-request-agent", "context-reset", files=files)


def stale_module_state() -> Case:
    """A Vercel function keeps ``export const assistant = new AssistantAgent()`` at
    module scope: a warm instance serves invocations hours apart and different users."""
    rng = random.Random(1010)
    reps = [Replica(f"vercel-fn-{hexid(rng, 6)}", 8) for _ in range(2)]
    for rep in reps:
        rep.log(0, "info", "cold start: initialising module", runtime="nodejs20.x",
                region="iad1")
        rep.recs[-1].fields["instanceId"] = f"assistant-{hexid(rng)}"
    hours = 3_600_000
    for i in range(90):
        rep = reps[i % 2]
        inst = rep.recs[0].fields["instanceId"]
        t = 1_000 + i * (5 * hours / 90) + rng.uniform(0, 60_000)
        req = f"iad1::{hexid(rng, 5)}-{int(BASE_MS + t)}-{hexid(rng, 12)}"
        user = f"user_{rng.randint(100, 140)}"
        rep.log(t, "info", "request started", requestId=req, userId=user, warm=True,
                path="/api/assistant")
        rep.log(t + 2, "info", "run started", requestId=req, userId=user, instanceId=inst,
                sessionId=f"chat-{user}")
        dur = rng.uniform(800, 2600)
        rep.log(t + dur, "info", "run finished", requestId=req, userId=user, instanceId=inst,
                sessionId=f"chat-{user}", durationMs=round(dur))
        rep.log(t + dur + 3, "info", "request finished", requestId=req, statusCode=200,
                durationMs=round(dur + 3))
    files = {f"{rep.host}.log": render(rep.recs, pino) for rep in reps}
    return Case("stale-module-state-vercel", "stale-module-state", files=files)


def upstream_rate_limit() -> Case:
    """FastAPI + structlog: under load OpenAI answers 429 and the service turns it into
    a 500 without backoff; alone, requests pass."""
    rng = random.Random(1111)
    reps = replicas(rng, "quote-bot", 3)
    inflight: list[float] = []
    for rep in reps:
        rep.log(rng.uniform(0, 300), "info", "Application startup complete.",
                logger="uvicorn.error")
    for i, t in enumerate(arrivals(rng, 2_000, 200, burst_every=3, max_burst=8)):
        rep = reps[i % 3]
        inflight = [e for e in inflight if e > t]
        req, sid = uid(rng), f"q-{hexid(rng, 6)}"
        rep.log(t, "info", "request received", request_id=req, session_id=sid, path="/quote")
        call = t + 5
        rep.log(call, "debug", "model call", request_id=req, model="gpt-4o",
                tool="chat.completions")
        if len(inflight) >= 3 and rng.random() < 0.75:
            end = call + rng.uniform(150, 400)
            exc = ("openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit "
                   "reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit "
                   "30000, Used 29871, Requested 812.', 'type': 'tokens', 'code': "
                   "'rate_limit_exceeded'}}")
            rep.log(end, "error", "model call failed", request_id=req, exception=exc)
            rep.log(end + 2, "error", "request finished", request_id=req, status_code=500,
                    duration_ms=round(end + 2 - t, 1))
            inflight.append(end + 2)
        else:
            end = call + rng.uniform(600, 1800)
            rep.log(end, "debug", "model call done", request_id=req, duration_ms=round(end - call))
            rep.log(end + 2, "info", "request finished", request_id=req, status_code=200,
                    duration_ms=round(end + 2 - t, 1))
            inflight.append(end + 2)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(structlog_json, rng))
             for rep in reps}
    return Case("upstream-rate-limit-openai", "upstream-rate-limit", files=files)


def unbounded_fanout() -> Case:
    """Each report request fans out one model call per section with Promise.all (up to
    24 at once); sockets run out (EMFILE, ECONNRESET, socket hang up)."""
    rng = random.Random(1212)
    reps = replicas(rng, "report-gen", 2)
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
    for i, t in enumerate(arrivals(rng, 2_000, 60, burst_every=5, max_burst=3,
                                   gap_ms=(2_000, 6_000))):
        rep = reps[i % 2]
        req = uid(rng)
        fastify_in(rep, t, req, "/reports")
        sections = rng.randint(12, 24)
        failed = False
        end_all = t
        for s in range(sections):
            c0 = t + 6 + s * 0.3
            rep.log(c0, "debug", "model call started", reqId=req, tool="openai.chat",
                    section=s)
            c1 = c0 + rng.uniform(900, 3500)
            if sections > 16 and s > 14 and rng.random() < 0.5:
                err = rng.choice(["Error: read ECONNRESET", "Error: socket hang up",
                                  "Error: EMFILE: too many open files, open "
                                  "'/etc/ssl/certs/ca-certificates.crt'"])
                rep.log(c1, "error", "model call failed", reqId=req, tool="openai.chat",
                        section=s, err={"type": "Error", "message": err.split(": ", 1)[1]})
                failed = True
            else:
                rep.log(c1, "debug", "model call finished", reqId=req, tool="openai.chat",
                        section=s, durationMs=round(c1 - c0, 1))
            end_all = max(end_all, c1)
        fastify_out(rep, end_all + 4, req, 500 if failed else 200, end_all + 4 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("unbounded-fanout-promise-all", "unbounded-fanout", files=files)


def _otlp_span(trace: str, span: str, parent: str, name: str, kind: int, start_ms: float,
               end_ms: float, attrs: dict[str, Any], error: str | None = None
               ) -> dict[str, Any]:
    def av(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": str(v)}
    doc: dict[str, Any] = {
        "traceId": trace, "spanId": span, "parentSpanId": parent, "name": name, "kind": kind,
        "startTimeUnixNano": str(int((BASE_MS + start_ms) * 1_000_000)),
        "endTimeUnixNano": str(int((BASE_MS + end_ms) * 1_000_000)),
        "attributes": [{"key": k, "value": av(v)} for k, v in attrs.items()],
        "status": {"code": 2, "message": error} if error else {"code": 0},
    }
    if error:
        typ, _, msg = error.partition(": ")
        doc["events"] = [{"timeUnixNano": doc["endTimeUnixNano"], "name": "exception",
                          "attributes": [{"key": "exception.type", "value": av(typ)},
                                         {"key": "exception.message", "value": av(msg)}]}]
    return doc


def tool_timeout() -> Case:
    """OTLP JSON lines from the collector's file exporter: a claims-lookup tool with a
    3 s timeout; under load its downstream queues and the tool times out (500s)."""
    rng = random.Random(1313)
    rs = "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(9))
    pods = [pod_name(rng, "claims-agent", rs) for _ in range(2)]
    lines: list[tuple[float, str]] = []
    inflight: list[float] = []
    for i, t in enumerate(arrivals(rng, 2_000, 160, burst_every=3, max_burst=7)):
        pod = pods[i % 2]
        inflight = [e for e in inflight if e > t]
        load = len(inflight)
        trace = hexid(rng, 32)
        server, run, tool = hexid(rng, 16), hexid(rng, 16), hexid(rng, 16)
        r0 = t + rng.uniform(2, 6)
        t0 = r0 + rng.uniform(150, 700)
        latency = rng.uniform(300, 1200) * (1 + load * 0.9)
        err = None
        if latency > 3000:
            t1 = t0 + 3000 + rng.uniform(0, 8)
            err = rng.choice(["TimeoutError: lookupClaim timed out after 3000ms",
                              "AbortError: This operation was aborted"])
        else:
            t1 = t0 + latency
        r1 = t1 + (rng.uniform(2, 10) if err else rng.uniform(200, 600))
        s1 = r1 + rng.uniform(1, 4)
        status = 500 if err else 200
        sid = f"conv-{hexid(rng, 6)}"
        spans = [
            _otlp_span(trace, tool, run, "execute_tool lookupClaim", 3, t0, t1,
                       {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name":
                        "lookupClaim", "server.address": "claims-api.internal"}, err),
            _otlp_span(trace, run, server, "invoke_agent claims_agent", 1, r0, r1,
                       {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name":
                        "claims_agent", "gen_ai.conversation.id": sid},
                       f"ToolExecutionError: {err}" if err else None),
            _otlp_span(trace, server, "", "POST /claims/ask", 2, t, s1,
                       {"http.request.method": "POST", "http.route": "/claims/ask",
                        "http.response.status_code": status},
                       "Internal Server Error" if err else None),
        ]
        doc = {"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "claims-agent"}},
                {"key": "k8s.pod.name", "value": {"stringValue": pod}},
                {"key": "host.name", "value": {"stringValue": pod}},
                {"key": "process.pid", "value": {"intValue": "1"}}]},
            "scopeSpans": [{"scope": {"name": "@opentelemetry/instrumentation-http",
                                      "version": "0.57.0"}, "spans": spans}]}]}
        lines.append((s1, json.dumps(doc, separators=(",", ":"))))
        inflight.append(s1)
    out = [line for _, line in sorted(lines)]
    return Case("tool-timeout-otlp", "tool-timeout", files={"traces.jsonl": out})


def platform_timeout() -> Case:
    """The gateway in front of the agent service cuts requests at 30 s (504); the agent
    keeps running past it. The gateway is Express + pino-http (counter request ids), the
    service Fastify + pino."""
    rng = random.Random(1414)
    gw = replicas(rng, "edge-gateway", 1)[0]
    svc = replicas(rng, "research-agent", 2)
    boot(gw, 0, 8080)
    for rep in svc:
        boot(rep, rng.uniform(0, 200))
    for i, t in enumerate(arrivals(rng, 2_000, 120, burst_every=8, max_burst=3,
                                   gap_ms=(2_000, 9_000))):
        rep = svc[i % 2]
        req = uid(rng)
        deep = rng.random() < 0.2
        dur = rng.uniform(31_000, 75_000) if deep else rng.uniform(2_000, 20_000)
        fastify_in(rep, t + 3, req, "/research")
        rep.log(t + 5, "info", "run started", reqId=req, instanceId=f"agent-{hexid(rng)}")
        inst = rep.recs[-1].fields["instanceId"]
        rep.log(t + 5 + dur, "info", "run finished", reqId=req, instanceId=inst,
                durationMs=round(dur))
        if deep:
            cut = 30_000 + rng.uniform(1, 25)
            pino_http_done(gw, t + cut, i + 1, "/research", 504, cut,
                           {"type": "Error", "message": "504 Gateway Timeout: upstream "
                            "research-agent did not respond in 30000 ms",
                            "stack": "Error: 504 Gateway Timeout\n    at ClientRequest."
                                     "<anonymous> (/app/proxy.js:57:19)"})
            rep.log(t + 8 + dur, "warn", "client went away before the response",
                    reqId=req)
            fastify_out(rep, t + 8 + dur, req, 200, dur + 5)
        else:
            fastify_out(rep, t + 8 + dur, req, 200, dur + 5)
            pino_http_done(gw, t + 10 + dur, i + 1, "/research", 200, dur + 10)
    files = {f"{gw.host}.log": render(gw.recs, kubectl_timestamps(pino, rng))}
    files.update({f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng))
                  for rep in svc})
    return Case("platform-timeout-gateway-504", "platform-timeout", files=files)


def non_idempotent_side_effect() -> Case:
    """A createClaim tool retried after a lost response writes the claim twice; the
    second insert fails on the unique key. structlog JSON, kubectl --timestamps."""
    rng = random.Random(1515)
    reps = replicas(rng, "claims-intake", 2)
    for rep in reps:
        rep.log(rng.uniform(0, 200), "info", "Application startup complete.",
                logger="uvicorn.error")
    for i, t in enumerate(arrivals(rng, 2_000, 110, burst_every=8, max_burst=2)):
        rep = reps[i % 2]
        req, pol = uid(rng), f"POL-{rng.randint(10000, 99999)}"
        key = f"claim:{pol}:{rng.randint(1, 9)}"
        rep.log(t, "info", "request received", request_id=req, path="/claims")
        c0 = t + rng.uniform(200, 600)
        rep.log(c0, "info", "tool call", request_id=req, tool="createClaim", key=key,
                attempt=1)
        status = 201
        if i % 5 == 3:
            rep.log(c0 + 2500, "warning", "claims-api response lost, retrying",
                    request_id=req, tool="createClaim", key=key, attempt=1,
                    reason="connection closed before the response arrived")
            c1 = c0 + 2600
            rep.log(c1, "info", "tool call", request_id=req, tool="createClaim", key=key,
                    attempt=2)
            rep.log(c1 + 40, "error", "tool failed", request_id=req, tool="createClaim",
                    key=key, exception='psycopg.errors.UniqueViolation: duplicate key value '
                                       'violates unique constraint "claims_policy_seq_key"')
            status = 500
            end = c1 + 45
        else:
            end = c0 + rng.uniform(80, 300)
            rep.log(end, "info", "tool done", request_id=req, tool="createClaim", key=key)
        rep.log(end + 2, "info" if status < 500 else "error", "request finished",
                request_id=req, status_code=status, duration_ms=round(end + 2 - t, 1))
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(structlog_json, rng))
             for rep in reps}
    return Case("non-idempotent-create-claim", "non-idempotent-side-effect", files=files)


def serialization() -> Case:
    """The handler publishes ``{message, context: req}`` to the queue: the request object
    is circular and JSON.stringify throws. winston JSON with timestamps."""
    rng = random.Random(1616)
    reps = replicas(rng, "triage-api", 2)
    for rep in reps:
        rep.log(rng.uniform(0, 100), "info", "listening on :3000")
    for i, t in enumerate(arrivals(rng, 2_000, 120, burst_every=9, max_burst=2)):
        rep = reps[i % 2]
        req = uid(rng)
        rep.log(t, "http", "request received", requestId=req, path="/triage")
        r0 = t + 3
        rep.log(r0, "info", "run started", requestId=req)
        dur = rng.uniform(500, 1600)
        rep.log(r0 + dur, "info", "run finished", requestId=req, durationMs=round(dur))
        if i % 4 == 1:
            rep.log(r0 + dur + 2, "error", "queue publish failed", requestId=req,
                    error="TypeError: Converting circular structure to JSON\n    --> starting "
                          "at object with constructor 'IncomingMessage'\n    |     property "
                          "'socket' -> object with constructor 'Socket'\n    --- property "
                          "'_httpMessage' closes the circle",
                    stack="TypeError: Converting circular structure to JSON\n    at "
                          "JSON.stringify (<anonymous>)\n    at Queue.publish "
                          "(/app/dist/queue.js:41:27)")
            rep.log(r0 + dur + 4, "error", "request failed", requestId=req, statusCode=500,
                    durationMs=round(r0 + dur + 4 - t))
        else:
            rep.log(r0 + dur + 3, "http", "request completed", requestId=req, statusCode=200,
                    durationMs=round(r0 + dur + 3 - t))
    files = {f"{rep.host}.log": render(rep.recs, winston_json) for rep in reps}
    return Case("serialization-circular-request", "serialization", files=files)


def version_mismatch() -> Case:
    """@autogen/core ^0.4 with @autogen/openai ^0.3: every run fails at the first model
    call with "modelClient.create is not a function"."""
    rng = random.Random(1717)
    reps = replicas(rng, "helpdesk-agent", 2)
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
        rep.log(rng.uniform(210, 260), "warn", "(node:1) UnhandledPromiseRejectionWarning: "
                "Error: AgentRuntime not initialized", err={"type": "Error", "message":
                                                            "AgentRuntime not initialized"})
    for i, t in enumerate(arrivals(rng, 2_000, 100, burst_every=9, max_burst=2)):
        rep = reps[i % 2]
        req = uid(rng)
        fastify_in(rep, t, req, "/ask")
        r0 = t + 3
        inst = f"agent-{hexid(rng)}"
        rep.log(r0, "info", "run started", reqId=req, instanceId=inst)
        end = r0 + rng.uniform(3, 25)
        rep.log(end, "error", "run failed", reqId=req, instanceId=inst,
                err={"type": "TypeError", "message": "modelClient.create is not a function",
                     "stack": "TypeError: modelClient.create is not a function\n    at "
                              "AssistantAgent.onMessages (/app/node_modules/@autogen/core/"
                              "dist/agents/assistant.js:88:41)"})
        fastify_out(rep, end + 2, req, 500, end + 2 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("version-mismatch-autogen-packages", "version-mismatch", files=files)


def healthy() -> Case:
    """Agents per session, history loaded from Redis and saved with a version, sticky
    sessions on three replicas, real concurrency and no errors but a few 4xx."""
    rng = random.Random(1818)
    reps = replicas(rng, "concierge", 3)
    for rep in reps:
        boot(rep, rng.uniform(0, 200))
    sessions: dict[str, dict[str, Any]] = {}
    for t in arrivals(rng, 2_000, 170, burst_every=3, max_burst=5):
        active = [s for s, st in sessions.items() if st["turns"] < st["limit"]
                  and st["busy_until"] < t]
        if not active or rng.random() < 0.25:
            sid = f"sess-{hexid(rng, 10)}"
            rep = reps[len(sessions) % 3]
            inst = f"agent-{hexid(rng)}"
            sessions[sid] = {"rep": rep, "inst": inst, "turns": 0, "hist": 0, "ver": 0,
                             "limit": rng.randint(3, 7), "busy_until": 0.0}
            rep.log(t - 30, "info", "agent created", sessionId=sid, instanceId=inst)
        else:
            sid = rng.choice(active)
        st = sessions[sid]
        rep, inst = st["rep"], st["inst"]
        req = uid(rng)
        fastify_in(rep, t, req, "/concierge/chat", sessionId=sid)
        if rng.random() < 0.04:
            fastify_out(rep, t + 2, req, 400, 2.1)
            continue
        rep.log(t + 2, "debug", "state loaded", reqId=req, sessionId=sid, version=st["ver"],
                store="redis")
        st["hist"] += 1
        rep.log(t + 3, "debug", "history size", reqId=req, sessionId=sid,
                historyLength=st["hist"])
        r0 = t + 4
        rep.log(r0, "info", "run started", reqId=req, sessionId=sid, instanceId=inst)
        for k in range(rng.randint(0, 2)):
            c0 = r0 + 100 + k * 400
            rep.log(c0, "debug", "tool call", reqId=req, tool="searchHotels")
            rep.log(c0 + 250, "debug", "tool call", reqId=req, tool="searchHotels",
                    durationMs=250)
        dur = rng.uniform(800, 2400)
        rep.log(r0 + dur, "info", "run finished", reqId=req, sessionId=sid, instanceId=inst,
                durationMs=round(dur, 1))
        st["hist"] += 1
        st["ver"] += 1
        st["turns"] += 1
        st["busy_until"] = r0 + dur + 5
        rep.log(r0 + dur + 1, "debug", "state saved", reqId=req, sessionId=sid,
                version=st["ver"], store="redis")
        fastify_out(rep, r0 + dur + 3, req, 200, r0 + dur + 3 - t)
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(pino, rng)) for rep in reps}
    return Case("healthy-per-session-agents", "healthy", files=files)


def inconclusive() -> Case:
    """Plain-text access and startup lines: no runs, no instances, no request events a
    parser can recognise as such, no errors. Nothing to decide from."""
    rng = random.Random(1919)
    lines = []
    t = 0.0
    lines.append("Starting support-bot v2.3.1")
    lines.append("Loaded 14 prompt templates")
    for _ in range(220):
        t += rng.uniform(200, 3000)
        path = rng.choice(["/", "/static/app.js", "/static/app.css", "/favicon.ico",
                           "/api/faq"])
        lines.append(f"10.0.{rng.randint(0, 3)}.{rng.randint(2, 250)} - - "
                     f"[20/Nov/2026:14:{int(t // 60000) % 60:02d}:{int(t // 1000) % 60:02d} "
                     f"+0000] \"GET {path} HTTP/1.1\" 200 {rng.randint(200, 9000)} \"-\" "
                     f"\"Mozilla/5.0\"")
    return Case("inconclusive-access-log-only", "inconclusive", files={"access.log": lines})


def _console_span(trace: str, span: str, parent: str | None, name: str, kind: str,
                  start_ms: float, end_ms: float, attrs: dict[str, Any],
                  resource: dict[str, Any], error: str | None = None) -> str:
    """One span as the Python SDK's ConsoleSpanExporter prints it: ``to_json(indent=4)``."""
    doc: dict[str, Any] = {
        "name": name,
        "context": {"trace_id": f"0x{trace}", "span_id": f"0x{span}", "trace_state": "[]"},
        "kind": f"SpanKind.{kind}",
        "parent_id": f"0x{parent}" if parent else None,
        "start_time": iso(start_ms, 6),
        "end_time": iso(end_ms, 6),
        "status": {"status_code": "ERROR", "description": error} if error else
        {"status_code": "UNSET"},
        "attributes": attrs,
        "events": [],
        "links": [],
        "resource": {"attributes": resource, "schema_url": ""},
    }
    if error:
        typ, _, msg = error.partition(": ")
        doc["events"] = [{"name": "exception", "timestamp": iso(end_ms, 6), "attributes": {
            "exception.type": typ, "exception.message": msg,
            "exception.stacktrace": f"Traceback (most recent call last):\n  File \"/app/main.py"
                                    f"\", line 48, in research\n{error}",
            "exception.escaped": "False"}}]
    return json.dumps(doc, indent=4)


def shared_instance_console_spans() -> Case:
    """Python CrewAI service exporting spans with the ConsoleSpanExporter (multi-line
    JSON objects, children before parents): one Crew built at import time per worker
    serves every request; concurrent kickoffs overlap and fail."""
    rng = random.Random(2020)
    pods = [pod_name(rng, "research-crew", "m8x2kq7vd") for _ in range(2)]
    crews = {pod: f"crew-{uid(rng)}" for pod in pods}
    busy = {pod: 0.0 for pod in pods}
    out: list[tuple[float, str]] = []
    for i, t in enumerate(arrivals(rng, 2_000, 80, burst_every=3, max_burst=5)):
        pod = pods[i % 2]
        res = {"service.name": "research-crew", "telemetry.sdk.language": "python",
               "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.29.0",
               "host.name": pod, "process.pid": 1}
        trace, server, kick = hexid(rng, 32), hexid(rng, 16), hexid(rng, 16)
        k0 = t + rng.uniform(3, 9)
        err = None
        if k0 < busy[pod]:
            k1 = k0 + rng.uniform(5, 40)
            err = "RuntimeError: This event loop is already running"
        else:
            k1 = k0 + rng.uniform(1500, 5000)
            busy[pod] = k1
        s1 = k1 + rng.uniform(2, 6)
        sid = f"res-{hexid(rng, 8)}"
        out.append((k1, _console_span(
            trace, kick, server, "crew.kickoff", "INTERNAL", k0, k1,
            {"crew.id": crews[pod], "session.id": sid, "crew.process": "sequential",
             "crew.tasks": 3}, res, err)))
        out.append((s1, _console_span(
            trace, server, None, "POST /research", "SERVER", t, s1,
            {"http.method": "POST", "http.route": "/research", "http.status_code":
             500 if err else 200, "net.host.port": 8000}, res,
            "Internal Server Error" if err else None)))
    lines = [text for _, text in sorted(out, key=lambda p: p[0])]
    return Case("shared-instance-crewai-console-spans", "shared-instance",
                files={"spans.console.json": lines})


def healthy_with_noise() -> Case:
    """A healthy Python service under real concurrency: a team per request, history
    loaded from the store (it grows per conversation), and the background noise every
    service has: two retried read timeouts and one 404."""
    rng = random.Random(2121)
    reps = replicas(rng, "faq-team", 2)
    for rep in reps:
        rep.log(rng.uniform(0, 300), "info", "Application startup complete.",
                logger="uvicorn.error")
    convs: dict[str, int] = {}
    for i, t in enumerate(arrivals(rng, 2_000, 160, burst_every=3, max_burst=5)):
        rep = reps[i % 2]
        if not convs or rng.random() < 0.3:
            convs[f"conv-{hexid(rng, 8)}"] = 0
        sid = rng.choice(list(convs)[-8:])
        req = uid(rng)
        team = f"team-{hexid(rng)}"
        rep.log(t, "info", "request received", request_id=req, session_id=sid, path="/faq")
        if i == 57:
            rep.log(t + 3, "info", "request finished", request_id=req, status_code=404,
                    duration_ms=3.1)
            continue
        rep.log(t + 2, "info", "team created", request_id=req, session_id=sid, team_id=team)
        convs[sid] += 1
        rep.log(t + 4, "debug", "history size", request_id=req, session_id=sid,
                history_len=2 * convs[sid] - 1)
        r0 = t + 6
        rep.log(r0, "info", "run started", request_id=req, session_id=sid, team_id=team)
        if i in (40, 121):
            rep.log(r0 + 5000, "warning", "model call retried", request_id=req,
                    exception="httpx.ReadTimeout: timed out", attempt=1)
            r0 += 5000
        dur = rng.uniform(700, 2400)
        rep.log(r0 + dur, "info", "run finished", request_id=req, session_id=sid,
                team_id=team, duration_ms=round(dur, 1))
        convs[sid] += 1
        rep.log(r0 + dur + 2, "info", "request finished", request_id=req, status_code=200,
                duration_ms=round(r0 + dur + 2 - t, 1))
    files = {f"{rep.host}.log": render(rep.recs, kubectl_timestamps(structlog_json, rng))
             for rep in reps}
    return Case("healthy-team-per-request-with-noise", "healthy", files=files)


CASES: tuple[Callable[[], Case], ...] = (
    shared_instance, parallel_run_same_session, reentrant_run, overlapping_timer,
    shared_history, stateful_tool, in_memory_state, non_atomic_update, context_reset,
    stale_module_state, upstream_rate_limit, unbounded_fanout, tool_timeout,
    platform_timeout, non_idempotent_side_effect, serialization, version_mismatch, healthy,
    inconclusive, shared_instance_console_spans, healthy_with_noise,
)


def main(root: Path = HERE) -> None:
    for make in CASES:
        case = make()
        case.write(root)
        n = sum(len(v) for v in case.files.values())
        print(f"{case.name}: {len(case.files)} file(s), {n} lines -> {case.verdict}")


if __name__ == "__main__":
    main()
