'use strict';
/*
 * node-in-memory-state: express 5 + pino under Node cluster (2 workers). Each session's
 * conversation is loaded before the agent runs and saved after, and the answer says how many
 * turns of the session the service knew of (historyLength).
 * Broken: the conversation lives in a Map in the worker's memory, so a turn that lands on the
 *         other worker finds less (or no) history.
 * Fixed (SESSION_STORE=redis): the conversation lives in Redis (ioredis, RPUSH/LRANGE),
 *         shared by both workers.
 */
const cluster = require('node:cluster');
const express = require('express');
const pino = require('pino');
const { ChatAgent, writeCounters } = require('./lib/agent');
const { runPrimary } = require('./lib/primary');

const PORT = Number(process.env.PORT || 18316);
const USE_REDIS = process.env.SESSION_STORE === 'redis';
const logger = pino({ name: 'concierge' });
const logFn = (lg) => (level, msg, fields) => lg[level](fields, msg);

function memoryStore() {
  const sessions = new Map();
  return {
    async load(id) { return sessions.get(id) || []; },
    async append(id, ...turns) {
      if (!sessions.has(id)) sessions.set(id, []);
      sessions.get(id).push(...turns);
    },
  };
}

function redisStore() {
  const Redis = require('ioredis');
  const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:18392');
  return {
    async load(id) { return (await redis.lrange(`chat:${id}`, 0, -1)).map((s) => JSON.parse(s)); },
    async append(id, ...turns) { await redis.rpush(`chat:${id}`, ...turns.map((t) => JSON.stringify(t))); },
  };
}

if (cluster.isPrimary) {
  runPrimary({ workers: 2, log: logFn(logger) });
} else {
  const store = USE_REDIS ? redisStore() : memoryStore();
  const app = express();
  app.use(express.json());

  app.post('/chat', async (req, res) => {
    const { sessionId, message } = req.body || {};
    const started = Date.now();
    try {
      const history = await store.load(sessionId);
      const turns = history.filter((m) => m.role === 'user').length;
      logger.info({ sessionId, turnsLoaded: turns }, 'conversation loaded');
      const agent = new ChatAgent({ log: logFn(logger) });
      const out = await agent.run(message, { sessionId, history });
      await store.append(sessionId, { role: 'user', content: message }, { role: 'assistant', content: out.answer });
      logger.info({ sessionId, runId: out.runId, historyLength: turns + 1, ms: Date.now() - started },
        'turn saved');
      res.json({ sessionId, answer: out.answer, historyLength: turns + 1 });
    } catch (err) {
      logger.error({ err, sessionId }, 'chat failed');
      res.status(500).json({ error: err.message });
    }
  });
  app.get('/health', (req, res) => res.json({ ok: true }));

  const server = app.listen(PORT, '127.0.0.1', () => logger.info({ port: PORT }, 'listening'));
  process.on('SIGTERM', () => {
    writeCounters('worker');
    server.close();
    process.exit(0);
  });
}
