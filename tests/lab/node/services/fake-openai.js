'use strict';
/*
 * A local stand-in for the OpenAI chat completions API (POST /v1/chat/completions), so the
 * lab's services can run ChatOpenAI without a provider. Answers after LATENCY_MS.
 * With RATE_LIMIT_CONCURRENCY=N it behaves like a provider's rate limit: a request that
 * arrives while N are in flight gets 429 with OpenAI's error body. It counts what it sent.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const PORT = Number(process.env.FAKE_OPENAI_PORT || 18390);
const LIMIT = Number(process.env.RATE_LIMIT_CONCURRENCY || 0); // 0: no limit
const LATENCY_MS = Number(process.env.LATENCY_MS || 40);
let n = 0;
let inFlight = 0;
const sent = { completions: 0, rateLimited: 0 };
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    let model = 'gpt-4o-mini';
    try { model = JSON.parse(body).model || model; } catch { /* keep default */ }
    if (LIMIT && inFlight >= LIMIT) {
      sent.rateLimited += 1;
      res.writeHead(429, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': String(LIMIT) });
      res.end(JSON.stringify({ error: {
        message: `Rate limit reached for ${model} in organization org-lab on requests per min (RPM): `
          + `Limit ${LIMIT}, Used ${LIMIT}, Requested 1. Please try again in 1s.`,
        type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
      return;
    }
    inFlight += 1;
    sent.completions += 1;
    n += 1;
    const reply = {
      id: `chatcmpl-lab${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null,
        message: { role: 'assistant', content: 'Your order ships within two business days.', refusal: null } }],
      usage: { prompt_tokens: 24, completion_tokens: 9, total_tokens: 33 },
    };
    setTimeout(() => {
      inFlight -= 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    }, LATENCY_MS);
  });
});
server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => {
  if (process.env.LAB_COUNTERS_DIR) {
    fs.writeFileSync(path.join(process.env.LAB_COUNTERS_DIR, `counters-provider-${process.pid}.json`),
      JSON.stringify({ role: 'provider', providerCompletions: sent.completions, provider429: sent.rateLimited }));
  }
  server.close();
  process.exit(0);
});
