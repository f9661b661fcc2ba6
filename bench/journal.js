'use strict';
// Journal: the cost of one acknowledged deny-list change (addDeny resolves once its line is on disk)
// with 1 000 000 entries loaded. The change appends one line to data/lists.journal whatever the
// list size. Three measurements, each `writes` addDeny calls one after the other:
//   steady  — the journal far below its snapshot's size (no fold);
//   folding — the first change finds the journal as large as the 60 MB snapshot, so the snapshot is
//             rewritten in the background while the following changes are timed;
//   disk    — the floor: the same appends made durable straight on the file (O_DSYNC), no enforcer.
// Time spent in garbage collection during the writes is printed beside them.
// `node bench/journal.js [runs]` (after a build) prints one line per measurement and run.
const fs = require('node:fs');
const path = require('node:path');
const { createHash } = require('node:crypto');
const { performance, PerformanceObserver } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF } = require('./lib/policy');
const { configDirWith } = require('./scale');

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(s.length * q))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, median: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

const show = (r) => `mean ${r.mean.toFixed(2)} ms, median ${r.median.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms`;

/**
 * A journal as large as the snapshot whose lines the snapshot already holds (replay skips them):
 * the first change after the start folds it, the way a journal grown by months of changes would be.
 */
function journalToFold(dir) {
  const data = path.join(dir, 'data');
  const snapshot = path.join(data, 'lists.json');
  const text = fs.readFileSync(snapshot, 'utf8');
  const covered = 1_000_000_000;
  fs.writeFileSync(snapshot, text.replace('{"version":1,', `{"version":1,"seq":${covered},`));
  const fd = fs.openSync(path.join(data, 'lists.journal'), 'w');
  const target = Buffer.byteLength(text);
  for (let seq = 1, bytes = 0; bytes < target; ) {
    const lines = [];
    for (let i = 0; i < 10_000; i++, seq++) {
      const json = JSON.stringify({ list: 'blacklist', op: 'add', entry: { type: 'ip', value: `203.0.${(seq >> 8) & 255}.${seq & 255}`, tag: 'manual' }, seq });
      lines.push(`${createHash('sha256').update(json).digest('hex').slice(0, 16)} ${json}\n`);
    }
    const chunk = lines.join('');
    fs.writeSync(fd, chunk);
    bytes += Buffer.byteLength(chunk);
  }
  fs.closeSync(fd);
}

async function timedWrites(enforcer, writes, offset) {
  const ms = [];
  for (let i = 0; i < writes; i++) {
    const n = offset + i;
    const t0 = performance.now();
    await enforcer.addDeny({ type: 'ip', value: `198.18.${n >> 8}.${n & 255}` });
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function measure(dir, writes, { fold = false } = {}) {
  if (fold) journalToFold(dir);
  const enforcer = createEnforcer({ configDir: dir, conf: CONF, logger: silentLogger });
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  try {
    const journal = path.join(dir, 'data', 'lists.journal');
    const before = fold ? fs.statSync(journal).size : 0;
    gc.observe({ entryTypes: ['gc'] });
    const ms = await timedWrites(enforcer, writes, 0);
    gc.disconnect();
    const r = { ...summary(ms), gcMs };
    if (fold) {
      // The fold must have happened during the timed writes for them to say anything about it.
      const t0 = performance.now();
      while (fs.statSync(journal).size >= before && performance.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 20));
      r.foldedAfterMs = performance.now() - t0;
    }
    return r;
  } finally {
    gc.disconnect();
    await enforcer.close();
  }
}

/** The same lines appended and made durable on a file in the same directory, nothing else. */
async function disk(dir, writes) {
  const file = path.join(dir, 'data', 'disk-floor');
  const fh = await fs.promises.open(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_DSYNC ?? 0), 0o600);
  try {
    const line = Buffer.from(`${'0'.repeat(16)} ${JSON.stringify({ list: 'blacklist', op: 'add', entry: { type: 'ip', value: '198.18.1.1', tag: 'manual' }, seq: 1 })}\n`);
    const ms = [];
    for (let i = 0; i < writes; i++) {
      const t0 = performance.now();
      await fh.write(line);
      if (fs.constants.O_DSYNC === undefined) await fh.datasync();
      ms.push(performance.now() - t0);
    }
    return summary(ms);
  } finally {
    await fh.close();
    fs.rmSync(file, { force: true });
  }
}

async function run({ n = 1_000_000, writes = 500, runs = 3 } = {}) {
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const dirs = [configDirWith(n), configDirWith(n)];
    try {
      const steady = await measure(dirs[0], writes);
      console.log(`journal run ${i}, ${n} entries, ${writes} acknowledged writes, steady:  ${show(steady)}; GC ${steady.gcMs.toFixed(1)} ms`);
      const folding = await measure(dirs[1], writes, { fold: true });
      console.log(`journal run ${i}, ${n} entries, ${writes} acknowledged writes, folding: ${show(folding)}; GC ${folding.gcMs.toFixed(1)} ms; snapshot in place ${folding.foldedAfterMs.toFixed(0)} ms after the last write`);
      const floor = await disk(dirs[0], writes);
      console.log(`journal run ${i}, disk alone (the same appends, O_DSYNC):       ${show(floor)}`);
      results.push({ steady, folding, disk: floor });
    } finally {
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}

module.exports = { run };
if (require.main === module) run({ runs: Number(process.argv[2] ?? 3) }).catch((err) => { console.error(err); process.exit(1); });
