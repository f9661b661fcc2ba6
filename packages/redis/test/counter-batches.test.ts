import { Redis } from 'ioredis';
import { counterStoreContract } from '../../../test/stores/contract';
import { TestCluster, adminConnection } from './redis-server';

let admin: Redis;
beforeAll(async () => {
  admin = await adminConnection();
});
afterAll(async () => {
  await admin?.quit();
});

counterStoreContract('RedisCounterStore', async () => {
  const cluster = new TestCluster(admin);
  return { store: cluster.open().counters, cleanup: () => cluster.cleanup() };
});

describe('@ase/redis counters sent together (real Redis)', () => {
  let cluster: TestCluster;
  beforeEach(() => {
    cluster = new TestCluster(admin);
  });
  afterEach(async () => {
    await cluster?.cleanup();
  });

  test('counts asked for at once by two handles add up exactly: every count is one of 1..N, each once', async () => {
    const a = cluster.open().counters;
    const b = cluster.open().counters;
    // More than one script call holds (256), so batches of one handle follow each other too.
    const asked = Array.from({ length: 1200 }, (_, i) => ((i % 3 === 0 ? b : a).consume(`client:${i % 2}`, 1, 10_000)));
    const counts = await Promise.all(asked);
    for (const k of [0, 1]) {
      const seen = counts.filter((_, i) => i % 2 === k).map((c) => c.consumed).sort((x, y) => x - y);
      expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    }
    expect((await a.get('client:0'))?.consumed).toBe(600);
    expect((await b.get('client:1'))?.consumed).toBe(600);
  });

  test('a count asked for before a reset or a get, not awaited, reaches Redis before it', async () => {
    const s = cluster.open().counters;
    const first = s.consume('client:x', 3, 10_000);
    const seen = s.get('client:x');
    const cleared = s.reset('client:x');
    const after = s.consume('client:x', 1, 10_000);
    expect((await first).consumed).toBe(3);
    expect((await seen)?.consumed).toBe(3);
    await cleared;
    expect((await after).consumed).toBe(1);
  });

  test('each key of a batch gets its own window', async () => {
    const s = cluster.open().counters;
    const [short, long] = await Promise.all([s.consume('k:short', 2, 150), s.consume('k:long', 5, 10_000)]);
    expect(short).toEqual({ consumed: 2, resetMs: 150 });
    expect(long).toEqual({ consumed: 5, resetMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await s.get('k:short')).toBeUndefined();
    expect((await s.get('k:long'))?.consumed).toBe(5);
  });

  test('when Redis cannot be reached every count of the batch rejects (counters failing closed)', async () => {
    const s = cluster.open({ url: 'redis://127.0.0.1:1', failure: { counters: 'closed' } }).counters;
    const results = await Promise.allSettled([s.consume('a', 1, 1000), s.consume('b', 1, 1000), s.consume('c', 1, 1000)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  test('when Redis cannot be reached every count of the batch is counted in memory (counters failing open)', async () => {
    const s = cluster.open({ url: 'redis://127.0.0.1:1' }).counters;
    const results = await Promise.all([s.consume('a', 1, 1000), s.consume('a', 1, 1000), s.consume('c', 1, 1000)]);
    expect(results.map((r) => r.consumed)).toEqual([1, 2, 1]);
  });
});
