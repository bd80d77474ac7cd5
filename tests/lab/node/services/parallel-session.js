'use strict';
/*
 * node-parallel-run-same-session: express 5 + bunyan, one process.
 * Each session has its own agent (kept in a Map), which is right; but a request fans out
 * two runs on its session's agent at once ("plan" and "check") with Promise.all.
 * Broken: Promise.all over one session's agent.
 * Fixed (SEQUENTIAL=1): the two runs are awaited one after the other.
 */
const crypto = require('node:crypto');
const express = require('express');
const bunyan = require('bunyan');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18305);
const SEQUENTIAL = process.env.SEQUENTIAL === '1';
const log = bunyan.createLogger({ name: 'order-assistant', serializers: bunyan.stdSerializers });
const logFn = (lg) => (level, msg, fields) => lg[level](fields, msg);

const sessions = new Map(); // sessionId -> { agent, history }

function sessionFor(sessionId, reqLog) {
  if (!sessions.has(sessionId)) {
    const agent = new ChatAgent({ log: logFn(log), sleepMs: 50 });
    sessions.set(sessionId, { agent, history: [] });
    reqLog.info({ sessionId, agentId: agent.id }, 'session created');
  }
  return sessions.get(sessionId);
}

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  req.id = crypto.randomUUID();
  req.log = log.child({ req_id: req.id });
  const started = Date.now();
  res.on('finish', () => req.log.info({ method: req.method, url: req.url, statusCode: res.statusCode,
    ms: Date.now() - started }, 'request done'));
  next();
});

app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  const { agent, history } = sessionFor(sessionId, req.log);
  const meta = { sessionId, requestId: req.id, history };
  try {
    let plan;
    let check;
    if (SEQUENTIAL) {
      plan = await agent.run(`Plan the answer to: ${message}`, meta);
      check = await agent.run(`Check the plan for: ${message}`, meta);
    } else {
      [plan, check] = await Promise.all([
        agent.run(`Plan the answer to: ${message}`, meta),
        agent.run(`Check the plan for: ${message}`, meta),
      ]);
    }
    history.push({ role: 'user', content: message }, { role: 'assistant', content: plan.answer });
    res.json({ sessionId, answer: plan.answer, checked: check.answer });
  } catch (err) {
    req.log.error({ err, sessionId }, 'chat request failed');
    res.status(500).json({ error: err.message });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(PORT, '127.0.0.1', () => log.info({ port: PORT }, 'listening'));
process.on('SIGTERM', () => {
  writeCounters('server', { sessions: sessions.size });
  server.close();
  process.exit(0);
});
