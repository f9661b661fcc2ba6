import type { CounterStore, WindowCount } from './types';

interface Window {
  consumed: number;
  expiresAt: number;
}

/** Keys (client IPs, server ids) counted at most; beyond it the window started longest ago is forgotten. */
export const DEFAULT_MAX_COUNTER_KEYS = 100_000;

/**
 * Counters in this process, answered synchronously: RLF `RateLimiterMemory`'s fixed window per key
 * (it starts with the key's first point and lasts the `windowMs` of that call) without its Promise
 * and per-key timer on every request, which keeps a client rate limit cheap on the request path
 * (docs/performance.md). Expired windows are dropped lazily, in one sweep per shortest window
 * length seen. Bounded, because every new client address adds a key: at most `maxKeys` windows;
 * beyond that the window started longest ago is forgotten (that key's count restarts) in O(1) —
 * Map order is window-start order, since a new window re-inserts its key.
 */
export class MemoryCounterStore implements CounterStore {
  readonly localKeys = true;
  private readonly maxKeys: number;
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(opts: { maxKeys?: number } = {}) {
    this.maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? DEFAULT_MAX_COUNTER_KEYS));
  }

  consume(key: string, points: number, windowMs: number): WindowCount {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now, windowMs);
    else if (now + windowMs < this.nextSweep) this.nextSweep = now + windowMs;
    let w = this.windows.get(key);
    if (w === undefined || w.expiresAt <= now) {
      if (w !== undefined) this.windows.delete(key);
      else if (this.windows.size >= this.maxKeys) this.evictOldest();
      w = { consumed: 0, expiresAt: now + windowMs };
      this.windows.set(key, w);
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
    this.windows.delete(key);
  }

  /** Keys with a window open (expired ones may linger until the next sweep). */
  get size(): number {
    return this.windows.size;
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private sweep(now: number, windowMs: number): void {
    for (const [key, w] of this.windows) if (w.expiresAt <= now) this.windows.delete(key);
    this.nextSweep = now + windowMs;
  }

  /**
   * Makes room for one key: the window started longest ago goes. No full sweep here: an attacker
   * keeping the table full would make every new address pay for one.
   */
  private evictOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
