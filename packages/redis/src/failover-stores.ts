import { MemoryCounterStore, MemoryQuotaStore, storeUnavailable } from '@ase/core';
import type { CounterStore, QuotaStore, SlotLease, StickyStore, WindowCount } from '@ase/core';
import type { FailureMode, RedisHealth } from './health';

/**
 * Counters that go on while Redis is unreachable: `open` counts in this process's memory (each
 * instance then enforces the limit alone, an insurance limiter), `closed` refuses with
 * ERR_ASE_STORE_UNAVAILABLE (the enforcer answers 503). Back on Redis, the memory counts are dropped.
 */
export class FailoverCounterStore implements CounterStore {
  readonly localKeys = false;
  private readonly memory: MemoryCounterStore;

  constructor(
    private readonly shared: CounterStore,
    private readonly health: RedisHealth,
    private readonly mode: FailureMode,
    /** Windows the in-memory fallback keeps at most (`tracked_clients_max`). */
    maxKeys?: number,
  ) {
    this.memory = new MemoryCounterStore({ maxKeys });
    health.onChange((status) => {
      if (status === 'connected') void this.memory.close();
    });
  }

  private either<T>(remote: () => T | Promise<T>, local: (m: MemoryCounterStore) => T): Promise<T> {
    return withFallback(this.health, this.mode, 'counters', remote, () => local(this.memory));
  }

  consume(key: string, points: number, windowMs: number): Promise<WindowCount> {
    return this.either(() => this.shared.consume(key, points, windowMs), (m) => m.consume(key, points, windowMs));
  }

  get(key: string): Promise<WindowCount | undefined> {
    return this.either(() => this.shared.get(key), (m) => m.get(key));
  }

  reset(key: string): Promise<void> {
    this.memory.reset(key);
    return this.either(() => this.shared.reset(key), () => undefined);
  }

  async close(): Promise<void> {
    await this.memory.close();
  }
}

/** Connection slots with the same fallback: `open` holds them in this process's memory, `closed` refuses. */
export class FailoverQuotaStore implements QuotaStore {
  readonly localKeys = false;
  // Not replaced when Redis is back: leases taken from it are still released to it.
  private readonly memory = new MemoryQuotaStore();

  constructor(
    private readonly shared: QuotaStore & { close(): Promise<void> },
    private readonly health: RedisHealth,
    private readonly mode: FailureMode,
  ) {}

  private either<T>(remote: () => T | Promise<T>, local: (m: MemoryQuotaStore) => T): Promise<T> {
    return withFallback(this.health, this.mode, 'connection slots', remote, () => local(this.memory));
  }

  tryAcquire(key: string, quota: number, leaseMs: number): Promise<SlotLease | undefined> {
    return this.either(() => this.shared.tryAcquire(key, quota, leaseMs), (m) => m.tryAcquire(key, quota, leaseMs));
  }

  inFlight(key: string): Promise<number> {
    return this.either(() => this.shared.inFlight(key), (m) => m.inFlight(key));
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}

/** Sticky pins while Redis is unreachable: none known (requests go round-robin), none kept. */
export class FailoverStickyStore implements StickyStore {
  readonly localKeys = false;

  constructor(
    private readonly shared: StickyStore,
    private readonly health: RedisHealth,
  ) {}

  private async quiet<T>(remote: () => T | Promise<T>, otherwise: T): Promise<T> {
    if (this.health.status !== 'connected') return otherwise;
    try {
      return await remote();
    } catch (err) {
      if (!this.health.isOutage(err)) throw err;
      return otherwise;
    }
  }

  configure(api: string, budget: Parameters<NonNullable<StickyStore['configure']>>[1]): void {
    this.shared.configure?.(api, budget);
  }

  get(api: string, cookie: string): Promise<string | undefined> {
    return this.quiet(() => this.shared.get(api, cookie), undefined);
  }

  set(api: string, cookie: string, serverId: string): Promise<void> {
    return this.quiet(() => this.shared.set(api, cookie, serverId), undefined);
  }

  delete(api: string, cookie: string): Promise<void> {
    return this.quiet(() => this.shared.delete(api, cookie), undefined);
  }

  dropServer(api: string, serverId: string): Promise<void> {
    return this.quiet(() => this.shared.dropServer(api, serverId), undefined);
  }

  async close(): Promise<void> {
    await this.shared.close?.();
  }
}

/** Redis's answer while it is reachable; on an outage, `local` (`open`) or a refusal (`closed`). */
async function withFallback<T>(health: RedisHealth, mode: FailureMode, what: string, remote: () => T | Promise<T>, local: () => T): Promise<T> {
  if (health.status === 'connected') {
    try {
      return await remote();
    } catch (err) {
      if (!health.isOutage(err)) throw err;
    }
  }
  if (mode === 'closed') throw storeUnavailable(what);
  return local();
}
