'use strict';
/*
 * node-unbounded-fanout: express 5 + pino-http, one process started under a file-descriptor
 * limit (prlimit --nofile, as a container's ulimit would be), ChatOpenAI (@langchain/openai)
 * against the local chat-completions stand-in (services/fake-openai.js, no rate limit).
 * Each question is split into SUBQUESTIONS research calls, answered in parallel.
 * Broken: Promise.all over every call, nothing bounds them; with 25 users the process opens
 *         hundreds of sockets at once and connects fail (EMFILE) -> 500.
 * Fixed (FANOUT_MAX_CONCURRENCY=2): the same calls through LangChain's own
 *         `batch(inputs, { maxConcurrency })`, so a request holds at most 2 calls in flight.
 * The app counts, per request, the most model calls it had in flight, and the calls that
 * failed for want of a socket or file descriptor.
 */
const express = require('express');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { ChatOpenAI } = require('@langchain/openai');
const { RunnableLambda } = require('@langchain/core/runnables');
const { writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18330);
const SUBQUESTIONS = Number(process.env.SUBQUESTIONS || 12);
const MAX_CONCURRENCY = Number(process.env.FANOUT_MAX_CONCURRENCY || 0); // 0: unbounded
const logger = pino({ name: 'research-agent' });

const model = new ChatOpenAI({
  model: 'gpt-4o-mini',
  temperature: 0,
  maxRetries: 0,
  apiKey: process.env.OPENAI_API_KEY || 'lab-placeholder',
  configuration: { baseURL: process.env.OPENAI_BASE_URL || 'http://127.0.0.1:18390/v1' },
});

const counters = { requests: 0, failed: 0, socketErrors: 0, maxInFlightPerRequest: 0, calls: 0 };

function socketError(err) {
  const text = `${err && err.message} ${err && err.cause && (err.cause.code || err.cause.message)}`;
  return /EMFILE|ENFILE|ECONNRESET|EADDRNOTAVAIL|socket hang up|Connection error/i.test(text);
}

async function research(req, question) {
  const inputs = Array.from({ length: SUBQUESTIONS }, (_, i) => `${question} (aspect ${i + 1})`);
  let inFlight = 0;
  let most = 0;
  const call = async (input, i) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    counters.calls += 1;
    req.log.info({ call: i, inFlight }, 'model call started');
    try {
      const out = await model.invoke(input);
      req.log.info({ call: i }, 'model call finished');
      return out;
    } catch (err) {
      if (socketError(err)) counters.socketErrors += 1;
      req.log.warn({ call: i, err }, 'model call failed');
      throw err;
    } finally {
      inFlight -= 1;
    }
  };
  try {
    if (MAX_CONCURRENCY) {
      // the framework's own bound: Runnable.batch with maxConcurrency
      const runnable = RunnableLambda.from((input, config) => call(input, config.metadata.i));
      return await runnable.batch(inputs,
        inputs.map((_, i) => ({ metadata: { i }, maxConcurrency: MAX_CONCURRENCY })));
    }
    return await Promise.all(inputs.map((input, i) => call(input, i)));
  } finally {
    counters.maxInFlightPerRequest = Math.max(counters.maxInFlightPerRequest, most);
  }
}

const app = express();
app.use(pinoHttp({ logger }));
app.use(express.json());
app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  counters.requests += 1;
  try {
    const parts = await research(req, message || 'question');
    res.json({ sessionId, answer: parts.map((p) => p.content).join(' ').slice(0, 200) });
  } catch (err) {
    counters.failed += 1;
    req.log.error({ err, sessionId }, 'research failed');
    res.status(500).json({ error: 'research failed' });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(PORT, '127.0.0.1', () => logger.info(`listening on 127.0.0.1:${PORT}`));
process.on('SIGTERM', () => {
  writeCounters('server', {
    fanoutCalls: counters.calls, fanoutMaxInFlight: counters.maxInFlightPerRequest,
    socketErrors: counters.socketErrors, requestsFailed: counters.failed,
  });
  server.close();
  process.exit(0);
});
