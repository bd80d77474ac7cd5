'use strict';
/*
 * node-tool-timeout: fastify 5 (its built-in pino logger), one process. The agent's
 * stock-check tool (LangChain.js DynamicTool) calls an inventory API with fetch and a 1 s
 * AbortSignal.timeout. The API serves 3 requests at a time and queues the rest.
 * Broken: every request calls the API at once; under load the calls wait in the API's queue
 *         past 1 s and fail with "The operation was aborted due to timeout" -> 500.
 * Fixed (TOOL_CONCURRENCY=3): the tool holds at most 3 calls in flight (a queue in front of
 *         the API), and the 1 s timeout covers only the call itself.
 */
const Fastify = require('fastify');
const { DynamicTool } = require('@langchain/core/tools');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18320);
const API = process.env.INVENTORY_URL || 'http://127.0.0.1:18393';
const LIMIT = Number(process.env.TOOL_CONCURRENCY || 0); // 0: no limit
const TIMEOUT_MS = 1000;

let active = 0;
const waiting = [];
async function slot(fn) {
  if (!LIMIT) return fn();
  if (active >= LIMIT) await new Promise((resolve) => waiting.push(resolve));
  active += 1;
  try {
    return await fn();
  } finally {
    active -= 1;
    const next = waiting.shift();
    if (next) next();
  }
}

let toolTimeouts = 0;
const stockTool = new DynamicTool({
  name: 'check_stock',
  description: 'How many units of a SKU are available',
  func: (sku) => slot(async () => {
    try {
      const r = await fetch(`${API}/stock/${encodeURIComponent(sku)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      return await r.text();
    } catch (err) {
      if (err.name === 'TimeoutError') toolTimeouts += 1;
      throw err;
    }
  }),
});

const app = Fastify({ logger: true });
app.post('/chat', async (request) => {
  const { sessionId, message } = request.body || {};
  const agent = new ChatAgent({ sleepMs: 40 });
  const out = await agent.run(message, { sessionId, requestId: request.id });
  const stock = JSON.parse(await stockTool.invoke(`SKU-${sessionId}`));
  request.log.info({ sessionId, runId: out.runId, tool: 'check_stock', available: stock.available }, 'tool call done');
  return { sessionId, answer: out.answer, available: stock.available };
});
app.get('/health', async () => ({ ok: true }));
app.listen({ port: PORT, host: '127.0.0.1' });
process.on('SIGTERM', async () => {
  writeCounters('server', { toolTimeouts });
  await app.close();
  process.exit(0);
});
