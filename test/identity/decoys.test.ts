import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AttackEvent } from '@ase/core';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

const decoy = (subpaths: string[]) => ({ decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: '{"admin":true}', decoy_subpaths: subpaths });

describe("Decoys: the attacker's path", () => {
  let shopBackend: Backend, otherBackend: Backend;
  let app: AppUnderTest;
  let dir: string;
  const attacks: AttackEvent[] = [];

  beforeAll(async () => {
    [shopBackend, otherBackend] = await Promise.all([startBackend('shop'), startBackend('other')]);
    dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: {
        shop: api('/shop', { enable_blocking: true, servers: servers(shopBackend.port), decoy_config: decoy(['/shop/admin', 'root']) }),
        other: api('/other', { enable_blocking: true, servers: servers(otherBackend.port) }),
        lenient: api('/lenient', { enable_blocking: false, servers: servers(otherBackend.port) }),
        trap: api('/account', { servers: servers(shopBackend.port), decoy_config: decoy([]) }),
      },
    });
    app = await startExpressApp({ configDir: dir });
    app.enforcer.on('attack', (e) => attacks.push(e));
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([shopBackend.close(), otherBackend.close()]);
  });
  beforeEach(async () => {
    attacks.length = 0;
    await app.enforcer.clearDeny();
  });

  test('probe a decoy, get the decoy answer, then be blocked on the same API and on another; the backend never sees the decoy', async () => {
    expect((await request(app.port, { path: '/shop/items' })).status).toBe(200);
    const shopSeen = shopBackend.seen.length;

    const probe = await request(app.port, { path: '/shop/admin/users' });
    expect(probe.status).toBe(200);
    expect(probe.statusMessage).toBe('OK');
    expect(probe.body).toBe('{"admin":true}');
    expect(shopBackend.seen.length).toBe(shopSeen);

    expect(app.enforcer.denyList.list('decoy')).toEqual([expect.objectContaining({ type: 'ip', value: '127.0.0.1', tag: 'decoy' })]);
    expect(attacks).toEqual([expect.objectContaining({ kind: 'decoy', api: 'shop', ip: '127.0.0.1', listed: true, identifier: { type: 'ip', value: '127.0.0.1' } })]);

    expect((await request(app.port, { path: '/shop/items' })).status).toBe(403);
    expect((await request(app.port, { path: '/other/x' })).status).toBe(403);
    // An API without enable_blocking keeps serving (detect-only).
    expect((await request(app.port, { path: '/lenient/x' })).status).toBe(200);
    // The decoy keeps answering like an API, so the trap does not reveal itself.
    const again = await request(app.port, { path: '/shop/admin' });
    expect(again.status).toBe(200);
    expect(again.body).toBe('{"admin":true}');
    expect(shopBackend.seen.length).toBe(shopSeen);
  });

  test('a relative subpath ("root") means a path under the API url', async () => {
    expect((await request(app.port, { path: '/shop/root' })).body).toBe('{"admin":true}');
    expect((await request(app.port, { path: '/root' })).body).toBe('host app GET /root');
  });

  test('an out-of-context decoy (no subpaths) traps the whole API and never reaches its servers', async () => {
    const seen = shopBackend.seen.length;
    for (const p of ['/account', '/account/login', '/ACCOUNT/x/']) {
      const r = await request(app.port, { path: p });
      expect(r.body).toBe('{"admin":true}');
    }
    expect(shopBackend.seen.length).toBe(seen);
  });

  test('the access log records the detection and the block', async () => {
    await request(app.port, { path: '/shop/admin' });
    await request(app.port, { path: '/other/x' });
    await app.enforcer.close(); // flushes the log (the app's server is closed in afterAll)
    const log = fs.readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8');
    expect(log).toMatch(/\[type:attack\] \[tag:decoy\] \[api_id:shop\] \[connectinfo:127\.0\.0\.1\] \[identifier:ip:127\.0\.0\.1\] \[listed:true\]/);
    expect(log).toMatch(/\[type:blocked\] \[reason:deny_list\] \[api_id:other\] \[connectinfo:127\.0\.0\.1\] \[entry:ip:127\.0\.0\.1\] \[tag:decoy\]/);
  });
});

describe('Decoys with ASE-detected attacks disabled', () => {
  test('the decoy still answers, but nobody is deny-listed', async () => {
    const backend = await startBackend('b');
    const app = await startExpressApp({ apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port), decoy_config: decoy(['admin']) }) } });
    try {
      const events: boolean[] = [];
      app.enforcer.on('attack', (e) => events.push(e.listed));
      expect((await request(app.port, { path: '/shop/admin' })).body).toBe('{"admin":true}');
      expect(events).toEqual([false]);
      expect(app.enforcer.denyList.size).toBe(0);
      expect((await request(app.port, { path: '/shop/items' })).status).toBe(200);
    } finally {
      await app.close();
      await backend.close();
    }
  });
});

describe('is_token_mandatory', () => {
  let backend: Backend;
  let app: AppUnderTest;
  beforeAll(async () => {
    backend = await startBackend('b');
    app = await startExpressApp({
      conf: { enable_ase_detected_attack: true },
      apis: {
        strict: api('/strict', { enable_blocking: true, oauth2_access_token: true, is_token_mandatory: true, servers: servers(backend.port) }),
        watch: api('/watch', { enable_blocking: false, oauth2_access_token: true, is_token_mandatory: true, servers: servers(backend.port) }),
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });
  afterEach(() => app.enforcer.clearDeny());

  test('a request with a token passes', async () => {
    expect((await request(app.port, { path: '/strict/x', headers: { authorization: 'Bearer t' } })).status).toBe(200);
    expect(app.enforcer.denyList.size).toBe(0);
  });

  test('a request without a token is blocked and its IP deny-listed with tag missing_token', async () => {
    const r = await request(app.port, { path: '/strict/x' });
    expect(r.status).toBe(403);
    expect(app.enforcer.denyList.list('missing_token')).toEqual([expect.objectContaining({ type: 'ip', value: '127.0.0.1' })]);
    // The IP is now deny-listed: even with a token the client is blocked.
    expect((await request(app.port, { path: '/strict/x', headers: { authorization: 'Bearer t' } })).status).toBe(403);
  });

  test('without enable_blocking the missing token is recorded but the request passes', async () => {
    expect((await request(app.port, { path: '/watch/x' })).status).toBe(200);
    expect(app.enforcer.denyList.list('missing_token')).toHaveLength(1);
  });
});
