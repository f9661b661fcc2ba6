import { digest, type KeySpace } from './keys';
import { script, type RedisClient, type Script } from './scripts';
import type { StickyStore } from '@ase/core';

// The pin and its place in the server's index together; the index loses members whose pins idled out.
const SET = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3] + ARGV[2], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`;

// Only pins still naming the server go: a cookie re-pinned elsewhere keeps its new pin.
const DROP = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then n = n + redis.call('DEL', KEYS[i]) end
end
return n
`;

/** Pins looked up per dropServer script call: bounded, so one call never holds Redis for long. */
const DROP_BATCH = 500;

/**
 * Sticky pins: `sticky:<api>:<cookie>` → server id, expiring after `idleMs` without use, and per
 * server a sorted set of its pins' cookies (scored by when they idle out) for `dropServer`. API
 * ids, cookie values and server ids enter key names only as their SHA-256.
 */
export class RedisStickyStore implements StickyStore {
  readonly localKeys = false;
  private readonly setScript: Script;
  private readonly dropScript: Script;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly idleMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.setScript = script(client, 'aseStickySet1', 2, SET);
    this.dropScript = script(client, 'aseStickyDrop1', undefined, DROP);
  }

  private pinKey(api: string, cookieHash: string): string {
    return this.keys.key('sticky', digest(api), cookieHash);
  }

  private indexKey(api: string, serverId: string): string {
    return this.keys.key('sticky-server', digest(api), digest(serverId));
  }

  async get(api: string, cookie: string): Promise<string | undefined> {
    const cookieHash = digest(cookie);
    const server = await this.client.getex(this.pinKey(api, cookieHash), 'PX', this.idleMs);
    if (server === null) return undefined;
    // Keeps the index entry as long-lived as the pin it was just used for; not awaited, a lookup
    // costs one round trip.
    this.client.zadd(this.indexKey(api, server), 'XX', 'GT', String(Date.now() + this.idleMs), cookieHash).catch((err: unknown) => this.onError(err));
    return server;
  }

  async set(api: string, cookie: string, serverId: string): Promise<void> {
    const cookieHash = digest(cookie);
    await this.setScript([this.pinKey(api, cookieHash), this.indexKey(api, serverId)], [serverId, this.idleMs, Date.now(), cookieHash]);
  }

  async delete(api: string, cookie: string): Promise<void> {
    await this.client.del(this.pinKey(api, digest(cookie)));
  }

  async dropServer(api: string, serverId: string): Promise<void> {
    const index = this.indexKey(api, serverId);
    const cookies = await this.client.zrange(index, '0', '-1');
    for (let i = 0; i < cookies.length; i += DROP_BATCH) {
      await this.dropScript(cookies.slice(i, i + DROP_BATCH).map((c) => this.pinKey(api, c)), [serverId]);
    }
    await this.client.del(index);
  }
}
