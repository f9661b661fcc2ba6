'use strict';
// ASE's standalone gateway beside the peers a user would choose instead, all configured for the
// same job (bench/lib/peers-config.js): 50 API prefixes proxied to one keep-alive backend, 10 000
// denied IPs (from X-Forwarded-For) and 10 000 denied bearer tokens.
//
//   node bench/peers.js [--quick] [--no-latency] [--no-large-lists]     (after `npx tsc -b`)
//   bench/setup-peers.sh        installs nginx, HAProxy and wrk with apt-get when missing (root)
//
// Peers: nginx and HAProxy (one worker / one thread), @fastify/http-proxy with no policy, a bare
// node:http server answering a fixed response (the ceiling for any Node gateway), and `ase start`
// with its default server and with each framework. Each server runs alone on core 1 (taskset); wrk
// and the backend run on core 0. All servers of a phase are up together, warmed, then loaded in turn,
// round after round, the order reversed every other round; a cell is the median of the rounds, a
// ratio the median of the per-round ratios. Then latency at a fixed rate (autocannon, which holds a
// rate): half the slower of the proxy-only baseline's and the default gateway's maximum. Then start-up
// and list writes with 1 000 000 entries (bench/large-lists.js). Environment: BENCH_ROUNDS (5),
// BENCH_DURATION (3 s), BENCH_WARMUP (2 s), BENCH_CONNECTIONS (50). Writes bench/results/peers.{md,json}.
const { execFileSync, fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { aseConfig, nginxConfig, haproxyConfig, traffic, PREFIXES, DENIED_IPS, DENIED_TOKENS } = require('./lib/peers-config');
const { wrkScript, runWrk } = require('./lib/wrk');
const { checkRound, cleanup, load, log, median, pin, pinning, runMain, served, start, stop, track } = require('./lib/harness');

const QUICK = process.argv.includes('--quick');
const NO_LATENCY = process.argv.includes('--no-latency');
const NO_LARGE = process.argv.includes('--no-large-lists');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 1 : 2));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SERVER_CORE = 1;
const LOAD_CORE = 0;
const ASE_BIN = path.join(__dirname, '..', 'packages', 'cli', 'bin', 'ase.js');

const TARGET = { blockedVsBare: 0.9, passVsFastifyProxy: 1.5, startSeconds: 3, writeMs: 5 };

const pinned = pinning() && has('taskset');

