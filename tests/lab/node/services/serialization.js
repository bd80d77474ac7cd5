'use strict';
/*
 * node-serialization: express 5 + morgan ("combined" access log) + console output.
 * Model calls go through a limiter (4 at a time, the rest wait), so under load turns get
 * slow; a slow turn is logged with the request for later debugging.
 * Broken: the slow-turn log line is JSON.stringify({..., req}); the request object points to
 *         its response and back, so it throws "Converting circular structure to JSON" and
 *         express's default error handler answers 500 and prints the stack on stderr.
 * Fixed (PLAIN_LOG=1): the slow-turn line carries plain fields (method, url, session, ms).
 */
const express = require('express');
const morgan = require('morgan');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18309);
const PLAIN_LOG = process.env.PLAIN_LOG === '1';
const SLOW_MS = 250;
const MODEL_CONCURRENCY = 4;

// A small limiter in front of the model provider: MODEL_CONCURRENCY calls at a time.
let active = 0;
const waiting = [];
async function limited(fn) {
  if (active >= MODEL_CONCURRENCY) await new Promise((resolve) => waiting.push(resolve));
  active += 1;
  try {
    return await fn();
  } finally {
    active -= 1;
    const next = waiting.shift();
    if (next) next();
  }
}

let handled = 0;
let slowTurns = 0;
const app = express();
app.use(morgan('combined'));
app.use(express.json());

app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  const started = Date.now();
  const agent = new ChatAgent({ sleepMs: 60 });
  const out = await limited(() => agent.run(message, { sessionId }));
  const ms = Date.now() - started;
  if (ms > SLOW_MS) {
    slowTurns += 1;
    if (PLAIN_LOG) {
      console.warn(JSON.stringify({ level: 'warn', msg: 'slow chat turn', ms, sessionId,
        runId: out.runId, method: req.method, url: req.originalUrl }));
    } else {
      console.warn(JSON.stringify({ level: 'warn', msg: 'slow chat turn', ms, sessionId, runId: out.runId, req }));
    }
  }
  handled += 1;
  res.json({ sessionId, answer: out.answer });
});
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(PORT, '127.0.0.1', () => console.log(`chat service listening on http://127.0.0.1:${PORT}`));
process.on('SIGTERM', () => {
  writeCounters('server', { requestsHandled: handled, slowTurns });
  server.close();
  process.exit(0);
});
