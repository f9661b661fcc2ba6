'use strict';
// Scale: a deny list of 1 000 000 entries (all five types) loaded from data/lists.json, as a
// restarted gateway loads it — load time, extra memory, and the lookup cost compared with a list
// of 1 000 entries, measured in the same process in alternating rounds.
// Run alone: `node --expose-gc bench/scale.js` prints one JSON line.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF, denyEntry, realisticPolicy, requests } = require('./lib/policy');
const { median } = require('./core');
const { decisionUs, identifiersOf, lookupNs } = require('./lib/lookups');

const BIG = 1_000_000;
const SMALL = 1_000;

/** A config dir whose data/lists.json holds `n` deny entries. */
function configDirWith(n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ase-bench-${n}-`));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'ase.conf'), 'enable_access_log=false\n');
  const fd = fs.openSync(path.join(dir, 'data', 'lists.json'), 'w');
  fs.writeSync(fd, '{"version":1,"blacklist":[\n');
  const CHUNK = 50_000;
  for (let i = 0; i < n; i += CHUNK) {
    const lines = [];
    for (let j = i; j < Math.min(n, i + CHUNK); j++) lines.push(JSON.stringify({ ...denyEntry(j), tag: 'manual' }));
    fs.writeSync(fd, (i > 0 ? ',\n' : '') + lines.join(',\n'));
  }
  fs.writeSync(fd, '\n],"whitelist":[]}\n');
  fs.closeSync(fd);
  return dir;
}

function retained() {
  global.gc?.();
  global.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

async function run({ rounds = 5 } = {}) {
  if (!global.gc) throw new Error('run with node --expose-gc');
  const reqs = requests(4096);
  const ids = identifiersOf(reqs);
  const open = (dir) => createEnforcer({ configDir: dir, logger: silentLogger, conf: CONF, apis: realisticPolicy() });

  const smallDir = configDirWith(SMALL);
  const bigDir = configDirWith(BIG);
  try {
    const small = open(smallDir);
    const rssBefore = process.memoryUsage().rss;
    const before = retained();
    const t0 = performance.now();
    const big = open(bigDir);
    const loadMs = performance.now() - t0;
    const extraMB = (retained() - before) / 1024 / 1024;
    const rssExtraMB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    if (big.denyList.size !== BIG || small.denyList.size !== SMALL) throw new Error('lists did not load');

    // Warm both, then alternate rounds so drift hits both alike.
    await decisionUs(small, reqs, 200_000);
    await decisionUs(big, reqs, 200_000);
    const us = { small: [], big: [] };
    const ns = { small: [], big: [] };
    for (let r = 0; r < rounds; r++) {
      us.small.push(await decisionUs(small, reqs, 200_000));
      us.big.push(await decisionUs(big, reqs, 200_000));
      ns.small.push(lookupNs(small, ids, 500_000));
      ns.big.push(lookupNs(big, ids, 500_000));
    }
    const ratios = us.big.map((b, i) => b / us.small[i]);
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ us, ns }));
    void small.close();
    void big.close();
    return {
      entries: BIG,
      loadMs,
      extraMB,
      rssExtraMB,
      decisionUs1k: median(us.small),
      decisionUs1M: median(us.big),
      decisionRatio: median(ratios),
      lookupNs1k: median(ns.small),
      lookupNs1M: median(ns.big),
    };
  } finally {
    fs.rmSync(smallDir, { recursive: true, force: true });
    fs.rmSync(bigDir, { recursive: true, force: true });
  }
}

module.exports = { run, configDirWith };

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
