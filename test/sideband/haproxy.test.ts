/**
 * ASE as HAProxy's decision service, end to end: a real haproxy running the configuration of
 * docs/sideband.md with the shipped Lua action (packages/cli/haproxy/ase-decide.lua), a real
 * backend behind it, and the real `ase start --mode decide --proxy traefik` answering the action,
 * with its management API beside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { call } from '../admin/harness';
import { type RunningCli, runCli } from '../helpers/cli';
import { api, configDir, pattern } from '../helpers/config';
import { HAPROXY_BIN, type RunningHaproxy, startHaproxy } from '../helpers/haproxy';
import { type Backend, freePort, type Reply, request, startBackend } from '../helpers/http';

const SCRIPT = path.resolve(__dirname, '..', '..', 'packages', 'cli', 'haproxy', 'ase-decide.lua');

/** The HAProxy configuration of docs/sideband.md, as users copy it. */
function documentedHaproxyConfig(): string {
  const page = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'sideband.md'), 'utf8');
  const m = /```haproxy\n([\s\S]*?)```/.exec(page);
  if (!m) throw new Error('docs/sideband.md has no haproxy configuration block');
  return m[1]!;
}

/** The documented configuration with this repository's script and this test's ports. */
function withPorts(conf: string, ports: { decide: number; backend: number; haproxy: number }): string {
  const swaps: [string, string][] = [
    ['lua-load /opt/app/node_modules/@ase/cli/haproxy/ase-decide.lua', `lua-load ${SCRIPT}`],
    ['lua.ase_decide http://127.0.0.1:8000/', `lua.ase_decide http://127.0.0.1:${ports.decide}/`],
    ['server app1 127.0.0.1:3000', `server app1 127.0.0.1:${ports.backend}`],
    ['bind :80', `bind 127.0.0.1:${ports.haproxy}`],
  ];
  let out = conf;
  for (const [from, to] of swaps) {
    if (!out.includes(from)) throw new Error(`the haproxy configuration of docs/sideband.md has no "${from}" any more`);
    out = out.replace(from, to);
  }
  return out;
}

const BLOCK_BODY = '{"error":"blocked by policy"}';

test('the Lua action is in the published @ase/cli package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'packages', 'cli', 'package.json'), 'utf8')) as { files: string[] };
  expect(pkg.files).toContain('haproxy');
  expect(path.relative(path.resolve(__dirname, '..', '..', 'packages', 'cli'), SCRIPT)).toBe(path.join('haproxy', 'ase-decide.lua'));
  expect(fs.existsSync(SCRIPT)).toBe(true);
});

