/**
 * ASE as nginx's decision service, end to end: a real nginx running the configuration of
 * docs/sideband.md, a real backend behind it, and the real `ase start --mode decide` answering
 * nginx's auth_request, with its management API beside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { call } from '../admin/harness';
import { type RunningCli, runCli } from '../helpers/cli';
import { api, configDir, pattern } from '../helpers/config';
import { type Backend, type Reply, request, startBackend } from '../helpers/http';
import { NGINX_BIN, type RunningNginx, startNginx } from '../helpers/nginx';

/** The nginx configuration of docs/sideband.md, as users copy it. */
function documentedNginxConfig(): string {
  const page = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'sideband.md'), 'utf8');
  const m = /```nginx\n([\s\S]*?)```/.exec(page);
  if (!m) throw new Error('docs/sideband.md has no nginx configuration block');
  return m[1]!;
}

/** The documented configuration with this test's ports: its decision service, backend and listener. */
function withPorts(conf: string, ports: { decide: number; backend: number; nginx: number }): string {
  const swaps: [string, string][] = [
    ['server 127.0.0.1:8000;', `server 127.0.0.1:${ports.decide};`],
    ['server 127.0.0.1:3000;', `server 127.0.0.1:${ports.backend};`],
    ['listen 80;', `listen 127.0.0.1:${ports.nginx};`],
  ];
  let out = conf;
  for (const [from, to] of swaps) {
    if (!out.includes(from)) throw new Error(`the nginx configuration of docs/sideband.md has no "${from}" any more`);
    out = out.replace(from, to);
  }
  return out;
}

const BLOCK_BODY = '{"error":"blocked by policy"}';

