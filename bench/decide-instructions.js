'use strict';
// Instructions per request of the decision service and of a bare node:http server answering 200,
// counted by valgrind's callgrind in the server process: unlike req/s, the count does not move with
// the machine's load (bench/decide.js measures req/s side by side; on a busy machine its ratio
// swings from one run to the next).
//
//   node bench/decide-instructions.js      (build first: npx tsc -b; needs valgrind; a few minutes)
//
// Each server runs twice under callgrind, serving WARMUP requests, then WARMUP + MEASURED; the
// difference divided by MEASURED is the steady-state cost of one request in user space (Node's
// HTTP parser and writer, V8, the decision; JIT and GC included). The kernel's share (sockets) is
// not counted: it is the same for both servers, so the instruction ratio is a pessimistic bound
// for the throughput ratio. The requests are those nginx's auth_request sends for the realistic
// policy's passing traffic (lib/policy.js), from a client outside callgrind over 8 keep-alive
// connections.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { nginxDecisionRequests } = require('./lib/policy');

const WARMUP = Number(process.env.BENCH_WARMUP_REQUESTS ?? 20_000);
const MEASURED = Number(process.env.BENCH_MEASURED_REQUESTS ?? 20_000);
const CONNECTIONS = 8;

/** The child, under callgrind: serves `total` requests, then exits. */
function child(kind, total) {
  const { handler } = require('./lib/decide-server');
  const h = handler(kind, 'nginx');
  let served = 0;
  const server = http.createServer((req, res) => {
    h(req, res);
    if (++served === total) res.once('finish', () => process.exit(0));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
}

function send(port, agent, r) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function drive(port, total) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const reqs = nginxDecisionRequests();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await send(port, agent, reqs[i & 63]);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
}

/** Instructions callgrind counted for a server of `kind` serving `total` requests. */
function count(kind, total) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bench-cg-'));
  const out = path.join(dir, 'callgrind.out');
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', __filename, '--child', kind, String(total)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let driving;
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /port (\d+)/.exec(stdout);
      if (m && !driving) driving = drive(Number(m[1]), total).catch((err) => proc.kill() && reject(err));
    });
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', () => {
      fs.rmSync(dir, { recursive: true, force: true });
      const m = /Collected : (\d+)/.exec(stderr);
      if (!m) reject(new Error(`callgrind failed for ${kind}: ${stderr.slice(-500)}`));
      else resolve(Number(m[1]));
    });
  });
}

async function perRequest(kind) {
  const base = await count(kind, WARMUP);
  const more = await count(kind, WARMUP + MEASURED);
  return (more - base) / MEASURED;
}

async function main() {
  const [bare, decide] = await Promise.all([perRequest('bare'), perRequest('decide')]);
  console.log(`instructions per request, bare node:http answering 200: ${Math.round(bare)}`);
  console.log(`instructions per request, decision service (nginx, passing traffic): ${Math.round(decide)}`);
  console.log(`bare / decide: ${(bare / decide).toFixed(2)}× (the decision service's throughput relative to the bare server, user space only)`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], Number(process.argv[4]));
} else {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
