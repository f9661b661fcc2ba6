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
const fs = require('node:fs');
const path = require('node:path');
const { nginxDecisionRequests } = require('./lib/policy');
const { checkRound: check, load: loadJob, log, median, pin, runMain, start } = require('./lib/harness');

const QUICK = process.argv.includes('--quick');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 1 : 2));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TARGET = 0.8;
const SERVER_CORE = 1;
const LOAD_CORE = 0;

const load = (loader, port, requests, duration) => loadJob(loader, port, requests, duration, { connections: CONNECTIONS });

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

runMain('decide', main);
