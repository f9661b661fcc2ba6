'use strict';
// The real backend every proxied scenario sends to: a plain node:http server that reads the whole
// request body and answers a small JSON document, keep-alive. It counts what it served, so the
// runner can check that passing traffic really reached it. Started by run.js (IPC), or alone:
// `node bench/lib/backend.js [port]`.
const http = require('node:http');

const BODY = Buffer.from('{"backend":"bench","ok":true}');
let served = 0;
let connections = 0;

const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    served++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    res.end(BODY);
  });
});
server.on('connection', () => connections++);
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ ready: true, port });
  else console.log(`backend on ${port}`);
});

process.on('message', (m) => {
  if (m && m.cmd === 'served') process.send({ served, connections });
});
process.on('disconnect', () => {
  if (process.env.BENCH_DEBUG) console.error(`backend: ${served} requests on ${connections} connections`);
  process.exit(0);
});
