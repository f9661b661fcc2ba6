'use strict';
// A tiny backend for the demo: answers every request with what it received, as JSON.
const http = require('node:http');

function startBackend(name, port, host = '127.0.0.1') {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify(
        { server: name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(`${body}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

module.exports = { startBackend };
