import type { ThrottleOptions } from './types';

/** Defaults of the failed-login throttle. */
export const THROTTLE_DEFAULTS: Readonly<Required<ThrottleOptions>> = Object.freeze({ maxFailures: 5, windowMs: 60_000, lockoutMs: 60_000 });

/** Addresses tracked at most; the oldest is forgotten first, so an address flood cannot grow memory. */
const MAX_TRACKED = 10_000;

interface Tracked {
  /** Times (epoch ms) of the recent failures, oldest first. */
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts wrong credentials per client address. After `maxFailures` within `windowMs`, the address
 * is locked out for `lockoutMs`: every call from it gets 429 without the key being checked, so
 * guessing stops there. A successful login clears the address's count.
 */
export class FailureThrottle {
  private readonly opts: Required<ThrottleOptions>;
  private readonly tracked = new Map<string, Tracked>();

  constructor(options: ThrottleOptions = {}) {
    this.opts = { ...THROTTLE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    for (const [k, v] of Object.entries(this.opts)) {
      if (!Number.isInteger(v) || v < 1) throw new TypeError(`throttle.${k} must be a positive whole number (got ${String(v)})`);
    }
  }

  /** Seconds until the address may try again, or 0 when it is not locked out. */
  retryAfter(ip: string, now = Date.now()): number {
    const t = this.tracked.get(ip);
    if (!t || t.lockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((t.lockedUntil - now) / 1000));
  }

  /** Records a failure; returns true when the address is now locked out. */
  fail(ip: string, now = Date.now()): boolean {
    let t = this.tracked.get(ip);
    if (t) this.tracked.delete(ip); // re-insert: most recently active last
    else t = { failures: [], lockedUntil: 0 };
    t.failures = t.failures.filter((at) => at > now - this.opts.windowMs);
    t.failures.push(now);
    let locked = false;
    if (t.failures.length >= this.opts.maxFailures) {
      t.lockedUntil = now + this.opts.lockoutMs;
      t.failures = [];
      locked = true;
    }
    this.tracked.set(ip, t);
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.keys().next().value;
      if (oldest !== undefined) this.tracked.delete(oldest);
    }
    return locked;
  }

  succeed(ip: string): void {
    this.tracked.delete(ip);
  }
}
