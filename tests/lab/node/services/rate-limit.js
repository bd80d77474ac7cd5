'use strict';
/*
 * node-upstream-rate-limit: express 5 + winston (text lines), one process, ChatOpenAI
 * (@langchain/openai) against a provider that allows 4 requests in flight and answers 429
 * beyond that (services/fake-openai.js with RATE_LIMIT_CONCURRENCY=4).
 * Broken: every request calls the model at once; LangChain retries once, then the error
 *         is wrapped as a 500.
 * Fixed (MODEL_MAX_CONCURRENCY=4): ChatOpenAI's own maxConcurrency queues the calls so the
 *         service never has more in flight than the provider allows.
 */
const express = require('express');
const winston = require('winston');
const { ChatOpenAI } = require('@langchain/openai');
const { ChatPromptTemplate } = require('@langchain/core/prompts');
const { StringOutputParser } = require('@langchain/core/output_parsers');
const { writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18314);
const MAX_CONCURRENCY = Number(process.env.MODEL_MAX_CONCURRENCY || 0);
const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.simple()),
  transports: [new winston.transports.Console()],
});

const model = new ChatOpenAI({
  model: 'gpt-4o-mini',
  temperature: 0,
  maxRetries: 1,
  ...(MAX_CONCURRENCY ? { maxConcurrency: MAX_CONCURRENCY } : {}),
  apiKey: process.env.OPENAI_API_KEY || 'lab-placeholder',
  configuration: { baseURL: process.env.OPENAI_BASE_URL || 'http://127.0.0.1:18390/v1' },
});
const chain = ChatPromptTemplate.fromMessages([
  ['system', 'You are a customer support agent.'],
  ['human', '{input}'],
]).pipe(model).pipe(new StringOutputParser());

let ok = 0;
let failed = 0;
const app = express();
app.use(express.json());
app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  const started = Date.now();
  try {
    const answer = await chain.invoke({ input: message });
    ok += 1;
    logger.info(`chat ok session=${sessionId} ms=${Date.now() - started}`);
    res.json({ sessionId, answer });
  } catch (err) {
    failed += 1;
    logger.error(`chat failed session=${sessionId} ms=${Date.now() - started}: ${err.stack}`);
    res.status(500).json({ error: 'Internal error' });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(PORT, '127.0.0.1', () => logger.info(`listening on 127.0.0.1:${PORT}`));
process.on('SIGTERM', () => {
  writeCounters('server', { requestsHandled: ok, requestsFailed: failed });
  server.close();
  process.exit(0);
});
