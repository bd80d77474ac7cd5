'use strict';
/*
 * The cluster primary every clustered lab service uses: fork N workers, restart a worker
 * that dies (as production primaries do), and on SIGTERM stop the workers and write the
 * primary's own counters (worker deaths seen) for the driver.
 */
const cluster = require('node:cluster');
const { writeCounters } = require('./agent');

/**
 * @param {object} o
 * @param {number} o.workers
 * @param {(level: string, msg: string, fields: object) => void} o.log
 * @param {string[]} [o.execArgv] node flags for the workers (e.g. --max-old-space-size=64)
 */
function runPrimary({ workers, log, execArgv }) {
  if (execArgv) cluster.setupPrimary({ execArgv });
  let stopping = false;
  const deaths = [];
  log('info', 'primary started', { workers });
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('online', (w) => log('info', 'worker online', { workerPid: w.process.pid }));
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    deaths.push({ pid: w.process.pid, code, signal });
    log('error', `worker ${w.process.pid} died (code ${code}, signal ${signal}); starting a new one`,
      { workerPid: w.process.pid, code, signal });
    cluster.fork();
  });
  process.on('SIGTERM', () => {
    stopping = true;
    log('info', 'primary stopping', { deaths: deaths.length });
    const live = Object.values(cluster.workers);
    let left = live.length;
    const done = () => {
      writeCounters('primary', { workerDeaths: deaths.length, deaths });
      process.exit(0);
    };
    if (left === 0) done();
    for (const w of live) {
      w.on('exit', () => { left -= 1; if (left === 0) done(); });
      w.process.kill('SIGTERM');
    }
    setTimeout(done, 5000).unref();
  });
}

module.exports = { runPrimary };
