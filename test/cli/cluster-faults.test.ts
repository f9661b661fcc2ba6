/**
 * Two `ase start` processes in one cluster: limits counted for both together (over the shared test
 * Redis), and a Redis of the test's own stopped and started again (empty) while traffic flows.
 */
import type * as http from 'node:http';
import { Redis } from 'ioredis';
import { type ClusterProcess, ClusterProcesses, clusterConf, manage } from '../helpers/cluster-nodes';
import { api, servers } from '../helpers/config';
import { request } from '../helpers/http';
import { OwnRedis } from '../../packages/redis/test/own-redis';
import { adminConnection, eventually } from '../../packages/redis/test/redis-server';

let admin: Redis;
const procs = new ClusterProcesses();
/** Requests the backend holds open until released. */
const held: http.ServerResponse[] = [];
let ownRedis: OwnRedis | undefined;

beforeAll(async () => {
  admin = await adminConnection();
});

afterEach(async () => {
  for (const res of held.splice(0)) res.end('released');
  await procs.cleanup(admin);
  await ownRedis?.stop();
  ownRedis = undefined;
});

afterAll(() => admin.disconnect());

const status = async (n: ClusterProcess, path: string): Promise<number> => (await request(n.dataPort, { path })).status;

/** The first node seeds the cluster's APIs from its files; the second reads them from Redis. */
async function twoNodes(conf: string, apis: Record<string, unknown>): Promise<[ClusterProcess, ClusterProcess]> {
  const a = await procs.start(procs.dir(conf, apis));
  const b = await procs.start(procs.dir(conf));
  return [a, b];
}

