'use strict';
// Network entries: what do 10 000 listed networks cost the lookups of a 1 000 000-entry deny list?
//
// Two enforcers in one process, each with the same 1 000 000 deny entries (all five types, as
// bench/scale.js); the second also lists 10 000 networks: 9 000 IPv4 networks spread over every
// prefix length from /16 to /31 (the worst case: each IPv4 lookup probes one map per length in
// use) and 1 000 IPv6 networks (/32 to /64). None covers the requests' addresses, so every request
// passes. Measured in alternating rounds so that drift hits both alike: ns per deny-list lookup
// (IP, token, API key, cookie of each request) and µs per decision.
// Run: `npx tsc -b && node bench/networks.js` prints one JSON line (times: noisy on a busy machine).
// `node bench/networks.js --instructions` counts instructions per lookup with valgrind's callgrind
// instead (steady state: a run with MEASURED more lookups minus one without, as bench/instructions.js,
// both with fixed seeds and a collection before the measured rounds), which the machine's load does
// not move; takes several minutes.
const { createEnforcer, silentLogger, canonicalEntry } = require('@ase/core');
const { CONF, denyEntry, realisticPolicy, requests } = require('./lib/policy');
const { median } = require('./core');
const { decisionUs, identifiersOf, lookupNs } = require('./lib/lookups');

const ENTRIES = 1_000_000;
const V4_NETWORKS = 9_000;
const V6_NETWORKS = 1_000;

function fill(enforcer, networks) {
  const list = enforcer.denyList;
  for (let i = 0; i < ENTRIES; i++) list.add(canonicalEntry(denyEntry(i)), 'manual');
  if (!networks) return 0;
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  let v4 = 0;
  // First octets 20–35, one per prefix length: far from the requests' 192.168.0.0/16.
  for (let tries = 0; v4 < V4_NETWORKS && tries < 1_000_000; tries++) {
    const len = 16 + (tries % 16);
    const r = next();
    const value = `${20 + (len - 16)}.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}/${len}`;
    if (list.add(canonicalEntry({ type: 'ip', value }), 'manual')) v4++;
  }
  let v6 = 0;
  for (let tries = 0; v6 < V6_NETWORKS && tries < 100_000; tries++) {
    const len = [32, 48, 56, 64][tries % 4];
    const r = next();
    const value = `2001:db8:${(r >>> 16).toString(16)}:${(r & 0xffff).toString(16)}::/${len}`;
    if (list.add(canonicalEntry({ type: 'ip', value }), 'manual')) v6++;
  }
  return v4 + v6;
}

async function run({ rounds = 7 } = {}) {
  const reqs = requests(4096);
  const ids = identifiersOf(reqs);
  const open = () => createEnforcer({ logger: silentLogger, conf: { ...CONF, attack_list_memory: '1gb' }, apis: realisticPolicy() });
  const plain = open();
  const withNets = open();
  fill(plain, false);
  const networks = fill(withNets, true);
  try {
    await decisionUs(plain, reqs, 200_000);
    await decisionUs(withNets, reqs, 200_000);
    const ns = { plain: [], nets: [] };
    const us = { plain: [], nets: [] };
    for (let r = 0; r < rounds; r++) {
      ns.plain.push(lookupNs(plain, ids, 500_000));
      ns.nets.push(lookupNs(withNets, ids, 500_000));
      us.plain.push(await decisionUs(plain, reqs, 200_000));
      us.nets.push(await decisionUs(withNets, reqs, 200_000));
    }
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ ns, us }));
    return {
      entries: ENTRIES,
      networks,
      lookupNsPlain: median(ns.plain),
      lookupNsNetworks: median(ns.nets),
      lookupRatio: median(ns.nets.map((v, i) => v / ns.plain[i])),
      decisionUsPlain: median(us.plain),
      decisionUsNetworks: median(us.nets),
      decisionRatio: median(us.nets.map((v, i) => v / us.plain[i])),
    };
  } finally {
    await plain.close();
    await withNets.close();
  }
}

/** The child under callgrind: fill, warm up, then `n` rounds of the four lookups. */
function child(withNets, n) {
  const reqs = requests(4096);
  const ids = identifiersOf(reqs);
  const e = createEnforcer({ logger: silentLogger, conf: { ...CONF, attack_list_memory: '1gb' }, apis: {} });
  fill(e, withNets);
  lookupNs(e, ids, WARMUP);
  // Both runs (with and without the measured rounds) collect here, so that the garbage of the fill
  // is not collected in one and not the other: their difference is then the rounds alone.
  global.gc();
  global.gc();
  if (n > 0) lookupNs(e, ids, n);
  return e.close();
}

// The same hash seed and random seed in every child (V8 seeds string hashes and Map layouts per
// process, which moved the counts by a third between runs of the same code), deterministic mode, and
// `gc` for the collection before the measured rounds.
const CHILD_FLAGS = ['--single-threaded', '--predictable', '--hash-seed=1', '--random-seed=1', '--expose-gc', '--max-old-space-size=4096'];
const WARMUP = 200_000;
const MEASURED = 400_000;

function count(withNets, n) {
  const { execFile } = require('node:child_process');
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bench-cg-')), 'callgrind.out');
  return new Promise((resolve, reject) => {
    execFile('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, ...CHILD_FLAGS, __filename, '--child', withNets ? 'nets' : 'plain', String(n)], { maxBuffer: 1 << 24 }, (err, _o, stderr) => {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
      const m = /Collected : (\d+)/.exec(stderr);
      if (err || !m) reject(new Error(`callgrind failed (${err ? err.message : 'no count'}): ${stderr.slice(-500)}`));
      else resolve(Number(m[1]));
    });
  });
}

/** Instructions per lookup (each request's four), with and without the networks. */
async function instructions() {
  const per = async (withNets) => {
    const [base, more] = await Promise.all([count(withNets, 0), count(withNets, MEASURED)]);
    return (more - base) / (MEASURED * 4);
  };
  const plain = await per(false);
  const nets = await per(true);
  return { entries: ENTRIES, networks: V4_NETWORKS + V6_NETWORKS, instructionsPerLookupPlain: plain, instructionsPerLookupNetworks: nets, ratio: nets / plain };
}

module.exports = { run, instructions };

if (require.main === module && process.argv[2] === '--child') {
  void child(process.argv[3] === 'nets', Number(process.argv[4]));
} else if (require.main === module) {
  (process.argv.includes('--instructions') ? instructions() : run()).then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
