'use strict';
/*
 * node-stateful-tool: express 5 + winston (JSON), one process. An order-status tool (a
 * LangChain.js DynamicTool) is built once at module scope, like the agent's other tools.
 * Broken: the handler puts the request's order id on the tool object (tool.orderId = ...)
 *         and the tool reads it back after awaiting the orders backend; a concurrent request
 *         has overwritten it by then, so the answer is about someone else's order.
 * Fixed (TOOL_ARGS=1): the order id travels in the tool call's own input.
 */
const express = require('express');
const winston = require('winston');
const { DynamicTool } = require('@langchain/core/tools');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18318);
const TOOL_ARGS = process.env.TOOL_ARGS === '1';
const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  defaultMeta: { service: 'order-bot' },
  transports: [new winston.transports.Console()],
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class OrderStatusTool {
  constructor() {
    this.orderId = null; // set by the handler before the agent runs
    this.tool = new DynamicTool({
      name: 'order_status',
      description: 'Look up the shipping status of the current order',
      func: async (input) => {
        await sleep(30); // the orders backend
        const orderId = TOOL_ARGS ? input : this.orderId;
        return JSON.stringify({ orderId, status: 'shipped', carrier: 'DHL' });
      },
    });
  }
}
const orderTool = new OrderStatusTool();

let wrongOrder = 0;
const app = express();
app.use(express.json());
app.post('/chat', async (req, res) => {
  const { sessionId, message, orderId } = req.body || {};
  try {
    if (!TOOL_ARGS) orderTool.orderId = orderId;
    const agent = new ChatAgent({ sleepMs: 40, log: (level, msg, f) => logger.log(level, msg, f) });
    const out = await agent.run(message, { sessionId });
    const result = JSON.parse(await orderTool.tool.invoke(TOOL_ARGS ? orderId : 'current'));
    if (result.orderId !== orderId) wrongOrder += 1;
    logger.info('tool call', { sessionId, runId: out.runId, tool: 'order_status', requestedOrderId: orderId,
      result });
    res.json({ sessionId, orderId: result.orderId, status: result.status, answer: out.answer });
  } catch (err) {
    logger.error('chat failed', { sessionId, error: err.message, stack: err.stack });
    res.status(500).json({ error: err.message });
  }
});
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(PORT, '127.0.0.1', () => logger.info('listening', { port: PORT }));
process.on('SIGTERM', () => {
  writeCounters('server', { toolWrongOrder: wrongOrder });
  server.close();
  process.exit(0);
});
