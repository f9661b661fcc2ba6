import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisStores, type RedisStores, type RedisStoresOptions } from '@ase/redis';

export const REDIS_URL = process.env['ASE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * A connection for the test itself (cleanup, CLIENT KILL). Fails at once, naming what is missing,
 * when no Redis answers: these tests need a real server and never skip.
 */
export async function adminConnection(): Promise<Redis> {
  const admin = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000, disconnectTimeout: 100 });
  admin.on('error', () => {});
  try {
    await admin.connect();
    await admin.ping();
  } catch (err) {
    admin.disconnect();
    throw new Error(
      `the @ase/redis tests need a Redis server at ${REDIS_URL} and none answered (${(err as Error).message}). ` +
        'Start one with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (.ci/run does this).',
    );
  }
  return admin;
}

/** A cluster id no other run or test uses, so tests never see each other's keys. */
export function uniqueClusterId(): string {
  return `test-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** The keys of one cluster, found with SCAN (braces are literal in a MATCH pattern). */
export async function clusterKeys(admin: Redis, clusterId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `ase:{${clusterId}}:*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

export async function dropClusterKeys(admin: Redis, clusterId: string): Promise<void> {
  const keys = await clusterKeys(admin, clusterId);
  if (keys.length > 0) await admin.del(...keys);
}

/** Opens store handles on one fresh cluster id; `cleanup` closes them all and deletes the cluster's keys. */
export class TestCluster {
  readonly clusterId = uniqueClusterId();
  private readonly handles: RedisStores[] = [];
  readonly errors: unknown[] = [];
  /** What the handles logged (a connection a test cuts off is an outage). */
  readonly lines: string[] = [];

  constructor(readonly admin: Redis) {}

  open(options: Omit<RedisStoresOptions, 'clusterId'> = {}): RedisStores {
    const stores = redisStores({ url: REDIS_URL, clusterId: this.clusterId, onError: (err) => this.errors.push(err), logger: { warn: (l) => this.lines.push(l) }, ...options });
    this.handles.push(stores);
    return stores;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
    await dropClusterKeys(this.admin, this.clusterId);
  }
}

/** Resolves once `check` passes, retrying until `timeoutMs`; then rethrows its last failure. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
