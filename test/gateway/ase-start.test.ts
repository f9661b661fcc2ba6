import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, invalidApi, servers, tempDir } from '../helpers/config';
import { type Backend, freePort, rawRequest, request, startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';

describe('ase start: the standalone gateway', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  test('serves the config directory, logs one ready line, and stops cleanly on SIGTERM', async () => {
    const dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) },
    });
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0']);
    try {
      await cli.waitFor(/ASE ready: node gateway on port (\d+), 1 API loaded/);
      expect((await request(port, { path: '/shop/items' })).status).toBe(200);
      expect(backend.seen.at(-1)?.url).toBe('/shop/items');
      const unknown = await request(port, { path: '/nothing' });
      expect(unknown.status).toBe(503);
      expect(unknown.statusMessage).toBe('Service Unavailable');
      expect(unknown.body).toBe('Error: Unknown API');
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/SIGTERM received, shutting down/);
  });

  test('without --port it serves on http_ws_port of ase.conf; SIGINT stops it too', async () => {
    const port = await freePort();
    const dir = configDir({ conf: `; data port\nhttp_ws_port=${port}\n`, apis: { shop: api('/shop', { servers: servers(backend.port) }) } });
    const cli = runCli(['start', '--config-dir', dir, '--admin-port', '0']);
    try {
      await cli.waitFor(new RegExp(`on port ${port}`));
      expect((await request(port, { path: '/shop' })).status).toBe(200);
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
  });

  test('--config-dir defaults to ./config', async () => {
    const root = configDir();
    fs.mkdirSync(path.join(root, 'config', 'api'), { recursive: true });
    fs.writeFileSync(path.join(root, 'config', 'api', 'shop.json'), JSON.stringify(api('/shop', { servers: servers(backend.port) })));
    const port = await freePort();
    const cli = runCli(['start', '--port', String(port), '--admin-port', '0'], { cwd: root });
    try {
      await cli.waitFor(/1 API loaded/);
      expect((await request(port, { path: '/shop/a' })).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  test('with --skip-invalid-apis, one bad API file is reported by name and skipped; the others load', async () => {
    const dir = configDir({
      apis: { good: api('/good', { servers: servers(backend.port) }), invalid: invalidApi('/bad', { enable_blocking: 'yes' }) },
      rawApis: { broken: '{ "api_metadata": { "url": "/x", ' },
    });
    const port = await freePort();
    const cli = runCli(['start', '--skip-invalid-apis', '--config-dir', dir, '--port', String(port), '--admin-port', '0']);
    try {
      await cli.waitFor(/1 API loaded/);
      const all = cli.stdout() + cli.stderr();
      expect(all).toMatch(/broken\.json/);
      expect(all).toMatch(/invalid\.json.*\/api_metadata\/enable_blocking/);
      expect((await request(port, { path: '/good/x' })).status).toBe(200);
      expect((await request(port, { path: '/bad/x' })).status).toBe(503);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  test('an invalid ase.conf stops the start with exit code 1, naming the file, the key and the value', async () => {
    const dir = configDir({ conf: 'http_ws_port=eighty\n' });
    const cli = runCli(['start', '--config-dir', dir, '--port', '0']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/ase\.conf/);
    expect(cli.stderr()).toMatch(/http_ws_port/);
    expect(cli.stderr()).toMatch(/eighty/);
  });

  test('an unknown ase.conf key is an error that names it', async () => {
    const dir = configDir({ conf: 'enable_firewal=true\n' });
    const cli = runCli(['start', '--config-dir', dir, '--port', '0']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/enable_firewal/);
  });

  test.each(['node', 'express', 'koa', 'fastify'])('--framework %s serves the same gateway and stops cleanly', async (fw) => {
    const dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: {
        shop: api('/shop', {
          enable_blocking: true,
          servers: servers(backend.port),
          decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
        }),
        local: api('/local'),
      },
    });
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0', '--framework', fw]);
    try {
      await cli.waitFor(new RegExp(`ASE ready: ${fw} gateway on port ${port}, 2 APIs loaded`));
      const proxied = await request(port, { path: '/shop/items?x=1', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(proxied.status).toBe(200);
      expect(JSON.parse(proxied.body)).toEqual({ server: 'b', url: '/shop/items?x=1' });
      expect(backend.seen.at(-1)).toMatchObject({ method: 'POST', url: '/shop/items?x=1', body: 'hello' });
      const unknown = await request(port, { path: '/nothing' });
      expect([unknown.status, unknown.statusMessage, unknown.body]).toEqual([503, 'Service Unavailable', 'Error: Unknown API']);
      const noServers = await request(port, { path: '/local/x' });
      expect([noServers.status, noServers.body]).toEqual([503, 'Error: No Backend Available']);
      // A path Fastify's router cannot decode gets ASE's answer on every framework.
      for (const target of ['/shop/%zz', '/other/%zz', '/shop/..%2fadmin']) {
        const bad = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expect([target, bad.status, bad.text.endsWith('\r\n\r\nError: Malformed Request')]).toEqual([target, 400, true]);
      }
      const decoy = await request(port, { path: '/shop/admin' });
      expect([decoy.status, decoy.body]).toEqual([200, 'decoy']);
      const blocked = await request(port, { path: '/shop/items' });
      expect([blocked.status, blocked.body]).toEqual([403, 'Error: Unauthorized']);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/SIGTERM received, shutting down/);
    expect(cli.stderr()).toBe('');
  });

  test('bad flags are refused with usage and exit code 2', async () => {
    const bad = runCli(['start', '--port', 'http']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--port must be a port number/);
    const unknownFw = runCli(['start', '--framework', 'hapi']);
    expect(await unknownFw.exited).toBe(2);
    expect(unknownFw.stderr()).toMatch(/--framework must be one of node, express, koa, fastify/);
  });

  test('a port already in use is reported, not thrown', async () => {
    const port = backend.port;
    const cli = runCli(['start', '--config-dir', configDir(), '--port', String(port), '--admin-port', '0']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/already in use/);
  });

  test('the example config of examples/standalone loads without warnings', async () => {
    // A copy, so the run writes its data and logs into a temporary folder, not into the repository.
    const example = path.resolve(__dirname, '..', '..', 'examples', 'standalone', 'config');
    const dir = path.join(tempDir(), 'config');
    fs.mkdirSync(path.join(dir, 'api'), { recursive: true });
    fs.copyFileSync(path.join(example, 'ase.conf'), path.join(dir, 'ase.conf'));
    for (const f of fs.readdirSync(path.join(example, 'api'))) fs.copyFileSync(path.join(example, 'api', f), path.join(dir, 'api', f));
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0']);
    try {
      await cli.waitFor(/2 APIs loaded/);
      expect(cli.stderr()).toBe('');
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });
});
