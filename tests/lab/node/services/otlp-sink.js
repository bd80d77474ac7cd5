'use strict';
/*
 * A local stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver with a file exporter:
 * every POST /v1/traces body (OTLP JSON, exactly as the SDK sent it) is appended as one line
 * to $OTLP_FILE. Listens on 127.0.0.1 only.
 */
const fs = require('node:fs');
const http = require('node:http');

const PORT = Number(process.env.OTLP_SINK_PORT || 18391);
const out = fs.openSync(process.env.OTLP_FILE, 'a');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/traces') {
      const body = Buffer.concat(chunks).toString('utf8').replace(/\n/g, ' ');
      fs.writeSync(out, `${body}\n`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    res.writeHead(404);
    res.end();
  });
});
server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => { server.close(); fs.closeSync(out); process.exit(0); });
