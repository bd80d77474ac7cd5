'use strict';
/*
 * A local stand-in for the OpenAI chat completions API (POST /v1/chat/completions), so the
 * version-mismatch services can run ChatOpenAI without a provider. Answers after 40 ms.
 */
const http = require('node:http');

const PORT = Number(process.env.FAKE_OPENAI_PORT || 18390);
let n = 0;
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
    n += 1;
    const reply = {
      id: `chatcmpl-lab${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null,
        message: { role: 'assistant', content: 'Your order ships within two business days.', refusal: null } }],
      usage: { prompt_tokens: 24, completion_tokens: 9, total_tokens: 33 },
    };
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    }, 40);
  });
});
server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => { server.close(); process.exit(0); });
