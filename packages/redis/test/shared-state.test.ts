import { Redis } from 'ioredis';
import { redisStores } from '@ase/redis';
import { REDIS_URL, TestCluster, adminConnection, clusterKeys, eventually, sleep } from './redis-server';

describe('@ase/redis counters, slots, sticky pins and membership (real Redis)', () => {
  let admin: Redis;
  let cluster: TestCluster;
  /** Connections a test opened itself (to cut one off); closed after it. */
  const own: Redis[] = [];
  const connection = (): Redis => {
    const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    own.push(c);
    return c;
  };
  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterAll(async () => {
    await admin?.quit();
  });
  beforeEach(() => {
    cluster = new TestCluster(admin);
  });
  afterEach(async () => {
    await cluster?.cleanup();
    // A second disconnect of an ended connection would leave ioredis's 2 s close timer running.
    for (const c of own.splice(0)) if (c.status !== 'end') c.disconnect();
  });

  test('a counter holds N per window across two handles, and a new window starts when it ends', async () => {
    const a = cluster.open().counters;
    const b = cluster.open().counters;
    expect(a.localKeys).toBe(false);
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) counts.push((await (i % 2 ? b : a).consume('client:203.0.113.7', 1, 10_000)).consumed);
    expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
    const window = await a.get('client:203.0.113.7');
    expect(window?.consumed).toBe(6);
    expect(window!.resetMs).toBeGreaterThan(0);
    expect(window!.resetMs).toBeLessThanOrEqual(10_000);
    await a.reset('client:203.0.113.7');
    expect(await b.get('client:203.0.113.7')).toBeUndefined();
    // A short window: it ends on the server's clock, and the next point opens a new one.
    expect(await a.consume('server:s1', 2, 200)).toEqual({ consumed: 2, resetMs: 200 });
    await sleep(250);
    expect(await b.get('server:s1')).toBeUndefined();
    expect(await b.consume('server:s1', 3, 200)).toEqual({ consumed: 3, resetMs: 200 });
  });

  test('a quota holds across two handles; release frees a slot once; a held lease outlives leaseMs', async () => {
    const a = cluster.open().quotas;
    const b = cluster.open().quotas;
    const first = await a.tryAcquire('shop/s1', 2, 400);
    const second = await b.tryAcquire('shop/s1', 2, 400);
    expect([first, second].every(Boolean)).toBe(true);
    expect(await a.tryAcquire('shop/s1', 2, 200)).toBeUndefined();
    expect(await b.tryAcquire('shop/s1', 2, 200)).toBeUndefined();
    // Renewed while held: still counted two and a half lease lifetimes later.
    await sleep(1000);
    expect(await a.inFlight('shop/s1')).toBe(2);
    first!.release();
    first!.release();
    await eventually(async () => expect(await b.inFlight('shop/s1')).toBe(1));
    const third = await b.tryAcquire('shop/s1', 2, 200);
    expect(third).toBeDefined();
    expect(await a.tryAcquire('shop/s1', 2, 200)).toBeUndefined();
    second!.release();
    third!.release();
    await eventually(async () => expect(await a.inFlight('shop/s1')).toBe(0));
  });

  test('the lease of a handle that stops renewing (its connection is gone) expires and frees the slot', async () => {
    const client = connection();
    const dying = cluster.open({ client }).quotas;
    const b = cluster.open().quotas;
    expect(await dying.tryAcquire('shop/s1', 1, 300)).toBeDefined();
    expect(await b.tryAcquire('shop/s1', 1, 300)).toBeUndefined();
    client.disconnect();
    await eventually(async () => expect(await b.tryAcquire('shop/s1', 1, 300)).toBeDefined(), 1500);
  });

  test('sticky pins: set, get, delete, and dropServer forgets only the pins to that server', async () => {
    const a = cluster.open().sticky;
    const b = cluster.open().sticky;
    const odd = 'v}*:{x\u0000y';
    await a.set('shop', 'c1', 's1');
    await a.set('shop', odd, 's1');
    await a.set('shop', 'c3', 's2');
    await a.set('blog', 'c1', 's1');
    expect(await b.get('shop', 'c1')).toBe('s1');
    expect(await b.get('shop', odd)).toBe('s1');
    expect(await b.get('shop', 'nope')).toBeUndefined();
    await b.delete('shop', 'c1');
    expect(await a.get('shop', 'c1')).toBeUndefined();
    // Re-pinned elsewhere: dropping s1 must not take its new pin.
    await a.set('shop', 'c4', 's1');
    await a.set('shop', 'c4', 's2');
    await b.dropServer('shop', 's1');
    expect(await a.get('shop', odd)).toBeUndefined();
    expect(await a.get('shop', 'c3')).toBe('s2');
    expect(await a.get('shop', 'c4')).toBe('s2');
    expect(await a.get('blog', 'c1')).toBe('s1');
    // No key names a cookie: client-chosen values enter keys only hashed.
    const names = (await clusterKeys(admin, cluster.clusterId)).map((k) => k.slice(`ase:{${cluster.clusterId}}:`.length));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((k) => !/^(?:sticky|sticky-server):[0-9a-f]{64}:[0-9a-f]{64}$/.test(k))).toEqual([]);
  });

  test('a sticky pin is forgotten after idleMs without use, and kept while used', async () => {
    const a = cluster.open({ stickyIdleMs: 600 }).sticky;
    await a.set('shop', 'used', 's1');
    await a.set('shop', 'idle', 's1');
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      expect(await a.get('shop', 'used')).toBe('s1');
    }
    expect(await a.get('shop', 'idle')).toBeUndefined();
  });

  test('membership: joined nodes are active; one whose heartbeat stops turns inactive; leave removes a node', async () => {
    const client = connection();
    const a = cluster.open({ client, heartbeatMs: 200 }).membership;
    const b = cluster.open({ heartbeatMs: 200 }).membership;
    expect(b.clusterId).toBe(cluster.clusterId);
    expect(await b.nodes()).toEqual([]);
    await a.join({ host: '192.0.2.1', port: 8080, uuid: 'node-a' });
    await b.join({ host: '192.0.2.2', port: 8080, uuid: 'node-b' });
    const byUuid = async (): Promise<unknown[]> => (await b.nodes()).sort((x, y) => x.uuid.localeCompare(y.uuid));
    expect(await byUuid()).toEqual([
      { host: '192.0.2.1', port: 8080, uuid: 'node-a', status: 'active' },
      { host: '192.0.2.2', port: 8080, uuid: 'node-b', status: 'active' },
    ]);
    // Still active after the first expiry period: the heartbeat renews it.
    await sleep(700);
    expect((await byUuid()).map((n) => (n as { status: string }).status)).toEqual(['active', 'active']);
    client.disconnect();
    await eventually(async () => expect((await byUuid())[0]).toEqual({ host: '192.0.2.1', port: 8080, uuid: 'node-a', status: 'inactive' }), 1500);
    expect((await byUuid())[1]).toEqual({ host: '192.0.2.2', port: 8080, uuid: 'node-b', status: 'active' });
    await b.leave();
    expect(await b.nodes()).toEqual([{ host: '192.0.2.1', port: 8080, uuid: 'node-a', status: 'inactive' }]);
  });

  test('membership: a node whose heartbeat expired more than forgetAfterMs ago is removed by a live node; an entry without its last-seen time is stamped, then forgotten the same way', async () => {
    const nodesKey = `ase:{${cluster.clusterId}}:nodes`;
    const [secs, micros] = await admin.time();
    const now = Number(secs) * 1000 + Math.floor(Number(micros) / 1000);
    await admin.hset(nodesKey, 'long-dead', JSON.stringify({ host: '192.0.2.9', port: 80, uuid: 'long-dead', seen: now - 60_000 }));
    await admin.hset(nodesKey, 'older-format', JSON.stringify({ host: '192.0.2.8', port: 80, uuid: 'older-format' }));
    const client = connection();
    const crashing = cluster.open({ client, heartbeatMs: 100, forgetAfterMs: 500 }).membership;
    await crashing.join({ host: '192.0.2.2', port: 8080, uuid: 'node-b' });
    const live = cluster.open({ heartbeatMs: 100, forgetAfterMs: 500 }).membership;
    await live.join({ host: '192.0.2.1', port: 8080, uuid: 'node-a' });
    const statuses = async (): Promise<Record<string, string>> => Object.fromEntries((await live.nodes()).map((n) => [n.uuid, n.status]));
    // The first heartbeats removed the long-dead node and stamped the older entry (whose node is not beating).
    expect(await statuses()).toEqual({ 'node-a': 'active', 'node-b': 'active', 'older-format': 'inactive' });
    expect(JSON.parse((await admin.hget(nodesKey, 'older-format'))!)).toMatchObject({ uuid: 'older-format', seen: expect.any(Number) });
    expect(JSON.parse((await admin.hget(nodesKey, 'node-a'))!)).toMatchObject({ host: '192.0.2.1', port: 8080, uuid: 'node-a', seen: expect.any(Number) });
    // node-b dies without leaving: inactive after three missed heartbeats, then forgotten 500 ms later.
    client.disconnect();
    await eventually(async () => expect((await statuses())['node-b']).toBe('inactive'), 2000);
    await eventually(async () => expect(await statuses()).toEqual({ 'node-a': 'active' }), 2000);
  });

  test('with no Redis at the address, changes are refused within seconds, counters fall back to memory, and close still ends cleanly', async () => {
    const errors: unknown[] = [];
    const lines: string[] = [];
    const stores = redisStores({ url: 'redis://127.0.0.1:1', clusterId: cluster.clusterId, onError: (e) => errors.push(e), logger: { warn: (l) => lines.push(l) } });
    const started = Date.now();
    expect(await stores.counters.consume('k', 1, 1000)).toMatchObject({ consumed: 1 });
    await expect(stores.lists.apply({ list: 'blacklist', op: 'clear' })).rejects.toMatchObject({ code: 'ERR_ASE_STORE_UNAVAILABLE' });
    await expect(stores.lists.load({} as never)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stores.status).toBe('unreachable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[ase\] redis unreachable \(.+\): lists from the local replica, counters open$/);
    await stores.close();
  });

  test('a clusterId that would break the hash tag, or a negative forgetAfterMs, is refused', () => {
    expect(() => redisStores({ clusterId: 'a}b' })).toThrow(/clusterId/);
    expect(() => redisStores({ forgetAfterMs: -1 })).toThrow(/forgetAfterMs/);
  });
});
