import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';

const ADMIN = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' };

/**
 * `kill -9` in the middle of a write leaves the write's temporary file in the data directory (the
 * rename over the real file never happened). A restart must keep every acknowledged change and
 * clear those leftovers, so a crash loop cannot fill the disk with them.
 */
describe.each(['express', 'koa', 'fastify'])('ase start --framework %s after kill -9', (framework) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  async function start(dir: string) {
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0', '--framework', framework]);
    const m = await cli.waitFor(/gateway on port (\d+),.*management API on [^:]+:(\d+)/);
    return { cli, port: Number(m[1]), adminPort: Number(m[2]) };
  }

  test('keeps its deny list and removes the temporary files the killed process left', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) } });
    const first = await start(dir);
    const added = await request(first.adminPort, { method: 'POST', path: '/v4/ase/firewall/blacklist', headers: ADMIN, body: JSON.stringify({ type: 'ip', value: '127.0.0.1' }) });
    expect(added.status).toBe(200);
    first.cli.child.kill('SIGKILL');
    await first.cli.exited;

    // What the killed process would have left had it died inside a write: its pid, a torn body.
    const data = path.join(dir, 'data');
    const leftovers = [`.lists.json.${first.cli.child.pid}.0badf00d.tmp`, `.runtime.json.${first.cli.child.pid}.12345678.tmp`];
    for (const name of leftovers) fs.writeFileSync(path.join(data, name), '{"blacklist": [');
    fs.writeFileSync(path.join(dir, 'api', `.shop.json.${first.cli.child.pid}.abcdef01.tmp`), '{"api_meta');
    const unrelated = path.join(data, 'notes.tmp');
    fs.writeFileSync(unrelated, 'the operator`s own file');

    const second = await start(dir);
    try {
      expect((await request(second.port, { path: '/shop/items' })).status).toBe(403);
      expect(fs.readdirSync(data).filter((n) => n.endsWith('.tmp'))).toEqual(['notes.tmp']);
      expect(fs.readdirSync(path.join(dir, 'api'))).toEqual(['shop.json']);
    } finally {
      second.cli.child.kill('SIGTERM');
      expect(await second.cli.exited).toBe(0);
    }
  });
});
