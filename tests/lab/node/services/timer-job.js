'use strict';
/*
 * node-overlapping-timer: a background digest worker (no HTTP), pino logs.
 * Every 500 ms a job takes the pending tickets and has an agent summarise them; some
 * summaries take longer than the period (the model's latency varies: 250-1400 ms).
 * Broken: setInterval(async job, 500) starts the next job whether or not the last one ended;
 *         a ticket is marked done only when its job ends, so overlapping jobs take it twice.
 * Fixed (SCHEDULE=chain): the next job is scheduled with setTimeout when the last one ends.
 */
const pino = require('pino');
const { ChatAgent, writeCounters, newId } = require('./lib/agent');

const PERIOD_MS = 500;
const CHAIN = process.env.SCHEDULE === 'chain';
const LATENCIES_MS = [300, 450, 1200, 350, 900, 1400, 250, 600]; // cycled: deterministic
const logger = pino({ name: 'ticket-digest' });
const logFn = (level, msg, fields) => logger[level](fields, msg);

const pending = []; // tickets waiting for a digest
const done = new Set();
const digestedBy = new Map(); // ticket -> jobs that digested it
let nextTicket = 1;
let jobsStarted = 0;
let jobsOverlapping = 0;
let inProgress = 0;
let itemsProcessedTwice = 0;

// Tickets arrive steadily.
const arrivals = setInterval(() => {
  for (let i = 0; i < 3; i += 1) pending.push(`T-${nextTicket++}`);
}, 200);

async function digestJob() {
  const jobId = newId('job');
  const latency = LATENCIES_MS[jobsStarted % LATENCIES_MS.length];
  jobsStarted += 1;
  if (inProgress > 0) jobsOverlapping += 1;
  inProgress += 1;
  const batch = pending.filter((t) => !done.has(t)).slice(0, 10);
  logger.info({ jobId, tickets: batch.length, inProgress }, 'digest job started');
  const started = Date.now();
  try {
    const agent = new ChatAgent({ name: 'digest-writer', sleepMs: latency, log: logFn });
    const out = await agent.run(`Summarise tickets ${batch.join(', ')}`, {});
    for (const t of batch) {
      const by = digestedBy.get(t) || [];
      by.push(jobId);
      digestedBy.set(t, by);
      if (by.length === 2) {
        itemsProcessedTwice += 1;
        logger.warn({ jobId, ticket: t, jobs: by }, 'ticket digested twice');
      }
      done.add(t);
    }
    logger.info({ jobId, runId: out.runId, tickets: batch.length, durationMs: Date.now() - started },
      'digest job finished');
  } catch (err) {
    logger.error({ jobId, err }, 'digest job failed');
  } finally {
    inProgress -= 1;
  }
}

let timer;
if (CHAIN) {
  const loop = async () => {
    await digestJob();
    timer = setTimeout(loop, PERIOD_MS);
  };
  timer = setTimeout(loop, PERIOD_MS);
} else {
  timer = setInterval(digestJob, PERIOD_MS);
}
logger.info({ periodMs: PERIOD_MS, schedule: CHAIN ? 'setTimeout chain' : 'setInterval' }, 'digest worker started');

process.on('SIGTERM', () => {
  clearInterval(timer);
  clearTimeout(timer);
  clearInterval(arrivals);
  writeCounters('worker', { jobsStarted, jobsOverlapping, itemsProcessedTwice });
  logger.info({ jobsStarted }, 'digest worker stopping');
  process.exit(0);
});