/** The path of `bin` (on PATH, or in /usr/sbin where Debian puts nginx and haproxy), or undefined. */
function which(bin) {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim();
  } catch {
    return ['/usr/sbin', '/usr/local/sbin'].map((d) => path.join(d, bin)).find((f) => fs.existsSync(f));
  }
}
function has(bin) {
  return which(bin) !== undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port, child, name) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port}`);
}

/** A server binary run on core 1 (its children too), stderr kept for the error message. */
function spawnPinned(cmd, args) {
  const [c, a] = pinned ? ['taskset', ['-c', String(SERVER_CORE), cmd, ...args]] : [cmd, args];
  const child = track(spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.output = () => out;
  return child;
}

async function startNginx(dir, backendPort) {
  const port = await freePort();
  const conf = nginxConfig(dir, port, backendPort);
  const child = spawnPinned(which('nginx'), ['-p', dir, '-c', conf]);
  await waitListening(port, child, 'nginx').catch((err) => {
    throw new Error(`${err.message}\n${child.output()}`);
  });
  return { child, port };
}

async function startHaproxy(dir, backendPort) {
  const port = await freePort();
  const conf = haproxyConfig(dir, port, backendPort);
  const child = spawnPinned(which('haproxy'), ['-db', '-f', conf]);
  await waitListening(port, child, 'haproxy').catch((err) => {
    throw new Error(`${err.message}\n${child.output()}`);
  });
  return { child, port };
}

/** `ase start` on the peers' config directory; `framework` undefined = the default. */
async function startAse(configDir, framework) {
  const args = [ASE_BIN, 'start', '--config-dir', configDir, '--port', '0', '--bind', '127.0.0.1', '--admin-port', '0'];
  if (framework) args.push('--framework', framework);
  const child = spawnPinned(process.execPath, args);
  const port = await new Promise((resolve, reject) => {
    const onData = () => {
      const m = /ASE ready: (\w+) gateway on port (\d+)/.exec(child.output());
      if (m) {
        child.stdout.off('data', onData);
        child.served = m[1];
        resolve(Number(m[2]));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`ase start${framework ? ` --framework ${framework}` : ''} exited with ${code}:\n${child.output()}`)));
  });
  return { child, port, served: child.served };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** [pid, ppid, utime + stime in ticks] of every process, from /proc (Linux). */
function processTimes() {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
      out.push([Number(name), Number(f[1]), Number(f[11]) + Number(f[12])]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU seconds a server has used so far, its worker processes included (nginx, HAProxy): on a busy
 * shared machine the CPU per request moves far less than requests per second do.
 */
function cpuSeconds(pid) {
  if (process.platform !== 'linux') return NaN;
  const all = processTimes();
  let ticks = 0;
  const ids = new Set([pid]);
  for (const [id, , t] of all) if (id === pid) ticks += t;
  for (const [id, ppid, t] of all) if (ids.has(ppid) && !ids.has(id)) ticks += t;
  return ticks / CLK_TCK;
}

/** The peers of one phase, available ones only; `skipped` gets a reason for each missing one. */
async function startPeers(phase, tmp, backend, skipped) {
  const status = phase === 'pass' ? 200 : 403;
  const peers = [];
  const add = async (name, proxied, starter) => {
    try {
      peers.push({ name, proxied, proc: await starter(), rounds: [] });
    } catch (err) {
      skipped[name] = err.message.split('\n')[0];
      log(`  ${name}: skipped (${skipped[name]})`);
    }
  };
  const dir = (n) => {
    const d = path.join(tmp, `${phase}-${n}`);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  if (has('nginx')) await add('nginx', true, () => startNginx(dir('nginx'), backend.port));
  else skipped.nginx = 'nginx is not installed (bench/setup-peers.sh installs it)';
  if (has('haproxy')) await add('HAProxy', true, () => startHaproxy(dir('haproxy'), backend.port));
  else skipped.HAProxy = 'haproxy is not installed (bench/setup-peers.sh installs it)';
  if (phase === 'pass') await add('@fastify/http-proxy, no policy', true, () => start('lib/servers.js', ['fastify', 'fastify-proxy', String(backend.port)], SERVER_CORE));
  await add(`bare node:http, ${status} (no proxy)`, false, () => start('lib/bare-node.js', [String(status)], SERVER_CORE));
  const conf = aseConfig(dir('ase'), backend.port);
  for (const fw of [undefined, 'express', 'koa', 'fastify']) {
    await add(fw ? `ase start --framework ${fw}` : 'ase start (default)', true, async () => {
      const p = await startAse(conf, fw);
      return p;
    });
  }
  const def = peers.find((p) => p.name === 'ase start (default)');
  if (def) def.name = `ase start (default: ${def.proc.served})`;
  return peers;
}

async function runPhase(phase, tmp, backend, skipped) {
  const status = phase === 'pass' ? 200 : 403;
  const requests = traffic(phase === 'pass' ? 'passing' : 'blocked');
  const script = wrkScript(tmp, phase, requests);
  log(`${phase === 'pass' ? 'passing' : 'blocked'} traffic: starting the peers`);
  const peers = await startPeers(phase, tmp, backend, skipped);
  const wrk = (peer, seconds) => runWrk({ script, port: peer.proc.port, seconds, connections: CONNECTIONS, core: LOAD_CORE, pinned });
  try {
    for (const peer of peers) {
      const w = await wrk(peer, WARMUP);
      checkRound(`${peer.name} warm-up`, w, status);
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? peers : [...peers].reverse();
      for (const peer of order) {
        const before = phase === 'pass' && peer.proxied ? await served(backend) : 0;
        const cpu0 = cpuSeconds(peer.proc.child.pid);
        const res = await wrk(peer, DURATION);
        res.cpuUsPerRequest = ((cpuSeconds(peer.proc.child.pid) - cpu0) * 1e6) / res.requests;
        checkRound(`${peer.name} round ${r + 1}`, res, status);
        if (phase === 'pass' && peer.proxied) {
          const reached = (await served(backend)) - before;
          if (reached < res.requests) throw new Error(`${peer.name} round ${r + 1}: ${res.requests} answered, the backend served ${reached}`);
        }
        peer.rounds.push(res);
      }
      log(`  round ${r + 1}/${ROUNDS}: ${peers.map((p) => `${p.name} ${Math.round(p.rounds[r].rps)}`).join(', ')}`);
    }
  } catch (err) {
    for (const p of peers) stop(p.proc);
    throw err;
  }
  return peers;
}

/** Median of the per-round ratios of `a` over `b` (same rounds, so the same moment of the machine). */
function ratio(a, b) {
  return median(a.rounds.map((r, i) => r.rps / b.rounds[i].rps));
}

/** The same on server CPU per request (b's over a's: higher is faster), steadier on a busy machine. */
function cpuRatio(a, b) {
  return median(a.rounds.map((r, i) => b.rounds[i].cpuUsPerRequest / r.cpuUsPerRequest));
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtRatio = (r) => (r === undefined ? '—' : `${r.toFixed(2)}×`);
const verdictAtLeast = (v, t) => (v >= t ? 'met' : `MISSED by ${(((t - v) / t) * 100).toFixed(0)} %`);
const verdictAtMost = (v, t) => (v <= t ? 'met' : `MISSED by ${(((v - t) / t) * 100).toFixed(0)} %`);

function phaseTable(title, peers) {
  const nginx = peers.find((p) => p.name === 'nginx');
  const bare = peers.find((p) => p.name.startsWith('bare node'));
  const lines = [
    `### ${title}`,
    '',
    '| server | req/s (median) | p99 (median) | vs nginx | vs bare node | server CPU per request | vs nginx, by CPU | vs bare node, by CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const p of peers) {
    const rps = median(p.rounds.map((r) => r.rps));
    const p99 = median(p.rounds.map((r) => r.p99ms));
    const cpu = median(p.rounds.map((r) => r.cpuUsPerRequest));
    lines.push(
      `| ${p.name} | ${fmtInt(rps)} | ${p99.toFixed(1)} ms | ${nginx ? fmtRatio(ratio(p, nginx)) : '—'} | ${bare ? fmtRatio(ratio(p, bare)) : '—'} | ` +
        `${cpu.toFixed(0)} µs | ${nginx ? fmtRatio(cpuRatio(p, nginx)) : '—'} | ${bare ? fmtRatio(cpuRatio(p, bare)) : '—'} |`,
    );
  }
  return lines.join('\n');
}

