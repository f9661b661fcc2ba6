'use strict';
// Runs every benchmark and prints one table with the targets' verdicts (docs/performance.md).
//
//   node bench/run.js [--quick]          (from the repository root: `pnpm run bench` builds first)
//
// Each HTTP server under test runs in its own process pinned to core 1; the load generator
// (autocannon, lib/load.js) and the backend (lib/backend.js) run in their own processes pinned to
// core 0. Baseline and ASE servers are up together and measured in alternating rounds (A B A B ...)
// so that drift hits both; each cell is the median of the rounds, each ratio the median of the
// per-round ratios. The core and scale benchmarks run alone, in child processes pinned to core 1.
// Environment: BENCH_ROUNDS (5), BENCH_DURATION seconds per round (3), BENCH_WARMUP seconds (2),
// BENCH_CONNECTIONS (50). Results also go to bench/results/latest.{json,md}.
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { checkRound, children, load: loadJob, log, median, pin, pinning, runMain, served, start, stop } = require('./lib/harness');
const { passingHttpRequests, blockedHttpRequests, DENY_ENTRIES, API_COUNT, CLIENT_RATE } = require('./lib/policy');

const QUICK = process.argv.includes('--quick');
// `--only=koa,fastify` limits the HTTP scenarios to those frameworks; `--http-only` skips core and scale.
const ONLY = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice(7).split(',').filter(Boolean);
const HTTP_ONLY = process.argv.includes('--http-only');
// `--pass-only` skips the blocked-traffic comparisons (with --http-only: passing traffic alone).
const PASS_ONLY = process.argv.includes('--pass-only');
// `--jwt-only` runs only the JWT verification rows (bench/jwt.js).
const JWT_ONLY = process.argv.includes('--jwt-only');
// `--cluster-only` runs only the memory store vs Redis store comparison, on the first framework of
// `--only=` (Express by default), against the Redis at BENCH_REDIS_URL (redis://127.0.0.1:6379).
const CLUSTER_ONLY = process.argv.includes('--cluster-only');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
// `--metrics-only` runs only the metrics cost: passing traffic through the first framework of
// `--only=` (Express by default), ASE with its metrics scraped every second vs never loaded.
const METRICS_ONLY = process.argv.includes('--metrics-only');
// `--against=DIR`: DIR is another checkout of this repository (say, the last release, set up and
// built); its ASE servers run beside this one's in the same rounds, and rows compare the two builds.
const AGAINST = (process.argv.find((a) => a.startsWith('--against=')) ?? '').slice(10);
const AGAINST_TARGET = 0.95;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 1 : 2));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const SERVER_CORE = 1;
const LOAD_CORE = 0;

const TARGET = { pass: 0.9, blocked: 0.9, coreRate: 300_000, coreP99: 20, scaleMB: 250, scaleRatio: 1.1, redis: 0.7 };

const load = (loader, port, requests, duration, { rate, connections = CONNECTIONS } = {}) => loadJob(loader, port, requests, duration, { rate, connections });

/** Runs a script to completion in a child pinned to `core`; its stdout is one JSON line. */
function runJson(file, core, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, file), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv });
    children.add(child);
    pin(child.pid, core);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (err) {
        reject(new Error(`${file}: no JSON result (${err.message})`));
      }
    });
  });
}

/**
 * One comparison: the servers of `variants` ({kind, status}: the baselines first, ASE last) are all
 * started and warmed, then loaded in turn, round after round; every answer must have its status.
 */
