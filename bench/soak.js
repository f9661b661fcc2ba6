'use strict';
// Soak: the gateway under a steady mix of traffic for minutes, on loopback only, watching for leaks.
//
//   node bench/soak.js [--minutes=30 | --seconds=60] [--frameworks=express,koa,fastify] [--sample=SECONDS] [--warmup=SECONDS] [--csv=FILE] [--json]
//
// (from the repository root, after `pnpm run build`). One gateway per framework (the gateway
// `ase start` runs, each in its own process with its own config directory) serves four APIs: `shop`
// (proxied, blocking, with a decoy path), `limited` (client_spike_threshold 10/second), `flaky`
// (its backend stops listening and comes back on a cycle) and `chat` (WebSocket echo). Against
// each gateway, at once: legitimate clients, a deny-listed client, decoy hitters (each then
// blocked), a client over its rate limit and one under it, a client of the flaky API, WebSocket
// sessions opened, used and closed. Each client class has its own 127.x source address.
//
// Every answer must be one its class expects (listed in CLASSES). Memory (RSS; heap used after a
// full collection), open file descriptors and active handles of each gateway are sampled every
// --sample seconds and printed as a table (and CSV with --csv). The run fails (exit code 1) when an
// answer was unexpected, when descriptors or handles are not back to their idle level once the
// traffic stopped, or when memory grew: the last third of the samples' mean over the first third's
// by more than SOAK_RSS_GROWTH_MB (RSS; 40 MB for runs under 5 minutes, else 25) or
// SOAK_HEAP_GROWTH_MB (heap after a collection; 3 MB). A warm-up before the first sample (10 s; for
// runs of 5 minutes or more a tenth of the run, at most 2 minutes) lets the gateway reach its
// working size (JIT, pools, the deny list's decoy IPs).
// --json prints the summary as one JSON line last (test/soak runs the short form that way).
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { steadyBackend, flakyBackend, wsBackend } = require('./lib/soak-backends');
const { Traffic, CLASSES } = require('./lib/soak-traffic');

const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const SECONDS = arg('seconds') ? Number(arg('seconds')) : Number(arg('minutes', '30')) * 60;
const FRAMEWORKS = arg('frameworks', 'express,koa,fastify').split(',').filter(Boolean);
const SAMPLE_S = Number(arg('sample', String(Math.max(2, Math.round(SECONDS / 40)))));
const CSV = arg('csv');
const JSON_OUT = process.argv.includes('--json');
// RSS grows with the traffic's concurrency until V8's young generation and malloc's arenas reach
// their working size (a minute or two); the heap after a full collection is flat from the start.
// The short form's RSS bound is therefore loose (it catches a leak of a megabyte a second); the long
// form warms up for two minutes and holds RSS to a tighter bound.
const LONG = SECONDS >= 300;
const WARMUP_S = Number(arg('warmup', String(LONG ? Math.min(120, Math.round(SECONDS / 10)) : 10)));
const RSS_GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB ?? (LONG ? 25 : 40));
const HEAP_GROWTH_MB = Number(process.env.SOAK_HEAP_GROWTH_MB ?? 3);
/** How long descriptors and handles may take to go back to idle after the traffic: backends' kept-alive sockets close after 4-5 s. */
const SETTLE_MS = 20_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = (b) => b / (1024 * 1024);
const log = (msg) => process.stderr.write(`${msg}\n`);

