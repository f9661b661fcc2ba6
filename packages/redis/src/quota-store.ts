import { randomUUID } from 'node:crypto';
import { digest, type KeySpace } from './keys';
import { SERVER_NOW, script, type RedisClient, type Script } from './scripts';
import type { QuotaStore, SlotLease } from '@ase/core';

// Leases are members of a sorted set scored by their expiry on the server's clock; a lease whose
// holder stopped renewing it falls out at the next acquire or count.
const ACQUIRE = `
${SERVER_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

const RENEW = `
${SERVER_NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

const IN_FLIGHT = `
${SERVER_NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

/** How often a held lease is renewed, as a part of its lifetime: two renewals may fail before it lapses. */
const RENEWALS_PER_LEASE = 3;

/**
 * Connection slots shared by every handle: at most `quota` live leases per key. A lease is renewed
 * while held, so one held by a process that died lapses after `leaseMs`.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly localKeys = false;
  private readonly acquireScript: Script;
  private readonly renewScript: Script;
  private readonly inFlightScript: Script;
  private readonly held = new Set<{ free(): Promise<void> }>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly onError: (err: unknown) => void,
  ) {
    this.acquireScript = script(client, 'aseSlotAcquire1', 1, ACQUIRE);
    this.renewScript = script(client, 'aseSlotRenew1', 1, RENEW);
    this.inFlightScript = script(client, 'aseSlotInFlight1', 1, IN_FLIGHT);
  }

  private keyOf(key: string): string {
    return this.keys.key('slots', digest(key));
  }

  async tryAcquire(key: string, quota: number, leaseMs: number): Promise<SlotLease | undefined> {
    const zkey = this.keyOf(key);
    const id = randomUUID();
    const ms = Math.max(1, Math.ceil(leaseMs));
    const got = await this.acquireScript([zkey], [quota, ms, id]);
    if (got !== 1) return undefined;
    let released = false;
    const timer = setInterval(() => {
      this.renewScript([zkey], [ms, id]).then(
        (renewed) => {
          // Lapsed (this process stalled past leaseMs): the slot may be someone else's now.
          if (renewed !== 1) stop();
        },
        (err: unknown) => this.onError(err),
      );
    }, Math.max(10, Math.floor(ms / RENEWALS_PER_LEASE)));
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      this.held.delete(lease);
    };
    const lease = {
      free: async (): Promise<void> => {
        if (released) return;
        released = true;
        stop();
        await this.client.zrem(zkey, id).catch((err: unknown) => this.onError(err));
      },
    };
    this.held.add(lease);
    return { release: () => void lease.free() };
  }

  async inFlight(key: string): Promise<number> {
    return Number(await this.inFlightScript([this.keyOf(key)], []));
  }

  /** Releases every lease still held, so that other processes get the slots at once. */
  async close(): Promise<void> {
    await Promise.all([...this.held].map((lease) => lease.free()));
  }
}
