import type { ServerResponse } from 'node:http';
import { type CounterStore, type EnforcerStores, MemoryCounterStore, MemoryQuotaStore, MemoryStickyStore, type QuotaStore, type StickyStore } from '@ase/core';
import { api, servers } from '../helpers/config';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';
import { type Backend, request, startBackend } from '../helpers/http';

/** The memory stores answering through Promises, as a store over the network does. */
function remote(): Required<Pick<EnforcerStores, 'counters' | 'quotas' | 'sticky'>> {
  const c = new MemoryCounterStore();
  const q = new MemoryQuotaStore();
  const s = new MemoryStickyStore();
  const later = <T>(v: T): Promise<T> => new Promise((r) => setImmediate(() => r(v)));
  const counters: CounterStore = { localKeys: false, consume: (k, p, w) => later(c.consume(k, p, w)), get: (k) => later(c.get(k)), reset: (k) => later(c.reset(k)) };
  const quotas: QuotaStore = { localKeys: false, tryAcquire: (k, n, l) => later(q.tryAcquire(k, n, l)), inFlight: (k) => later(q.inFlight(k)) };
  const sticky: StickyStore = {
    localKeys: false,
    get: (a, k) => later(s.get(a, k)),
    set: (a, k, v) => later(s.set(a, k, v)),
    delete: (a, k) => later(s.delete(a, k)),
    dropServer: (a, v) => later(s.dropServer(a, v)),
  };
  return { counters, quotas, sticky };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe.each([
  ['two enforcers sharing in-process stores', () => ({ counters: new MemoryCounterStore(), quotas: new MemoryQuotaStore(), sticky: new MemoryStickyStore() })],
  ['two enforcers sharing stores that answer with Promises', remote],
])('Counters, slots and pins in the stores: %s', (_name, makeStores) => {
  let a: Backend;
  let b: Backend;
  let one: AppUnderTest;
  let two: AppUnderTest;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    a = await startBackend('a', (req, res) => {
      if (!req.url.endsWith('/hold')) return false;
      held.push(res);
      return true;
    });
    b = await startBackend('b');
    const stores = makeStores();
    const apis = {
      quota: api('/quota', { servers: [{ host: '127.0.0.1', port: a.port, server_connection_quota: 1 }] }),
      sticky: api('/sticky', { cookie: 'sid', cookie_persistence_enabled: true, servers: servers(a.port, b.port) }),
      limited: api('/limited', { servers: servers(b.port), flow_control: { client_spike_threshold: '2/minute' } }),
    };
    one = await startExpressApp({ apis, stores });
    two = await startExpressApp({ apis, stores });
  });
  afterAll(async () => {
    for (const res of held) res.end();
    await one.close();
    await two.close();
    await a.close();
    await b.close();
  });

  test('a client rate limit counts the requests of both enforcers', async () => {
    expect((await request(one.port, { path: '/limited/x' })).status).toBe(200);
    expect((await request(two.port, { path: '/limited/x' })).status).toBe(200);
    const third = await request(one.port, { path: '/limited/x' });
    expect(third.status).toBe(429);
    expect(third.headers['ratelimit']).toMatch(/^limit=2, remaining=0, reset=\d+$/);
    expect((await request(two.port, { path: '/limited/x' })).status).toBe(429);
  });

  test('a server slot held through one enforcer is not given out by the other until released', async () => {
    const first = request(one.port, { path: '/quota/hold' });
    await waitFor(() => held.length === 1);
    expect(held).toHaveLength(1);
    const seen = a.seen.length;
    const refused = await request(two.port, { path: '/quota/x' });
    expect(refused.status).toBe(503);
    expect(a.seen.length).toBe(seen);
    held.shift()!.end('done');
    expect((await first).status).toBe(200);
    expect((await request(two.port, { path: '/quota/x' })).status).toBe(200);
  });

  test('a session pinned through one enforcer goes to the same server through the other', async () => {
    const first = await request(one.port, { path: '/sticky/x', headers: { cookie: 'sid=shared-1' } });
    expect(first.status).toBe(200);
    const server = first.headers['x-backend'];
    // The pin is written when the response arrives; a remote store may take a moment.
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 4; i++) expect((await request(two.port, { path: '/sticky/x', headers: { cookie: 'sid=shared-1' } })).headers['x-backend']).toBe(server);
  });
});
