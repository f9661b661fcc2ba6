// Jest globalSetup/globalTeardown: one temporary folder for the whole run. Workers start after the
// setup, so they inherit ASE_TEST_TMP, and TMPDIR pointing at it: whatever a test (or a process it
// starts) puts in os.tmpdir() lands in the run's folder. The teardown removes the folder once every
// test file is done, and fails the run when the system's temporary folder holds an `ase-*` entry it
// did not hold before the run: something wrote there by a path of its own, and would pile up run
// after run. A run that was killed never reaches its teardown: the next run removes the folders of
// runs whose process is gone (the folder's name carries the pid).
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

function removeAbandoned(tmp) {
  for (const name of fs.readdirSync(tmp)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(tmp, name), { recursive: true, force: true });
  }
}

/**
 * The `ase-*` entries of the system's temporary folder, apart from runs' own folders and the
 * benchmarks' (`ase-bench-*`: bench/ runs outside jest, and may run beside a test run).
 */
function aseEntries(tmp) {
  return fs.readdirSync(tmp).filter((name) => name.startsWith('ase-') && !name.startsWith(PREFIX) && !name.startsWith('ase-bench-'));
}

module.exports = {
  setup() {
    const tmp = os.tmpdir();
    removeAbandoned(tmp);
    process.env.ASE_SYSTEM_TMP = tmp;
    process.env.ASE_TMP_BEFORE = JSON.stringify(aseEntries(tmp));
    process.env.ASE_TEST_TMP = fs.mkdtempSync(path.join(tmp, `${PREFIX}${process.pid}-`));
    process.env.TMPDIR = process.env.ASE_TEST_TMP;
  },
  teardown() {
    if (process.env.ASE_TEST_TMP) fs.rmSync(process.env.ASE_TEST_TMP, { recursive: true, force: true });
    const tmp = process.env.ASE_SYSTEM_TMP;
    if (!tmp) return;
    const before = new Set(JSON.parse(process.env.ASE_TMP_BEFORE ?? '[]'));
    const left = aseEntries(tmp).filter((name) => !before.has(name));
    if (left.length > 0) {
      throw new Error(`this test run left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in ${tmp}: ${left.join(', ')}; a test must write under os.tmpdir() (the run's folder) or remove what it writes`);
    }
  },
};
