import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { parseLine } from '../../packages/core/src/lists/journal-format';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { api, configDir, pattern, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';

/**
 * Network entries, expiry and history through real servers on Express, Koa and Fastify, with a
 * real backend behind and the lists kept in a config directory. Clients are told apart by
 * X-Forwarded-For, which the default trusted proxies (loopback) vouch for.
 */

/** The API's block answer (its api_pattern_enforcement error_code). */
const BLOCKED = 401;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (!check() && Date.now() < until) await sleep(25);
  return check();
}

/** The deny entries `data/` holds: the snapshot with the journal's changes replayed on it. */
function storedDenyValues(dir: string): string[] {
  const file = (name: string): string => {
    try {
      return fs.readFileSync(path.join(dir, 'data', name), 'utf8');
    } catch {
      return '';
    }
  };
  const snapshot = file('lists.json');
  const values = new Set<string>(snapshot ? (JSON.parse(snapshot) as { blacklist: { value: string }[] }).blacklist.map((e) => e.value) : []);
  for (const line of file('lists.journal').split('\n')) {
    const c = parseLine(line); // undefined for the journal's unwritten tail
    if (!c || c.list !== 'blacklist' || c.op === 'clear') continue;
    if (c.op === 'add') values.add(c.entry.value);
    else values.delete(c.entry.value);
  }
  return [...values];
}

describe.each(HARNESSES)('lists with reach on $framework', (harness) => {
  let backend: Backend;
  let dir: string;
  let enforcer: Enforcer;
  let app: RunningApp;

  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(async () => {
    await backend.close();
  });
  beforeEach(async () => {
    dir = configDir({
      conf: 'enable_xff=true\nenable_ase_detected_attack=true\ndeny_list_ttl=invalid_method:1s\n',
      apis: {
        shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }), servers: servers(backend.port) }),
        watch: api('/watch', { enable_blocking: false, servers: servers(backend.port) }),
      },
    });
    enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    app = await harness.start(enforcer);
  });
  afterEach(async () => {
    await app.close();
    await enforcer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (ip: string, headers: Record<string, string> = {}, p = '/shop/x'): Promise<number> =>
    request(app.port, { path: p, headers: { 'x-forwarded-for': ip, ...headers } }).then((r) => r.status);

  test('a deny-listed IPv4 or IPv6 network blocks every address in it, and no address outside it', async () => {
    await enforcer.addDeny({ type: 'ip', value: '203.0.113.77/24' });
    await enforcer.addDeny({ type: 'ip', value: '2001:db8:40::/48' });
    expect(enforcer.denyList.list().map((e) => e.value)).toEqual(['203.0.113.0/24', '2001:db8:40::/48']);
    expect([await get('203.0.113.1'), await get('203.0.113.254'), await get('203.0.112.255'), await get('203.0.114.0')]).toEqual([BLOCKED, BLOCKED, 200, 200]);
    expect([await get('2001:db8:40:ffff::9'), await get('2001:db8:41::1'), await get('::ffff:203.0.113.5')]).toEqual([BLOCKED, 200, BLOCKED]);
  });

  test('an allow-listed network lets its addresses through even when one of them is deny-listed on its own', async () => {
    await enforcer.addAllow({ type: 'ip', value: '198.51.100.0/24' });
    await enforcer.addDeny({ type: 'ip', value: '198.51.100.7' });
    await enforcer.addDeny({ type: 'ip', value: '198.51.101.7' });
    expect([await get('198.51.100.7'), await get('198.51.101.7')]).toEqual([200, BLOCKED]);
  });

  test('a manual entry with a ttl blocks until its expiry, then stops at once and is removed from memory and storage', async () => {
    const unlisted: unknown[] = [];
    enforcer.on('unlisted', (e) => unlisted.push(e));
    await enforcer.addDeny({ type: 'token', value: 'short-lived' }, 'manual', { ttl: 1 });
    const bearer = { authorization: 'Bearer short-lived' };
    expect(await get('192.0.2.10', bearer)).toBe(BLOCKED);
    expect(storedDenyValues(dir)).toEqual(['short-lived']);
    const { expiresAt } = enforcer.denyList.list(undefined, true)[0]!;
    await sleep(expiresAt! - Date.now() + 5);
    expect(await get('192.0.2.10', bearer)).toBe(200); // matching reads the deadline; the sweep may not have run yet
    expect(await eventually(() => enforcer.denyList.size === 0, 2500)).toBe(true);
    expect(unlisted).toEqual([expect.objectContaining({ type: 'unlisted', list: 'deny', source: 'expiry', reason: 'manual' })]);
    // Stored in the background, like a detection.
    expect(await eventually(() => !storedDenyValues(dir).includes('short-lived'), 2000)).toBe(true);
  });

  test('a detection lasts its tag\'s deny_list_ttl, records its API and request id, and counts the requests it blocked', async () => {
    const violation = await request(app.port, { method: 'DELETE', path: '/shop/x', headers: { 'x-forwarded-for': '192.0.2.20', authorization: 'Bearer thief', 'x-request-id': 'req-42' } });
    expect(violation.status).toBe(401);
    const [listed] = enforcer.denyList.list(undefined, true);
    expect(listed).toMatchObject({ type: 'token', value: 'thief', tag: 'invalid_method', via: 'detection', api: 'shop', requestId: 'req-42', hits: 0 });
    expect(listed!.expiresAt! - listed!.addedAt!).toBe(1000);
    const bearer = { authorization: 'Bearer thief' };
    expect([await get('192.0.2.21', bearer), await get('192.0.2.22', bearer)]).toEqual([BLOCKED, BLOCKED]);
    // Detect-only: the entry matched, but blocked nothing.
    expect(await get('192.0.2.23', bearer, '/watch/x')).toBe(200);
    const counted = enforcer.denyList.list(undefined, true)[0]!;
    expect(counted.hits).toBe(2);
    expect(counted.lastHit).toBeGreaterThanOrEqual(listed!.addedAt!);
    await sleep(listed!.expiresAt! - Date.now() + 5);
    expect(await get('192.0.2.21', bearer)).toBe(200);
  });

  test('a network entry counts the hits of every address it blocked', async () => {
    await enforcer.addDeny({ type: 'ip', value: '203.0.113.0/24' });
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) expect(await get(ip)).toBe(BLOCKED);
    expect(enforcer.denyList.list(undefined, true)[0]).toMatchObject({ value: '203.0.113.0/24', hits: 3 });
  });

  test('networks, expiry and history survive a restart; an entry that expired meanwhile does not come back', async () => {
    await enforcer.addDeny({ type: 'ip', value: '203.0.113.0/24' }, 'manual', { ttl: 3600 });
    await enforcer.addDeny({ type: 'token', value: 'brief' }, 'manual', { ttl: 1 });
    expect(await get('203.0.113.9')).toBe(BLOCKED);
    const before = enforcer.denyList.entry({ type: 'ip', value: '203.0.113.0/24' })!;
    await app.close();
    await enforcer.close();
    await sleep(1050);
    enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    app = await harness.start(enforcer);
    const after = enforcer.denyList.list(undefined, true);
    expect(after.map((e) => e.value)).toEqual(['203.0.113.0/24']);
    expect(after[0]).toMatchObject({ expiresAt: before.expiresAt, addedAt: before.addedAt, via: 'management' });
    expect(await get('203.0.113.200')).toBe(BLOCKED);
  });
});
