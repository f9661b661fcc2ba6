'use strict';
// The soak's clients: one loop per client class and gateway, each class from its own loopback
// source address (the gateway tells clients apart by address), over kept-alive connections.
const http = require('node:http');
const WebSocket = require('ws');

/**
 * What each class sends and the answers it may get (`expect`); `mustSee`: answers the run must
 * have seen at least once (the flaky API up and down, the rate limit reached and not).
 */
const CLASSES = {
  legit: { expect: [200] },
  blocked: { expect: [403] },
  decoy: { expect: [200] },
  afterDecoy: { expect: [403] },
  overLimit: { expect: [200, 429], mustSee: [200, 429] },
  underLimit: { expect: [200] },
  flaky: { expect: [200, 502, 503], mustSee: [200] },
  websocket: { expect: ['session'] },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(port, path, localAddress, agent) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: `error:${err.code ?? err.message}`, body: '' }));
    });
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve({ status: `error:${err.code ?? err.message}`, body: '' }));
    req.end();
  });
}

/** Opens a session to the echo API, exchanges three messages, closes it. */
function session(port, localAddress) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { localAddress });
    let n = 0;
    let done = false;
    const finish = (status) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(status);
    };
    const timer = setTimeout(() => {
      ws.terminate();
      finish('error:TIMEOUT');
    }, 10_000);
    ws.on('open', () => ws.send('m0'));
    ws.on('message', (m) => {
      if (m.toString() !== `echo:m${n}`) {
        ws.terminate();
        return finish(`error:wrong echo ${m.toString().slice(0, 40)}`);
      }
      if (++n < 3) ws.send(`m${n}`);
      else ws.close(1000);
    });
    ws.on('close', () => finish(n === 3 ? 'session' : 'error:closed early'));
    ws.on('error', (err) => finish(`error:${err.code ?? err.message}`));
  });
}

class Traffic {
  constructor(gateways) {
    this.gateways = gateways;
    this.running = false;
    this.loops = [];
    this.agents = [];
    this.requests = 0;
    this.sessions = 0;
    this.unexpected = [];
    this.unexpectedCount = 0;
    this.statuses = gateways.map(() => ({}));
  }

  record(gi, cls, status, detail = '') {
    const by = (this.statuses[gi][cls] ??= {});
    by[status] = (by[status] ?? 0) + 1;
    if (status === 'session') this.sessions++;
    else this.requests++;
    if (!CLASSES[cls].expect.includes(status) || detail) {
      this.unexpectedCount++;
      if (this.unexpected.length < 20) this.unexpected.push(`${this.gateways[gi].framework} ${cls}: ${status}${detail ? ` ${detail}` : ''}`);
    }
  }

  loop(fn, pauseMs) {
    this.loops.push(
      (async () => {
        for (let i = 0; this.running; i++) {
          await fn(i);
          if (pauseMs) await sleep(pauseMs);
        }
      })(),
    );
  }

  agent(maxSockets = 4) {
    const a = new http.Agent({ keepAlive: true, maxSockets });
    this.agents.push(a);
    return a;
  }

  start() {
    this.running = true;
    this.gateways.forEach((g, gi) => {
      const port = g.port;
      for (let c = 1; c <= 3; c++) {
        const agent = this.agent();
        this.loop(async () => {
          const r = await get(port, '/shop/items', `127.0.1.${c}`, agent);
          this.record(gi, 'legit', r.status, r.status === 200 && !r.body.includes('"steady"') ? `body ${r.body.slice(0, 60)}` : '');
        }, 5);
      }
      const blocked = this.agent();
      this.loop(async () => this.record(gi, 'blocked', (await get(port, '/shop/items', '127.0.0.9', blocked)).status), 20);
      // Decoy hitters from a pool of 250 addresses: each is deny-listed by its first hit, then blocked.
      this.loop(async (i) => {
        const ip = `127.2.0.${(i % 250) + 1}`;
        const hit = await get(port, '/shop/admin', ip, undefined);
        this.record(gi, 'decoy', hit.status, hit.status === 200 && hit.body !== 'decoy' ? `body ${hit.body.slice(0, 60)}` : '');
        this.record(gi, 'afterDecoy', (await get(port, '/shop/items', ip, undefined)).status);
      }, 20);
      // Bursts of 30 at once: over the limit of 10 a second however slowly the machine answers.
      const over = this.agent(30);
      this.loop(async () => {
        const burst = await Promise.all(Array.from({ length: 30 }, () => get(port, '/limited/x', '127.0.3.1', over)));
        for (const r of burst) this.record(gi, 'overLimit', r.status);
      }, 500);
      const under = this.agent();
      this.loop(async () => this.record(gi, 'underLimit', (await get(port, '/limited/x', '127.0.3.2', under)).status), 250);
      const flaky = this.agent();
      this.loop(async () => this.record(gi, 'flaky', (await get(port, '/flaky/x', '127.0.4.1', flaky)).status), 20);
      this.loop(async (i) => this.record(gi, 'websocket', await session(port, `127.0.5.${(i % 8) + 1}`)), 20);
    });
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    for (const a of this.agents) a.destroy();
  }
}

module.exports = { Traffic, CLASSES };
