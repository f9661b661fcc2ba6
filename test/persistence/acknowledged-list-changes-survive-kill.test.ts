import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';

const ADMIN = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' };

/**
 * Every list change the management API acknowledged is in `data/lists.journal` (fsync'd before the
 * answer), so `kill -9` right after loses none of them; a clean stop folds the journal into lists.json.
 */
describe('ase start: list changes acknowledged before kill -9', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  async function start(dir: string) {
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const m = await cli.waitFor(/gateway on port (\d+),.*management API on [^:]+:(\d+)/);
    return { cli, port: Number(m[1]), adminPort: Number(m[2]) };
  }
  const post = (port: number, list: string, body: object) =>
    request(port, { method: 'POST', path: `/v4/ase/firewall/${list}`, headers: ADMIN, body: JSON.stringify(body) });

  test('are all there after a restart, and a clean stop leaves only lists.json to read', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, servers: servers(backend.port) }) } });
    const first = await start(dir);
    const ips = Array.from({ length: 30 }, (_, i) => `192.0.2.${i + 1}`);
    const statuses: number[] = [];
    for (const value of ips) statuses.push((await post(first.adminPort, 'blacklist', { type: 'ip', value })).status);
    statuses.push((await post(first.adminPort, 'blacklist', { type: 'ip', value: '127.0.0.1' })).status);
    statuses.push((await post(first.adminPort, 'blacklist', { type: 'token', value: 'stolen' })).status);
    statuses.push((await post(first.adminPort, 'whitelist', { type: 'token', value: 'vip' })).status);
    expect(statuses).toEqual(statuses.map(() => 200));
    first.cli.child.kill('SIGKILL');
    await first.cli.exited;
    expect(fs.statSync(path.join(dir, 'data', 'lists.journal')).size).toBeGreaterThan(0);

    const second = await start(dir);
    try {
      expect((await request(second.port, { path: '/shop/items' })).status).toBe(403);
      expect((await request(second.port, { path: '/shop/items', headers: { authorization: 'Bearer vip' } })).status).toBe(200);
      const listed = await request(second.adminPort, { path: '/v4/ase/firewall/blacklist', headers: ADMIN });
      for (const ip of [...ips, '127.0.0.1']) expect(listed.body).toContain(`"${ip}"`);
      expect(listed.body).toContain('"stolen"');
    } finally {
      second.cli.child.kill('SIGTERM');
      expect(await second.cli.exited).toBe(0);
    }
    expect(fs.statSync(path.join(dir, 'data', 'lists.journal')).size).toBe(0);
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 'data', 'lists.json'), 'utf8')) as { blacklist: unknown[]; whitelist: unknown[] };
    expect([snapshot.blacklist.length, snapshot.whitelist.length]).toEqual([32, 1]);
    expect(fs.readdirSync(path.join(dir, 'data')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
