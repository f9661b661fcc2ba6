import * as fs from 'node:fs';
import * as path from 'node:path';
import { configDir } from '../helpers/config';
import { type Backend, startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';
import { apiBody, expectMatches, filesUnder, newModel, served, writeUntil } from './management-model';

/**
 * `kill -9` at a random moment of a stream of management writes (APIs created, updated and
 * deleted, deny and allow entries added and removed, the firewall switched), from three writers at
 * once, several times over on one config directory. After each restart the gateway serves every
 * acknowledged change (the write under way at the kill may have landed or not: it was never
 * acknowledged), every file it keeps parses, and no temporary file is left.
 */
describe('ase start: mixed management writes acknowledged before kill -9', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  async function start(dir: string) {
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const m = await cli.waitFor(/gateway on port (\d+),.*management API on [^:]+:(\d+)/, 20000);
    return { cli, port: Number(m[1]), adminPort: Number(m[2]) };
  }

  /** Every file of the config directory the gateway keeps parses (a torn journal tail is allowed: load drops it). */
  function expectFilesParse(dir: string): void {
    for (const rel of filesUnder(dir)) {
      const text = fs.readFileSync(path.join(dir, rel), 'utf8');
      if (rel.endsWith('.json')) expect(() => JSON.parse(text)).not.toThrow();
    }
  }

  test('every acknowledged change is served after each of four kills, every file parses, no temporary file is left', async () => {
    const dir = configDir({ apis: { base: apiBody('base', backend.port) } });
    const model = newModel({ base: backend.port });
    let next = 0;
    let acknowledged = 0;
    for (let round = 0; round < 4; round++) {
      const gw = await start(dir);
      try {
        expectMatches(model, await served(gw.adminPort));
        expect(filesUnder(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
        const killAfter = 300 + Math.floor(Math.random() * 900);
        const kill = new Promise((r) => setTimeout(r, killAfter)).then(() => gw.cli.child.kill('SIGKILL'));
        const statuses = await writeUntil(model, { adminPort: gw.adminPort, backendPort: backend.port, lanes: 3, start: next, stop: kill });
        await gw.cli.exited;
        expect(statuses.length).toBeGreaterThan(0);
        expect(new Set(statuses)).toEqual(new Set([200]));
        acknowledged += statuses.length;
        next += 10_000;
      } finally {
        gw.cli.child.kill('SIGKILL');
        await gw.cli.exited;
      }
      expectFilesParse(dir);
    }
    const last = await start(dir);
    try {
      expectMatches(model, await served(last.adminPort));
      expect(filesUnder(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      last.cli.child.kill('SIGTERM');
      expect(await last.cli.exited).toBe(0);
    }
    expectFilesParse(dir);
    expect(acknowledged).toBeGreaterThan(20);
    expect(model.apis.size + model.deny.size + model.allow.size).toBeGreaterThan(10);
  }, 120_000);
});