/** Latency at a fixed rate: backend alone, the proxy-only baseline, nginx and the default gateway (still up from the passing phase). */
async function latency(backend, passPeers) {
  const base = passPeers.find((p) => p.name.startsWith('@fastify/http-proxy'));
  const ase = passPeers.find((p) => p.name.startsWith('ase start (default'));
  if (!base || !ase) return undefined;
  const rate = Math.max(100, Math.round(0.5 * Math.min(median(base.rounds.map((r) => r.rps)), median(ase.rounds.map((r) => r.rps)))));
  log(`latency at a fixed ${rate} req/s (autocannon, 10 connections)`);
  const loader = await start('lib/load.js', [], LOAD_CORE);
  const targets = [{ name: 'backend alone', port: backend.port }];
  for (const p of passPeers) {
    if (p.name === 'nginx' || p === base || p === ase) targets.push({ name: p.name, port: p.proc.port });
  }
  try {
    const requests = traffic('passing');
    const job = (port, duration) => load(loader, port, requests, duration, { connections: 10, rate });
    for (const t of targets) await job(t.port, WARMUP);
    const rounds = targets.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < targets.length; j++) {
        const i = r % 2 === 0 ? j : targets.length - 1 - j;
        const res = await job(targets[i].port, DURATION);
        checkRound(`latency ${targets[i].name} round ${r + 1}`, res, 200);
        rounds[i].push(res);
      }
    }
    const rows = targets.map((t, i) => ({
      name: t.name,
      rps: median(rounds[i].map((r) => r.rps)),
      p50us: median(rounds[i].map((r) => r.p50us)),
      p99us: median(rounds[i].map((r) => r.p99us)),
      p999us: median(rounds[i].map((r) => r.p999us)),
    }));
    return { rate, rows, rounds };
  } finally {
    stop(loader);
  }
}

function latencyTable(lat) {
  const base = lat.rows.find((r) => r.name.startsWith('@fastify/http-proxy'));
  const us = (n) => `${Math.round(n)} µs`;
  const signed = (n) => `${n >= 0 ? '+' : '−'}${us(Math.abs(n))}`;
  const lines = [
    `### Latency at a fixed ${fmtInt(lat.rate)} req/s (half the slower maximum of the proxy-only baseline and the default gateway; autocannon, 10 connections)`,
    '',
    '| server | p50 | p99 | p99.9 | added over @fastify/http-proxy: p50 / p99 / p99.9 |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of lat.rows) {
    const added = base && r !== base && r.name !== 'backend alone' ? `${signed(r.p50us - base.p50us)} / ${signed(r.p99us - base.p99us)} / ${signed(r.p999us - base.p999us)}` : '—';
    lines.push(`| ${r.name} | ${us(r.p50us)} | ${us(r.p99us)} | ${us(r.p999us)} | ${added} |`);
  }
  return lines.join('\n');
}

