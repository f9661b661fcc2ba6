import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEnforcer, silentLogger } from '@ase/core';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

const identity = {
  oauth2_access_token: true,
  apikey_header: 'X-API-Key',
  cookie: 'JSESSIONID',
  username_header: 'x-user',
};

describe('Express adapter: deny and allow lists', () => {
  let backend: Backend;
  let app: AppUnderTest;

  beforeAll(async () => {
    backend = await startBackend('b');
    app = await startExpressApp({
      apis: {
        blocking: api('/blocking', { ...identity, enable_blocking: true, servers: servers(backend.port) }),
        detectOnly: api('/detect', { ...identity, enable_blocking: false, servers: servers(backend.port) }),
        keyInQuery: api('/qs', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) }),
        inProcess: api('/inproc', { ...identity, enable_blocking: true }),
      },
    });
  });
  afterEach(async () => {
    await app.enforcer.clearDeny();
    await app.enforcer.clearAllow();
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  const cases = [
    { type: 'ip', entry: { type: 'ip', value: '127.0.0.1' }, headers: {} as Record<string, string> },
    { type: 'token', entry: { type: 'token', value: 'tok-1' }, headers: { authorization: 'Bearer tok-1' } },
    { type: 'api_key', entry: { type: 'api_key', name: 'x-api-key', value: 'k-1' }, headers: { 'x-api-key': 'k-1' } },
    { type: 'cookie', entry: { type: 'cookie', name: 'JSESSIONID', value: 'c-1' }, headers: { cookie: 'a=b; JSESSIONID=c-1' } },
    { type: 'username', entry: { type: 'username', value: 'mallory' }, headers: { 'x-user': 'mallory' } },
  ] as const;

  test.each(cases)('blocks a deny-listed $type on an API with enable_blocking, and a request without it passes', async ({ type, entry, headers }) => {
    await app.enforcer.addDeny(entry);
    const blocked = await request(app.port, { path: '/blocking/x', headers });
    expect(blocked.status).toBe(403);
    expect(blocked.statusMessage).toBe('Unauthorized');
    expect(blocked.body).toBe('Error: Unauthorized');
    if (type !== 'ip') {
      const clean = await request(app.port, { path: '/blocking/x' });
      expect(clean.status).toBe(200);
    }
  });

  test.each(cases)('only records a deny-listed $type on an API without enable_blocking', async ({ entry, headers }) => {
    await app.enforcer.addDeny(entry);
    const events: string[] = [];
    const on = (e: { reason: string }): void => void events.push(e.reason);
    app.enforcer.on('blocked', on);
    const r = await request(app.port, { path: '/detect/x', headers });
    app.enforcer.off('blocked', on);
    expect(r.status).toBe(200);
    expect(events).toEqual(['deny_list']);
  });

  test('an API key in the query string is matched by its parameter name', async () => {
    await app.enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'qk' });
    expect((await request(app.port, { path: '/qs/x?api_key=qk' })).status).toBe(403);
    expect((await request(app.port, { path: '/qs/x?api_key=other' })).status).toBe(200);
  });

  test('the allow list wins over the deny list', async () => {
    await app.enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    await app.enforcer.addAllow({ type: 'token', value: 'good' });
    expect((await request(app.port, { path: '/blocking/x' })).status).toBe(403);
    expect((await request(app.port, { path: '/blocking/x', headers: { authorization: 'Bearer good' } })).status).toBe(200);
  });

  test('an API without servers passes to the host app, still protected by the lists', async () => {
    expect((await request(app.port, { path: '/inproc/page' })).body).toBe('host app GET /inproc/page');
    await app.enforcer.addDeny({ type: 'username', value: 'eve' });
    const seen = app.appSeen.length;
    const r = await request(app.port, { path: '/inproc/page', headers: { 'x-user': 'eve' } });
    expect(r.status).toBe(403);
    expect(app.appSeen.length).toBe(seen);
  });

  test('with the firewall disabled the deny list is not enforced', async () => {
    await app.enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    app.enforcer.setFirewall(false);
    try {
      expect((await request(app.port, { path: '/blocking/x' })).status).toBe(200);
    } finally {
      app.enforcer.setFirewall(true);
    }
    expect((await request(app.port, { path: '/blocking/x' })).status).toBe(403);
  });

  test('lists by tag, removes one entry, clears', async () => {
    await app.enforcer.addDeny({ type: 'ip', value: '10.0.0.1' });
    await app.enforcer.addDeny({ type: 'ip', value: '10.0.0.2' }, 'abs_generated');
    expect(app.enforcer.denyList.list('manual').map((e) => e.value)).toEqual(['10.0.0.1']);
    expect(app.enforcer.denyList.list('all')).toHaveLength(2);
    expect(await app.enforcer.removeDeny({ type: 'ip', value: '10.0.0.1' })).toBe(true);
    expect(await app.enforcer.removeDeny({ type: 'ip', value: '10.0.0.1' })).toBe(false);
    expect(await app.enforcer.clearDeny()).toBe(1);
  });
});

