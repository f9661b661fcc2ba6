import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Rate } from '../config/types';

/**
 * The one place that knows rate-limiter-flexible (RLF). Everything else in the project sees only
 * {@link RateLimiter} and {@link LimitResult}; no RLF type crosses this file's exports.
 *
 * RLF reports "limited" and "the store failed" through the same promise rejection: a
 * `RateLimiterRes` means the key is over its points, an `Error` means the store (Redis, ...) could
 * not answer. {@link classifyRejection} is the only function that tells them apart (modelled on
 * RLF's own `RateLimiterInsuredAbstract._handleError`).
 */

/** The outcome of one `consume`. Times are milliseconds from now. */
export type LimitResult =
  | {
      ok: true;
      remaining: number;
      /** Until the current window ends and the points are back. */
      resetMs: number;
      /** Set when the store failed and the request was let through (fail open). */
      degraded?: true;
    }
  | {
      ok: false;
      remaining: 0;
      /** When a new attempt may succeed (the end of the window for a fixed window). */
      retryAfterMs: number;
      resetMs: number;
      /** Set when the store failed and the request was refused (`failClosed`). */
      degraded?: true;
    };

export interface RateLimiter {
  /** Takes `points` (default 1) from `key`'s budget in the current window. Never rejects. */
  consume(key: string, points?: number): Promise<LimitResult>;
  /**
   * The same, answered at once: present only when the counters are in this process (the default
   * store), so the request path needs no Promise for them. Stores over the network lack it.
   */
  consumeSync?(key: string, points?: number): LimitResult;
  /** Points per window (the `N` of `N/second`). */
  readonly limit: number;
  /** Window length in seconds (1, 60 or 3600). */
  readonly windowSeconds: number;
}

/**
 * What a store limiter must offer: the part of RLF's `RateLimiterAbstract` we use. Resolves with
 * the key's state when allowed; rejects with a `RateLimiterRes`-shaped object when limited, or an
 * `Error` when the store failed.
 */
export interface StoreLimiter {
  consume(key: string, points?: number): Promise<StoreLimiterRes>;
}

/** RLF's `RateLimiterRes`, structurally. */
export interface StoreLimiterRes {
  readonly remainingPoints: number;
  readonly msBeforeNext: number;
  readonly consumedPoints: number;
}

/** RLF's constructor options that we decide; a store factory adds its own (client, insurance...). */
export interface StoreLimiterOptions {
  points: number;
  /** Seconds. */
  duration: number;
  keyPrefix: string;
}

/**
 * Builds the limiter for one rule. The default keeps counters in this process
 * ({@link memoryStore}). A cluster package supplies a Redis factory instead, e.g.
 *
 * ```ts
 * const redisStore: RateLimiterStoreFactory = (o) =>
 *   new RateLimiterRedis({ ...o, storeClient: redis, rejectIfRedisNotReady: true,
 *     insuranceLimiter: new RateLimiterMemory(o) });
 * ```
 *
 * With an `insuranceLimiter` RLF itself falls back to memory when Redis fails, so the `Error` path
 * below (fail open / `failClosed`) is only reached when there is no insurance or it failed too.
 */
export type RateLimiterStoreFactory = (opts: StoreLimiterOptions) => StoreLimiter;

/**
 * Counters in process memory. {@link createRateLimiter} with this factory (the default) builds a
 * {@link MemoryWindowLimiter}, which answers synchronously; the factory itself (RLF
 * `RateLimiterMemory`) remains for callers that want an RLF store, e.g. as Redis insurance.
 */
export const memoryStore: RateLimiterStoreFactory = (opts) => new RateLimiterMemory(opts);

export interface RateLimiterOptions {
  /** Refuse requests while the store is failing (default: let them through). */
  failClosed?: boolean;
  /** Told about every store failure (rate-limit any logging yourself). */
  onStoreError?: (err: unknown) => void;
}

/** Retry-After given when the store failed and `failClosed` refused the request. */
const STORE_FAILURE_RETRY_MS = 1000;

type Rejection = { kind: 'limited'; res: StoreLimiterRes } | { kind: 'store_error'; error: unknown };

/**
 * The single translation of RLF's overloaded rejection: a `RateLimiterRes` (or an object of its
 * shape, e.g. from another copy of RLF, that is not an Error) means limited; anything else is a
 * store failure.
 */
export function classifyRejection(err: unknown): Rejection {
  if (err instanceof RateLimiterRes) return { kind: 'limited', res: err };
  if (
    typeof err === 'object' &&
    err !== null &&
    !(err instanceof Error) &&
    typeof (err as StoreLimiterRes).msBeforeNext === 'number' &&
    typeof (err as StoreLimiterRes).remainingPoints === 'number'
  ) {
    return { kind: 'limited', res: err as StoreLimiterRes };
  }
  return { kind: 'store_error', error: err };
}

/** `msBeforeNext` is -1 for keys without expiry and may be fractional; keep it a sane integer. */
function ms(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0;
}

class FlexibleLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowSeconds: number;

  constructor(
    rate: Rate,
    private readonly store: StoreLimiter,
    private readonly opts: RateLimiterOptions,
  ) {
    this.limit = rate.points;
    this.windowSeconds = rate.windowSeconds;
  }

  async consume(key: string, points = 1): Promise<LimitResult> {
    try {
      const res = await this.store.consume(key, points);
      return { ok: true, remaining: Math.max(0, res.remainingPoints), resetMs: ms(res.msBeforeNext) };
    } catch (err) {
      const r = classifyRejection(err);
      if (r.kind === 'limited') {
        const wait = ms(r.res.msBeforeNext);
        return { ok: false, remaining: 0, retryAfterMs: wait, resetMs: wait };
      }
      try {
        this.opts.onStoreError?.(r.error);
      } catch {
        // a listener's failure must not turn into a rejected consume
      }
      const windowMs = this.windowSeconds * 1000;
      return this.opts.failClosed
        ? { ok: false, remaining: 0, retryAfterMs: STORE_FAILURE_RETRY_MS, resetMs: STORE_FAILURE_RETRY_MS, degraded: true }
        : { ok: true, remaining: this.limit, resetMs: windowMs, degraded: true };
    }
  }
}

interface Window {
  consumed: number;
  expiresAt: number;
}

/** Keys (client IPs) counted at most by one in-process limiter; beyond it the oldest window is forgotten. */
export const DEFAULT_MAX_WINDOWS = 100_000;

/**
 * The in-process store, synchronous: RLF `RateLimiterMemory`'s fixed window per key (it starts with
 * the key's first request and lasts `windowSeconds`; points consumed past the limit are refused
 * until it ends), without its Promise and per-key timer on every request. Expired windows are
 * dropped lazily, in one sweep per window length. This is what keeps a client rate limit cheap on
 * the request path (docs/performance.md). Bounded, because every new client address adds a key: at
 * most `maxKeys` windows; beyond that the window started longest ago is forgotten (that client's
 * count restarts), as in `ByteMeter` — Map order is window-start order, a new window
 * re-inserts its key.
 */
export class MemoryWindowLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowSeconds: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(rate: Rate, opts: { maxKeys?: number } = {}) {
    this.limit = rate.points;
    this.windowSeconds = rate.windowSeconds;
    this.windowMs = rate.windowSeconds * 1000;
    this.maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? DEFAULT_MAX_WINDOWS));
  }

  consumeSync(key: string, points = 1): LimitResult {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now);
    let w = this.windows.get(key);
    if (w === undefined || w.expiresAt <= now) {
      if (w !== undefined) this.windows.delete(key);
      else if (this.windows.size >= this.maxKeys) this.evictOldest();
      w = { consumed: 0, expiresAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.consumed += points;
    const left = w.expiresAt - now;
    if (w.consumed > this.limit) return { ok: false, remaining: 0, retryAfterMs: left, resetMs: left };
    return { ok: true, remaining: this.limit - w.consumed, resetMs: left };
  }

  consume(key: string, points = 1): Promise<LimitResult> {
    return Promise.resolve(this.consumeSync(key, points));
  }

  /** Keys with a window open (expired ones may linger until the next sweep). */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.expiresAt <= now) this.windows.delete(key);
    this.nextSweep = now + this.windowMs;
  }

  /**
   * Makes room for one key in O(1): the window started longest ago goes (expired windows, if any,
   * are the first ones). No full sweep here: an attacker keeping the table full would make every
   * new address pay for one.
   */
  private evictOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}

/**
 * A limiter of `rate.points` per `rate.windowSeconds` (fixed window per key), or undefined when the
 * rate is off (`0/...`). Give each rule its own `keyPrefix` (e.g. `client:<api>`, `spike:<api>`) so
 * rules never share counters in a shared store. With the default store the limiter is a
 * {@link MemoryWindowLimiter} (synchronous, `consumeSync`); any other store goes through RLF's API.
 */
export function createRateLimiter(
  rate: Rate,
  keyPrefix: string,
  store: RateLimiterStoreFactory = memoryStore,
  opts: RateLimiterOptions = {},
): RateLimiter | undefined {
  if (!(rate.points > 0) || !(rate.windowSeconds > 0)) return undefined;
  if (store === memoryStore) return new MemoryWindowLimiter(rate);
  return new FlexibleLimiter(rate, store({ points: rate.points, duration: rate.windowSeconds, keyPrefix }), opts);
}

/**
 * Response headers for one result (names lower case, like every `ResponseSpec` header), after
 * draft-ietf-httpapi-ratelimit-headers:
 *
 * ```
 * RateLimit-Policy: 10;w=60                      (limit; window in seconds)
 * RateLimit: limit=10, remaining=3, reset=42     (reset: seconds until the window ends, rounded up)
 * Retry-After: 42                                (only when limited; whole seconds, rounded up, >= 1)
 * ```
 */
export function rateLimitHeaders(result: LimitResult, limiter: Pick<RateLimiter, 'limit' | 'windowSeconds'>): Record<string, string> {
  const reset = Math.ceil(ms(result.resetMs) / 1000);
  const headers: Record<string, string> = {
    'ratelimit-policy': `${limiter.limit};w=${limiter.windowSeconds}`,
    ratelimit: `limit=${limiter.limit}, remaining=${Math.max(0, Math.floor(result.remaining))}, reset=${reset}`,
  };
  if (!result.ok) headers['retry-after'] = String(retryAfterSeconds(result.retryAfterMs));
  return headers;
}

/** `Retry-After` seconds for a wait in ms: rounded up, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(ms(waitMs) / 1000));
}
