'use strict';
/*
 * node-context-reset: express 5, console output and morgan's tiny request log, one process. A new agent is built for every
 * request (right), and the answer reports how many turns of the session it was given.
 * Broken: the new agent starts with an empty history; nothing loads the session's turns.
 * Fixed (LOAD_HISTORY=1): the session's turns are kept (one process: a Map is enough here)
 *         and handed to the new agent.
 */
const express = require('express');
const morgan = require('morgan');
const { ChatAgent, writeCounters } = require('./lib/agent');

const PORT = Number(process.env.PORT || 18324);
const LOAD = process.env.LOAD_HISTORY === '1';
const store = new Map();

const app = express();
app.use(morgan('tiny')); // express's usual request log: "POST /chat 200 54 - 52.345 ms"
app.use(express.json());
app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  const history = LOAD ? (store.get(sessionId) || []) : [];
  const agent = new ChatAgent({ sleepMs: 50 });
  const out = await agent.run(message, { sessionId, history });
  if (LOAD) store.set(sessionId, [...history, { role: 'user', content: message }, { role: 'assistant', content: out.answer }]);
  const historyLength = history.filter((m) => m.role === 'user').length + 1;
  console.log(`${new Date().toISOString()} POST /chat session=${sessionId} agent=${agent.id} run=${out.runId} turns=${historyLength}`);
  res.json({ sessionId, answer: out.answer, historyLength });
});
app.get('/health', (req, res) => res.json({ ok: true }));
const server = app.listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
process.on('SIGTERM', () => {
  writeCounters('server');
  server.close();
  process.exit(0);
});