async function compare({ framework, variants, requests, loader, backend, checkBackend, then }) {
  const servers = [];
  try {
    for (const v of variants) servers.push({ ...v, proc: await start(v.file ?? 'lib/servers.js', [framework, v.kind, String(backend.port), ...(v.args ?? [])], SERVER_CORE) });
    for (const s of servers) checkRound(`${framework} ${s.kind} warm-up`, await load(loader, s.proc.port, requests, WARMUP), s.status);
    const rounds = servers.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      // A B C, then C B A: whichever server goes later in a round measured a few per cent slower
      // (the load generator's and backend's state after the one before), so each takes each place.
      for (let j = 0; j < servers.length; j++) {
        const i = r % 2 === 0 ? j : servers.length - 1 - j;
        const before = checkBackend ? await served(backend) : 0;
        const res = await load(loader, servers[i].proc.port, requests, DURATION);
        checkRound(`${framework} ${servers[i].kind} round ${r + 1}`, res, servers[i].status);
        if (checkBackend) {
          const hops = (await served(backend)) - before;
          if (hops < res.requests) throw new Error(`${framework} ${servers[i].kind}: ${res.requests} answers but the backend served ${hops}`);
        }
        rounds[i].push(res);
      }
    }
    const results = servers.map((s, i) => ({ kind: s.kind, against: s.against === true, rounds: rounds[i] }));
    // More measurements while the servers are still up (`then(servers, results)`).
    if (then) await then(servers, results);
    return results;
  } finally {
    for (const s of servers) stop(s.proc);
  }
}

