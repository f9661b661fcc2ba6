import { canonicalIp } from '@ase/core';
import type { ThrottleOptions } from './types';

/** Defaults of the failed-login throttle. */
export const THROTTLE_DEFAULTS: Readonly<Required<ThrottleOptions>> = Object.freeze({ maxFailures: 5, windowMs: 60_000, lockoutMs: 60_000, maxTracked: 10_000 });

/** The one budget every loopback address (127.0.0.0/8, ::1) shares. */
export const LOOPBACK = 'loopback';

interface Tracked {
  /** Times (epoch ms) the recent attempts started, oldest first: at most `maxFailures` of them. */
  attempts: number[];
  lockedUntil: number;
  /** The lockout has been reported once (a log line per lockout, not per refused guess). */
  reported: boolean;
}

/** Eight 16-bit groups of a canonical IPv6 address (no embedded dotted quad, no zone). */
function ipv6Groups(ip: string): string[] {
  const dbl = ip.indexOf('::');
  if (dbl < 0) return ip.split(':');
  const left = ip.slice(0, dbl) === '' ? [] : ip.slice(0, dbl).split(':');
  const right = ip.slice(dbl + 2) === '' ? [] : ip.slice(dbl + 2).split(':');
  return [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
}

/**
 * What the throttle counts a client as: every loopback address is one client (`loopback`), so the
 * local CLI has its own budget that no remote address can spend, and a local process cannot buy
 * guesses by rotating through 127.0.0.0/8. IPv6 clients count per /64 (one subscriber's prefix, which
 * it can rotate through freely); IPv4 per address.
 */
export function throttleKey(ip: string): string {
  const c = canonicalIp(ip);
  if (c === '') return ip === '' ? 'unknown' : ip;
  if (c.includes(':')) {
    if (c === '::1') return LOOPBACK;
    return `${ipv6Groups(c).slice(0, 4).join(':')}::/64`;
  }
  return c.startsWith('127.') ? LOOPBACK : c;
}

/**
 * Counts credential attempts per client (see {@link throttleKey}). An attempt is counted when it
 * STARTS, before the slow salted-hash comparison, as a failure until it succeeds: so guesses sent in
 * parallel spend the budget exactly like guesses sent one after the other. The attempt that reaches
 * `maxFailures` within `windowMs` locks the client out for `lockoutMs`; from then on every call gets
 * 429 without the key being compared. A successful login clears the client's count and lockout.
 *
 * Memory is bounded: at most `maxTracked` remote clients are remembered (the least recently active is
 * forgotten first), each with at most `maxFailures` times; the loopback budget is kept apart and
 * never forgotten, so a flood of remote addresses cannot wash it out.
 */
export class FailureThrottle {
  private readonly opts: Required<ThrottleOptions>;
  private readonly tracked = new Map<string, Tracked>();
  private readonly loopback: Tracked = { attempts: [], lockedUntil: 0, reported: false };

  constructor(options: ThrottleOptions = {}) {
    this.opts = { ...THROTTLE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    for (const [k, v] of Object.entries(this.opts)) {
      if (!Number.isInteger(v) || v < 1) throw new TypeError(`throttle.${k} must be a positive whole number (got ${String(v)})`);
    }
  }

  /** Remote clients remembered now (the loopback budget is not among them). */
  get size(): number {
    return this.tracked.size;
  }

  /** Seconds until the client may try again, or 0 when it is not locked out. */
  retryAfter(ip: string, now = Date.now()): number {
    const key = throttleKey(ip);
    return this.wait(key === LOOPBACK ? this.loopback : this.tracked.get(key), now);
  }

  /**
   * Reserves one attempt before the credentials are compared. Returns 0 when the attempt may go
   * ahead (it is now counted), or the seconds to wait when the client is locked out.
   */
  begin(ip: string, now = Date.now()): number {
    const key = throttleKey(ip);
    let t: Tracked | undefined;
    if (key === LOOPBACK) t = this.loopback;
    else {
      t = this.tracked.get(key);
      if (t) this.tracked.delete(key); // re-inserted below: most recently active last
      else t = { attempts: [], lockedUntil: 0, reported: false };
    }
    const wait = this.wait(t, now);
    if (wait === 0) {
      t.attempts = t.attempts.filter((at) => at > now - this.opts.windowMs);
      t.attempts.push(now);
      if (t.attempts.length >= this.opts.maxFailures) {
        t.lockedUntil = now + this.opts.lockoutMs;
        t.attempts = [];
        t.reported = false;
      }
    }
    if (key !== LOOPBACK) this.remember(key, t);
    return wait;
  }

  /** The attempt failed. True the first time this finds the client locked out (to log it once). */
  failed(ip: string, now = Date.now()): boolean {
    const key = throttleKey(ip);
    const t = key === LOOPBACK ? this.loopback : this.tracked.get(key);
    if (!t || t.lockedUntil <= now || t.reported) return false;
    t.reported = true;
    return true;
  }

  /** The attempt succeeded: the client's count and lockout are cleared. */
  succeed(ip: string): void {
    const key = throttleKey(ip);
    if (key !== LOOPBACK) this.tracked.delete(key);
    else Object.assign(this.loopback, { attempts: [], lockedUntil: 0, reported: false });
  }

  private wait(t: Tracked | undefined, now: number): number {
    if (!t || t.lockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((t.lockedUntil - now) / 1000));
  }

  private remember(key: string, t: Tracked): void {
    this.tracked.set(key, t);
    while (this.tracked.size > this.opts.maxTracked) {
      const oldest = this.tracked.keys().next().value;
      if (oldest === undefined) break;
      this.tracked.delete(oldest);
    }
  }
}
