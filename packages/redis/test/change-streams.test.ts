import type { Redis } from 'ioredis';
import type { ApiJson, StoredEntry } from '@ase/core';
import { ClientList, ListBudget } from '../../core/src/lists/client-list';
import type { ApiChange, ListChange, ListReplica } from '../../core/src/stores/types';
import { TestCluster, adminConnection, eventually, sleep } from './redis-server';

const replica = (): ListReplica => {
  const budget = new ListBudget(1 << 20);
  return { blacklist: new ClientList('blacklist', budget), whitelist: new ClientList('whitelist', budget) };
};
const ip = (value: string, tag: StoredEntry['tag'] = 'manual'): StoredEntry => ({ type: 'ip', value, tag });
const api = (url: string): ApiJson => ({ api_metadata: { protocol: 'http', url, hostname: '*' } }) as unknown as ApiJson;

/** The CLIENT LIST ids of the connections whose name starts with `prefix`. */
async function clientIds(admin: Redis, prefix: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${prefix}`))
    .map((line) => /^id=(\d+)/.exec(line)![1]!);
}

describe('@ase/redis lists and API definitions (real Redis)', () => {
  let admin: Redis;
  let cluster: TestCluster;
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
  });

  test('a list change on one handle reaches the other handle\'s subscriber within a second, never its own', async () => {
    const a = cluster.open();
    const b = cluster.open();
    await Promise.all([a.lists.load(replica()), b.lists.load(replica())]);
    const seenByA: ListChange[] = [];
    const seenByB: ListChange[] = [];
    a.lists.subscribe((c) => seenByA.push(c));
    b.lists.subscribe((c) => seenByB.push(c));
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.7', 'decoy') });
    await eventually(() => expect(seenByB).toEqual([{ list: 'blacklist', op: 'add', entry: ip('203.0.113.7', 'decoy') }]), 1000);
    await b.lists.apply({ list: 'blacklist', op: 'remove', entry: ip('203.0.113.7', 'decoy') });
    await eventually(() => expect(seenByA).toEqual([{ list: 'blacklist', op: 'remove', entry: ip('203.0.113.7', 'decoy') }]), 1000);
    await sleep(100);
    expect(seenByB).toHaveLength(1);
  });

  test('load fills a replica with what every handle applied; clear by tag removes only those tags', async () => {
    const a = cluster.open();
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('198.51.100.1', 'decoy') });
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('198.51.100.2', 'manual') });
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: { type: 'cookie', name: 'sid', value: 'x}*:{y', tag: 'manual' } });
    await a.lists.apply({ list: 'whitelist', op: 'add', entry: ip('192.0.2.9') });
    await a.lists.apply({ list: 'blacklist', op: 'clear', tags: ['decoy'] });
    const r = replica();
    expect(await cluster.open().lists.load(r)).toEqual([]);
    expect(r.blacklist.has('ip', '198.51.100.1')).toBe(false);
    expect(r.blacklist.has('ip', '198.51.100.2')).toBe(true);
    expect(r.blacklist.has('cookie', 'x}*:{y', 'sid')).toBe(true);
    expect(r.whitelist.has('ip', '192.0.2.9')).toBe(true);
    await a.lists.apply({ list: 'blacklist', op: 'clear' });
    const empty = replica();
    await cluster.open().lists.load(empty);
    expect([empty.blacklist.size, empty.whitelist.size]).toEqual([0, 1]);
  });

  test('a subscriber whose connection is killed replays, in order, the changes made while it was away', async () => {
    const a = cluster.open();
    const b = cluster.open();
    await b.lists.load(replica());
    const seen: ListChange[] = [];
    b.lists.subscribe((c) => seen.push(c));
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.1') });
    await eventually(() => expect(seen).toHaveLength(1));
    const readers = await clientIds(admin, `ase:{${cluster.clusterId}}:lists:reader:`);
    expect(readers).toHaveLength(1);
    await admin.client('KILL', 'ID', readers[0]!);
    for (let i = 2; i <= 5; i++) await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip(`203.0.113.${i}`) });
    await eventually(() => expect(seen.map((c) => (c.op === 'add' ? c.entry.value : c.op))).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5']), 3000);
    // A new connection took the killed one's place.
    await eventually(async () => expect(await clientIds(admin, `ase:{${cluster.clusterId}}:lists:reader:`)).not.toEqual(readers));
  });

  test('readers killed while blocked in XREAD (lists and APIs, once and twice in a row) hear the next change within a second', async () => {
    const a = cluster.open();
    const b = cluster.open();
    await b.lists.load(replica());
    await b.apis.load();
    const lists: ListChange[] = [];
    const apis: ApiChange[] = [];
    b.lists.subscribe((c) => lists.push(c));
    b.apis.subscribe((c) => apis.push(c));
    const prefix = `ase:{${cluster.clusterId}}:`;
    /** Kills b's two readers once both are blocked in XREAD (flag b in CLIENT LIST). */
    const killBlockedReaders = async (): Promise<void> => {
      const blocked = await eventually(async () => {
        const list = ((await admin.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${prefix}`));
        expect(list.map((l) => [/ name=\S+:(lists|apis):reader:/.exec(l)?.[1], /flags=(\S+)/.exec(l)?.[1], /cmd=(\S+)/.exec(l)?.[1]]).sort()).toEqual([
          ['apis', 'b', 'xread'],
          ['lists', 'b', 'xread'],
        ]);
        return list.map((l) => /^id=(\d+)/.exec(l)![1]!);
      }, 3000);
      for (const id of blocked) await admin.client('KILL', 'ID', id);
    };
    const changeArrives = async (n: number): Promise<void> => {
      const since = Date.now();
      await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip(`203.0.113.${n}`) });
      await a.apis.put(`api${n}`, api(`/api${n}`));
      await eventually(() => expect(lists.at(-1)).toEqual({ list: 'blacklist', op: 'add', entry: ip(`203.0.113.${n}`) }), 1000);
      await eventually(() => expect(apis.at(-1)).toEqual({ op: 'put', id: `api${n}`, json: api(`/api${n}`) }), 1000);
      expect(Date.now() - since).toBeLessThan(1000);
    };

    await killBlockedReaders();
    await changeArrives(1);
    // Twice in a row: the second kill hits the connection that replaced the first.
    await killBlockedReaders();
    await killBlockedReaders();
    await changeArrives(2);
    expect(lists).toHaveLength(2);
    expect(apis).toHaveLength(2);
  });

  test('when the changes missed are no longer in the stream, the subscriber gets the whole state and a resync is reported', async () => {
    const resyncs: string[] = [];
    const a = cluster.open();
    const b = cluster.open({ onResync: (store) => resyncs.push(store) });
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.1') });
    await b.lists.load(replica());
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.2') });
    await a.lists.apply({ list: 'whitelist', op: 'add', entry: ip('192.0.2.1') });
    await admin.xtrim(`ase:{${cluster.clusterId}}:lists:changes`, 'MAXLEN', 0);
    const seen: ListChange[] = [];
    b.lists.subscribe((c) => seen.push(c));
    await eventually(() => expect(resyncs).toEqual(['lists']));
    expect(seen.slice(0, 1)).toEqual([{ list: 'blacklist', op: 'clear' }]);
    expect(seen.slice(1, 3)).toEqual(expect.arrayContaining([{ list: 'blacklist', op: 'add', entry: ip('203.0.113.1') }, { list: 'blacklist', op: 'add', entry: ip('203.0.113.2') }]));
    expect(seen.slice(3)).toEqual([{ list: 'whitelist', op: 'clear' }, { list: 'whitelist', op: 'add', entry: ip('192.0.2.1') }]);
    // Reading goes on from there.
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.3') });
    await eventually(() => expect(seen.at(-1)).toEqual({ list: 'blacklist', op: 'add', entry: ip('203.0.113.3') }));
  });

  test('API definitions and switches: stored, loaded, and announced to the other handles', async () => {
    const a = cluster.open();
    const b = cluster.open();
    expect(await b.apis.load()).toEqual({ apis: new Map(), switches: {}, warnings: [] });
    const seen: ApiChange[] = [];
    b.apis.subscribe((c) => seen.push(c));
    await a.apis.put('shop', api('/shop'));
    await a.apis.put('blog', api('/blog'));
    await a.apis.delete('blog');
    await a.apis.putSwitches({ enable_firewall: false });
    await eventually(() =>
      expect(seen).toEqual([
        { op: 'put', id: 'shop', json: api('/shop') },
        { op: 'put', id: 'blog', json: api('/blog') },
        { op: 'delete', id: 'blog' },
        { op: 'switches', switches: { enable_firewall: false } },
      ]),
    );
    expect(await cluster.open().apis.load()).toEqual({ apis: new Map([['shop', api('/shop')]]), switches: { enable_firewall: false }, warnings: [] });
  });

  test('an API subscriber that missed trimmed changes is told which definitions are gone', async () => {
    const a = cluster.open();
    const b = cluster.open();
    await a.apis.put('shop', api('/shop'));
    await a.apis.put('blog', api('/blog'));
    await b.apis.load();
    await a.apis.delete('blog');
    await admin.xtrim(`ase:{${cluster.clusterId}}:apis:changes`, 'MAXLEN', 0);
    const seen: ApiChange[] = [];
    b.apis.subscribe((c) => seen.push(c));
    await eventually(() => expect(seen).toEqual([{ op: 'delete', id: 'blog' }, { op: 'put', id: 'shop', json: api('/shop') }, { op: 'switches', switches: {} }]));
  });

  test('the stores\' keys all carry the cluster\'s hash tag, and close leaves no connection behind', async () => {
    const a = cluster.open();
    await a.lists.apply({ list: 'blacklist', op: 'add', entry: ip('203.0.113.1') });
    await a.apis.put('shop', api('/shop'));
    a.lists.subscribe(() => {});
    await eventually(async () => expect(await clientIds(admin, `ase:{${cluster.clusterId}}:`)).toHaveLength(1));
    await a.close();
    await eventually(async () => expect(await clientIds(admin, `ase:{${cluster.clusterId}}:`)).toEqual([]));
    const keys = (await admin.keys(`*${cluster.clusterId}*`)).sort();
    expect(keys).toEqual(['apis', 'apis:changes', 'apis:seq', 'lists:blacklist', 'lists:changes', 'lists:seq'].map((k) => `ase:{${cluster.clusterId}}:${k}`));
  });
});