/** Median req/s of a variant, and the median of per-round ratios against another. */
function summarise(variant, baseline) {
  const rps = median(variant.rounds.map((r) => r.rps));
  const p99 = median(variant.rounds.map((r) => r.p99ms));
  if (!baseline) return { rps, p99 };
  const ratio = median(variant.rounds.map((r, i) => r.rps / baseline.rounds[i].rps));
  return { rps, p99, ratio };
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtRatio = (r) => `${r.toFixed(2)}×`;
function verdictAtLeast(value, target) {
  return value >= target ? 'met' : `MISSED by ${(((target - value) / target) * 100).toFixed(0)} %`;
}
function verdictAtMost(value, target) {
  return value <= target ? 'met' : `MISSED by ${(((value - target) / target) * 100).toFixed(0)} %`;
}

async function main() {
  const t0 = Date.now();
  const distIndex = path.join(__dirname, '..', 'packages', 'core', 'dist', 'index.js');
  if (!fs.existsSync(distIndex)) throw new Error('packages are not built: run `pnpm run build` first (or `pnpm run bench`)');
  pin(process.pid, LOAD_CORE);

  const rows = [];
  const details = {};
  if (JWT_ONLY) {
    await jwtRows(rows, details);
    report(rows, details, t0);
    return;
  }
  const backend = await start('lib/backend.js', [], LOAD_CORE);
  const loader = await start('lib/load.js', [], LOAD_CORE);
  if (CLUSTER_ONLY || METRICS_ONLY) {
    try {
      if (CLUSTER_ONLY) await clusterRows(rows, details, loader, backend);
      else await metricsRows(rows, details, loader, backend);
    } finally {
      stop(loader);
      stop(backend);
    }
    report(rows, details, t0);
    return;
  }
  const passReqs = passingHttpRequests();
  const blockReqs = blockedHttpRequests();
  const frameworks = [
    { name: 'express', label: 'Express', pass: ['proxy', 'ase'] },
    { name: 'koa', label: 'Koa', pass: ['proxy', 'ase'] },
    { name: 'fastify', label: 'Fastify', pass: ['proxy', 'fastify-proxy', 'ase'] },
  ].filter((fw) => ONLY.length === 0 || ONLY.includes(fw.name));
  try {
    for (const fw of frameworks) {
      log(`${fw.label}: passing traffic, ${fw.pass.join(' vs ')} (${ROUNDS} rounds × ${DURATION} s)`);
      const variants = fw.pass.map((kind) => ({ kind, status: 200 }));
      if (AGAINST) variants.splice(variants.length - 1, 0, { kind: 'ase', status: 200, file: againstServers(), against: true });
      const pass = await compare({ framework: fw.name, variants, requests: passReqs, loader, backend, checkBackend: true });
      const ours = pass[pass.length - 1];
      details[`${fw.name}-pass`] = pass;
      if (AGAINST) rows.push(againstRow('passing traffic', fw.label, ours, pass.find((v) => v.against)));
      for (const base of pass.slice(0, -1).filter((v) => !v.against)) {
        const b = summarise(base);
        const s = summarise(ours, base);
        const baseName = base.kind === 'proxy' ? 'http-proxy-middleware' : '@fastify/http-proxy';
        rows.push({
          scenario: `passing traffic vs proxy only (${baseName})`,
          framework: fw.label,
          baseline: `${fmtInt(b.rps)} req/s, p99 ${b.p99} ms`,
          ours: `${fmtInt(s.rps)} req/s, p99 ${s.p99} ms`,
          ratio: fmtRatio(s.ratio),
          target: `≥ ${TARGET.pass.toFixed(2)}×`,
          verdict: verdictAtLeast(s.ratio, TARGET.pass),
          value: s.ratio,
        });
      }

      if (PASS_ONLY) continue;
      log(`${fw.label}: blocked traffic, hello world vs ASE blocking deny-listed clients`);
      const blocked = await compare({
        framework: fw.name,
        variants: [
          { kind: 'hello', status: 200 },
          ...(AGAINST ? [{ kind: 'ase-hello', status: 403, file: againstServers(), against: true }] : []),
          { kind: 'ase-hello', status: 403 },
        ],
        requests: blockReqs,
        loader,
        backend,
      });
      details[`${fw.name}-blocked`] = blocked;
      const blockedOurs = blocked[blocked.length - 1];
      if (AGAINST) rows.push(againstRow('blocked traffic', fw.label, blockedOurs, blocked.find((v) => v.against)));
      const hello = summarise(blocked[0]);
      const blk = summarise(blockedOurs, blocked[0]);
      rows.push({
        scenario: 'blocked traffic (deny-listed clients, 403) vs hello world',
        framework: fw.label,
        baseline: `${fmtInt(hello.rps)} req/s, p99 ${hello.p99} ms`,
        ours: `${fmtInt(blk.rps)} req/s, p99 ${blk.p99} ms`,
        ratio: fmtRatio(blk.ratio),
        target: `≥ ${TARGET.blocked.toFixed(2)}×`,
        verdict: verdictAtLeast(blk.ratio, TARGET.blocked),
        value: blk.ratio,
      });
      for (const r of rows.filter((x) => x.framework === fw.label)) log(`  ${r.scenario}: ${r.ratio} (${r.verdict})`);
    }
    if (!AGAINST) await clusterRows(rows, details, loader, backend);
  } finally {
    stop(loader);
    stop(backend);
  }

  if (!HTTP_ONLY) {
    await coreAndScale(rows, details).catch((err) => {
      log(`core/scale benchmark failed: ${err.stack ?? err}`);
      rows.push({ scenario: 'core alone / scale', framework: '—', baseline: '—', ours: '—', ratio: '—', target: '—', verdict: `FAILED: ${err.message}` });
    });
  }
  report(rows, details, t0);
}

/** The other checkout's server script (`--against`), checked once. */
function againstServers() {
  const file = path.resolve(AGAINST, 'bench', 'lib', 'servers.js');
  if (!fs.existsSync(file) || !fs.existsSync(path.resolve(AGAINST, 'packages', 'core', 'dist', 'index.js'))) {
    throw new Error(`--against=${AGAINST}: not a built checkout of this repository (run its set-up command and \`pnpm run build\` there)`);
  }
  return file;
}

/** A row comparing this build's ASE with the `--against` build's, same traffic, same rounds. */
function againstRow(what, label, ours, theirs) {
  const t = summarise(theirs);
  const s = summarise(ours, theirs);
  return {
    scenario: `${what}: this build vs ${path.basename(path.resolve(AGAINST))}`,
    framework: label,
    baseline: `${fmtInt(t.rps)} req/s, p99 ${t.p99} ms`,
    ours: `${fmtInt(s.rps)} req/s, p99 ${s.p99} ms`,
    ratio: fmtRatio(s.ratio),
    target: `≥ ${AGAINST_TARGET.toFixed(2)}×`,
    verdict: verdictAtLeast(s.ratio, AGAINST_TARGET),
    value: s.ratio,
  };
}

async function coreAndScale(rows, details) {
  log('core alone: decisions per second and decision time, no HTTP');
  const core = await runJson('core.js', SERVER_CORE);
  details.core = core;
  rows.push({
    scenario: 'core alone: decisions per second (one core)',
    framework: '—',
    baseline: '—',
    ours: `${fmtInt(core.decisionsPerSecond)} /s`,
    ratio: '—',
    target: `≥ ${fmtInt(TARGET.coreRate)} /s`,
    verdict: verdictAtLeast(core.decisionsPerSecond, TARGET.coreRate),
  });
  rows.push({
    scenario: 'core alone: decision time p99 (p50)',
    framework: '—',
    baseline: '—',
    ours: `${core.p99us.toFixed(1)} µs (${core.p50us.toFixed(1)} µs)`,
    ratio: '—',
    target: `< ${TARGET.coreP99} µs`,
    verdict: verdictAtMost(core.p99us, TARGET.coreP99 - 1e-9),
  });

  await jwtRows(rows, details);

  log('scale: 1 000 000 deny-list entries');
  const scale = await runJson('scale.js', SERVER_CORE, ['--expose-gc']);
  details.scale = scale;
  rows.push({
    scenario: `scale: 1 000 000 deny entries, extra memory (load from lists.json: ${(scale.loadMs / 1000).toFixed(1)} s)`,
    framework: '—',
    baseline: '—',
    ours: `${scale.extraMB.toFixed(0)} MB`,
    ratio: '—',
    target: `< ${TARGET.scaleMB} MB`,
    verdict: verdictAtMost(scale.extraMB, TARGET.scaleMB),
  });
  rows.push({
    scenario: `scale: decision time with 1 000 000 vs 1 000 entries (per lookup: ${scale.lookupNs1M.toFixed(0)} vs ${scale.lookupNs1k.toFixed(0)} ns)`,
    framework: '—',
    baseline: `${scale.decisionUs1k.toFixed(2)} µs`,
    ours: `${scale.decisionUs1M.toFixed(2)} µs`,
    ratio: fmtRatio(scale.decisionRatio),
    target: `≤ ${TARGET.scaleRatio.toFixed(2)}× (as fast)`,
    verdict: verdictAtMost(scale.decisionRatio, TARGET.scaleRatio),
  });
}

/**
 * What the metrics cost passing traffic: one framework's ASE gateway whose metrics are never loaded
 * (prom-client not even required) against the same gateway scraped every second, in the same
 * rounds. Decisions are counted either way (plain numbers); the scrape turns them into text.
 */
async function metricsRows(rows, details, loader, backend) {
  const fw = ONLY[0] ?? 'express';
  const label = { express: 'Express', koa: 'Koa', fastify: 'Fastify' }[fw] ?? fw;
  if (fw !== 'express') throw new Error('--metrics-only runs on Express (the ase-scraped server is an Express app)');
  log(`${label}: passing traffic, ASE with metrics never loaded vs scraped every second (${ROUNDS} rounds × ${DURATION} s)`);
  let scrapes = 0;
  let medianMs = 0;
  const [plain, scraped] = await compare({
    framework: fw,
    variants: [
      { kind: 'ase', status: 200 },
      { kind: 'ase-scraped', status: 200 },
    ],
    requests: passingHttpRequests(),
    loader,
    backend,
    checkBackend: true,
    then: async (servers) => {
      const s = servers[1].proc.child;
      ({ scrapes, medianMs } = await new Promise((resolve) => {
        s.once('message', resolve);
        s.send({ cmd: 'scrapes' });
      }));
    },
  });
  if (!(scrapes > 0)) throw new Error('the scraped server was never scraped');
  details.metrics = { framework: fw, scrapes, scrapeMedianMs: medianMs, variants: [plain, scraped] };
  const p = summarise(plain);
  const m = summarise(scraped, plain);
  rows.push({
    scenario: `metrics: passing traffic, scraped every second (${scrapes} scrapes, median ${medianMs.toFixed(1)} ms each) vs never loaded`,
    framework: label,
    baseline: `${fmtInt(p.rps)} req/s, p99 ${p.p99} ms`,
    ours: `${fmtInt(m.rps)} req/s, p99 ${m.p99} ms`,
    ratio: fmtRatio(m.ratio),
    target: '≥ 0.95×',
    verdict: verdictAtLeast(m.ratio, 0.95),
    value: m.ratio,
  });
}

/**
 * Passing traffic through one framework's ASE gateway, with the default memory stores and with
 * `redisStores` on the local Redis (a cluster of its own, its keys deleted afterwards), in the same
 * rounds. The client rate limit is on (never tripped), so every request counts in the shared store.
 */
async function clusterRows(rows, details, loader, backend) {
  const fw = ONLY[0] ?? 'express';
  const label = { express: 'Express', koa: 'Koa', fastify: 'Fastify' }[fw] ?? fw;
  const scenario = 'cluster: passing traffic, client rate limit on, Redis stores vs memory stores';
  const clusterId = `ase-bench-${process.pid}-${Date.now()}`;
  const Redis = require('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      throw new Error(`no Redis at ${REDIS_URL} (${err.message}): start one (redis-server --save "" --appendonly no) or set BENCH_REDIS_URL`);
    }
    log(`${label}: passing traffic, ASE with memory stores vs Redis stores (${REDIS_URL}, clusterId ${clusterId})`);
    const requests = passingHttpRequests();
    let latency;
    const [memory, onRedis] = await compare({
      framework: fw,
      variants: [
        { kind: 'ase', status: 200 },
        { kind: 'ase-redis', status: 200, args: [REDIS_URL, clusterId] },
      ],
      requests,
      loader,
      backend,
      checkBackend: true,
      then: async (servers, results) => {
        latency = await addedLatency(servers, results, requests, loader, backend);
      },
    });
    details.cluster = { framework: fw, clusterId, variants: [memory, onRedis], latency };
    const m = summarise(memory);
    const r = summarise(onRedis, memory);
    const us = (n) => `${Math.round(n)} µs`;
    rows.push({
      scenario,
      framework: label,
      baseline: `${fmtInt(m.rps)} req/s, p99 ${m.p99} ms`,
      ours: `${fmtInt(r.rps)} req/s, p99 ${r.p99} ms`,
      ratio: fmtRatio(r.ratio),
      target: `≥ ${TARGET.redis.toFixed(2)}×`,
      verdict: verdictAtLeast(r.ratio, TARGET.redis),
      value: r.ratio,
    });
    rows.push({
      scenario: `cluster: p99 latency the gateway adds to a request at ${fmtInt(latency.rate)} req/s (backend alone: p99 ${us(latency.backendP99us)}), Redis stores vs memory stores`,
      framework: label,
      baseline: `+${us(latency.memoryAddedUs)}`,
      ours: `+${us(latency.redisAddedUs)}`,
      ratio: `${latency.redisAddedUs - latency.memoryAddedUs >= 0 ? '+' : '−'}${us(Math.abs(latency.redisAddedUs - latency.memoryAddedUs))}`,
      target: '—',
      verdict: 'measured',
    });
    log(`  ${scenario}: ${fmtRatio(r.ratio)} (${verdictAtLeast(r.ratio, TARGET.redis)})`);
  } catch (err) {
    log(`cluster benchmark failed: ${err.stack ?? err}`);
    rows.push({ scenario, framework: label, baseline: '—', ours: '—', ratio: '—', target: `≥ ${TARGET.redis.toFixed(2)}×`, verdict: `FAILED: ${err.message}` });
  } finally {
    if (redis.status === 'ready') {
      await deleteKeys(redis, `*{${clusterId}}:*`).catch((err) => log(`could not delete the keys of ${clusterId}: ${err.message}`));
      await redis.quit().catch(() => redis.disconnect());
    } else redis.disconnect();
  }
}

