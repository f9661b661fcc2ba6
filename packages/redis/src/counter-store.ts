import { digest, type KeySpace } from './keys';
import { script, type RedisClient, type Script } from './scripts';
import type { CounterStore, WindowCount } from '@ase/core';

// A window starts with its key's first point: the expiry is set only on a key that had none.
// Every key of a batch is counted in turn, as if each had been sent alone, in the order given.
const CONSUME_MANY = `
local out = {}
for i = 1, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  local count = redis.call('INCRBY', KEYS[i], ARGV[2 * i - 1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
    ttl = tonumber(ARGV[2 * i])
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
`;

const GET = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return false end
return {tonumber(redis.call('GET', KEYS[1])), ttl}
`;

/**
 * At most this many counts in one script call: Redis runs a script alone, so a huge batch would
 * hold up every other client of the server (and every other node) while it runs.
 */
const MAX_BATCH = 256;

/** Key names remembered: SHA-256 per request is a measurable part of a counted request. */
const MAX_CACHED_NAMES = 10_000;

interface Pending {
  key: string;
  points: number;
  windowMs: number;
  resolve(count: WindowCount): void;
  reject(err: unknown): void;
}

/**
 * Fixed windows shared by every handle: one key per counter, expiring when its window ends.
 *
 * Every request under a client rate limit counts here, so the cost per count decides how much
 * slower a cluster node is than a lone one. The counts asked for during one turn of the event loop
 * (the requests read from the sockets together) go to Redis as one script call: one command to
 * encode, send, run and parse instead of one per request. Each count is still Redis's own answer,
 * so the limit stays a total across the cluster; a count waits at most until the end of the
 * current turn of the event loop before it is sent.
 */
export class RedisCounterStore implements CounterStore {
  readonly localKeys = false;
  private readonly consumeScript: Script;
  private readonly getScript: Script;
  private readonly names = new Map<string, string>();
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
  ) {
    this.consumeScript = script(client, 'aseCounterConsumeMany1', undefined, CONSUME_MANY);
    this.getScript = script(client, 'aseCounterGet1', 1, GET);
  }

  private keyOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      // Bounded: a flood of new clients starts the cache over instead of growing it.
      if (this.names.size >= MAX_CACHED_NAMES) this.names.clear();
      name = this.keys.key('counter', digest(key));
      this.names.set(key, name);
    }
    return name;
  }

  consume(key: string, points: number, windowMs: number): Promise<WindowCount> {
    return new Promise<WindowCount>((resolve, reject) => {
      this.pending.push({ key: this.keyOf(key), points: Math.trunc(points), windowMs: Math.max(1, Math.ceil(windowMs)), resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not nextTick: the requests of one poll phase each end their own tick,
        // and the batch is meant to hold all of them.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends the counts asked for so far as one script call. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const keys: string[] = [];
    const args: number[] = [];
    for (const p of batch) {
      keys.push(p.key);
      args.push(p.points, p.windowMs);
    }
    this.consumeScript(keys, args).then(
      (res) => {
        const out = res as number[];
        batch.forEach((p, i) => p.resolve({ consumed: Number(out[2 * i]), resetMs: Number(out[2 * i + 1]) }));
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  async get(key: string): Promise<WindowCount | undefined> {
    // Counts asked for before this call reach Redis before it, as if each had been sent at once.
    this.flush();
    const res = (await this.getScript([this.keyOf(key)], [])) as [number, number] | null;
    return res ? { consumed: res[0], resetMs: res[1] } : undefined;
  }

  async reset(key: string): Promise<void> {
    this.flush();
    await this.client.del(this.keyOf(key));
  }
}
