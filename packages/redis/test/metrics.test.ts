/**
 * The cluster's Redis status in the enforcer's metrics, scraped from a real admin listener while a
 * test-owned redis-server is stopped and started again.
 */
import * as http from 'node:http';
import { type Enforcer, silentLogger, startEnforcer } from '@ase/core';
import { type AdminServer, startAdminServer } from '@ase/admin';
import { redisStores, type RedisStores } from '@ase/redis';
import { OwnRedis } from './own-redis';
import { eventually, uniqueClusterId } from './redis-server';

function scrape(port: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/metrics', headers: { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in a scrape, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const UP = 'ase_store_up{store="redis"}';
const OUTAGES = 'ase_store_unreachable_total{store="redis"}';

describe('ase_store_up{store="redis"} follows the Redis connection', () => {
  let redis: OwnRedis;
  let stores: RedisStores;
  let enforcer: Enforcer;
  let admin: AdminServer;
  const lines: string[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    stores = redisStores({ url: redis.url, clusterId: uniqueClusterId(), logger: { warn: (l) => lines.push(l) } });
    enforcer = await startEnforcer({ logger: silentLogger, stores });
    admin = await startAdminServer(enforcer, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await admin?.close();
    await enforcer?.close();
    await stores?.close();
    // The server keeps nothing on disk: stopping it deletes the test's keys with it.
    await redis?.stop();
  });

  test('1 while connected, 0 within seconds of redis-server stopping, 1 again once it is back; each outage counted once', async () => {
    const first = await scrape(admin.port);
    expect(first.status).toBe(200);
    expect([sample(first.text, UP), sample(first.text, OUTAGES)]).toEqual([1, 0]);

    await redis.stop();
    await eventually(async () => expect(sample((await scrape(admin.port)).text, UP)).toBe(0), 5000);
    expect(sample((await scrape(admin.port)).text, OUTAGES)).toBe(1);
    expect(stores.status).toBe('unreachable');

    await redis.start();
    await eventually(async () => expect(sample((await scrape(admin.port)).text, UP)).toBe(1), 10_000);
    expect(sample((await scrape(admin.port)).text, OUTAGES)).toBe(1);
    expect(lines.filter((l) => l.includes('redis unreachable'))).toHaveLength(1);
  }, 30_000);
});