/**
 * Latency without queueing: the same requests at a fixed rate, half what the slower variant
 * served at full load, to the backend alone and through each gateway, in alternating rounds.
 * What a gateway adds is its p99 (median of the rounds) minus the backend's.
 */
async function addedLatency(servers, results, requests, loader, backend) {
  const rate = Math.max(100, Math.round(0.5 * Math.min(...results.map((v) => median(v.rounds.map((r) => r.rps))))));
  log(`  p99 latency at ${rate} req/s: backend alone and through each gateway`);
  const targets = [{ kind: 'backend', port: backend.port }, ...servers.map((s) => ({ kind: s.kind, port: s.proc.port }))];
  const p99 = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < targets.length; j++) {
      const i = r % 2 === 0 ? j : targets.length - 1 - j;
      const res = await load(loader, targets[i].port, requests, DURATION, { rate, connections: 10 });
      checkRound(`latency ${targets[i].kind} round ${r + 1}`, res, 200);
      p99[i].push(res.p99us);
    }
  }
  const [backendP99us, memoryP99us, redisP99us] = p99.map(median);
  return { rate, backendP99us, memoryP99us, redisP99us, memoryAddedUs: memoryP99us - backendP99us, redisAddedUs: redisP99us - backendP99us, rounds: p99 };
}

