import type { CounterStore, WindowCount } from './types';

interface Window {
  consumed: number;
  expiresAt: number;
}

/** Keys (client IPs, server ids) counted at most by one store; beyond it the window started longest ago is forgotten. */
export const DEFAULT_MAX_COUNTER_KEYS = 100_000;

/**
 * Counters in this process, answered synchronously: RLF `RateLimiterMemory`'s fixed window per key
 * (it starts with the key's first point and lasts the `windowMs` of that call) without its Promise
 * and per-key timer on every request, which keeps a client rate limit cheap on the request path
 * (docs/performance.md). Expired windows are dropped lazily, in one sweep per window length.
 * Bounded, because every new client address adds a key: at most `maxKeys` windows in all; beyond
 * that the window started longest ago (of the table being written) is forgotten in O(1) — Map
 * order is window-start order, since a new window re-inserts its key.
 *
 * A rule's limiter counts in its own {@link CounterScope} (`scope(prefix)`): the key a request
 * brings (a client address) is looked up as it is, since building `prefix + key` for every request
 * would cost more than the whole count. Scopes of the same prefix are the same counters, so
 * limiters sharing this store share their windows; `consume`/`get`/`reset` on the store itself
 * count in a scope of their own.
 */
export class MemoryCounterStore implements CounterStore {
  readonly localKeys = true;
  /** @internal Windows held by every scope together. */
  total = 0;
  /** @internal */
  readonly maxKeys: number;
  private readonly scopes = new Map<string, CounterScope>();
  private readonly plain: CounterScope;

  constructor(opts: { maxKeys?: number } = {}) {
    this.maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? DEFAULT_MAX_COUNTER_KEYS));
    this.plain = new CounterScope(this);
  }

  /** The counters of one rule (keys under `prefix`). */
  scope(prefix: string): CounterScope {
    let s = this.scopes.get(prefix);
    if (!s) this.scopes.set(prefix, (s = new CounterScope(this)));
    return s;
  }

  consume(key: string, points: number, windowMs: number): WindowCount {
    return this.plain.consume(key, points, windowMs);
  }

  get(key: string): WindowCount | undefined {
    return this.plain.get(key);
  }

  reset(key: string): void {
    this.plain.reset(key);
  }

  /** Windows held (expired ones may linger until their table's next sweep). */
  get size(): number {
    return this.total;
  }

  async close(): Promise<void> {
    this.plain.clear();
    for (const s of this.scopes.values()) s.clear();
  }

  /** @internal Makes room for one window when the store is full: the table being written first. */
  evictFor(table: CounterScope): void {
    if (table.evictOldest()) return;
    for (const s of [this.plain, ...this.scopes.values()]) if (s.evictOldest()) return;
  }
}

/** One rule's windows in a {@link MemoryCounterStore}. */
export class CounterScope {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(private readonly store: MemoryCounterStore) {}

  consume(key: string, points: number, windowMs: number): WindowCount {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now, windowMs);
    else if (now + windowMs < this.nextSweep) this.nextSweep = now + windowMs;
    let w = this.windows.get(key);
    if (w === undefined || w.expiresAt <= now) {
      if (w !== undefined) {
        this.windows.delete(key);
        this.store.total--;
      } else if (this.store.total >= this.store.maxKeys) this.store.evictFor(this);
      w = { consumed: 0, expiresAt: now + windowMs };
      this.windows.set(key, w);
      this.store.total++;
    }
    w.consumed += points;
    return { consumed: w.consumed, resetMs: w.expiresAt - now };
  }

  get(key: string): WindowCount | undefined {
    const w = this.windows.get(key);
    const now = Date.now();
    if (w === undefined || w.expiresAt <= now) return undefined;
    return { consumed: w.consumed, resetMs: w.expiresAt - now };
  }

  reset(key: string): void {
    if (this.windows.delete(key)) this.store.total--;
  }

  /**
   * Drops the window started longest ago, in O(1). No full sweep here: an attacker keeping the
   * store full would make every new address pay for one.
   */
  evictOldest(): boolean {
    const oldest = this.windows.keys().next();
    if (oldest.done) return false;
    this.windows.delete(oldest.value);
    this.store.total--;
    return true;
  }

  clear(): void {
    this.store.total -= this.windows.size;
    this.windows.clear();
  }

  /** Expired windows go in one sweep per (shortest) window length of the scope. */
  private sweep(now: number, windowMs: number): void {
    for (const [key, w] of this.windows) {
      if (w.expiresAt <= now) {
        this.windows.delete(key);
        this.store.total--;
      }
    }
    this.nextSweep = now + windowMs;
  }
}