function runLargeLists() {
  return new Promise((resolve, reject) => {
    const child = track(fork(path.join(__dirname, 'large-lists.js'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`large-lists.js exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

async function main() {
  const t0 = Date.now();
  if (!fs.existsSync(path.join(__dirname, '..', 'packages', 'cli', 'dist', 'gateway.js'))) throw new Error('packages are not built: run `npx tsc -b` first');
  if (!has('wrk')) throw new Error('wrk is not installed: run bench/setup-peers.sh (as root), or `apt-get install wrk`');
  if (pinned) pin(process.pid, LOAD_CORE);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-peers-'));
  const skipped = {};
  let pass;
  let blocked;
  let lat;
  let large;
  try {
    const backend = await start('lib/backend.js', [], LOAD_CORE);
    try {
      pass = await runPhase('pass', tmp, backend, skipped);
      try {
        if (!NO_LATENCY) lat = await latency(backend, pass);
      } finally {
        for (const p of pass) stop(p.proc);
      }
      blocked = await runPhase('blocked', tmp, backend, skipped);
      for (const p of blocked) stop(p.proc);
    } finally {
      stop(backend);
    }
    if (!NO_LARGE) {
      log('large lists: start-up and one acknowledged write with 1 000 000 entries');
      large = await runLargeLists();
    }
  } finally {
    cleanup();
    await new Promise((r) => setTimeout(r, 300)); // nginx and HAProxy exit before their folder goes
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const targets = [];
  const aseDefault = (peers) => peers.find((p) => p.name.startsWith('ase start (default'));
  const bareOf = (peers) => peers.find((p) => p.name.startsWith('bare node'));
  if (aseDefault(blocked) && bareOf(blocked)) {
    const r = ratio(aseDefault(blocked), bareOf(blocked));
    targets.push(['blocked traffic, `ase start` (default) vs bare node:http answering 403', `${fmtRatio(r)} (by CPU per request: ${fmtRatio(cpuRatio(aseDefault(blocked), bareOf(blocked)))})`, `≥ ${TARGET.blockedVsBare.toFixed(2)}×`, verdictAtLeast(r, TARGET.blockedVsBare)]);
  }
  const fp = pass.find((p) => p.name.startsWith('@fastify/http-proxy'));
  if (aseDefault(pass) && fp) {
    const r = ratio(aseDefault(pass), fp);
    targets.push(['passing traffic, `ase start` (default) vs @fastify/http-proxy without policy', `${fmtRatio(r)} (by CPU per request: ${fmtRatio(cpuRatio(aseDefault(pass), fp))})`, `≥ ${TARGET.passVsFastifyProxy.toFixed(2)}×`, verdictAtLeast(r, TARGET.passVsFastifyProxy)]);
  }
  if (large) {
    targets.push([`start-up with ${fmtInt(large.entries)} list entries (\`ase start\` to its ready line; median of ${large.starts})`, `${(large.startMs / 1000).toFixed(2)} s`, `≤ ${TARGET.startSeconds} s`, verdictAtMost(large.startMs / 1000, TARGET.startSeconds)]);
    targets.push([`one more entry acknowledged with ${fmtInt(large.entries)} loaded (median, p99 of ${large.writes} writes)`, `${large.writeMedianMs.toFixed(2)} ms, p99 ${large.writeP99Ms.toFixed(2)} ms`, `≤ ${TARGET.writeMs} ms`, verdictAtMost(large.writeMedianMs, TARGET.writeMs)]);
  }
  const seconds = (Date.now() - t0) / 1000;
  const header =
    `ASE peers — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}` +
    `${pinned ? ' (each server alone on core 1; wrk, autocannon and the backend on core 0)' : ' (not pinned: taskset or a second core missing)'}; ` +
    `${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} keep-alive connections; ${PREFIXES} API prefixes, ${fmtInt(DENIED_IPS)} denied IPs, ${fmtInt(DENIED_TOKENS)} denied tokens; ` +
    `load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; took ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  const parts = [
    header,
    phaseTable('Passing traffic (proxied to the backend; bare node answers 200 itself)', pass),
    phaseTable('Blocked traffic (a denied IP or token in turn, 403)', blocked),
    ...(lat ? [latencyTable(lat)] : []),
    ['### Targets', '', '| target | measured | target | verdict |', '| --- | --- | --- | --- |', ...targets.map((t) => `| ${t.join(' | ')} |`)].join('\n'),
    ...(Object.keys(skipped).length ? [`Skipped: ${Object.entries(skipped).map(([k, v]) => `${k} (${v})`).join('; ')}`] : []),
  ];
  const text = `${parts.join('\n\n')}\n`;
  process.stdout.write(`\n${text}`);
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'peers.md'), text);
  const raw = (peers) => peers.map((p) => ({ name: p.name, rounds: p.rounds }));
  fs.writeFileSync(path.join(outDir, 'peers.json'), `${JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, duration: DURATION, connections: CONNECTIONS, seconds, pass: raw(pass), blocked: raw(blocked), latency: lat, large, skipped }, null, 1)}\n`);
}

runMain('peers', main);
