'use strict';
// Scale: a deny list of 1 000 000 entries — load time, extra memory, and lookup cost compared
// with a list of 1 000 entries, in the same process.
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { fillDenyList, realisticPolicy, requests } = require('./core');

function lookupCost(enforcer, reqs, rounds = 300_000) {
  for (let i = 0; i < 100_000; i++) enforcer.decide(reqs[i & 4095]);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) enforcer.decide(reqs[i & 4095]);
  return ((performance.now() - t0) * 1000) / rounds; // µs per decision
}

function run() {
  global.gc?.();
  const reqs = requests(4096);
  const small = createEnforcer({ logger: silentLogger, conf: { attack_list_memory: '2GB' }, apis: realisticPolicy() });
  fillDenyList(small, 1_000);
  const smallUs = lookupCost(small, reqs);

  global.gc?.();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().external;
  const big = createEnforcer({ logger: silentLogger, conf: { attack_list_memory: '2GB' }, apis: realisticPolicy() });
  const t0 = performance.now();
  fillDenyList(big, 1_000_000);
  const loadMs = performance.now() - t0;
  global.gc?.();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().external;
  const bigUs = lookupCost(big, reqs);
  void small.close();
  void big.close();
  return { loadMs, extraMB: (after - before) / 1024 / 1024, lookupUs1k: smallUs, lookupUs1M: bigUs };
}

module.exports = { run };

if (require.main === module) console.log(JSON.stringify(run()));
