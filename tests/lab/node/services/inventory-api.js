'use strict';
/*
 * A local stand-in for a downstream inventory API that a tool calls: it serves CAPACITY
 * requests at a time (SERVICE_MS each) and queues the rest, like a small backend pool.
 * GET /stock/:sku -> {"sku","available"}. Listens on 127.0.0.1 only.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const PORT = Number(process.env.INVENTORY_PORT || 18393);
const CAPACITY = Number(process.env.CAPACITY || 3);
const SERVICE_MS = Number(process.env.SERVICE_MS || 150);
let busy = 0;
let served = 0;
let maxQueue = 0;
const queue = [];

function work(res, sku) {
  busy += 1;
  setTimeout(() => {
    busy -= 1;
    served += 1;
    if (!res.destroyed) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sku, available: 7 }));
    }
    const next = queue.shift();
    if (next) next();
  }, SERVICE_MS);
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
    return;
  }
  const sku = decodeURIComponent(req.url.replace(/^\/stock\//, ''));
  if (busy < CAPACITY) work(res, sku);
  else {
    queue.push(() => work(res, sku));
    maxQueue = Math.max(maxQueue, queue.length);
  }
});
server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => {
  if (process.env.LAB_COUNTERS_DIR) {
    fs.writeFileSync(path.join(process.env.LAB_COUNTERS_DIR, `counters-downstream-${process.pid}.json`),
      JSON.stringify({ role: 'downstream', downstreamServed: served, downstreamMaxQueue: maxQueue }));
  }
  server.close();
  process.exit(0);
});
