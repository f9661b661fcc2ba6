'use strict';
// A violation flood against the lists: does it slow other clients down?
//
// One Express app with ASE (a child process, so the load generator does not share its event loop),
// a config directory (lists are persisted as in production) and attack_list_memory=1mb, so that the
// automatic share fills and evicts many times during the flood. In this process: a normal client
// sends one request at a time and times each; meanwhile, in turn,
//   1. nothing else                       (before),
//   2. a flood of 10 000 harmless requests (same rate and concurrency as 3: the cost of the load),
//   3. a flood of 10 000 violations, each from its own address under its own throwaway token.
// It prints the normal client's median and p99 for the three, side by side. Loopback only; bounded
// by count (10 000 per flood) and by time (60 s per phase at most).
//
//   npx tsc -b && node bench/list-flood.js
const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const FLOOD = 10_000;
const FLOOD_CONCURRENCY = 16;
const BEFORE_SAMPLES = 3_000;
const PHASE_LIMIT_MS = 60_000;

const PATTERN = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: ['GET'],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
};

function serve() {
  const express = require('express');
  const { createEnforcer, silentLogger } = require('@ase/core');
  const { aseMiddleware } = require('@ase/express');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-list-flood-'));
  fs.mkdirSync(path.join(dir, 'api'));
  fs.writeFileSync(path.join(dir, 'ase.conf'), 'enable_xff=true\nenable_ase_detected_attack=true\nattack_list_memory=1mb\nenable_access_log=false\n');
  const api = { api_metadata: { protocol: 'http', url: '/shop', hostname: '*', enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: PATTERN } };
  fs.writeFileSync(path.join(dir, 'api', 'shop.json'), JSON.stringify(api));
  const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
  const app = express();
  app.use(aseMiddleware(enforcer));
  app.use((_req, res) => res.send('ok'));
  const server = http.createServer(app).listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', async (m) => {
    if (m === 'stats') process.send({ entries: enforcer.denyList.size, memory: enforcer.attackListMemory });
    if (m === 'stop') {
      server.close();
      await enforcer.close();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
}

function requester(port, sockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const send = (method, headers) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: '/shop/x', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/** The normal client: one request at a time until `done()` says stop (or `max` samples). */
async function normalClient(send, done, max) {
  const samples = [];
  const start = Date.now();
  while (!done() && samples.length < max && Date.now() - start < PHASE_LIMIT_MS) {
    const t = process.hrtime.bigint();
    const status = await send('GET', { 'x-forwarded-for': '203.0.113.10', authorization: 'Bearer a-regular-customer' });
    samples.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (status !== 200) throw new Error(`the normal client got ${status}`);
  }
  return samples;
}

async function flood(send, violations) {
  let next = 0;
  const start = Date.now();
  const worker = async () => {
    while (next < FLOOD && Date.now() - start < PHASE_LIMIT_MS) {
      const i = next++;
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const status = violations
        ? await send('DELETE', { 'x-forwarded-for': ip, authorization: `Bearer throwaway-${i}-${Math.random().toString(36).slice(2)}` })
        : await send('GET', { 'x-forwarded-for': ip, authorization: `Bearer harmless-${i}` });
      if (status !== (violations ? 401 : 200)) throw new Error(`flood request ${i} got ${status}`);
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
  return { count: next, ms: Date.now() - start };
}

function pct(samples, p) {
  const s = Float64Array.from(samples).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function during(normal, loader, violations) {
  let finished = false;
  const f = flood(loader.send, violations).finally(() => (finished = true));
  const samples = await normalClient(normal.send, () => finished, Infinity);
  return { samples, flood: await f };
}

async function main() {
  const child = fork(__filename, ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const ask = (m) => new Promise((resolve) => (child.once('message', resolve), child.send(m)));
  const normal = requester(port, 1);
  const loader = requester(port, FLOOD_CONCURRENCY);
  try {
    await normalClient(normal.send, () => false, 500); // warm-up
    const before = await normalClient(normal.send, () => false, BEFORE_SAMPLES);
    const harmless = await during(normal, loader, false);
    const attack = await during(normal, loader, true);
    const stats = await ask('stats');
    const row = (name, s, extra) => `| ${name.padEnd(36)} | ${String(s.length).padStart(7)} | ${pct(s, 50).toFixed(0).padStart(10)} | ${pct(s, 99).toFixed(0).padStart(8)} | ${extra.padEnd(22)} |`;
    console.log(`normal client, one request at a time (µs); floods: ${FLOOD} requests, ${FLOOD_CONCURRENCY} at once`);
    console.log('| phase                                | samples | median µs  | p99 µs   | flood                  |');
    console.log('| --- | ---: | ---: | ---: | --- |');
    console.log(row('before', before, ''));
    console.log(row('during a flood of harmless requests', harmless.samples, `${harmless.flood.count} in ${harmless.flood.ms} ms`));
    console.log(row('during a flood of violations', attack.samples, `${attack.flood.count} in ${attack.flood.ms} ms`));
    console.log(`deny list after the flood: ${stats.entries} entries, ${stats.memory.used} of ${stats.memory.configured} bytes (the automatic share evicts)`);
  } finally {
    normal.close();
    loader.close();
    child.send('stop');
  }
}

if (process.argv[2] === 'serve') serve();
else main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
