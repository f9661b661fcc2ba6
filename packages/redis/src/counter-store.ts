import { digest, type KeySpace } from './keys';
import { script, type RedisClient, type Script } from './scripts';
import type { CounterStore, WindowCount } from '@ase/core';

// A window starts with its key's first point: the expiry is set only on a key that had none.
const CONSUME = `
local ttl = redis.call('PTTL', KEYS[1])
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
`;

const GET = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return false end
return {tonumber(redis.call('GET', KEYS[1])), ttl}
`;

/** Fixed windows shared by every handle: one key per counter, expiring when its window ends. */
export class RedisCounterStore implements CounterStore {
  readonly localKeys = false;
  private readonly consumeScript: Script;
  private readonly getScript: Script;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
  ) {
    this.consumeScript = script(client, 'aseCounterConsume1', 1, CONSUME);
    this.getScript = script(client, 'aseCounterGet1', 1, GET);
  }

  private keyOf(key: string): string {
    return this.keys.key('counter', digest(key));
  }

  async consume(key: string, points: number, windowMs: number): Promise<WindowCount> {
    const [consumed, resetMs] = (await this.consumeScript([this.keyOf(key)], [Math.trunc(points), Math.max(1, Math.ceil(windowMs))])) as [number, number];
    return { consumed, resetMs };
  }

  async get(key: string): Promise<WindowCount | undefined> {
    const res = (await this.getScript([this.keyOf(key)], [])) as [number, number] | null;
    return res ? { consumed: res[0], resetMs: res[1] } : undefined;
  }

  async reset(key: string): Promise<void> {
    await this.client.del(this.keyOf(key));
  }
}
