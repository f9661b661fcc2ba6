'use strict';
// The decision service (docs/sideband.md) against a bare node:http server answering 200, side by
// side on the same core: the decision endpoint is on the path of every request a proxy forwards.
//
//   node bench/decide.js [--quick]       (build first: npx tsc -b)
//
// Both servers run at once, each in its own process pinned to core 1; the load generator
// (autocannon, lib/load.js) is pinned to core 0. They are loaded in alternating rounds (A B, then
// B A) so drift on a shared machine hits both; a cell is the median of the rounds, the ratio the
// median of the per-round ratios. The requests are those nginx's auth_request sends for the
// realistic policy's traffic (lib/policy.js: 50 APIs, 100 000 deny entries, X-Forwarded-For
// clients, tokens, API keys, cookies): passing traffic, then traffic from deny-listed clients.
// Environment: BENCH_ROUNDS (5), BENCH_DURATION seconds per round (3), BENCH_WARMUP seconds (2),
// BENCH_CONNECTIONS (50).
const { fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { nginxDecisionRequests } = require('./lib/policy');

const QUICK = process.argv.includes('--quick');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 1 : 2));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TARGET = 0.8;
const SERVER_CORE = 1;
const LOAD_CORE = 0;

const children = new Set();
let canPin = (os.availableParallelism?.() ?? os.cpus().length) >= 2;

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function pin(pid, core) {
  if (!canPin) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    canPin = false;
    log('taskset is not available: processes are not pinned to cores');
  }
}

function start(file, args, core) {
  const child = fork(path.resolve(__dirname, file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      pin(child.pid, core);
      resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited with ${code} before it was ready`)));
  });
}

let jobId = 0;
function load(loader, port, requests, duration) {
  const id = ++jobId;
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.id !== id) return;
      loader.child.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve(m.result);
    };
    loader.child.on('message', onMessage);
    loader.child.send({ id, url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration, requests });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every answer must have the expected status, with no socket error or timeout. */
function check(label, r, status) {
  const codes = Object.keys(r.codes);
  if (r.errors || r.timeouts || codes.length !== 1 || codes[0] !== String(status)) {
    throw new Error(`${label}: expected only ${status} answers, got ${JSON.stringify(r.codes)} (errors ${r.errors}, timeouts ${r.timeouts})`);
  }
}

/** Bare and decide loaded in alternating rounds with `requests`; decide must answer `status`. */
async function compare(servers, loader, requests, status) {
  const order = [
    { name: 'bare', proc: servers.bare, status: 200 },
    { name: 'decide', proc: servers.decide, status },
  ];
  for (const s of order) check(`${s.name} warm-up`, await load(loader, s.proc.port, requests, WARMUP), s.status);
  const rounds = { bare: [], decide: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const turn = r % 2 === 0 ? order : [...order].reverse();
    for (const s of turn) {
      const res = await load(loader, s.proc.port, requests, DURATION);
      check(`${s.name} round ${r + 1}`, res, s.status);
      rounds[s.name].push(res);
    }
  }
  return {
    bare: { rps: median(rounds.bare.map((x) => x.rps)), p99: median(rounds.bare.map((x) => x.p99ms)) },
    decide: { rps: median(rounds.decide.map((x) => x.rps)), p99: median(rounds.decide.map((x) => x.p99ms)) },
    ratio: median(rounds.decide.map((x, i) => x.rps / rounds.bare[i].rps)),
    rounds,
  };
}

async function main() {
  const distIndex = path.join(__dirname, '..', 'packages', 'core', 'dist', 'index.js');
  if (!fs.existsSync(distIndex)) throw new Error('packages are not built: run `npx tsc -b` first');
  pin(process.pid, LOAD_CORE);
  const loader = await start('lib/load.js', [], LOAD_CORE);
  const servers = { bare: await start('lib/decide-server.js', ['bare'], SERVER_CORE), decide: await start('lib/decide-server.js', ['decide', 'nginx'], SERVER_CORE) };
  log(`decide bench: ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections, servers on core ${SERVER_CORE}, load on core ${LOAD_CORE}`);
  const pass = await compare(servers, loader, nginxDecisionRequests(), 200);
  const blocked = await compare(servers, loader, nginxDecisionRequests({ blocked: true }), 403);
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const row = (what, c, target) =>
    `| ${what} | ${fmt(c.bare.rps)} | ${fmt(c.decide.rps)} | ${c.ratio.toFixed(2)}× | ${c.bare.p99} / ${c.decide.p99} | ${target ? (c.ratio >= target ? 'met' : `MISSED by ${(((target - c.ratio) / target) * 100).toFixed(0)} %`) : '—'} |`;
  const table = [
    '| traffic (nginx auth_request) | bare node:http 200 req/s | decision service req/s | ratio | p99 ms bare / decide | target ≥ 0.80× |',
    '| --- | --- | --- | --- | --- | --- |',
    row('passing (200, identity headers)', pass, TARGET),
    row('deny-listed clients (403 + ticket)', blocked, undefined),
  ].join('\n');
  console.log(table);
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'decide.json'), JSON.stringify({ rounds: ROUNDS, duration: DURATION, connections: CONNECTIONS, pass, blocked }, null, 2));
  fs.writeFileSync(path.join(out, 'decide.md'), `${table}\n`);
}

function cleanup() {
  for (const c of children) c.kill('SIGTERM');
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err) => {
    console.error(err);
    cleanup();
    process.exit(1);
  },
);
