'use strict';
/*
 * A support chat service on ChatOpenAI (express 5, console output). The lab points the
 * OpenAI client at a local stand-in of the chat completions API (OPENAI_BASE_URL).
 * This file is identical in mismatch/broken and mismatch/fixed; only package.json differs.
 */
const express = require('express');
const morgan = require('morgan');
const { ChatOpenAI } = require('@langchain/openai');
const { ChatPromptTemplate } = require('@langchain/core/prompts');
const { StringOutputParser } = require('@langchain/core/output_parsers');

const PORT = Number(process.env.PORT || 18311);
const model = new ChatOpenAI({
  model: 'gpt-4o-mini',
  temperature: 0,
  apiKey: process.env.OPENAI_API_KEY || 'lab-placeholder',
  configuration: { baseURL: process.env.OPENAI_BASE_URL || 'http://127.0.0.1:18390/v1' },
});

const app = express();
app.use(morgan('tiny')); // express's usual request log
app.use(express.json());

app.post('/chat', async (req, res) => {
  const { sessionId, message } = req.body || {};
  // Built per request: the prompt and parser are cheap; the model client is shared and stateless.
  const chain = ChatPromptTemplate.fromMessages([
    ['system', 'You are a customer support agent.'],
    ['human', '{input}'],
  ]).pipe(model).pipe(new StringOutputParser());
  const answer = await chain.invoke({ input: message });
  console.log(`${new Date().toISOString()} chat session=${sessionId} chars=${answer.length}`);
  res.json({ sessionId, answer });
});
app.get('/health', (req, res) => res.json({ ok: true }));

app.listen(PORT, '127.0.0.1', () => console.log(`support chat listening on http://127.0.0.1:${PORT}`));
