import type { Rate } from '../config/types';

/** Keys (client IPs) tracked at most by default; the oldest windows are forgotten beyond it. */
export const DEFAULT_MAX_KEYS = 100_000;

interface Window {
  start: number;
  used: number;
}

/**
 * Byte budgets for WebSocket `bytes_in_threshold` / `bytes_out_threshold`: `rate.points` bytes per
 * `rate.windowSeconds` per key, in fixed windows that start at a key's first byte. Synchronous, so
 * it can be asked on every chunk. Bounded: at most `maxKeys` keys; beyond that the key whose window
 * started longest ago is dropped (Map order is window-start order: a new window re-inserts its key).
 * A rate of `0/...` is off: `add` always answers true.
 */
export class ByteMeter {
  readonly limit: number;
  readonly windowMs: number;
  /** Keys kept at most (`tracked_clients_max`). */
  readonly maxKeys: number;
  private readonly windows = new Map<string, Window>();

  constructor(rate: Rate, opts: { maxKeys?: number } = {}) {
    this.limit = rate.points;
    this.windowMs = rate.windowSeconds * 1000;
    this.maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? DEFAULT_MAX_KEYS));
  }

  get enabled(): boolean {
    return this.limit > 0 && this.windowMs > 0;
  }

  /** Counts `bytes` for `key`; false when the key is now over its budget in the current window. */
  add(key: string, bytes: number, now = Date.now()): boolean {
    if (!this.enabled) return true;
    const n = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs || now < w.start) {
      if (w) this.windows.delete(key);
      w = { start: now, used: 0 };
      this.windows.set(key, w);
      this.evict();
    }
    w.used += n;
    return w.used <= this.limit;
  }

  /** Bytes counted for `key` in its current window (0 when none). */
  used(key: string, now = Date.now()): number {
    const w = this.windows.get(key);
    return w && now - w.start < this.windowMs && now >= w.start ? w.used : 0;
  }

  delete(key: string): boolean {
    return this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }

  private evict(): void {
    while (this.windows.size > this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (oldest.done) return;
      this.windows.delete(oldest.value);
    }
  }
}
