import { Cluster, Redis } from 'ioredis';
import type { ApiJson, StoredEntry } from '@ase/core';
import { redisStores, type RedisStores, type RedisStoresOptions } from '@ase/redis';
import { ClientList, ListBudget } from '../../core/src/lists/client-list';
import type { ApiChange, ListChange, ListReplica } from '../../core/src/stores/types';
import { eventually, sleep, uniqueClusterId } from './redis-server';
import { plainConnection, startRedisCluster, startSentinel, type RedisClusterTopology, type SentinelTopology } from './topology-servers';

const replica = (): ListReplica => {
  const budget = new ListBudget(1 << 20);
  return { blacklist: new ClientList('blacklist', budget), whitelist: new ClientList('whitelist', budget) };
};
const ip = (value: string): StoredEntry => ({ type: 'ip', value, tag: 'manual' });
const api = (url: string): ApiJson => ({ api_metadata: { protocol: 'http', url, hostname: '*' } }) as unknown as ApiJson;

/** Store handles on one topology; `closeAll` closes them and the connections the test opened for them. */
class Handles {
  readonly clusterId = uniqueClusterId();
  readonly errors: unknown[] = [];
  private readonly stores: RedisStores[] = [];
  private readonly clients: (Redis | Cluster)[] = [];

  open(options: Omit<RedisStoresOptions, 'clusterId' | 'onError'>): RedisStores {
    if (options.client) this.clients.push(options.client);
    const s = redisStores({ clusterId: this.clusterId, onError: (err) => this.errors.push(err), ...options });
    this.stores.push(s);
    return s;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.stores.splice(0).map((s) => s.close()));
    // disconnect, not quit: QUIT leaves a Sentinel client's failover subscriptions open (ioredis #1362).
    for (const c of this.clients.splice(0)) c.disconnect();
  }
}

/** The checks every topology passes: two handles, as two instances of the enforcer would hold. */
function sharedStateChecks(open: (h: Handles) => [RedisStores, RedisStores], handles: () => Handles): void {
  test('a list change or API edit on one handle reaches the other (the change reader runs on this connection)', async () => {
    const [a, b] = open(handles());
    await Promise.all([a.lists.load(replica()), b.lists.load(replica())]);
    const seenByA: ListChange[] = [];
    const seenByB: ListChange[] = [];
    a.lists.subscribe((c) => seenByA.push(c));
    b.lists.subscribe((c) => seenByB.push(c));
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.7') });
    await eventually(() => expect(seenByB).toEqual([{ list: 'blacklist', op: 'add', entry: ip('203.0.113.7') }]), 3000);
    await b.lists.apply({ list: 'whitelist', op: 'add', entry: ip('192.0.2.9') });
    await eventually(() => expect(seenByA).toEqual([{ list: 'whitelist', op: 'add', entry: ip('192.0.2.9') }]), 3000);
    const loaded = replica();
    await b.lists.load(loaded);
    expect(loaded.blacklist.size).toBe(1);
    expect(loaded.whitelist.size).toBe(1);

    const apiChanges: ApiChange[] = [];
    await b.apis.load();
    b.apis.subscribe((c) => apiChanges.push(c));
    await a.apis.put('shop', api('/shop'));
    await eventually(() => expect(apiChanges).toEqual([{ op: 'put', id: 'shop', json: api('/shop') }]), 3000);
    expect(handles().errors).toEqual([]);
  });

  test('counters, connection slots and sticky pins are shared (their Lua scripts run here)', async () => {
    const [a, b] = open(handles());
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) counts.push((await (i % 2 ? b : a).counters.consume('client:203.0.113.7', 1, 10_000)).consumed);
    expect(counts).toEqual([1, 2, 3, 4]);
    expect((await b.counters.get('client:203.0.113.7'))?.consumed).toBe(4);
    await a.counters.reset('client:203.0.113.7');
    expect(await b.counters.get('client:203.0.113.7')).toBeUndefined();

    const lease = await a.quotas.tryAcquire('shop/s1', 1, 2000);
    expect(lease).toBeDefined();
    expect(await b.quotas.tryAcquire('shop/s1', 1, 2000)).toBeUndefined();
    expect(await b.quotas.inFlight('shop/s1')).toBe(1);
    lease!.release();
    await eventually(async () => expect(await b.quotas.inFlight('shop/s1')).toBe(0), 3000);
    const other = await b.quotas.tryAcquire('shop/s1', 1, 2000);
    expect(other).toBeDefined();
    other!.release();

    await a.sticky.set('shop', 'cookie-1', 's1');
    await a.sticky.set('shop', 'cookie-2', 's1');
    await a.sticky.set('shop', 'cookie-3', 's2');
    expect(await b.sticky.get('shop', 'cookie-1')).toBe('s1');
    await b.sticky.dropServer('shop', 's1');
    expect(await a.sticky.get('shop', 'cookie-1')).toBeUndefined();
    expect(await a.sticky.get('shop', 'cookie-2')).toBeUndefined();
    expect(await a.sticky.get('shop', 'cookie-3')).toBe('s2');
    await b.sticky.delete('shop', 'cookie-3');
    expect(await a.sticky.get('shop', 'cookie-3')).toBeUndefined();
    expect(handles().errors).toEqual([]);
  });

  test('membership: a node that joined is listed active by the other handle, and gone once it leaves', async () => {
    const [a, b] = open(handles());
    await a.membership.join({ host: '192.0.2.10', port: 8080, uuid: 'node-a' });
    await b.membership.join({ host: '192.0.2.11', port: 8080, uuid: 'node-b' });
    const seen = await b.membership.nodes();
    expect(seen.sort((x, y) => x.uuid.localeCompare(y.uuid))).toEqual([
      { host: '192.0.2.10', port: 8080, uuid: 'node-a', status: 'active' },
      { host: '192.0.2.11', port: 8080, uuid: 'node-b', status: 'active' },
    ]);
    await a.membership.leave();
    expect((await b.membership.nodes()).map((n) => n.uuid)).toEqual(['node-b']);
    expect(handles().errors).toEqual([]);
  });
}