describe('HAProxy with the ase_decide Lua action and ase start --mode decide', () => {
  let backend: Backend;
  let ase: RunningCli;
  let haproxy: RunningHaproxy;
  let adminPort: number;
  let decidePort: number;

  beforeAll(async () => {
    // No skipping: CI installs haproxy (.ci/run); a machine without it fails here, saying so.
    if (!HAPROXY_BIN) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does it as root)');
    backend = await startBackend('app');
    const dir = configDir({
      // HAProxy connects from 127.0.0.1; the clients of these tests come from other loopback addresses.
      conf: 'enable_ase_detected_attack=true\nxff_trusted_proxies=127.0.0.1\n',
      apis: {
        shop: api('/shop', {
          enable_blocking: true,
          oauth2_access_token: true,
          cookie: 'sid',
          apikey_header: 'X-API-Key',
          api_pattern_enforcement: pattern({ methods_allowed: ['GET', 'POST'], error_code: '451', error_def: 'Unavailable For Legal Reasons', error_message_body: BLOCK_BODY }),
          decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'welcome, admin', decoy_subpaths: ['/shop/admin'] },
        } as never),
        ops: api('/ops', {
          decoy_config: {
            decoy_enabled: true,
            response_code: 200,
            response_def: 'OK',
            response_message: 'API_KEY=${api_key}\n',
            decoy_subpaths: ['/ops/.env'],
            honeytokens: { api_key: true, cookie: 'session' },
          },
        } as never),
      },
    });
    ase = runCli(['start', '--mode', 'decide', '--proxy', 'traefik', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const ready = await ase.waitFor(/decision service for traefik on port (\d+).*management API on 127\.0\.0\.1:(\d+)/);
    adminPort = Number(ready[2]);
    decidePort = Number(ready[1]);
    haproxy = await startHaproxy((port) => withPorts(documentedHaproxyConfig(), { decide: decidePort, backend: backend.port, haproxy: port }));
  }, 30000);

  afterAll(async () => {
    await haproxy?.stop();
    if (ase && ase.child.exitCode === null) {
      ase.child.kill('SIGTERM');
      await ase.exited;
    }
    await backend?.close();
  });

  const through = (client: string, o: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> =>
    request(haproxy.port, { ...o, localAddress: client });

  test('a passing request reaches the backend with the identity headers; the client cannot send its own', async () => {
    const before = backend.seen.length;
    const r = await through('127.0.0.2', { path: '/shop/items?page=2', headers: { 'x-ase-api': 'admin-api', 'x-ase-client-ip': '10.9.9.9', 'x-ase-client': 'username:admin', 'X-ASE-Extra': 'forged' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ server: 'app', url: '/shop/items?page=2' });
    expect(backend.seen.length).toBe(before + 1);
    const seen = backend.seen.at(-1)!;
    expect(seen.headers['x-ase-api']).toBe('shop');
    expect(seen.headers['x-ase-client-ip']).toBe('127.0.0.2');
    expect(seen.headers['x-ase-client']).toBe('ip:127.0.0.2');
    expect(seen.headers['x-ase-extra']).toBeUndefined();
    // No API matched: nothing to name, and the client's own copies are dropped all the same.
    const other = await through('127.0.0.2', { path: '/public', headers: { 'x-ase-api': 'shop', 'x-ase-client': 'username:admin' } });
    expect(other.status).toBe(200);
    expect(backend.seen.at(-1)!.url).toBe('/public');
    expect(backend.seen.at(-1)!.headers['x-ase-api']).toBe('');
    expect(backend.seen.at(-1)!.headers['x-ase-client']).toBe('');
  });

  test("the original method and target are what HAProxy received: a POST with its body passes, a DELETE gets the API's status and body", async () => {
    const post = await through('127.0.0.3', { method: 'POST', path: '/shop/orders', headers: { 'content-type': 'application/json' }, body: '{"item":1}' });
    expect(post.status).toBe(200);
    expect(backend.seen.at(-1)).toMatchObject({ method: 'POST', url: '/shop/orders', body: '{"item":1}' });
    const before = backend.seen.length;
    const del = await through('127.0.0.3', { method: 'DELETE', path: '/shop/orders/1' });
    expect([del.status, del.body]).toEqual([451, BLOCK_BODY]);
    expect(del.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(del.headers['x-ase-decision']).toBeUndefined();
    expect(backend.seen.length).toBe(before);
  });

  test("a client's own X-Forwarded-Uri, X-Forwarded-Method and X-Forwarded-For change nothing", async () => {
    // Claims the decoy path (it would list the client) and another client's address (listing that one).
    const r = await through('127.0.0.4', {
      path: '/shop/items',
      headers: { 'x-forwarded-uri': '/shop/admin', 'x-forwarded-method': 'DELETE', 'x-forwarded-for': '127.0.0.9', 'x-forwarded-host': 'evil.example' },
    });
    expect(r.status).toBe(200);
    expect(backend.seen.at(-1)!.headers['x-ase-client-ip']).toBe('127.0.0.4');
    expect((await through('127.0.0.4', { path: '/shop/items' })).status).toBe(200);
    expect((await through('127.0.0.9', { path: '/shop/items' })).status).toBe(200);
  });

  test("a decoy's 200 answer is served by HAProxy with its real status, never by the backend, and blocks the client from then on", async () => {
    const before = backend.seen.length;
    const trap = await through('127.0.0.5', { path: '/shop/admin' });
    expect([trap.status, trap.body]).toEqual([200, 'welcome, admin']);
    expect(trap.headers['x-ase-decoy']).toBeUndefined(); // the trap does not reveal itself to the client
    expect(trap.headers['x-ase-status']).toBeUndefined();
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

  test("the client's Authorization, Cookie and API-key headers reach ASE: a deny-listed token, cookie or key is blocked", async () => {
    const entries = [
      { type: 'token', value: 'stolen-token' },
      { type: 'cookie', name: 'sid', value: 'stolen-session' },
      { type: 'api_key', name: 'X-API-Key', value: 'stolen-key' },
    ];
    for (const body of entries) expect((await call(adminPort, 'POST', '/v4/ase/firewall/blacklist', { body })).status).toBe(200);
    try {
      const before = backend.seen.length;
      const carriers: Record<string, string>[] = [{ authorization: 'Bearer stolen-token' }, { cookie: 'theme=dark; sid=stolen-session' }, { 'x-api-key': 'stolen-key' }];
      for (const headers of carriers) {
        const r = await through('127.0.0.10', { path: '/shop/items', headers });
        expect([r.status, r.body]).toEqual([451, BLOCK_BODY]);
      }
      expect(backend.seen.length).toBe(before);
      const ok = await through('127.0.0.10', { path: '/shop/items', headers: { authorization: 'Bearer good-token', cookie: 'sid=good', 'x-api-key': 'good-key' } });
      expect(ok.status).toBe(200);
      expect(backend.seen.at(-1)!.headers).toMatchObject({ authorization: 'Bearer good-token', cookie: 'sid=good', 'x-api-key': 'good-key' });
    } finally {
      for (const body of entries) await call(adminPort, 'DELETE', '/v4/ase/firewall/blacklist', { body });
    }
  });

  test("a decoy's headers reach the client: the session cookie it plants, presented later by another client, blocks that one", async () => {
    const trap = await through('127.0.0.11', { path: '/ops/.env' });
    expect(trap.status).toBe(200);
    expect(trap.body).toMatch(/^API_KEY=\S+\n$/);
    const planted = /^session=([^;]+)/.exec(String(trap.headers['set-cookie']))?.[1];
    expect(planted).toBeDefined();
    const before = backend.seen.length;
    const caught = await through('127.0.0.12', { path: '/shop/items', headers: { cookie: `session=${planted}` } });
    expect([caught.status, caught.body]).toEqual([451, BLOCK_BODY]);
    expect((await through('127.0.0.12', { path: '/shop/items' })).status).toBe(451); // its address is listed now
    expect(backend.seen.length).toBe(before);
  });

  test('a HEAD to a blocked client gets the status without a body', async () => {
    const r = await through('127.0.0.5', { method: 'HEAD', path: '/shop/items' });
    expect([r.status, r.body]).toEqual([451, '']);
  });
});

describe('HAProxy with the ase_decide Lua action and no decision service', () => {
  let backend: Backend;
  let down: RunningHaproxy;
  let wrong: RunningHaproxy;

  beforeAll(async () => {
    if (!HAPROXY_BIN) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does it as root)');
    backend = await startBackend('app');
    const nobody = await freePort();
    down = await startHaproxy((port) => withPorts(documentedHaproxyConfig(), { decide: nobody, backend: backend.port, haproxy: port }));
    // A mistyped URL naming some other service (here the backend itself, which answers 200 to anything).
    wrong = await startHaproxy((port) => withPorts(documentedHaproxyConfig(), { decide: backend.port, backend: backend.port, haproxy: port }));
  }, 30000);

  afterAll(async () => {
    await down?.stop();
    await wrong?.stop();
    await backend?.close();
  });

  test('ASE unreachable: 500, and nothing reaches the backend', async () => {
    const r = await request(down.port, { method: 'POST', path: '/shop/orders', body: '{"item":1}', localAddress: '127.0.0.2' });
    expect([r.status, r.body]).toEqual([500, 'Error: Internal Server Error']);
    expect(backend.seen).toHaveLength(0);
    expect(down.output()).toMatch(/ase_decide: no decision from the decision service at http:\/\/127\.0\.0\.1:\d+\/ \(status 503, no X-ASE-Decision\); answering 500/);
  });

  test("a 200 that is not ASE's pass lets nothing through", async () => {
    const before = backend.seen.length;
    const r = await request(wrong.port, { path: '/shop/items', localAddress: '127.0.0.2' });
    expect(r.status).toBe(500);
    expect(backend.seen.length).toBe(before + 1); // the one request the action sent it, asking
    expect(backend.seen.at(-1)!.headers['x-forwarded-uri']).toBe('/shop/items');
    expect(wrong.output()).toMatch(/\(status 200, no X-ASE-Decision\); answering 500/);
  });
});
