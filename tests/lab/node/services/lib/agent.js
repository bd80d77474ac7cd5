'use strict';
/*
 * A small chat agent built the way LangChain.js services build one: a prompt, a chat model
 * and an output parser piped into one RunnableSequence. The model is @langchain/core's own
 * FakeListChatModel (canned replies, a real async sleep per call), so no provider is needed.
 *
 * Like AutoGen's teams ("The team is already running, it cannot run again until it is
 * stopped"), the agent keeps the messages of its current run on itself and refuses a second
 * run() while one is active. That guard is what turns a shared instance into errors.
 *
 * The counters below are the lab's ground truth: the app's own count of run() calls that
 * entered while another run was active on the same object. Each process writes them to
 * $LAB_COUNTERS_DIR on SIGTERM; the driver sums them into truth.json.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { FakeListChatModel } = require('@langchain/core/utils/testing');
const { ChatPromptTemplate, MessagesPlaceholder } = require('@langchain/core/prompts');
const { StringOutputParser } = require('@langchain/core/output_parsers');
const { HumanMessage, AIMessage } = require('@langchain/core/messages');

const REPLIES = [
  'Sure. The order ships within two business days.',
  'I checked the account: the last invoice was paid on time.',
  'The refund was issued; it takes 3-5 days to appear.',
  'Your ticket is escalated to the billing team.',
];

const stats = {
  runs: 0, // run() calls
  overlaps: 0, // run() entered while another run was active on the same object
  overlapsSameSession: 0, // ... and the active run belonged to the same session
  overlapsSameRequest: 0, // ... and to the same request
  reentrant: 0, // ... entered from inside the active run's own callback (onReply hook)
  rejected: 0, // runs refused by the already-running guard
  completed: 0,
  agentsCreated: 0,
  perSession: {}, // sessionId -> overlaps seen on that session's agent
};

class AgentAlreadyRunningError extends Error {
  constructor(agentId, activeRunId) {
    super(`Agent ${agentId} is already running (run ${activeRunId}); it cannot run again until the current run ends`);
    this.name = 'AgentAlreadyRunningError';
  }
}

function newId(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

class ChatAgent {
  /**
   * @param {object} opts
   * @param {number} [opts.sleepMs] model latency per call (FakeListChatModel's sleep)
   * @param {(level: string, msg: string, fields: object) => void} [opts.log]
   * @param {(answer: string, meta: object) => Promise<void>} [opts.onReply] called inside the run
   */
  constructor({ name = 'support-assistant', sleepMs = 60, log = () => {}, onReply = null } = {}) {
    this.id = newId('agent');
    this.name = name;
    this.log = log;
    this.model = new FakeListChatModel({ responses: REPLIES, sleep: sleepMs });
    this.chain = ChatPromptTemplate.fromMessages([
      ['system', 'You are {name}, a customer support agent.'],
      new MessagesPlaceholder('history'),
      ['human', '{input}'],
    ]).pipe(this.model).pipe(new StringOutputParser());
    this.activeRun = null; // { runId, sessionId, requestId } while a run is active
    this.messages = []; // the current run's transcript
    this.onReply = onReply; // awaited inside the run, like AutoGen/LangChain message callbacks
    this.inHook = false;
    stats.agentsCreated += 1;
  }

  /** Run one turn. meta: { sessionId, requestId, history } */
  async run(input, meta = {}) {
    const runId = newId('run');
    const { sessionId = null, requestId = null, history = [] } = meta;
    stats.runs += 1;
    const fields = { agentId: this.id, runId, sessionId, requestId };
    this.log('info', 'run started', fields);
    if (this.activeRun) {
      stats.overlaps += 1;
      if (sessionId && this.activeRun.sessionId === sessionId) {
        stats.overlapsSameSession += 1;
        stats.perSession[sessionId] = (stats.perSession[sessionId] || 0) + 1;
      }
      if (requestId !== null && this.activeRun.requestId === requestId) stats.overlapsSameRequest += 1;
      if (this.inHook) stats.reentrant += 1;
      stats.rejected += 1;
      const err = new AgentAlreadyRunningError(this.id, this.activeRun.runId);
      this.log('error', 'run failed', { ...fields, err: err.message, activeRunId: this.activeRun.runId });
      throw err;
    }
    this.activeRun = { runId, sessionId, requestId };
    const started = Date.now();
    try {
      this.messages = [...history, new HumanMessage(input)];
      const answer = await this.chain.invoke({ name: this.name, history, input });
      this.messages.push(new AIMessage(answer));
      if (this.onReply) {
        this.inHook = true;
        try {
          await this.onReply(answer, { runId, sessionId, requestId });
        } finally {
          this.inHook = false;
        }
      }
      stats.completed += 1;
      this.log('info', 'run finished', { ...fields, durationMs: Date.now() - started });
      return { runId, agentId: this.id, answer };
    } finally {
      this.activeRun = null;
    }
  }
}

/** Write this process's counters (and any extra ones) where the driver collects them. */
function writeCounters(role, extra = {}) {
  const dir = process.env.LAB_COUNTERS_DIR;
  if (!dir) return;
  const file = path.join(dir, `counters-${role}-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify({ role, pid: process.pid, ...stats, ...extra }));
}

module.exports = { ChatAgent, AgentAlreadyRunningError, stats, writeCounters, newId };
