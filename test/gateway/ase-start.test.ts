import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, freePort, request, startBackend } from '../helpers/http';
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
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port)]);
    try {
      await cli.waitFor(/ASE ready: express gateway on port (\d+), 1 API loaded/);
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
    const cli = runCli(['start', '--port', String(port)], { cwd: root });
    try {
      await cli.waitFor(/1 API loaded/);
      expect((await request(port, { path: '/shop/a' })).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  test('one bad API file is reported by name and skipped; the others load', async () => {
    const dir = configDir({
      apis: { good: api('/good', { servers: servers(backend.port) }), invalid: api('/bad', { enable_blocking: 'yes' }) },
      rawApis: { broken: '{ "api_metadata": { "url": "/x", ' },
    });
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port)]);
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

  test('--framework koa and fastify exit with a clear "not available yet"', async () => {
    for (const fw of ['koa', 'fastify']) {
      const cli = runCli(['start', '--config-dir', configDir(), '--port', '0', '--framework', fw]);
      expect(await cli.exited).toBe(2);
      expect(cli.stderr()).toMatch(/not available yet/);
    }
  });

  test('bad flags are refused with usage and exit code 2', async () => {
    const bad = runCli(['start', '--port', 'http']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--port must be a port number/);
    const unknownFw = runCli(['start', '--framework', 'hapi']);
    expect(await unknownFw.exited).toBe(2);
    expect(unknownFw.stderr()).toMatch(/--framework must be one of express, koa, fastify/);
  });

  test('a port already in use is reported, not thrown', async () => {
    const port = backend.port;
    const cli = runCli(['start', '--config-dir', configDir(), '--port', String(port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/already in use/);
  });

  test('the example config of examples/standalone loads without warnings', async () => {
    const dir = path.resolve(__dirname, '..', '..', 'examples', 'standalone', 'config');
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port)]);
    try {
      await cli.waitFor(/2 APIs loaded/);
      expect(cli.stderr()).toBe('');
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });
});
