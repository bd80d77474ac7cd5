'use strict';
/*
 * node-shared-instance-otel: express 5 + pino-http under Node cluster (2 workers), traced
 * with the OpenTelemetry JS SDK (OTLP/HTTP JSON to a collector). The logs hold only the
 * access lines and failures; which agent served a request is in the spans
 * (agent.run spans carry agent.id, session.id, run.id).
 * Broken: one ChatAgent at module scope per worker. Fixed (AGENT_PER_REQUEST=1): one per request.
 */
const cluster = require('node:cluster');
const { trace, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions');
const express = require('express');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { ChatAgent, writeCounters } = require('./lib/agent');
const { runPrimary } = require('./lib/primary');

const PORT = Number(process.env.PORT || 18307);
const PER_REQUEST = process.env.AGENT_PER_REQUEST === '1';
const logger = pino({ name: 'support-agent' });

if (cluster.isPrimary) {
  runPrimary({ workers: 2, log: (level, msg, fields) => logger[level](fields, msg) });
} else {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'support-agent' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({
      url: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || 'http://127.0.0.1:18391/v1/traces',
    }))],
  });
  provider.register();
  const tracer = trace.getTracer('support-agent');

  const app = express();
  app.use(pinoHttp({ logger }));
  app.use(express.json());

  const agent = PER_REQUEST ? null : new ChatAgent();

  app.post('/chat', (req, res) => tracer.startActiveSpan('POST /chat', { kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'url.path': '/chat' } }, async (reqSpan) => {
    const { sessionId, message } = req.body || {};
    const a = PER_REQUEST ? new ChatAgent() : agent;
    const runSpan = tracer.startSpan('agent.run', { attributes: {
      'agent.id': a.id, 'agent.name': a.name, 'session.id': sessionId } });
    try {
      const out = await a.run(message, { sessionId, requestId: req.id });
      runSpan.setAttribute('run.id', out.runId);
      res.json({ sessionId, answer: out.answer, runId: out.runId });
      reqSpan.setAttribute('http.response.status_code', 200);
    } catch (err) {
      runSpan.recordException(err);
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      reqSpan.setStatus({ code: SpanStatusCode.ERROR });
      reqSpan.setAttribute('http.response.status_code', 500);
      req.log.error({ err, sessionId }, 'chat failed');
      res.status(500).json({ error: err.message });
    } finally {
      runSpan.end();
      reqSpan.end();
    }
  }));
  app.get('/health', (req, res) => res.json({ ok: true }));

  const server = app.listen(PORT, '127.0.0.1', () => logger.info({ port: PORT }, 'listening'));
  process.on('SIGTERM', async () => {
    writeCounters('worker');
    await provider.shutdown();
    server.close();
    process.exit(0);
  });
}
