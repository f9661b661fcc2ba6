import { Redis } from 'ioredis';
import { type Honeytoken, HoneytokenTable } from '@ase/core';
import { RedisHoneytokenStore } from '../src/honeytoken-store';
import { KeySpace } from '../src/keys';
import { OwnRedis } from './own-redis';
import { REDIS_URL, adminConnection, dropClusterKeys, eventually, sleep, uniqueClusterId } from './redis-server';

const token = (i: number): Honeytoken => ({ value: `sk_live_${String(i).padStart(32, '0')}`, kind: 'api_key', api: 'ops', plantedTo: `203.0.113.${i}`, plantedAt: 1_700_000_000_000 + i });

describe('RedisHoneytokenStore (real Redis)', () => {
  let admin: Redis;
  let clusterId: string;
  const opened: { store: RedisHoneytokenStore; client: Redis }[] = [];
  const errors: unknown[] = [];

  const open = (origin: string, max?: number, url = REDIS_URL): RedisHoneytokenStore => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const store = new RedisHoneytokenStore(client, new KeySpace(clusterId, 'ase:'), { origin, onError: (e) => errors.push(e), ...(max === undefined ? {} : { max }) });
    opened.push({ store, client });
    return store;
  };

  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    clusterId = uniqueClusterId();
    errors.length = 0;
  });
  afterEach(async () => {
    for (const { store, client } of opened.splice(0)) {
      await store.close();
      client.disconnect();
    }
    await dropClusterKeys(admin, clusterId);
  });

  test('a token planted after a handle loaded, before it has a listener (a node starting), reaches that listener', async () => {
    const a = open('node-a');
    const b = open('node-b');
    await a.load(new HoneytokenTable());
    // B's load returns once B is subscribed: what is planted from then on is heard, even before B listens.
    await b.load(new HoneytokenTable());
    a.record(token(7));
    await eventually(async () => expect(await admin.hexists(`ase:{${clusterId}}:honeytokens`, token(7).value)).toBe(1));
    await sleep(100); // the message has had time to arrive
    const heard: Honeytoken[] = [];
    b.subscribe((t) => heard.push(t));
    expect(heard).toEqual([token(7)]);
  });

  test('a token recorded by one handle reaches the others at once, and a handle opened later loads it; none hears its own', async () => {
    const a = open('node-a');
    const b = open('node-b');
    const tableA = new HoneytokenTable();
    const tableB = new HoneytokenTable();
    await a.load(tableA);
    await b.load(tableB);
    const heardA: Honeytoken[] = [];
    const heardB: Honeytoken[] = [];
    a.subscribe((t) => heardA.push(t));
    b.subscribe((t) => heardB.push(t));
    await eventually(async () => expect(await admin.pubsub('NUMSUB', `ase:{${clusterId}}:honeytokens:planted`)).toEqual([`ase:{${clusterId}}:honeytokens:planted`, 2]));

    a.record(token(1));
    await eventually(() => expect(heardB).toEqual([token(1)]));
    expect(heardA).toEqual([]);

    const late = new HoneytokenTable();
    expect(await open('node-c').load(late)).toEqual([]);
    expect(late.get(token(1).value)).toEqual(token(1));
    expect(errors).toEqual([]);
  });

  test('Redis keeps at most `max` tokens, the newest; a damaged entry is skipped with a warning', async () => {
    const a = open('node-a', 3);
    for (let i = 1; i <= 5; i++) a.record(token(i));
    const base = `ase:{${clusterId}}:honeytokens`;
    await eventually(async () => expect((await admin.zrange(`${base}:order`, '0', '-1')).length).toBe(3));
    expect(Object.keys(await admin.hgetall(base)).sort()).toEqual([token(3), token(4), token(5)].map((t) => t.value));

    await admin.hset(base, 'sk_live_damaged', '{not json');
    await admin.zadd(`${base}:order`, 1, 'sk_live_damaged');
    const table = new HoneytokenTable();
    expect(await open('node-b').load(table)).toEqual(['1 stored honeytoken(s) in Redis were not readable and were skipped']);
    expect([...table.values()].map((t) => t.plantedTo)).toEqual(['203.0.113.3', '203.0.113.4', '203.0.113.5']);
  });

  test('without `max`, Redis keeps the bound of the table loaded (the enforcer\'s honeytokens_max)', async () => {
    const a = open('node-a');
    expect(await a.load(new HoneytokenTable(2))).toEqual([]);
    for (let i = 1; i <= 4; i++) a.record(token(i));
    const base = `ase:{${clusterId}}:honeytokens`;
    await eventually(async () => expect(await admin.zrange(`${base}:order`, '0', '-1')).toEqual([token(3).value, token(4).value]));
    expect(Object.keys(await admin.hgetall(base)).sort()).toEqual([token(3), token(4)].map((t) => t.value));
  });

  test('a handle whose subscription was cut off reads the tokens planted meanwhile once it is back', async () => {
    const a = open('node-a');
    const b = open('node-b');
    const tableB = new HoneytokenTable();
    await b.load(tableB);
    b.subscribe((t) => void tableB.add(t));
    const channel = `ase:{${clusterId}}:honeytokens:planted`;
    await eventually(async () => expect((await admin.pubsub('NUMSUB', channel))[1]).toBe(1));
    // Only this test's subscriber (other tests share the Redis): found by its connection name.
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const id = /^id=(\d+) .*name=(\S+)/m.exec(list.split('\n').find((l) => l.includes(`name=${channel}:subscriber`)) ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.call('CLIENT', 'KILL', 'ID', id!);
    a.record(token(7));
    await eventually(() => expect(tableB.get(token(7).value)).toEqual(token(7)), 3000);
  });

  test('a handle that could not load (Redis down at start) reads every token once Redis answers', async () => {
    const own = await OwnRedis.notStarted();
    try {
      const b = open('node-b', undefined, own.url);
      const table = new HoneytokenTable();
      await expect(b.load(table)).rejects.toThrow();
      b.subscribe((t) => void table.add(t));
      // Long enough for the subscriber's reconnection delay to grow past the write below.
      await sleep(1500);
      await own.start();
      open('node-a', undefined, own.url).record(token(9));
      await eventually(() => expect(table.get(token(9).value)).toEqual(token(9)), 5000);
    } finally {
      for (const { store, client } of opened.splice(0)) {
        await store.close();
        client.disconnect();
      }
      await own.stop();
    }
  }, 20_000);
});
