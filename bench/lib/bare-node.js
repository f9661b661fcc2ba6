'use strict';
// The ceiling for any Node gateway in bench/peers.js: a bare node:http server that reads the request
// and answers one fixed response, no policy, no proxy. `node bench/lib/bare-node.js 200|403`.
const http = require('node:http');

const status = Number(process.argv[2] ?? 200);
const body = Buffer.from(status === 200 ? '{"backend":"bench","ok":true}' : 'Error: Unauthorized');
const type = status === 200 ? 'application/json' : 'text/plain; charset=utf-8';

const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(status, { 'content-type': type, 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
process.on('disconnect', () => process.exit(0));
