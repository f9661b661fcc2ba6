import * as fs from 'node:fs';
import * as path from 'node:path';
import { AseConfigError, createEnforcer, silentLogger } from '@ase/core';
import { api, configDir, invalidApi, servers } from '../helpers/config';
import { type Backend, freePort, request, startBackend } from '../helpers/http';
import { startExpressApp } from '../helpers/express-app';
import { runCli } from '../helpers/cli';

/** A decoy-protected, blocking API, and a second file with a wrong type and a third that is not JSON. */
function badDir(goodPort: number): string {
  return configDir({
    apis: {
      good: api('/good', { servers: servers(goodPort) }),
      shop: invalidApi('/shop', { enable_blocking: 'yes' }),
    },
    rawApis: { broken: '{ "api_metadata": { "url": "/x", ' },
  });
}

describe('a bad API file never switches protection off silently', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  test('createEnforcer refuses a config directory with invalid API files, naming every file, JSON path and value', () => {
    const dir = badDir(backend.port);
    let error: unknown;
    try {
      createEnforcer({ configDir: dir, logger: silentLogger });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AseConfigError);
    const message = (error as Error).message;
    expect(message).toContain(path.join(dir, 'api', 'broken.json'));
    expect(message).toContain(`${path.join(dir, 'api', 'shop.json')}: /api_metadata/enable_blocking: must be true or false (got "yes")`);
  });

  test('with skipInvalidApis the bad files are reported in warnings and skipped; the others are enforced', async () => {
    const dir = badDir(backend.port);
    const app = await startExpressApp({ configDir: dir, skipInvalidApis: true });
    try {
      expect(app.enforcer.listApis().map((a) => a.id)).toEqual(['good']);
      expect(app.enforcer.warnings.some((w) => w.startsWith(`${path.join(dir, 'api', 'broken.json')}: skipped`))).toBe(true);
      expect(app.enforcer.warnings.some((w) => w.includes('/api_metadata/enable_blocking'))).toBe(true);
      expect(JSON.parse((await request(app.port, { path: '/good/x' })).body)).toMatchObject({ server: 'b' });
    } finally {
      await app.close();
    }
  });

  test('ase start with a bad API file exits 1, naming every bad file and field', async () => {
    const dir = badDir(backend.port);
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('broken.json');
    expect(cli.stderr()).toMatch(/shop\.json: \/api_metadata\/enable_blocking: must be true or false \(got "yes"\)/);
    expect(cli.stderr()).toMatch(/--skip-invalid-apis/);
    expect(cli.stdout()).not.toMatch(/ASE ready/);
  });

  test('ase start --skip-invalid-apis reports each bad file and starts with the others', async () => {
    const dir = badDir(backend.port);
    const port = await freePort();
    const cli = runCli(['start', '--skip-invalid-apis', '--config-dir', dir, '--port', String(port), '--admin-port', '0']);
    try {
      await cli.waitFor(/1 API loaded/);
      const all = cli.stdout() + cli.stderr();
      expect(all).toMatch(/broken\.json: skipped/);
      expect(all).toMatch(/shop\.json.*\/api_metadata\/enable_blocking/);
      expect((await request(port, { path: '/good/x' })).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  test('a refused ase update_api keeps the last good definition in memory and on disk; the edit is kept aside', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port), api_pattern_enforcement: { methods_allowed: ['GET'] } }) } });
    const file = path.join(dir, 'api', 'shop.json');
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    try {
      const m = await cli.waitFor(/gateway on port (\d+).*management API on 127\.0\.0\.1:(\d+)/);
      const [port, adminPort] = [Number(m[1]), Number(m[2])];
      const edit = '{"api_metadata": {"url": "/shop", "hostname": "*", "enable_blocking": "no"}}';
      fs.writeFileSync(file, edit);
      const update = runCli(['--admin-port', String(adminPort), '--config-dir', dir, 'update_api', 'shop']);
      expect(await update.exited).toBe(1);
      expect(update.stderr()).toMatch(/shop\.json: enable_blocking: must be true or false/);
      expect(update.stderr()).toMatch(/keeps its previous definition/);
      // Still enforced in memory, and the file on disk is the definition in use again.
      expect((await request(port, { path: '/shop/x', method: 'POST' })).status).not.toBe(200);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ api_metadata: { url: '/shop', enable_blocking: true } });
      expect(fs.readFileSync(`${file}.rejected`, 'utf8')).toBe(edit);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    // The next start loads the restored definition.
    const again = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    try {
      await again.waitFor(/1 API loaded/);
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await again.exited).toBe(0);
  });
});
