'use strict';
/*
 * node-shared-history: express 5 + bunyan, one process. The conversation memory the agent is
 * given is a module-level array, so every session's turns land in one list.
 * Broken: one `messages` array for all sessions; each run sees other users' turns.
 * Fixed (PER_SESSION=1): a Map from session id to that session's messages.
 * The answer reports how many user turns the agent was given (historyLength).
 */
const crypto = require('node:crypto');
const express = require('express');
const bunyan = require('bunyan');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18322);
const PER_SESSION = process.env.PER_SESSION === '1';
const log = bunyan.createLogger({ name: 'helpdesk', serializers: bunyan.stdSerializers });

const messages = []; // the chat memory
const bySession = new Map();
const memoryFor = (sessionId) => {
  if (!PER_SESSION) return messages;
  if (!bySession.has(sessionId)) bySession.set(sessionId, []);
  return bySession.get(sessionId);
};

let foreignTurnsSeen = 0; // user turns of another session in a run's history (app's own count)
const app = express();
app.use(express.json());
app.post('/chat', async (req, res) => {
  const reqId = crypto.randomUUID();
  const rlog = log.child({ req_id: reqId });
  const { sessionId, message } = req.body || {};
  try {
    const memory = memoryFor(sessionId);
    const history = memory.map(({ role, content }) => ({ role, content }));
    foreignTurnsSeen += memory.filter((m) => m.role === 'user' && m.sessionId !== sessionId).length;
    const agent = new ChatAgent({ log: (level, msg, f) => rlog[level](f, msg) });
    const out = await agent.run(message, { sessionId, requestId: reqId, history });
    memory.push({ role: 'user', content: message, sessionId }, { role: 'assistant', content: out.answer, sessionId });
    const historyLength = history.filter((m) => m.role === 'user').length + 1;
    rlog.info({ sessionId, runId: out.runId, historyLength, memorySize: memory.length }, 'turn done');
    res.json({ sessionId, answer: out.answer, historyLength });
  } catch (err) {
    rlog.error({ err, sessionId }, 'chat failed');
    res.status(500).json({ error: err.message });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));
const server = app.listen(PORT, '127.0.0.1', () => log.info({ port: PORT }, 'listening'));
process.on('SIGTERM', () => {
  writeCounters('server', { foreignTurnsSeen });
  server.close();
  process.exit(0);
});