async function deleteKeys(redis, pattern) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** JWT verification ON against OFF, same requests, same run (bench/jwt.js); measured, no target. */
async function jwtRows(rows, details) {
  log('core alone: JWT verification on vs off (decode only)');
  const jwt = await runJson('jwt.js', SERVER_CORE);
  details.jwt = jwt;
  for (const alg of ['hs256', 'rs256']) {
    rows.push({
      scenario: `core alone: passing traffic with a signed JWT, ${alg.toUpperCase()} verification on vs off (verified tokens cached; first sight of a token ${jwt[`${alg}FirstSightUs`].toFixed(0)} µs)`,
      framework: '—',
      baseline: `${fmtInt(jwt.offPerSecond)} /s`,
      ours: `${fmtInt(jwt[`${alg}PerSecond`])} /s`,
      ratio: fmtRatio(jwt[`${alg}Ratio`]),
      target: '—',
      verdict: 'measured',
    });
  }
}

function report(rows, details, t0) {
  const seconds = (Date.now() - t0) / 1000;
  const header =
    `ASE benchmarks — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}` +
    `${pinning() ? ' (servers on core 1, load + backend on core 0)' : ''}; ${ROUNDS} rounds × ${DURATION} s, ` +
    `${CONNECTIONS} keep-alive connections; realistic policy: ${API_COUNT} APIs, ${fmtInt(DENY_ENTRIES)} deny entries, client rate ${CLIENT_RATE}; ` +
    `took ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  const cols = ['scenario', 'framework', 'baseline', 'ours', 'ratio', 'target', 'verdict'];
  const names = ['scenario', 'framework', 'baseline', 'ASE', 'ratio', 'target', 'verdict'];
  const table = [
    `| ${names.join(' | ')} |`,
    `| ${names.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`),
  ].join('\n');
  const text = `${header}\n\n${table}\n`;
  process.stdout.write(`\n${text}`);

  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.md'), text);
  fs.writeFileSync(
    path.join(outDir, 'latest.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, duration: DURATION, connections: CONNECTIONS, seconds, rows, details }, null, 1)}\n`,
  );
}

runMain('bench', main);
