'use strict';
// Core alone: decisions per second and per-decision latency (p50/p99), no HTTP at all.
// The realistic policy of every scenario (lib/policy.js): 50 APIs, 100 000 deny-list entries of
// mixed types, decoys, method and content-type rules, client rate limit on. Requests are pre-built
// RawRequests, as the adapters build them, that pass every stage (the decision is `proxy`).
// Run alone: `node bench/core.js` prints one JSON line.
const { median } = require('./lib/harness');
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF, DENY_ENTRIES, realisticPolicy, fillDenyList, requests } = require('./lib/policy');

function check(d) {
  if (d.action !== 'proxy') throw new Error(`unexpected decision ${d.action} (${d.reason ?? ''})`);
}

/** Throughput on one core: decisions in a tight loop for `seconds`. Promises (shared stores) are awaited. */
async function throughput(enforcer, reqs, seconds) {
  const mask = reqs.length - 1;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const d = enforcer.decide(reqs[(n + i) & mask]);
      check(typeof d.then === 'function' ? await d : d);
    }
    n += 1000;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Latency: single decisions timed one by one (a settled Promise included). */
async function latency(enforcer, reqs, count) {
  const mask = reqs.length - 1;
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const s = process.hrtime.bigint();
    const d = enforcer.decide(reqs[i & mask]);
    if (typeof d.then === 'function') await d;
    samples[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  samples.sort();
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))];
  return { p50us: pct(0.5), p99us: pct(0.99) };
}

async function run({ seconds = 3, denyEntries = DENY_ENTRIES, rounds = 3 } = {}) {
  const enforcer = createEnforcer({ logger: silentLogger, conf: CONF, apis: realisticPolicy() });
  fillDenyList(enforcer, denyEntries);
  const reqs = requests(4096);
  // Warm up the JIT.
  for (let i = 0; i < 200_000; i++) {
    const d = enforcer.decide(reqs[i & 4095]);
    check(typeof d.then === 'function' ? await d : d);
  }
  const perRound = [];
  const p99s = [];
  const p50s = [];
  for (let r = 0; r < rounds; r++) {
    perRound.push(await throughput(enforcer, reqs, seconds / rounds));
    const l = await latency(enforcer, reqs, 100_000);
    p50s.push(l.p50us);
    p99s.push(l.p99us);
  }
  await enforcer.close();
  return {
    decisionsPerSecond: median(perRound),
    p50us: median(p50s),
    p99us: median(p99s),
    rounds: perRound.map(Math.round),
  };
}

module.exports = { run, median };

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