describe('Lists survive a restart', () => {
  test('deny and allow entries written by one enforcer are enforced by the next on the same directory', async () => {
    const backend = await startBackend('b');
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, servers: servers(backend.port) }) } });
    const first = createEnforcer({ configDir: dir, logger: silentLogger });
    await first.addDeny({ type: 'ip', value: '127.0.0.1' });
    await first.addAllow({ type: 'token', value: 'vip' });
    await first.close();
    expect(fs.existsSync(path.join(dir, 'data', 'lists.json'))).toBe(true);

    const app = await startExpressApp({ configDir: dir });
    try {
      expect((await request(app.port, { path: '/shop/x' })).status).toBe(403);
      expect((await request(app.port, { path: '/shop/x', headers: { authorization: 'Bearer vip' } })).status).toBe(200);
    } finally {
      await app.close();
      await backend.close();
    }
  });

  test('a corrupt lists file stops the start instead of running with empty lists', () => {
    const dir = configDir({ apis: { shop: api('/shop') } });
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'lists.json'), '{"blacklist": [');
    expect(() => createEnforcer({ configDir: dir, logger: silentLogger })).toThrow(/lists\.json: cannot be read/);
  });

  test('an entry that does not fit attack_list_memory is refused; automatic entries evict older automatic ones', async () => {
    const e = createEnforcer({ conf: { attack_list_memory: '1kb' }, logger: silentLogger });
    await e.addDeny({ type: 'ip', value: '10.0.0.1' });
    let refused: unknown;
    try {
      for (let i = 2; i < 50; i++) await e.addDeny({ type: 'ip', value: `10.0.0.${i}` });
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'ERR_ASE_LIST_FULL' });
    const manual = e.denyList.size;
    e.denyList.clear();
    for (let i = 1; i < 50; i++) e.denyList.add({ type: 'ip', value: `10.1.0.${i}` }, 'decoy');
    expect(e.denyList.size).toBeLessThanOrEqual(manual);
    expect(e.denyList.has('ip', '10.1.0.49')).toBe(true);
    expect(e.denyList.has('ip', '10.1.0.1')).toBe(false);
    await e.close();
  });
});

describe('Lists: a change that cannot be persisted is not applied', () => {
  test('addDeny rejects with ERR_ASE_PERSIST and the entry does not block', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true }) } });
    const e = createEnforcer({ configDir: dir, logger: silentLogger });
    // A directory where the lists file should be: the atomic rename onto it fails.
    fs.mkdirSync(path.join(dir, 'data', 'lists.json'), { recursive: true });
    await expect(e.addDeny({ type: 'ip', value: '10.0.0.9' })).rejects.toMatchObject({ code: 'ERR_ASE_PERSIST' });
    expect(e.denyList.has('ip', '10.0.0.9')).toBe(false);
    await expect(e.addAllow({ type: 'ip', value: '10.0.0.8' })).rejects.toMatchObject({ code: 'ERR_ASE_PERSIST' });
    expect(e.allowList.has('ip', '10.0.0.8')).toBe(false);
    await e.close();
  });
});

describe('Lists: entries given in code are canonicalised like requests', () => {
  test('a mixed-case api_key header name and an IPv4-mapped address still match', async () => {
    const backend = await startBackend('b');
    const app = await startExpressApp({ apis: { k: api('/k', { enable_blocking: true, apikey_header: 'X-API-Key', servers: servers(backend.port) }) } });
    try {
      await app.enforcer.addDeny({ type: 'api_key', name: 'X-API-Key', value: 'k1' });
      expect((await request(app.port, { path: '/k/x', headers: { 'x-api-key': 'k1' } })).status).toBe(403);
      await app.enforcer.addDeny({ type: 'ip', value: '::ffff:127.0.0.1' });
      expect((await request(app.port, { path: '/k/x' })).status).toBe(403);
      expect(await app.enforcer.removeDeny({ type: 'ip', value: '::ffff:127.0.0.1' })).toBe(true);
      expect((await request(app.port, { path: '/k/x' })).status).toBe(200);
      await expect(app.enforcer.addDeny({ type: 'ip', value: 'not-an-ip' })).rejects.toMatchObject({ code: 'ERR_ASE_LIST_ENTRY' });
    } finally {
      await app.close();
      await backend.close();
    }
  });
});
