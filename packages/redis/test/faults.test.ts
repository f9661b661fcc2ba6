import * as http from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { type Enforcer, silentLogger, startEnforcer, wireAnswer } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { redisStores, type RedisStores, type RedisStoresOptions } from '@ase/redis';
import { DETECTION_QUEUE_MAX } from '../src/list-store';
import { api, servers } from '../../../test/helpers/config';
import { type Backend, listen, request, startBackend } from '../../../test/helpers/http';
import { OwnRedis } from './own-redis';
import { eventually, uniqueClusterId } from './redis-server';

/** One embedded enforcer (Express) over the test's own Redis. */
interface Node {
  enforcer: Enforcer;
  stores: RedisStores;
  port: number;
  lines: string[];
  close(): Promise<void>;
}

const BAD_KEY = { type: 'api_key', name: 'api_key', value: 'bad' } as const;

describe('@ase/redis when Redis goes away and comes back empty (two embedded enforcers, a test-owned redis-server)', () => {
  let redis: OwnRedis;
  let backend: Backend;
  const nodes: Node[] = [];
  const clusterId = uniqueClusterId();

  async function node(options: Partial<RedisStoresOptions> = {}, conf: Record<string, unknown> = {}): Promise<Node> {
    const lines: string[] = [];
    const stores = redisStores({ url: redis.url, clusterId, logger: { warn: (l) => lines.push(l) }, ...options });
    const enforcer = await startEnforcer({
      logger: silentLogger,
      conf,
      stores,
      apis: {
        shop: api('/shop', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) }),
        count: api('/count', { servers: servers(backend.port), flow_control: { client_spike_threshold: '3/minute' } }),
      },
    });
    const app = express();
    app.use(aseMiddleware(enforcer));
    const srv = await listen(http.createServer(app));
    const n: Node = {
      enforcer,
      stores,
      port: srv.port,
      lines,
      close: async () => {
        await srv.close();
        await enforcer.close();
        await stores.close();
      },
    };
    nodes.push(n);
    return n;
  }

  const status = async (n: Node, path: string): Promise<number> => (await request(n.port, { path })).status;
  const statuses = async (n: Node, path: string, count: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(await status(n, path));
    return out;
  };

  beforeEach(async () => {
    redis = await OwnRedis.start();
    backend = await startBackend('b');
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close();
    await backend?.close();
    await redis?.stop();
  });

  test('open: requests go on from the replica, counters per node, a manual change is refused with 503; back, Redis is re-seeded and shared again', async () => {
    const a = await node();
    const b = await node();
    await a.enforcer.addDeny(BAD_KEY);
    await eventually(async () => expect(await status(b, '/shop/x?api_key=bad')).toBe(403));
    // Shared counters: three requests per minute for both nodes together.
    expect([...(await statuses(a, '/count/x', 2)), ...(await statuses(b, '/count/x', 2))]).toEqual([200, 200, 200, 429]);

    await redis.stop();
    await eventually(() => expect([a.stores.status, b.stores.status]).toEqual(['unreachable', 'unreachable']), 5000);
    for (const n of [a, b]) {
      expect(n.lines).toEqual([expect.stringMatching(/^\[ase\] redis unreachable \(.+\): lists from the local replica, counters open$/)]);
      // Decided from the replica: the deny-listed key is still blocked, others pass.
      expect(await status(n, '/shop/x?api_key=bad')).toBe(403);
      expect(await status(n, '/shop/x?api_key=good')).toBe(200);
    }
    // Each node counts alone in memory: the limit holds per node.
    expect(await statuses(a, '/count/x', 4)).toEqual([200, 200, 200, 429]);
    expect(await statuses(b, '/count/x', 4)).toEqual([200, 200, 200, 429]);
    // A manual change is refused, never acknowledged, and not applied.
    const refused = a.enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'worse' });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_ASE_STORE_UNAVAILABLE', status: 503 });
    expect(wireAnswer('ERR_ASE_STORE_UNAVAILABLE')).toEqual({ status: 503, label: 'store_unavailable', message: 'shared state store unreachable' });
    expect(await status(a, '/shop/x?api_key=worse')).toBe(200);

    // Redis comes back with nothing: the nodes write their replicas back and share state again.
    await redis.start();
    await eventually(() => expect([a.stores.status, b.stores.status]).toEqual(['connected', 'connected']), 5000);
    for (const n of [a, b]) expect(n.lines).toHaveLength(2);
    expect(a.lines[1]).toBe('[ase] redis back: shared state again');
    const check = new Redis(redis.url);
    try {
      await eventually(async () => expect(await check.hlen(`ase:{${clusterId}}:lists:blacklist`)).toBe(1), 5000);
    } finally {
      check.disconnect();
    }
    // A node started now finds the entry acknowledged before the outage.
    const c = await node();
    expect(await status(c, '/shop/x?api_key=bad')).toBe(403);
    await b.enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'worse' });
    await eventually(async () => expect(await status(a, '/shop/x?api_key=worse')).toBe(403));
    await eventually(async () => expect(await status(c, '/shop/x?api_key=worse')).toBe(403));
    expect(await status(a, '/shop/x?api_key=bad')).toBe(403);
  }, 30_000);

  test('open: the windows a node counts in memory while Redis is away are bounded by trackedClients; the oldest is forgotten', async () => {
    const a = await node({ trackedClients: 2 }, { enable_xff: true });
    await redis.stop();
    await eventually(() => expect(a.stores.status).toBe('unreachable'), 5000);
    const from = async (ip: string, count: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push((await request(a.port, { path: '/count/x', headers: { 'x-forwarded-for': ip } })).status);
      return out;
    };
    expect(await from('10.0.0.1', 4)).toEqual([200, 200, 200, 429]);
    expect(await from('10.0.0.2', 1)).toEqual([200]);
    expect(await from('10.0.0.3', 1)).toEqual([200]); // a third window: the first one goes
    expect(await from('10.0.0.1', 1)).toEqual([200]);
    expect(await from('10.0.0.3', 3)).toEqual([200, 200, 429]); // the newest was kept
  }, 30_000);

  test('closed: while Redis is away, requests under a client limit get 503', async () => {
    const a = await node({ failure: { counters: 'closed', quotas: 'closed' } });
    expect(await status(a, '/count/x')).toBe(200);
    await redis.stop();
    await eventually(() => expect(a.stores.status).toBe('unreachable'), 5000);
    expect(a.lines[0]).toMatch(/counters closed$/);
    expect(await status(a, '/count/x')).toBe(503);
    // Requests without a limit are decided as before.
    expect(await status(a, '/shop/x?api_key=good')).toBe(200);
    await redis.start();
    await eventually(() => expect(a.stores.status).toBe('connected'), 5000);
    expect(await status(a, '/count/x')).toBe(200);
  }, 30_000);

  test('a detection made while Redis is away applies at once, waits in the queue, and is written when Redis is back', async () => {
    const a = await node();
    const b = await node();
    await redis.stop();
    await eventually(() => expect(a.stores.status).toBe('unreachable'), 5000);
    const detected = { type: 'api_key', name: 'api_key', value: 'probe' } as const;
    // What the enforcer does for a detection: the replica first, then the store, in the background.
    await a.stores.lists.apply({ list: 'blacklist', op: 'add', entry: { ...detected, tag: 'decoy' } });
    expect(a.stores.lists.pending).toBe(1);
    await redis.start();
    await eventually(() => expect(a.stores.lists.pending).toBe(0), 5000);
    await eventually(async () => expect(await status(b, '/shop/x?api_key=probe')).toBe(403), 5000);
  }, 30_000);

  test(`while Redis answers slowly, at most ${DETECTION_QUEUE_MAX} detection writes are under way; the next wait in the bounded queue and are written after`, async () => {
    const a = await node();
    const admin = new Redis(redis.url);
    try {
      // Write commands (and scripts) wait until the pause ends: a Redis that answers slowly.
      await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      const n = DETECTION_QUEUE_MAX + 2000;
      for (let i = 0; i < n; i++) a.stores.lists.record({ list: 'blacklist', op: 'add', entry: { type: 'token', value: `burst-${i}`, tag: 'invalid_method' } });
      expect(a.stores.lists.inFlight).toBe(DETECTION_QUEUE_MAX);
      expect(a.stores.lists.pending).toBe(2000);
      // Past the pause every one of them is written, the waiting ones after the others.
      await eventually(async () => expect(await admin.hlen(`ase:{${clusterId}}:lists:blacklist`)).toBe(n), 15_000);
      expect([a.stores.lists.inFlight, a.stores.lists.pending]).toEqual([0, 0]);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  }, 40_000);
});
