import * as http from 'node:http';
import express from 'express';
import { type ApiJson, type Enforcer, silentLogger, startEnforcer, validateApiJson } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { redisStores, type RedisStores, type RedisStoresOptions } from '@ase/redis';
import { api, servers } from '../../../test/helpers/config';
import { type Backend, listen, request, startBackend } from '../../../test/helpers/http';
import { OwnRedis } from './own-redis';
import { eventually, uniqueClusterId } from './redis-server';

const BAD_KEY = { type: 'api_key', name: 'api_key', value: 'bad' } as const;

describe('@ase/redis when Redis is down as the enforcer starts (a test-owned redis-server, started later)', () => {
  let redis: OwnRedis;
  let backend: Backend;
  const clusterId = uniqueClusterId();
  const cleanups: (() => Promise<void>)[] = [];
  const lines: string[] = [];

  function stores(options: Partial<RedisStoresOptions> = {}): RedisStores {
    const s = redisStores({ url: redis.url, clusterId, logger: { warn: (l) => lines.push(l) }, ...options });
    cleanups.push(() => s.close());
    return s;
  }

  async function serve(enforcer: Enforcer): Promise<number> {
    const app = express();
    app.use(aseMiddleware(enforcer));
    const srv = await listen(http.createServer(app));
    cleanups.push(() => srv.close());
    return srv.port;
  }

  const shop = (): ReturnType<typeof api> => api('/shop', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) });
  /** A definition as a store holds it (defaults filled in), as `api/*.json` or the REST API would give it. */
  const stored = (json: unknown): ApiJson => validateApiJson(json, '<test>').api;
  const status = async (port: number, path: string): Promise<number> => (await request(port, { path })).status;

  beforeEach(async () => {
    lines.length = 0;
    redis = await OwnRedis.notStarted();
    backend = await startBackend('b');
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await backend?.close();
    await redis?.stop();
  });

  test("failure.start 'open': ready resolves without Redis, the start state serves, changes are refused; when Redis answers the cluster's state replaces it and the node joins", async () => {
    const s = stores({
      failure: { start: 'open' },
      startState: {
        lists: (replica) => {
          replica.blacklist.add({ type: 'api_key', name: 'api_key', value: 'from-files' }, 'manual');
          return [];
        },
      },
    });
    const enforcer = await startEnforcer({ logger: silentLogger, stores: s, apis: { shop: shop() } });
    cleanups.push(() => enforcer.close());
    const port = await serve(enforcer);
    expect(s.detached).toBe(true);
    expect(s.status).toBe('unreachable');
    expect(lines).toEqual([
      expect.stringMatching(/^\[ase\] redis unreachable at start \(.*ECONNREFUSED.*\): started without it, .*counters open, connection slots open, changes refused; joins the cluster when redis answers$/),
    ]);
    expect(await status(port, '/shop/x?api_key=good')).toBe(200);
    expect(await status(port, '/shop/x?api_key=from-files')).toBe(403);
    await expect(enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'worse' })).rejects.toMatchObject({ code: 'ERR_ASE_STORE_UNAVAILABLE', status: 503 });
    expect(await status(port, '/shop/x?api_key=worse')).toBe(200);
    await s.membership.join({ host: '127.0.0.1', port, uuid: 'late-node' });
    // A detection made meanwhile waits (the enforcer applies it to its replica first; here only the store sees it).
    await s.lists.apply({ list: 'blacklist', op: 'add', entry: { type: 'api_key', name: 'api_key', value: 'probe', tag: 'decoy' } });
    expect(s.lists.pending).toBe(1);

    // Redis comes up, with the cluster's state written by another handle: a deny entry and an API.
    await redis.start();
    const other = stores();
    await other.lists.apply({ list: 'blacklist', op: 'add', entry: { ...BAD_KEY, tag: 'manual' } });
    await other.apis.put('cart', stored(api('/cart', { servers: servers(backend.port) })));
    await eventually(async () => expect(await status(port, '/shop/x?api_key=bad')).toBe(403), 10_000);
    await eventually(async () => expect(await status(port, '/cart/1')).toBe(200), 5000);
    expect(s.detached).toBe(false);
    expect(s.status).toBe('connected');
    // The waiting detection stays in this instance's lists over the cluster's state, and is written to Redis.
    expect(await status(port, '/shop/x?api_key=probe')).toBe(403);
    await eventually(async () => expect(await other.client.hexists(`ase:{${clusterId}}:lists:blacklist`, 'api_key\0api_key\0probe')).toBe(1), 5000);
    expect(s.lists.pending).toBe(0);
    // Redis wins: the start state's entry is gone with the rest of it.
    expect(await status(port, '/shop/x?api_key=from-files')).toBe(200);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('[ase] redis answered: joined the cluster, its lists and API definitions replace the start state');
    await eventually(async () => expect(await other.membership.nodes()).toEqual([{ host: '127.0.0.1', port, uuid: 'late-node', status: 'active' }]), 2000);
    // Changes are shared again, both ways.
    await enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'worse' });
    expect(await status(port, '/shop/x?api_key=worse')).toBe(403);
  }, 30_000);

  test('a cluster with no API definitions yet gets the start state\'s once Redis answers', async () => {
    const s = stores({ failure: { start: 'open' }, startState: { apis: () => ({ apis: new Map([['shop', stored(shop())]]), switches: {}, warnings: [] }) } });
    const enforcer = await startEnforcer({ logger: silentLogger, stores: s });
    cleanups.push(() => enforcer.close());
    expect(enforcer.listApis().map((a) => a.id)).toEqual(['shop']);
    await redis.start();
    const other = stores();
    await eventually(async () => expect([...(await other.apis.load()).apis.keys()]).toEqual(['shop']), 10_000);
    await eventually(() => expect(s.detached).toBe(false), 5000);
    expect(enforcer.listApis().map((a) => a.id)).toEqual(['shop']);
  }, 30_000);

  test("failure.start 'closed' (default): ready rejects, naming Redis and the connection's error", async () => {
    const s = stores();
    await expect(startEnforcer({ logger: silentLogger, stores: s, apis: { shop: shop() } })).rejects.toThrow(/^redis unreachable at start \(.*ECONNREFUSED.*\)$/);
    expect(s.detached).toBe(false);
  }, 30_000);
});
