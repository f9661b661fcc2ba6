'use strict';
// Journal: the cost of one acknowledged deny-list change (addDeny resolves after the fsync) with
// 1 000 000 entries loaded. The change appends one line to data/lists.journal whatever the list size.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF } = require('./lib/policy');
const { configDirWith } = require('./scale');
const { median } = require('./core');

async function run(n = 1_000_000, writes = 500) {
  const dir = configDirWith(n);
  const enforcer = createEnforcer({ configDir: dir, conf: CONF, logger: silentLogger });
  try {
    const ms = [];
    for (let i = 0; i < writes; i++) {
      const t0 = performance.now();
      await enforcer.addDeny({ type: 'ip', value: `198.18.${i >> 8}.${i & 255}` });
      ms.push(performance.now() - t0);
    }
    const sorted = [...ms].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
    console.log(`journal: ${n} entries loaded, ${writes} acknowledged writes: median ${median(ms).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    return { median: median(ms), p99 };
  } finally {
    await enforcer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };
if (require.main === module) run().catch((err) => { console.error(err); process.exit(1); });