/** The ids and names of the normal clients of this server other than the sentinel's and the caller's. */
async function appClients(port: number, password: string): Promise<string[]> {
  const conn = plainConnection(port, password);
  try {
    await conn.connect();
    const list = (await conn.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
    const self = String(await conn.client('ID'));
    return list
      .split('\n')
      .filter((line) => line && !line.startsWith(`id=${self} `) && !/ name=sentinel-/.test(line))
      .map((line) => line.split(' ').slice(0, 5).join(' '));
  } finally {
    conn.disconnect();
  }
}

/** The `name=` of every client connected to this server. */
async function clientNames(conn: Redis): Promise<string[]> {
  const list = (await conn.client('LIST')) as string;
  return list.split('\n').map((line) => / name=(\S*)/.exec(line)?.[1] ?? '');
}

describe('@ase/redis on a Redis Cluster (3 masters, started by the test)', () => {
  let topo: RedisClusterTopology | undefined;
  let handles: Handles;
  const connect = (): Cluster => {
    const c = new Cluster(topo!.ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { password: topo!.password } });
    c.on('error', () => {});
    return c;
  };
  beforeAll(async () => {
    topo = await startRedisCluster(3);
  }, 30_000);
  afterAll(async () => {
    await topo?.stop();
  });
  beforeEach(() => {
    handles = new Handles();
  });
  afterEach(async () => {
    await handles.closeAll();
  });

  sharedStateChecks((h) => [h.open({ client: connect() }), h.open({ client: connect() })], () => handles);

  test('every key of one cluster id sits in one slot, and the change reader keeps the Cluster\'s options (password, name)', async () => {
    const [a, b] = [handles.open({ client: connect() }), handles.open({ client: connect() })];
    await a.lists.load(replica());
    const seen: ListChange[] = [];
    a.lists.subscribe((c) => seen.push(c));
    await b.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.8') });
    await b.apis.put('shop', api('/shop'));
    await b.counters.consume('client:x', 1, 10_000);
    await b.sticky.set('shop', 'cookie-1', 's1');
    await b.membership.join({ host: '192.0.2.10', port: 8080, uuid: 'node-b' });
    const lease = await b.quotas.tryAcquire('shop/s1', 1, 5000);
    await eventually(() => expect(seen).toHaveLength(1), 3000);

    const perNode: { port: number; keys: string[]; readers: string[] }[] = [];
    for (const port of topo!.ports) {
      const conn = plainConnection(port, topo!.password);
      try {
        await conn.connect();
        const [, keys] = await conn.scan('0', 'MATCH', `ase:{${handles.clusterId}}:*`, 'COUNT', 10_000);
        const readers = (await clientNames(conn)).filter((n) => n.startsWith(`ase:{${handles.clusterId}}:lists:reader:`));
        perNode.push({ port, keys, readers });
      } finally {
        conn.disconnect();
      }
    }
    const holding = perNode.filter((n) => n.keys.length > 0);
    expect(holding).toHaveLength(1);
    // Lists, streams, sequence counters, APIs, a counter, a pin and its index, nodes, heartbeat, slots.
    expect(holding[0]!.keys.length).toBeGreaterThanOrEqual(10);
    // The reader's blocking connection went to the node owning the slot, under its own name.
    expect(holding[0]!.readers.length).toBeGreaterThanOrEqual(1);
    lease!.release();
    expect(handles.errors).toEqual([]);
  });
});