describe('nginx auth_request with ase start --mode decide', () => {
  let backend: Backend;
  let ase: RunningCli;
  let nginx: RunningNginx;
  let adminPort: number;

  beforeAll(async () => {
    // No skipping: CI installs nginx (.ci/run); a machine without it fails here, saying so.
    if (!NGINX_BIN) throw new Error('nginx is not installed (apt-get install nginx-light; .ci/run does it as root)');
    backend = await startBackend('app');
    const dir = configDir({
      // nginx connects from 127.0.0.1; the clients of these tests come from other loopback addresses.
      conf: 'enable_ase_detected_attack=true\nxff_trusted_proxies=127.0.0.1\n',
      apis: {
        shop: api('/shop', {
          enable_blocking: true,
          oauth2_access_token: true,
          api_pattern_enforcement: pattern({ methods_allowed: ['GET', 'POST'], error_code: '451', error_def: 'Unavailable For Legal Reasons', error_message_body: BLOCK_BODY }),
          decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'welcome, admin', decoy_subpaths: ['/shop/admin'] },
        } as never),
      },
    });
    ase = runCli(['start', '--mode', 'decide', '--proxy', 'nginx', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const ready = await ase.waitFor(/decision service for nginx on port (\d+).*management API on 127\.0\.0\.1:(\d+)/);
    adminPort = Number(ready[2]);
    const decide = Number(ready[1]);
    nginx = await startNginx((port) => withPorts(documentedNginxConfig(), { decide, backend: backend.port, nginx: port }));
  }, 30000);

  afterAll(async () => {
    await nginx?.stop();
    if (ase && ase.child.exitCode === null) {
      ase.child.kill('SIGTERM');
      await ase.exited;
    }
    await backend?.close();
  });

  const through = (client: string, o: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> =>
    request(nginx.port, { ...o, localAddress: client });

  test('a passing request reaches the backend with the identity headers; the client cannot send its own', async () => {
    const before = backend.seen.length;
    const r = await through('127.0.0.2', { path: '/shop/items?page=2', headers: { 'x-ase-api': 'admin-api', 'x-ase-client-ip': '10.9.9.9' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ server: 'app', url: '/shop/items?page=2' });
    expect(backend.seen.length).toBe(before + 1);
    const seen = backend.seen.at(-1)!;
    expect(seen.headers['x-ase-api']).toBe('shop');
    expect(seen.headers['x-ase-client-ip']).toBe('127.0.0.2');
    // No API matched: nothing to name, and the client's own copies are dropped all the same.
    const other = await through('127.0.0.2', { path: '/public', headers: { 'x-ase-api': 'shop' } });
    expect(other.status).toBe(200);
    expect(backend.seen.at(-1)!.url).toBe('/public');
    expect(backend.seen.at(-1)!.headers['x-ase-api']).toBeUndefined();
  });

  test("the backend sees the client's token masked in X-ASE-Client, never the client's own X-ASE-Client", async () => {
    const token = 'eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2Vu.sig-secret-part';
    const r = await through('127.0.0.2', { path: '/shop/items', headers: { authorization: `Bearer ${token}`, 'x-ase-client': 'username:admin' } });
    expect(r.status).toBe(200);
    const seen = backend.seen.at(-1)!;
    expect(seen.headers['x-ase-client']).toBe('token:eyJh****');
    // The raw token reaches the backend only where the client put it, in Authorization.
    const ase = Object.entries(seen.headers).filter(([name]) => name.startsWith('x-ase-'));
    expect(JSON.stringify(ase)).not.toContain('sig-secret-part');
    expect((await through('127.0.0.2', { path: '/shop/items', headers: { 'x-ase-client': 'username:admin' } })).status).toBe(200);
    expect(backend.seen.at(-1)!.headers['x-ase-client']).toBe('ip:127.0.0.2');
    // No API matched: the empty header drops the client's copy.
    expect((await through('127.0.0.2', { path: '/public', headers: { 'x-ase-client': 'username:admin' } })).status).toBe(200);
    expect(backend.seen.at(-1)!.headers['x-ase-client']).toBeUndefined();
  });

  test('the original method and target are what nginx received: a POST with its body passes, a DELETE gets the API\'s status and body', async () => {
    const post = await through('127.0.0.3', { method: 'POST', path: '/shop/orders', headers: { 'content-type': 'application/json' }, body: '{"item":1}' });
    expect(post.status).toBe(200);
    expect(backend.seen.at(-1)).toMatchObject({ method: 'POST', url: '/shop/orders', body: '{"item":1}' });
    const before = backend.seen.length;
    const del = await through('127.0.0.3', { method: 'DELETE', path: '/shop/orders/1' });
    expect([del.status, del.body]).toEqual([451, BLOCK_BODY]);
    expect(del.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(backend.seen.length).toBe(before);
  });

  test("a client's own X-Original-URI, X-Original-Method and X-Forwarded-For change nothing", async () => {
    // Claims the decoy path (it would list the client) and another client's address (listing that one).
    const r = await through('127.0.0.4', { path: '/shop/items', headers: { 'x-original-uri': '/shop/admin', 'x-original-method': 'DELETE', 'x-forwarded-for': '127.0.0.9' } });
    expect(r.status).toBe(200);
    expect(backend.seen.at(-1)!.headers['x-ase-client-ip']).toBe('127.0.0.4');
    expect((await through('127.0.0.4', { path: '/shop/items' })).status).toBe(200);
    expect((await through('127.0.0.9', { path: '/shop/items' })).status).toBe(200);
  });

  test("a decoy's 200 answer is served by nginx, never by the backend, and blocks the client from then on", async () => {
    const before = backend.seen.length;
    const trap = await through('127.0.0.5', { path: '/shop/admin' });
    expect([trap.status, trap.body]).toEqual([200, 'welcome, admin']);
    expect(trap.headers['x-ase-decoy']).toBeUndefined(); // the trap does not reveal itself to the client
    const next = await through('127.0.0.5', { path: '/shop/items' });
    expect([next.status, next.body]).toEqual([451, BLOCK_BODY]);
    expect(backend.seen.length).toBe(before);
    expect((await through('127.0.0.6', { path: '/shop/items' })).status).toBe(200); // another client still passes
  });

  test('a deny entry added through the management API blocks the next request; removed, the client passes again', async () => {
    expect((await through('127.0.0.7', { path: '/shop/items' })).status).toBe(200);
    const added = await call(adminPort, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.7' } });
    expect(added.status).toBe(200);
    const blocked = await through('127.0.0.7', { path: '/shop/items' });
    expect([blocked.status, blocked.body]).toEqual([451, BLOCK_BODY]);
    expect((await through('127.0.0.8', { path: '/shop/items' })).status).toBe(200);
    const removed = await call(adminPort, 'DELETE', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.7' } });
    expect(removed.status).toBe(200);
    expect((await through('127.0.0.7', { path: '/shop/items' })).status).toBe(200);
  });

  test('a HEAD to a blocked client gets the status without a body', async () => {
    const r = await through('127.0.0.5', { method: 'HEAD', path: '/shop/items' });
    expect([r.status, r.body]).toEqual([451, '']);
  });
});
