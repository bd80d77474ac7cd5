'use strict';
/*
 * node-reentrant-run: express 5 + pino-http, one process, a new agent per request.
 * The agent has a reply callback (onReply, awaited inside the run, like a message handler).
 * Broken: the callback asks the same agent for a follow-up summary, i.e. starts a run on
 *         the agent from inside its own active run -> "already running" -> 500.
 * Fixed (FOLLOWUP_AFTER=1): the follow-up runs after the first run has returned.
 */
const express = require('express');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18326);
const AFTER = process.env.FOLLOWUP_AFTER === '1';
const logger = pino({ name: 'triage-agent' });

const app = express();
app.use(pinoHttp({ logger }));
app.use(express.json());
app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  const log = (level, msg, f) => req.log[level](f, msg);
  let agent;
  const followUp = () => agent.run('Summarise your last answer in one line', { sessionId, requestId: req.id });
  agent = new ChatAgent({ sleepMs: 40, log, onReply: AFTER ? null : async () => { await followUp(); } });
  try {
    const out = await agent.run(message, { sessionId, requestId: req.id });
    const summary = AFTER ? await followUp() : null;
    res.json({ sessionId, answer: out.answer, summary: summary && summary.answer });
  } catch (err) {
    req.log.error({ err, sessionId }, 'chat failed');
    res.status(500).json({ error: err.message });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));
const server = app.listen(PORT, '127.0.0.1', () => logger.info({ port: PORT }, 'listening'));
process.on('SIGTERM', () => {
  writeCounters('server');
  server.close();
  process.exit(0);
});
