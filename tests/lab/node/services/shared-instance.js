'use strict';
/*
 * node-shared-instance: express 5 + pino-http under Node cluster (2 workers).
 * Broken: one ChatAgent created at module scope serves every request of its worker.
 * Fixed (AGENT_PER_REQUEST=1): a new ChatAgent per request.
 */
const cluster = require('node:cluster');
const express = require('express');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { ChatAgent, writeCounters } = require('./lib/agent');
const { runPrimary } = require('./lib/primary');

const PORT = Number(process.env.PORT || 18301);
const PER_REQUEST = process.env.AGENT_PER_REQUEST === '1';
const logger = pino({ name: 'support-agent' });
const logFn = (lg) => (level, msg, fields) => lg[level](fields, msg);

if (cluster.isPrimary) {
  runPrimary({ workers: 2, log: logFn(logger) });
} else {
  const app = express();
  app.use(pinoHttp({ logger }));
  app.use(express.json());

  // One agent for the whole worker: built once, reused by every request.
  const agent = PER_REQUEST ? null : new ChatAgent({ log: logFn(logger) });

  app.post('/chat', async (req, res) => {
    const { sessionId, message } = req.body || {};
    const a = PER_REQUEST ? new ChatAgent({ log: logFn(req.log) }) : agent;
    try {
      const out = await a.run(message, { sessionId, requestId: req.id });
      res.json({ sessionId, answer: out.answer, runId: out.runId });
    } catch (err) {
      req.log.error({ err, sessionId }, 'chat failed');
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
