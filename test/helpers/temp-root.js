// Jest globalSetup/globalTeardown: one temporary folder for the whole run. Workers start after the
// setup, so they inherit ASE_TEST_TMP; the teardown removes the folder once every test file is done.
// A run that was killed never reaches its teardown: the next run removes the folders of runs whose
// process is gone (the folder's name carries the pid).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PREFIX = 'ase-run-';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function removeAbandoned() {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

module.exports = {
  setup() {
    removeAbandoned();
    process.env.ASE_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  },
  teardown() {
    if (process.env.ASE_TEST_TMP) fs.rmSync(process.env.ASE_TEST_TMP, { recursive: true, force: true });
  },
};
