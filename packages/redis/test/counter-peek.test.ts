import { Redis } from 'ioredis';
import { createRateLimiter } from '../../core/src/flow/rate-limit';
import { parseRate } from '../../core/src/config/units';
import { TestCluster, adminConnection } from './redis-server';

/* A client limit kept in Redis, read by explain's dry run: peek counts nothing, across handles. */

let admin: Redis;
let cluster: TestCluster;
beforeAll(async () => {
  admin = await adminConnection();
  cluster = new TestCluster(admin);
});
afterAll(async () => {
  await cluster?.cleanup();
  await admin?.quit();
});

test('peek reads the shared window another node counted in, and leaves it as it was', async () => {
  const rate = parseRate('2/minute')!;
  const a = createRateLimiter(rate, 'client|shop|', cluster.open().counters)!;
  const b = createRateLimiter(rate, 'client|shop|', cluster.open().counters)!;
  expect(await b.peek('10.0.0.1')).toMatchObject({ ok: true, remaining: 1 });
  expect(await a.consume('10.0.0.1')).toMatchObject({ ok: true, remaining: 1 });
  expect(await b.peek('10.0.0.1')).toMatchObject({ ok: true, remaining: 0 });
  expect(await b.peek('10.0.0.1')).toMatchObject({ ok: true, remaining: 0 });
  expect(await a.consume('10.0.0.1')).toMatchObject({ ok: true, remaining: 0 });
  expect(await b.peek('10.0.0.1')).toMatchObject({ ok: false });
  expect(await a.consume('10.0.0.1')).toMatchObject({ ok: false });
});