describe('@ase/redis through Sentinel (a master, its replica and a sentinel, started by the test)', () => {
  let topo: SentinelTopology | undefined;
  let handles: Handles;
  const sentinelOptions = (): { sentinels: { host: string; port: number }[]; name: string; password: string } => ({
    sentinels: [{ host: '127.0.0.1', port: topo!.sentinelPort }],
    name: topo!.name,
    password: topo!.password,
  });
  const sentinelSubscribers = async (): Promise<string[]> => {
    const conn = plainConnection(topo!.sentinelPort);
    try {
      await conn.connect();
      return ((await conn.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string).split('\n').filter(Boolean);
    } finally {
      conn.disconnect();
    }
  };
  beforeAll(async () => {
    topo = await startSentinel();
  }, 30_000);
  afterAll(async () => {
    await topo?.stop();
  });
  beforeEach(() => {
    handles = new Handles();
  });
  afterEach(async () => {
    await handles.closeAll();
  });

  // One handle opens its own connection from `redis` options, the other is given a client.
  sharedStateChecks(
    (h) => {
      const client = new Redis({ ...sentinelOptions(), disconnectTimeout: 100 });
      client.on('error', () => {});
      return [h.open({ redis: sentinelOptions() }), h.open({ client })];
    },
    () => handles,
  );

  test('the stores and their change reader reach the master the sentinel names', async () => {
    const a = handles.open({ redis: sentinelOptions() });
    await a.lists.load(replica());
    a.lists.subscribe(() => {});
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.9') });
    const master = plainConnection(topo!.masterPort, topo!.password);
    try {
      await master.connect();
      expect(await master.hlen(`ase:{${handles.clusterId}}:lists:blacklist`)).toBe(1);
      await eventually(async () => expect((await clientNames(master)).some((n) => n.startsWith(`ase:{${handles.clusterId}}:lists:reader:`))).toBe(true), 3000);
    } finally {
      master.disconnect();
    }
  });

  // Last in this block: it moves the master to the replica's port.
  test('after a failover the stores follow the new master and the reader reads on from the last change it saw', async () => {
    const resyncs: string[] = [];
    const client = new Redis({ ...sentinelOptions(), failoverDetector: true, disconnectTimeout: 100 });
    client.on('error', () => {});
    // `a` opens its own connection: it listens for failovers without being told to.
    const a = handles.open({ redis: sentinelOptions(), onResync: (s) => resyncs.push(s) });
    const b = handles.open({ client, onResync: (s) => resyncs.push(s) });
    await Promise.all([a.lists.load(replica()), b.lists.load(replica())]);
    const seenByB: ListChange[] = [];
    b.lists.subscribe((c) => seenByB.push(c));
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.10') });
    await eventually(() => expect(seenByB).toHaveLength(1), 3000);
    expect((await a.counters.consume('client:y', 1, 60_000)).consumed).toBe(1);
    const master = plainConnection(topo!.masterPort, topo!.password);
    try {
      await master.connect();
      // The replica has every write before it is promoted, so nothing acknowledged is lost here.
      expect(await master.wait(1, 5000)).toBe(1);
    } finally {
      master.disconnect();
    }

    // Both handles' connections and b's reader listen for the sentinel's +switch-master.
    await eventually(async () => expect((await sentinelSubscribers()).length).toBe(3), 5000);

    await topo!.failover();
    // At once, not when the old master drops its clients (about 10 s later): a write in between
    // would land on the old master and be lost when it becomes a replica.
    await eventually(async () => expect(await appClients(topo!.masterPort, topo!.password)).toEqual([]), 4000);
    // Writes in flight while the old master steps down may fail; a retried one goes to the new master.
    await eventually(() => a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.11') }), 10_000);
    await eventually(() => expect(seenByB).toContainEqual({ list: 'blacklist', op: 'add', entry: ip('203.0.113.11') }), 10_000);
    expect(seenByB[0]).toEqual({ list: 'blacklist', op: 'add', entry: ip('203.0.113.10') });
    expect(resyncs).toEqual([]);
    // While its connection moved, b counted alone (counters fail open); shared counts once it is back.
    await eventually(() => expect(b.status).toBe('connected'), 10_000);
    expect((await b.counters.consume('client:y', 1, 60_000)).consumed).toBe(2);
    const promoted = plainConnection(topo!.replicaPort, topo!.password);
    try {
      await promoted.connect();
      expect(await promoted.hlen(`ase:{${handles.clusterId}}:lists:blacklist`)).toBe(2);
    } finally {
      promoted.disconnect();
    }
    // Closing leaves no subscription behind on the sentinel (QUIT alone would).
    await handles.closeAll();
    await eventually(async () => expect(await sentinelSubscribers()).toEqual([]), 3000);
    // After a failover ioredis disconnects the old listeners a second time when it sets up new ones;
    // on sockets already closed that arms its 2 s close timer, which the test lets run out.
    await sleep(2100);
  });
});
