'use strict';
// Instructions per decision, counted by valgrind's callgrind: unlike req/s or ns, the count does not
// move with the machine's load, so two builds can be compared to the percent on a busy machine.
//
//   node bench/instructions.js                     this build
//   node bench/instructions.js --against=DIR       this build and another checkout (set up and built)
//   node bench/instructions.js --entries=1000,1000000 --cache-sim
//                                                  this build with each deny-list size; --cache-sim also
//                                                  counts simulated cache misses (first level, last level)
//   node bench/instructions.js --honeytokens=N --against=.
//                                                  this build with N honeytokens planted (decoy hits
//                                                  before the warm-up), against itself with none
//
// Each build runs the realistic policy of bench/core.js (50 APIs, 100 000 deny entries, client rate
// limit on) twice under callgrind: 100 000 warm-up decisions alone, then the same plus 200 000; the
// difference divided by 200 000 is the steady-state cost of one decision (JIT and GC included, start-up
// and warm-up excluded). `--single-threaded` keeps V8's compiler and collector on the main thread,
// so that the count does not depend on how threads were scheduled. Needs valgrind (`apt-get install valgrind`); takes a few minutes.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const WARMUP = 100_000;
const MEASURED = 200_000;

const ENTRIES = (process.argv.find((a) => a.startsWith('--entries=')) ?? '').slice(10).split(',').filter(Boolean).map(Number);
const CACHE_SIM = process.argv.includes('--cache-sim');

/**
 * The child: `n` decisions after the warm-up, in the checkout `dir`, with `entries` deny entries and
 * `honeytokens` planted first.
 */
function child(dir, n, entries = 100_000, honeytokens = 0) {
  const core = require(require.resolve('@ase/core', { paths: [path.join(dir, 'bench')] }));
  const { CONF, realisticPolicy, fillDenyList, requests } = require(path.join(dir, 'bench', 'lib', 'policy'));
  const apis = realisticPolicy();
  if (honeytokens > 0) {
    // One API's decoy plants three tokens per client (docs/honeytokens.md); the traffic carries none.
    const decoy = apis.api1.api_metadata.decoy_config;
    decoy.response_message = 'API_KEY=${api_key}\nAUTH_TOKEN=${bearer_token}\n';
    decoy.honeytokens = { api_key: true, bearer_token: true, cookie: 'session' };
  }
  const enforcer = core.createEnforcer({ logger: core.silentLogger, conf: CONF, apis });
  for (let i = 0; i * 3 < honeytokens; i++) {
    enforcer.decide({ method: 'GET', url: '/v1/svc1/admin', headers: { host: 'a.example', 'x-forwarded-for': `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` }, remoteAddress: '127.0.0.1', encrypted: false });
  }
  if (honeytokens > 0 && enforcer.stats().honeytokens.size < Math.min(honeytokens, 10_000)) throw new Error('the honeytokens were not planted');
  fillDenyList(enforcer, entries);
  const reqs = requests(4096);
  for (let i = 0; i < WARMUP + n; i++) {
    const d = enforcer.decide(reqs[i & 4095]);
    if (typeof d.then === 'function' || d.action !== 'proxy') throw new Error(`unexpected decision ${d.action}`);
  }
  return enforcer.close();
}

/** Instructions callgrind counted for one child run ([instructions, D1 misses, LL data misses] with --cache-sim). */
function count(dir, n, entries = 100_000, honeytokens = 0) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bench-cg-')), 'callgrind.out');
  return new Promise((resolve, reject) => {
    execFile(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        // A 32 MB, 16-way last-level cache (a server CPU's L3 slice): valgrind otherwise takes the size the
        // machine reports, 512 MB on some virtual machines, where nothing ever misses.
        ...(CACHE_SIM ? ['--cache-sim=yes', '--LL=33554432,16,64'] : []),
        `--callgrind-out-file=${out}`,
        process.execPath,
        '--single-threaded',
        __filename,
        '--child',
        dir,
        String(n),
        String(entries),
        String(honeytokens),
      ],
      { maxBuffer: 1 << 24 },
      (err, _stdout, stderr) => {
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        const m = /Collected : ([\d ]+)/.exec(stderr);
        if (err || !m) return reject(new Error(`callgrind failed for ${dir} (${err ? err.message : 'no count'}): ${stderr.slice(-500)}`));
        // Events: Ir, and with the cache simulation Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
        const ev = m[1].trim().split(/\s+/).map(Number);
        resolve(CACHE_SIM ? [ev[0], ev[4] + ev[5], ev[7] + ev[8]] : [ev[0]]);
      },
    );
  });
}

async function perDecision(dir, entries, honeytokens = 0) {
  const [base, more] = await Promise.all([count(dir, 0, entries, honeytokens), count(dir, MEASURED, entries, honeytokens)]);
  return more.map((v, i) => (v - base[i]) / MEASURED);
}

async function bySize() {
  const here = path.resolve(__dirname, '..');
  for (const entries of ENTRIES) {
    const [ir, d1, ll] = await perDecision(here, entries);
    console.log(`${entries} deny entries: ${Math.round(ir)} instructions per decision${CACHE_SIM ? `, ${d1.toFixed(1)} first-level data misses, ${ll.toFixed(2)} last-level data misses` : ''}`);
  }
}

async function main() {
  if (ENTRIES.length) return bySize();
  const against = (process.argv.find((a) => a.startsWith('--against=')) ?? '').slice(10);
  const honeytokens = Number((process.argv.find((a) => a.startsWith('--honeytokens=')) ?? '=0').split('=')[1]);
  const [[ours], [theirs] = []] = await Promise.all([perDecision(path.resolve(__dirname, '..'), undefined, honeytokens), against ? perDecision(path.resolve(against)) : []]);
  console.log(`instructions per decision, this build: ${Math.round(ours)}`);
  if (theirs !== undefined) {
    console.log(`instructions per decision, ${against}: ${Math.round(theirs)}`);
    console.log(`this build / ${against}: ${(ours / theirs).toFixed(3)}× the instructions`);
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3], Number(process.argv[4]), Number(process.argv[5] ?? 100_000), Number(process.argv[6] ?? 0)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
