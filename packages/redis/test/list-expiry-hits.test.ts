import type { Redis } from 'ioredis';
import type { ListChange, ListReplica, StoredEntry } from '@ase/core';
import { newReplica } from '../../../test/stores/contract/list-store.contract';
import { TestCluster, adminConnection } from './redis-server';

/**
 * Cluster mode: an expiry swept by every node removes the entry once (and never an entry added
 * again since with another deadline), and hit counts travel in batches and add up across nodes.
 */
let admin: Redis;
let c: TestCluster;
beforeAll(async () => {
  admin = await adminConnection();
});
afterAll(async () => {
  await admin.quit();
});
beforeEach(() => {
  c = new TestCluster(admin);
});
afterEach(async () => {
  await c.cleanup();
});

const entry = (over: Partial<StoredEntry> = {}): StoredEntry => ({ type: 'ip', value: '198.51.100.0/24', tag: 'manual', addedAt: 1000, via: 'management', ...over });

async function stored(): Promise<StoredEntry[]> {
  return Object.values(await findHash()).map((j) => JSON.parse(j) as StoredEntry);
}

/** The blacklist hash, wherever the key space puts it. */
async function findHash(): Promise<Record<string, string>> {
  const keys = (await admin.keys(`*${c.clusterId}*`)).filter((k) => k.endsWith('blacklist'));
  return keys.length === 1 ? admin.hgetall(keys[0]!) : {};
}

test('an expiry removes the entry while it has that deadline, and not an entry added again with another', async () => {
  const a = c.open().lists;
  const replica: ListReplica = newReplica();
  await a.load(replica);
  const first = entry({ expiresAt: Date.now() + 60_000 });
  await a.apply({ list: 'blacklist', op: 'add', entry: first });
  // Another node swept an older copy with another deadline: nothing is removed.
  await a.apply({ list: 'blacklist', op: 'remove', entry: { ...first, expiresAt: first.expiresAt! - 5000 }, expired: true });
  expect((await stored()).map((e) => e.expiresAt)).toEqual([first.expiresAt]);
  const expiry: ListChange = { list: 'blacklist', op: 'remove', entry: first, expired: true };
  await a.apply(expiry);
  expect(await stored()).toEqual([]);
  await a.apply(expiry); // the next node's sweep: nothing left to do
  expect(await stored()).toEqual([]);
});

test('entries that expired while no node ran are not loaded, and are removed from Redis', async () => {
  const a = c.open().lists;
  await a.load(newReplica());
  await a.apply({ list: 'blacklist', op: 'add', entry: entry({ expiresAt: Date.now() + 150 }) });
  await a.apply({ list: 'blacklist', op: 'add', entry: entry({ value: '192.0.2.1' }) });
  await new Promise((r) => setTimeout(r, 200));
  const b = c.open().lists;
  const replica = newReplica();
  await b.load(replica);
  expect(replica.blacklist.list().map((e) => e.value)).toEqual(['192.0.2.1']);
  for (let i = 0; i < 50 && (await stored()).length > 1; i++) await new Promise((r) => setTimeout(r, 20));
  expect((await stored()).map((e) => e.value)).toEqual(['192.0.2.1']);
});

test('hit batches from two nodes add up, each answered with the total; an entry no longer stored is left out', async () => {
  const a = c.open().lists;
  const b = c.open().lists;
  await a.load(newReplica());
  await b.load(newReplica());
  const e = entry();
  await a.apply({ list: 'blacklist', op: 'add', entry: e });
  expect(await a.addHits!('blacklist', [{ entry: e, hits: 3, lastHit: 5000 }])).toEqual([{ entry: e, hits: 3, lastHit: 5000 }]);
  expect(await b.addHits!('blacklist', [{ entry: e, hits: 2, lastHit: 4000 }])).toEqual([{ entry: e, hits: 5, lastHit: 5000 }]);
  expect(await b.addHits!('blacklist', [{ entry: entry({ value: '192.0.2.9' }), hits: 1, lastHit: 1 }])).toEqual([]);
  expect(await stored()).toEqual([{ ...e, hits: 5, lastHit: 5000 }]);
});

test('hit totals list every stored entry that was hit, for a list page', async () => {
  const a = c.open().lists;
  await a.load(newReplica());
  const hit = entry();
  await a.apply({ list: 'blacklist', op: 'add', entry: hit });
  await a.apply({ list: 'blacklist', op: 'add', entry: entry({ value: '192.0.2.1' }) });
  await a.addHits!('blacklist', [{ entry: hit, hits: 4, lastHit: 9000 }]);
  expect(await a.hitTotals!('blacklist')).toEqual([{ entry: { ...hit, hits: 4, lastHit: 9000 }, hits: 4, lastHit: 9000 }]);
});
