'use strict';
// Large lists at start and on write: `ase start` on a config directory whose data/lists.json holds
// 1 000 000 deny entries (all five types), timed from the process's spawn to its ready line (a few
// starts, median); then, in this process, an enforcer on the same directory and one more entry at a
// time, each timed until `addDeny` resolves (its journal line is on disk). Prints one JSON line.
//   node bench/large-lists.js [entries]       (after `npx tsc -b`; bench/peers.js runs it)
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { configDirWith } = require('./scale');

const ENTRIES = Number(process.argv[2] ?? 1_000_000);
const STARTS = 3;
const WRITES = 200;
const ASE_BIN = path.join(__dirname, '..', 'packages', 'cli', 'bin', 'ase.js');

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function timeStart(dir) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const args = [ASE_BIN, 'start', '--config-dir', dir, '--port', '0', '--bind', '127.0.0.1', '--admin-port', '0'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      if (/ASE ready:/.test(out)) {
        const ms = performance.now() - t0;
        child.stdout.off('data', onData);
        child.once('exit', () => resolve(ms));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      if (!/ASE ready:/.test(out)) reject(new Error(`ase start exited with ${code} before it was ready:\n${out}`));
    });
  });
}

async function main() {
  const dir = configDirWith(ENTRIES);
  try {
    // Room for the million manual entries and the ones added here (the default share is 64 MB).
    fs.appendFileSync(path.join(dir, 'ase.conf'), 'attack_list_memory=2GB\n');
    const starts = [];
    for (let i = 0; i < STARTS; i++) starts.push(await timeStart(dir));
    const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    const ms = [];
    try {
      for (let i = 0; i < WRITES; i++) {
        const t0 = performance.now();
        await enforcer.addDeny({ type: 'ip', value: `198.18.${i >> 8}.${i & 255}` });
        ms.push(performance.now() - t0);
      }
    } finally {
      await enforcer.close();
    }
    process.stdout.write(
      `${JSON.stringify({ entries: ENTRIES, starts: STARTS, startMs: median(starts), startsMs: starts, writes: WRITES, writeMedianMs: median(ms), writeP99Ms: quantile(ms, 0.99), writeMaxMs: Math.max(...ms) })}\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