describe('limits over two ase start processes', () => {
  test('client_spike_threshold: one client alternating between the nodes gets N answers per window in all, then 429', async () => {
    const backend = await procs.backend('b');
    const [a, b] = await twoNodes(clusterConf(procs.clusterId()), {
      shop: api('/shop', { servers: servers(backend.port), flow_control: { client_spike_threshold: '4/hour' } }),
    });
    const got: number[] = [];
    for (let i = 0; i < 8; i++) got.push(await status(i % 2 === 0 ? a : b, `/shop/${i}`));
    expect(got).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(backend.seen).toHaveLength(4);
    const refused = await request(b.dataPort, { path: '/shop/again' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  }, 40_000);

  test('server_spike_threshold: a server takes N requests per window from both nodes in all, then 503', async () => {
    const backend = await procs.backend('b');
    const [a, b] = await twoNodes(clusterConf(procs.clusterId()), {
      shop: api('/shop', { servers: [{ host: '127.0.0.1', port: backend.port, server_spike_threshold: '3/hour' }] }),
    });
    const got = [await status(a, '/shop/1'), await status(b, '/shop/2'), await status(a, '/shop/3'), await status(b, '/shop/4'), await status(a, '/shop/5')];
    expect(got).toEqual([200, 200, 200, 503, 503]);
    expect(backend.seen).toHaveLength(3);
  }, 40_000);

  test('server_connection_quota: a slot taken through one node is taken for the other', async () => {
    const backend = await procs.backend('b', (req, res) => {
      if (!req.url.includes('hold')) return false;
      held.push(res);
      return true;
    });
    const [a, b] = await twoNodes(clusterConf(procs.clusterId()), {
      shop: api('/shop', { flow_control: { server_connection_queueing: false }, servers: [{ host: '127.0.0.1', port: backend.port, server_connection_quota: 1 }] }),
    });
    const first = request(a.dataPort, { path: '/shop/hold' });
    await eventually(() => expect(held).toHaveLength(1), 5000);
    expect(await status(b, '/shop/other')).toBe(503);
    held.shift()!.end('done');
    expect((await first).status).toBe(200);
    // A frees the slot in Redis as its answer goes out, in a command of its own: the client may be first.
    await eventually(async () => expect(await status(b, '/shop/other')).toBe(200), 2000);
    expect(backend.seen.map((s) => s.url)).toEqual(['/shop/hold', '/shop/other']);
  }, 40_000);
});

describe('Redis stopped and started again (empty) under two ase start processes', () => {
  // The lines docs/cluster.md shows.
  const UNREACHABLE = /\[ase\] warning: redis unreachable \(.+\): lists from the local replica, counters open$/gm;
  const BACK = /\[ase\] warning: redis back: shared state again$/gm;
  const output = (n: ClusterProcess): string => n.cli.stdout() + n.cli.stderr();
  const count = (n: ClusterProcess, re: RegExp): number => output(n).match(re)?.length ?? 0;
  const redisSeen = async (n: ClusterProcess): Promise<unknown> => (await manage(n.adminPort, 'GET', '/v4/ase/cluster')).json['redis'];
  const key = (value: string): string => `/shop/x?api_key=${value}`;
  /** The gateway's answer to a path no API takes. */
  const unknownApi = async (n: ClusterProcess, path: string): Promise<void> => {
    const r = await request(n.dataPort, { path });
    expect([r.status, r.body]).toEqual([503, expect.stringContaining('Unknown API')]);
  };

  test('acknowledged changes survive on both nodes and in Redis, a change during the outage is refused, and the nodes share state again by themselves', async () => {
    ownRedis = await OwnRedis.start();
    const redis = ownRedis;
    const clusterId = procs.clusterId();
    const backend = await procs.backend('b');
    const [a, b] = await twoNodes(clusterConf(clusterId, 'cluster_heartbeat=200\n', redis.url), {
      shop: api('/shop', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) }),
      count: api('/count', { servers: servers(backend.port), flow_control: { client_spike_threshold: '2/hour' } }),
    });
    // Counted for both nodes together.
    expect([await status(a, '/count/1'), await status(b, '/count/2'), await status(a, '/count/3')]).toEqual([200, 200, 429]);

    // Acknowledged before the outage: a deny entry through A, an API through B.
    expect((await manage(a.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'api_key', name: 'api_key', value: 'bad' })).status).toBe(200);
    expect((await manage(b.adminPort, 'POST', '/v4/ase/api?api_id=cart', api('/cart', { servers: servers(backend.port) }))).status).toBe(200);
    for (const n of [a, b]) {
      await eventually(async () => expect(await status(n, key('bad'))).toBe(403), 1000);
      await eventually(async () => expect(await status(n, '/cart/1')).toBe(200), 1000);
    }

    await redis.stop();
    for (const n of [a, b]) await eventually(async () => expect(await redisSeen(n)).toBe('unreachable'), 5000);
    // Answered from what the node knows, without waiting for Redis's retries.
    const asked = Date.now();
    expect(await redisSeen(a)).toBe('unreachable');
    expect(Date.now() - asked).toBeLessThan(3000);
    // cluster_counters_on_failure=open (the default): each node counts alone, in memory.
    for (const n of [a, b]) expect([await status(n, '/count/1'), await status(n, '/count/2'), await status(n, '/count/3')]).toEqual([200, 200, 429]);
    // Traffic goes on from each node's replica.
    for (const n of [a, b]) {
      expect(await status(n, key('bad'))).toBe(403);
      expect(await status(n, key('good'))).toBe(200);
      expect(await status(n, '/cart/1')).toBe(200);
    }
    // A change during the outage is refused, and not applied on the node that refused it.
    const refused = { status: 'store_unavailable', status_message: 'shared state store unreachable' };
    const deny = await manage(a.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'api_key', name: 'api_key', value: 'worse' });
    expect([deny.status, deny.json]).toEqual([503, refused]);
    const created = await manage(b.adminPort, 'POST', '/v4/ase/api?api_id=blog', api('/blog', { servers: servers(backend.port) }));
    expect([created.status, created.json]).toEqual([503, refused]);
    for (const n of [a, b]) {
      expect(await status(n, key('worse'))).toBe(200);
      await unknownApi(n, '/blog/1');
    }
    // Still unreachable after the refusals, with one line each (however many retries failed).
    for (const n of [a, b]) {
      expect(await redisSeen(n)).toBe('unreachable');
      expect(count(n, UNREACHABLE)).toBe(1);
      expect(count(n, BACK)).toBe(0);
    }

    // Redis comes back with nothing; the nodes write their replicas back.
    await redis.start();
    for (const n of [a, b]) await eventually(async () => expect(await redisSeen(n)).toBe('connected'), 10_000);
    const check = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      await eventually(async () => {
        expect(await check.hkeys(`ase:{${clusterId}}:apis`).then((k) => k.sort())).toEqual(['cart', 'count', 'shop']);
        expect(await check.hlen(`ase:{${clusterId}}:lists:blacklist`)).toBe(1);
      }, 5000);
    } finally {
      check.disconnect();
    }
    for (const n of [a, b]) {
      expect(await status(n, key('bad'))).toBe(403);
      expect(await status(n, '/cart/1')).toBe(200);
      expect(await status(n, key('worse'))).toBe(200);
      await unknownApi(n, '/blog/1');
    }
    // Counted for both together again (in the emptied Redis, from zero).
    expect([await status(a, '/count/1'), await status(b, '/count/2'), await status(a, '/count/3')]).toEqual([200, 200, 429]);
    // Both heartbeats are back in the emptied Redis.
    await eventually(async () => {
      const r = await manage(a.adminPort, 'GET', '/v4/ase/cluster');
      expect((r.json['node'] as { uuid: string; status: string }[]).map((x) => [x.uuid, x.status]).sort()).toEqual([[a.uuid, 'active'], [b.uuid, 'active']].sort());
    }, 3000);

    // Shared again: a change made on B blocks on A within a second.
    expect((await manage(b.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'api_key', name: 'api_key', value: 'worse' })).status).toBe(200);
    const since = Date.now();
    await eventually(async () => expect(await status(a, key('worse'))).toBe(403), 1000);
    expect(Date.now() - since).toBeLessThan(1000);

    for (const n of [a, b]) {
      expect(count(n, UNREACHABLE)).toBe(1);
      expect(count(n, BACK)).toBe(1);
    }
  }, 60_000);
});
