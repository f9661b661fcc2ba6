// Jest globalSetup/globalTeardown: one temporary folder for the whole run. Workers start after the
// setup, so they inherit ASE_TEST_TMP; the teardown removes the folder once every test file is done.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = {
  setup() {
    process.env.ASE_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-run-'));
  },
  teardown() {
    if (process.env.ASE_TEST_TMP) fs.rmSync(process.env.ASE_TEST_TMP, { recursive: true, force: true });
  },
};
