'use strict';
// The soak's backends, all on loopback: a steady HTTP backend, one that stops listening and comes
// back on the same port on a cycle, and a WebSocket echo backend.
const http = require('node:http');
const { WebSocketServer } = require('ws');

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function answer(name) {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ server: name, url: req.url }));
    });
  };
}

async function steadyBackend() {
  const server = http.createServer(answer('steady'));
  const port = await listen(server);
  return { port, close: () => close(server) };
}

/**
 * Up for `upMs`, then gone (connections refused) for `downMs`, over and over; `cycles()` counts
 * how often it went down and came back.
 */
async function flakyBackend(upMs, downMs) {
  let server = http.createServer(answer('flaky'));
  const port = await listen(server);
  let stopped = false;
  let cycles = 0;
  let timer;
  const down = async () => {
    await close(server);
    if (stopped) return;
    timer = setTimeout(up, downMs);
  };
  const up = async () => {
    server = http.createServer(answer('flaky'));
    await listen(server, port);
    cycles++;
    if (stopped) return close(server);
    timer = setTimeout(down, upMs);
  };
  timer = setTimeout(down, upMs);
  return {
    port,
    cycles: () => cycles,
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      if (server.listening) await close(server);
    },
  };
}

async function wsBackend() {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await close(server);
    },
  };
}

module.exports = { steadyBackend, flakyBackend, wsBackend };
