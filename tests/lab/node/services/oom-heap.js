'use strict';
/*
 * node-oom-heap: express 5 + winston under Node cluster (2 workers), each worker started
 * with --max-old-space-size=64 (the container's memory budget, as many Dockerfiles set it).
 * Each session's turns are kept in a module-level Map, with the chunks retrieved for them.
 * Broken: nothing is ever dropped, so each worker grows until V8's heap limit.
 * Fixed (HISTORY_LIMIT=N): a turn keeps only its text, the last N turns per session,
 * and the last 200 sessions.
 */
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const express = require('express');
const winston = require('winston');
const { SyntheticEmbeddings } = require('@langchain/core/utils/testing');
const { ChatAgent, writeCounters } = require('./lib/agent');
const { runPrimary } = require('./lib/primary');

const PORT = Number(process.env.PORT || 18303);
const HISTORY_LIMIT = Number(process.env.HISTORY_LIMIT || 0); // 0: unbounded
const SESSION_LIMIT = 200;
const CHUNKS_PER_TURN = 64;

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  defaultMeta: { service: 'research-agent', pid: process.pid },
  transports: [new winston.transports.Console()],
});
const logFn = (level, msg, fields) => logger.log(level, msg, fields);

if (cluster.isPrimary) {
  runPrimary({ workers: 2, log: logFn, execArgv: ['--max-old-space-size=64'] });
} else {
  const sessions = new Map(); // sessionId -> turns, each with the chunks retrieved for it
  let turnsKept = 0;
  let handled = 0;
  const app = express();
  app.use(express.json());

  // Stand-in for a retrieval step: the chunks found for this turn, with their embeddings
  // (64 x 1536 numbers, about 1 MB of heap per turn).
  const embeddings = new SyntheticEmbeddings({ vectorSize: 1536 });
  const retrieve = async (message) => {
    const texts = Array.from({ length: CHUNKS_PER_TURN }, (_, i) =>
      `[doc ${crypto.randomBytes(3).toString('hex')} #${i}] ${message} `.repeat(20));
    const vectors = await embeddings.embedDocuments(texts);
    return texts.map((pageContent, i) => ({ pageContent, metadata: { chunk: i }, embedding: vectors[i] }));
  };

  app.post('/chat', async (req, res) => {
    const { sessionId, message } = req.body || {};
    const started = Date.now();
    try {
      const context = await retrieve(message);
      const agent = new ChatAgent({ log: logFn, sleepMs: 30 });
      const out = await agent.run(message, { sessionId });
      if (!sessions.has(sessionId)) sessions.set(sessionId, []);
      const turns = sessions.get(sessionId);
      if (HISTORY_LIMIT) {
        turns.push({ message, answer: out.answer, at: Date.now() });
        if (turns.length > HISTORY_LIMIT) turns.splice(0, turns.length - HISTORY_LIMIT);
        if (sessions.size > SESSION_LIMIT) sessions.delete(sessions.keys().next().value);
      } else {
        turns.push({ message, answer: out.answer, context, at: Date.now() });
      }
      handled += 1;
      turnsKept = [...sessions.values()].reduce((n, t) => n + t.length, 0);
      logger.info('chat turn', { sessionId, runId: out.runId, sessions: sessions.size, turnsKept,
        heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576), ms: Date.now() - started });
      res.json({ sessionId, answer: out.answer });
    } catch (err) {
      logger.error('chat failed', { sessionId, error: err.message, stack: err.stack });
      res.status(500).json({ error: err.message });
    }
  });
  app.get('/health', (req, res) => res.json({ ok: true }));

  const server = app.listen(PORT, '127.0.0.1', () => logger.info('listening', { port: PORT }));
  process.on('SIGTERM', () => {
    writeCounters('worker', { requestsHandled: handled, historyEntries: turnsKept });
    server.close();
    process.exit(0);
  });
}
