/** `ase start --mode decide` as a process: its options, the Envoy form, the management status, shutdown. */
import * as http from 'node:http';
import { call } from '../admin/harness';
import { runCli } from '../helpers/cli';
import { api, configDir } from '../helpers/config';
import { listen, request } from '../helpers/http';

describe('ase start --mode decide', () => {
  test.each([
    [['--mode', 'sideband'], /--mode must be gateway or decide \(got "sideband"\)/],
    [['--mode', 'decide', '--proxy', 'haproxy'], /--proxy must be one of nginx, envoy, traefik \(got "haproxy"\)/],
    [['--proxy', 'nginx'], /--proxy and --path-prefix go with --mode decide/],
    [['--path-prefix', '/authz'], /--proxy and --path-prefix go with --mode decide/],
    [['--mode', 'decide', '--framework', 'koa'], /--framework goes with the gateway/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const cli = runCli(['start', '--config-dir', configDir(), '--port', '0', '--admin-port', '0', ...args]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(message);
  });

  test('--proxy envoy --path-prefix: decides the request under the prefix; the status names no framework; SIGTERM stops it', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true }) } });
    const cli = runCli(['start', '--mode', 'decide', '--proxy', 'envoy', '--path-prefix', '/ase-authz', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    try {
      const m = await cli.waitFor(/ASE ready: decision service for envoy on port (\d+), 1 API loaded.*management API on 127\.0\.0\.1:(\d+)/);
      const [port, adminPort] = [Number(m[1]), Number(m[2])];
      const pass = await request(port, { path: '/ase-authz/shop/items', headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect([pass.status, pass.headers['x-ase-api'], pass.headers['x-ase-client-ip']]).toEqual([200, 'shop', '203.0.113.7']);
      // --mode decide turns enable_xff on: without it every client would be 127.0.0.1 here.
      await call(adminPort, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.7' } });
      const blocked = await request(port, { path: '/ase-authz/shop/items', headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect([blocked.status, blocked.body, blocked.headers['x-ase-decision']]).toEqual([403, 'Error: Unauthorized', 'block']);
      const outside = await request(port, { path: '/shop/items' });
      expect(outside.status).toBe(500);
      const status = await call(adminPort, 'GET', '/v4/ase/status');
      expect(status.status).toBe(200);
      expect(status.text).toMatch(/http_ws_port/);
      expect(status.text).not.toMatch(/framework/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/SIGTERM received, shutting down/);
  });

  test('a data port already in use is reported with exit code 1, and nothing is left listening', async () => {
    const taken = await listen(http.createServer());
    try {
      const cli = runCli(['start', '--mode', 'decide', '--config-dir', configDir(), '--port', String(taken.port), '--admin-port', '0']);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toMatch(/already in use/);
      expect(cli.stdout()).not.toMatch(/ASE ready/);
    } finally {
      await taken.close();
    }
  });
});
