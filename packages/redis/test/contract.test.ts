import type { Redis } from 'ioredis';
import { apiStoreContract, counterStoreContract, listStoreContract, quotaStoreContract, stickyStoreContract } from '../../../test/stores/contract';
import { TestCluster, adminConnection } from './redis-server';

/**
 * The stores' shared contract against a real Redis: two handles are two `redisStores` on one
 * cluster id (two enforcers), and reopening is a third one.
 */
let admin: Promise<Redis> | undefined;
const connection = (): Promise<Redis> => (admin ??= adminConnection());

afterAll(async () => {
  if (admin) await (await admin).quit();
});

async function cluster(): Promise<TestCluster> {
  return new TestCluster(await connection());
}

listStoreContract('RedisListStore, two handles on one cluster', async () => {
  const c = await cluster();
  return { a: c.open().lists, b: c.open().lists, reopen: async () => c.open().lists, cleanup: () => c.cleanup() };
});

apiStoreContract('RedisApiStore, two handles on one cluster', async () => {
  const c = await cluster();
  return { a: c.open().apis, b: c.open().apis, reopen: async () => c.open().apis, cleanup: () => c.cleanup() };
});

counterStoreContract('Redis counters', async () => {
  const c = await cluster();
  return { store: c.open().counters, cleanup: () => c.cleanup() };
});

quotaStoreContract('Redis connection slots', async () => {
  const c = await cluster();
  return { store: c.open().quotas, cleanup: () => c.cleanup() };
});

stickyStoreContract('Redis sticky pins', async () => {
  const c = await cluster();
  return { store: c.open().sticky, cleanup: () => c.cleanup() };
});
