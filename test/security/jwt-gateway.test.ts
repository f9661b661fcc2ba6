import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, freePort, request } from '../helpers/http';
import { startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';

/**
 * The standalone gateway (`ase start`) verifies JWTs with keys read from its config directory
 * (relative paths), and refuses to start when a key file cannot be read (docs/security.md).
 */

const SECRET = 'gateway-test-secret-'.padEnd(40, 'z');
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const hs256 = (claims: Record<string, unknown>, secret = SECRET): string => {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const unsigned = (claims: Record<string, unknown>): string => `${b64({ alg: 'none' })}.${b64(claims)}.`;

describe('ase start: JWT verification in the standalone gateway', () => {
  let backend: Backend;
  const dirs: string[] = [];
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(async () => {
    await backend.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const gatewayDir = (secretFile: string | undefined): string => {
    const dir = configDir({
      conf: 'xff_trusted_proxies=10.0.0.1\n',
      apis: {
        shop: api('/shop', {
          enable_blocking: true,
          jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
          jwt_verification: { algorithms: ['HS256'], secret_file: 'keys/shop.secret' },
          servers: servers(backend.port),
        }),
        pay: api('/pay', {
          jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
          jwt_verification: { algorithms: ['HS256'], secret_file: 'keys/shop.secret', required: true },
          servers: servers(backend.port),
        }),
      },
    });
    dirs.push(dir);
    if (secretFile !== undefined) {
      fs.mkdirSync(path.join(dir, 'keys'));
      fs.writeFileSync(path.join(dir, 'keys', 'shop.secret'), secretFile);
    }
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    // alice is allow-listed, the client's address deny-listed: only a verified alice gets through.
    fs.writeFileSync(
      path.join(dir, 'data', 'lists.json'),
      JSON.stringify({ blacklist: [{ type: 'ip', value: '127.0.0.1', tag: 'manual' }], whitelist: [{ type: 'username', value: 'alice' }] }),
    );
    return dir;
  };

  test('reads the key relative to the config directory: a verified allow-listed user passes, forged ones and a missing required JWT are refused', async () => {
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', gatewayDir(`${SECRET}\n`), '--port', String(port), '--admin-port', '0']);
    try {
      await cli.waitFor(/ASE ready: .* 2 APIs loaded/);
      const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
      expect((await request(port, { path: '/shop/a', headers: bearer(hs256({ sub: 'alice' })) })).status).toBe(200);
      expect(backend.seen.at(-1)?.url).toBe('/shop/a');
      expect((await request(port, { path: '/shop/a', headers: bearer(unsigned({ sub: 'alice' })) })).status).toBe(403);
      expect((await request(port, { path: '/shop/a', headers: bearer(hs256({ sub: 'alice' }, 'another-secret-of-forty-bytes-xxxxxxxxxx')) })).status).toBe(403);
      // /pay does not block (enable_blocking false) but requires a valid JWT.
      const missing = await request(port, { path: '/pay/a' });
      expect([missing.status, missing.body]).toEqual([403, 'Error: Unauthorized']);
      expect((await request(port, { path: '/pay/a', headers: bearer(hs256({ sub: 'bob' })) })).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  test('refuses to start when a key file cannot be read, naming the API file, the field and the key file', async () => {
    const dir = gatewayDir(undefined);
    const cli = runCli(['start', '--config-dir', dir, '--port', String(await freePort()), '--admin-port', '0']);
    expect(await cli.exited).not.toBe(0);
    const all = cli.stdout() + cli.stderr();
    expect(all).toContain(path.join(dir, 'keys', 'shop.secret'));
    expect(all).toMatch(/(pay|shop)\.json: \/api_metadata\/jwt_verification\/secret_file: cannot read/);
  });
});
