'use strict';
/*
 * node-healthy-fastify: the control. fastify 5 with its built-in pino logger, Node cluster
 * (2 workers), a new ChatAgent per request, no state kept between requests.
 */
const cluster = require('node:cluster');
const Fastify = require('fastify');
const pino = require('pino');
const { ChatAgent, writeCounters } = require('./lib/agent');
const { runPrimary } = require('./lib/primary');

const PORT = Number(process.env.PORT || 18313);

if (cluster.isPrimary) {
  const logger = pino({ name: 'support-agent' });
  runPrimary({ workers: 2, log: (level, msg, fields) => logger[level](fields, msg) });
} else {
  const app = Fastify({ logger: true });

  app.post('/chat', async (request) => {
    const { sessionId, message } = request.body || {};
    const agent = new ChatAgent({ log: (level, msg, fields) => request.log[level](fields, msg) });
    const out = await agent.run(message, { sessionId, requestId: request.id });
    return { sessionId, answer: out.answer, runId: out.runId };
  });
  app.get('/health', async () => ({ ok: true }));

  app.listen({ port: PORT, host: '127.0.0.1' });
  process.on('SIGTERM', async () => {
    writeCounters('worker');
    await app.close();
    process.exit(0);
  });
}