function writeConfig(dir, ports) {
  const api = (url, over) => ({ api_metadata: { protocol: 'http', url, hostname: '*', ...over } });
  const server = (port) => [{ host: '127.0.0.1', port }];
  const apis = {
    shop: api('/shop', {
      enable_blocking: true,
      servers: server(ports.steady),
      decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
    }),
    limited: api('/limited', { servers: server(ports.steady), flow_control: { client_spike_threshold: '10/second' } }),
    flaky: api('/flaky', { servers: server(ports.flaky) }),
    chat: api('/chat', { protocol: 'ws', servers: server(ports.ws) }),
  };
  fs.mkdirSync(path.join(dir, 'api'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ase.conf'), 'enable_ase_detected_attack=true\n');
  for (const [id, json] of Object.entries(apis)) fs.writeFileSync(path.join(dir, 'api', `${id}.json`), JSON.stringify(json, null, 2));
}

/** A gateway process and a request/answer channel to it. */
async function startGateway(dir, framework) {
  const child = fork(path.join(__dirname, 'lib', 'soak-gateway.js'), [dir, framework], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let nextId = 0;
  child.on('message', (m) => {
    const w = waiting.get(m.id ?? 'ready');
    if (w) {
      waiting.delete(m.id ?? 'ready');
      w(m);
    }
  });
  const exited = new Promise((r) => child.on('exit', r));
  const ready = await Promise.race([
    new Promise((r) => waiting.set('ready', r)),
    exited.then((code) => {
      throw new Error(`the ${framework} gateway exited (${code}) before it was ready`);
    }),
  ]);
  const ask = (type) =>
    new Promise((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      child.send({ type, id });
    });
  return {
    framework,
    port: ready.port,
    pid: child.pid,
    sample: () => ask('sample'),
    logged: () => ask('logged'),
    stop: async () => {
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Samples every gateway until descriptors and handles are back to `base` (or SETTLE_MS passed). */
async function settle(gateways, base) {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const s = await Promise.all(gateways.map((g) => g.sample()));
    const back = s.every((x, i) => !base || (x.fds <= base[i].fds && x.handles <= base[i].handles));
    if (back || Date.now() > deadline) return s;
    await sleep(500);
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Last third's mean minus first third's (a flat curve gives about 0). */
function growth(values) {
  const third = Math.max(1, Math.floor(values.length / 3));
  return mean(values.slice(-third)) - mean(values.slice(0, third));
}

function table(rows, frameworks) {
  const head = ['t (s)', ...frameworks.flatMap((f) => [`${f} RSS MB`, `${f} heap MB`, `${f} fds`, `${f} handles`]), 'requests', 'ws sessions'];
  const lines = rows.map((r) => [
    r.t,
    ...r.gateways.flatMap((g) => [MB(g.rss).toFixed(1), MB(g.heapUsed).toFixed(1), g.fds, g.handles]),
    r.requests,
    r.sessions,
  ]);
  return { head, lines };
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-soak-'));
  const backends = { steady: await steadyBackend(), flaky: await flakyBackend(4000, 2000), ws: await wsBackend() };
  const ports = { steady: backends.steady.port, flaky: backends.flaky.port, ws: backends.ws.port };
  const gateways = [];
  try {
    for (const fw of FRAMEWORKS) {
      const dir = path.join(root, fw);
      writeConfig(dir, ports);
      gateways.push(await startGateway(dir, fw));
    }
    log(`soak: ${FRAMEWORKS.join(', ')} for ${SECONDS} s (warm-up ${WARMUP_S} s, a sample every ${SAMPLE_S} s)`);

    // Warm-up, then the idle level every gateway must come back to.
    const warm = new Traffic(gateways);
    warm.start();
    await sleep(WARMUP_S * 1000);
    await warm.stop();
    const base = await settle(gateways, undefined).then(() => sleep(6000)).then(() => settle(gateways, undefined));

    const traffic = new Traffic(gateways);
    const started = Date.now();
    traffic.start();
    const rows = [];
    while (Date.now() - started < SECONDS * 1000) {
      await sleep(Math.min(SAMPLE_S * 1000, SECONDS * 1000 - (Date.now() - started)));
      const s = await Promise.all(gateways.map((g) => g.sample()));
      rows.push({ t: Math.round((Date.now() - started) / 1000), gateways: s, requests: traffic.requests, sessions: traffic.sessions });
      if (!JSON_OUT) log(`t=${rows.at(-1).t}s ${s.map((x, i) => `${FRAMEWORKS[i]} rss=${MB(x.rss).toFixed(1)}MB heap=${MB(x.heapUsed).toFixed(1)}MB fds=${x.fds} handles=${x.handles}`).join(' | ')}`);
    }
    await traffic.stop();
    const idle = await settle(gateways, base);
    const logged = await Promise.all(gateways.map((g) => g.logged()));

    const per = gateways.map((g, i) => {
      const rss = rows.map((r) => r.gateways[i].rss);
      const heap = rows.map((r) => r.gateways[i].heapUsed);
      return {
        framework: g.framework,
        rssGrowthMB: Number(MB(growth(rss)).toFixed(2)),
        heapGrowthMB: Number(MB(growth(heap)).toFixed(2)),
        base: { fds: base[i].fds, handles: base[i].handles, resources: base[i].resources },
        idle: { fds: idle[i].fds, handles: idle[i].handles, resources: idle[i].resources },
        errorsLogged: idle[i].errors,
        warningsLogged: idle[i].warnings,
        firstErrors: logged[i].error.slice(0, 5),
        statuses: traffic.statuses[i],
      };
    });
    const failures = [];
    for (const p of per) {
      if (p.idle.fds > p.base.fds) failures.push(`${p.framework}: ${p.idle.fds} file descriptors open once idle, ${p.base.fds} before`);
      if (p.idle.handles > p.base.handles) failures.push(`${p.framework}: ${p.idle.handles} active handles once idle, ${p.base.handles} before (${JSON.stringify(p.idle.resources)})`);
      if (p.rssGrowthMB > RSS_GROWTH_MB) failures.push(`${p.framework}: RSS grew ${p.rssGrowthMB} MB (last third over first third; limit ${RSS_GROWTH_MB})`);
      if (p.heapGrowthMB > HEAP_GROWTH_MB) failures.push(`${p.framework}: heap after collection grew ${p.heapGrowthMB} MB (limit ${HEAP_GROWTH_MB})`);
      if (p.errorsLogged > 0) failures.push(`${p.framework}: ${p.errorsLogged} errors logged: ${p.firstErrors.join(' / ')}`);
      for (const [cls, spec] of Object.entries(CLASSES)) {
        const seen = p.statuses[cls] ?? {};
        for (const must of spec.mustSee ?? spec.expect) if (!seen[must]) failures.push(`${p.framework}: ${cls} never answered ${must} (${JSON.stringify(seen)})`);
      }
    }
    for (const u of traffic.unexpected.slice(0, 10)) failures.push(`unexpected: ${u}`);
    if (traffic.unexpectedCount > 10) failures.push(`... ${traffic.unexpectedCount - 10} more unexpected answers`);
    if (backends.flaky.cycles() < 1) failures.push('the flaky backend never came back within the run');

    const { head, lines } = table(rows, FRAMEWORKS);
    if (CSV) fs.writeFileSync(CSV, [head, ...lines].map((l) => l.join(',')).join('\n') + '\n');
    const md = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n');
    const summary = { seconds: SECONDS, frameworks: FRAMEWORKS, requests: traffic.requests, sessions: traffic.sessions, flakyCycles: backends.flaky.cycles(), unexpected: traffic.unexpectedCount, gateways: per, failures, ok: failures.length === 0 };
    if (JSON_OUT) {
      process.stdout.write(`${md}\n${JSON.stringify(summary)}\n`);
    } else {
      process.stdout.write(`${md}\n\n`);
      for (const p of per) process.stdout.write(`${p.framework}: RSS ${p.rssGrowthMB >= 0 ? '+' : ''}${p.rssGrowthMB} MB, heap ${p.heapGrowthMB >= 0 ? '+' : ''}${p.heapGrowthMB} MB (last third vs first); fds ${p.base.fds} -> ${p.idle.fds}, handles ${p.base.handles} -> ${p.idle.handles}; ${JSON.stringify(p.statuses)}\n`);
      process.stdout.write(`${traffic.requests} requests, ${traffic.sessions} WebSocket sessions, ${backends.flaky.cycles()} backend outages recovered: ${failures.length === 0 ? 'OK' : `FAILED\n${failures.join('\n')}`}\n`);
    }
    process.exitCode = failures.length === 0 ? 0 : 1;
  } finally {
    for (const g of gateways) await g.stop();
    await Promise.all(Object.values(backends).map((b) => b.close()));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log(`soak: ${err.stack ?? err}`);
  process.exitCode = 2;
});
