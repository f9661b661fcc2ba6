'use strict';
// What the side-by-side runners (run.js, peers.js, decide.js) share: the child processes they start
// and stop, pinning to a core, a job for the load generator child (lib/load.js), the backend's count
// of served requests, the median, the check of a round's answers, and the end of a run.
const { execFileSync, fork } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const children = new Set();
let canPin = (os.availableParallelism?.() ?? os.cpus().length) >= 2;

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

/** Pins `pid` (its threads too) to `core`; without taskset, says so once and pins nothing. */
function pin(pid, core) {
  if (!canPin) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    canPin = false;
    log('taskset is not available: processes are not pinned to cores');
  }
}

/** Whether processes are pinned (taskset worked so far on a machine of two cores or more). */
function pinning() {
  return canPin;
}

/** Kept in `children` until it exits, so that the end of the run stops it. */
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Forks `file` (relative to bench/, or absolute), waits for its `{port}` message, pins it to `core`. */
function start(file, args, core, { execArgv = [] } = {}) {
  const child = track(fork(path.resolve(__dirname, '..', file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }));
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      pin(child.pid, core);
      resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited with ${code} before it was ready`)));
  });
}

/** Stops a process `start` gave, without its exit counting as a failure to start. */
function stop(proc) {
  if (!proc?.child) return;
  proc.child.removeAllListeners('exit');
  children.delete(proc.child);
  if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
}

let jobId = 0;
/** One load of `duration` seconds by the loader child on 127.0.0.1:`port`: its result. */
function load(loader, port, requests, duration, { connections, rate } = {}) {
  const id = ++jobId;
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.id !== id) return;
      loader.child.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve(m.result);
    };
    loader.child.on('message', onMessage);
    loader.child.send({ id, url: `http://127.0.0.1:${port}`, connections, duration, requests, rate });
  });
}

/** How many requests the backend child (lib/backend.js) has served so far. */
function served(backend) {
  return new Promise((resolve) => {
    backend.child.once('message', (m) => resolve(m.served));
    backend.child.send({ cmd: 'served' });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every answer of a round must have the expected status, with no socket error or timeout. */
function checkRound(label, r, status) {
  const codes = Object.keys(r.codes);
  if (r.errors || r.timeouts || codes.length !== 1 || codes[0] !== String(status)) {
    throw new Error(`${label}: expected only ${status} answers, got ${JSON.stringify(r.codes)} (errors ${r.errors}, timeouts ${r.timeouts})`);
  }
}

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}

/** Runs `main`, stopping every child at the end, on failure (exit code 1) and on Ctrl-C. */
function runMain(label, main) {
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  main().then(
    () => {
      cleanup();
      // The loader's and backend's IPC channels would keep this process up until they exit.
      process.exit(0);
    },
    (err) => {
      console.error(`${label}: ${err.stack ?? err}`);
      cleanup();
      process.exit(1);
    },
  );
}

module.exports = { children, cleanup, log, pin, pinning, track, start, stop, load, served, median, checkRound, runMain };
