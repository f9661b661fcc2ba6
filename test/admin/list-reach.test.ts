import { MOUNTS, type Mount, type Served, call, serveAdmin } from './harness';
import { COOKIE_ENTRY, IP_ENTRY, TOKEN_ENTRY, asReferenceClient } from './seed-samples';

/*
 * The list pages with networks, expiry and history, on every mount: `ttl` in the body of an add,
 * the history fields after the reference's own, `?sort=` and paging, and reference clients that
 * know only the documented fields reading the answers as the seed shows them.
 */

async function on(mount: Mount, fn: (s: Served) => Promise<void>): Promise<void> {
  const s = await serveAdmin(mount, {});
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

const TTL_ERROR = { status: 'validation_error', status_message: 'ttl must be a whole number of seconds from 1 to 315360000 (10 years)' };

describe.each(MOUNTS)('list pages with reach on the $name', (mount) => {
  test('the seed\'s requests are answered as the seed shows, and a reference client parses the list pages', async () => {
    await on(mount, async (s) => {
      for (const body of [IP_ENTRY, TOKEN_ENTRY, COOKIE_ENTRY]) {
        expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body })).status).toBe(200);
        expect((await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body })).status).toBe(200);
      }
      const deny = await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=');
      expect(asReferenceClient(deny.json).manual_blacklist).toEqual([IP_ENTRY, TOKEN_ENTRY, COOKIE_ENTRY]);
      const allow = await call(s.port, 'GET', '/v4/ase/firewall/whitelist');
      expect(asReferenceClient(allow.json)).toEqual({ whitelist: [IP_ENTRY, TOKEN_ENTRY, COOKIE_ENTRY] });
      // Our fields come after the documented ones, in this order.
      const first = (deny.json as { manual_blacklist: Record<string, unknown>[] }).manual_blacklist[0]!;
      expect(Object.keys(first)).toEqual(['type', 'value', 'added_at', 'added_by', 'expires_at', 'hits', 'last_hit']);
      expect(first).toMatchObject({ added_by: { via: 'management', tag: 'manual' }, expires_at: null, hits: 0, last_hit: null });
      expect(Date.parse(first['added_at'] as string)).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  test('a network entry is added, refused when added again, matched and deleted in its canonical form', async () => {
    await on(mount, async (s) => {
      const add = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.9/24' } });
      expect([add.status, add.json]).toEqual([200, { status: 'success', status_message: 'IP 203.0.113.0/24 added to blacklist' }]);
      expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.0/24' } })).status).toBe(403);
      expect(s.enforcer.denyList.has('ip', '203.0.113.250')).toBe(true);
      const bad = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.0/33' } });
      expect([bad.status, (bad.json as { status: string }).status]).toEqual([403, 'validation_error']);
      const del = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.0/24' } });
      expect(del.status).toBe(200);
      expect(s.enforcer.denyList.has('ip', '203.0.113.250')).toBe(false);
    });
  });

  test('ttl sets expires_at; zero, negative, fractional, text and huge ttls are refused with the list entry message, and nothing is added', async () => {
    await on(mount, async (s) => {
      const before = Date.now();
      const ok = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { ...IP_ENTRY, ttl: 600 } });
      expect(ok.status).toBe(200);
      const listed = ((await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=manual')).json as { manual_blacklist: { expires_at: string }[] }).manual_blacklist[0]!;
      const at = Date.parse(listed.expires_at);
      expect(at).toBeGreaterThanOrEqual(before + 600_000 - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 600_000);
      for (const ttl of [0, -5, 1.5, '10m', 315_360_001, null]) {
        const r = await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: { ...TOKEN_ENTRY, ttl } });
        expect([ttl, r.status, r.json]).toEqual([ttl, 403, TTL_ERROR]);
      }
      expect(s.enforcer.allowList.size).toBe(0);
      // A delete names an entry, not its lifetime.
      const del = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: { ...IP_ENTRY, ttl: 5 } });
      expect(del.status).toBe(403);
      expect(s.enforcer.denyList.size).toBe(1);
    });
  });

  test('?sort= orders each list by a history field, ?limit= and ?offset= page it, and bad values are refused', async () => {
    await on(mount, async (s) => {
      for (let i = 1; i <= 5; i++) await s.enforcer.addDeny({ type: 'ip', value: `192.0.2.${i}` }, 'manual', { ttl: 100 * (6 - i) });
      const e3 = s.enforcer.denyList.get('ip', '192.0.2.3')!;
      for (let n = 0; n < 3; n++) s.enforcer.denyList.hit(e3);
      s.enforcer.denyList.hit(s.enforcer.denyList.get('ip', '192.0.2.5')!);
      const values = async (q: string): Promise<string[]> =>
        ((await call(s.port, 'GET', `/v4/ase/firewall/blacklist?tag=manual&${q}`)).json as { manual_blacklist: { value: string }[] }).manual_blacklist.map((e) => e.value);
      expect(await values('sort=-hits&limit=2')).toEqual(['192.0.2.3', '192.0.2.5']);
      expect(await values('sort=expires_at')).toEqual(['192.0.2.5', '192.0.2.4', '192.0.2.3', '192.0.2.2', '192.0.2.1']);
      expect(await values('sort=-value&offset=1&limit=2')).toEqual(['192.0.2.4', '192.0.2.3']);
      expect(await values('offset=4')).toEqual(['192.0.2.5']);
      expect(await values('offset=9')).toEqual([]);
      for (const q of ['sort=hits&sort=value', 'sort=name', 'limit=0', 'limit=x', 'offset=-1']) {
        const r = await call(s.port, 'GET', `/v4/ase/firewall/blacklist?${q}`);
        const param = q.split('=')[0];
        expect([q, r.status, r.json]).toEqual([q, 403, { status: 'invalid_value', status_message: `query parameter ${param} contains invalid value` }]);
      }
      const allow = await call(s.port, 'GET', '/v4/ase/firewall/whitelist?sort=-added_at&limit=1');
      expect([allow.status, allow.json]).toEqual([200, { whitelist: [] }]);
    });
  });
});
