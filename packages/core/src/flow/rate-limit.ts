import { isStoreUnavailable } from '../errors';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Rate } from '../config/types';
import { MemoryCounterStore } from '../stores/memory-counter-store';
import type { CounterStore, WindowCount } from '../stores/types';
import { isPromise } from '../stores/maybe-async';

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
  /**
   * What `consume(key)` would answer now, without counting: a dry run (`enforcer.explain`) must
   * not use up a client's budget. In-process counters answer at once.
   */
  peek(key: string): LimitResult | Promise<LimitResult>;
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
  /** The key's state without consuming; null when it has no window open (RLF's `get`). */
  get?(key: string): Promise<StoreLimiterRes | null>;
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
 * {@link CounterLimiter} over a {@link MemoryCounterStore}, which answers synchronously; the
 * factory itself (RLF `RateLimiterMemory`) remains for callers that want an RLF store, e.g. as
 * Redis insurance.
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
      return this.storeFailed();
    }
  }

  async peek(key: string): Promise<LimitResult> {
    const windowMs = this.windowSeconds * 1000;
    if (!this.store.get) return { ok: true, remaining: this.limit, resetMs: windowMs };
    try {
      const res = await this.store.get(key);
      const consumed = (res?.consumedPoints ?? 0) + 1;
      const wait = res ? ms(res.msBeforeNext) : windowMs;
      return consumed > this.limit ? { ok: false, remaining: 0, retryAfterMs: wait, resetMs: wait } : { ok: true, remaining: this.limit - consumed, resetMs: wait };
    } catch {
      return this.storeFailed();
    }
  }

  private storeFailed(): LimitResult {
    const windowMs = this.windowSeconds * 1000;
    return this.opts.failClosed
      ? { ok: false, remaining: 0, retryAfterMs: STORE_FAILURE_RETRY_MS, resetMs: STORE_FAILURE_RETRY_MS, degraded: true }
      : { ok: true, remaining: this.limit, resetMs: windowMs, degraded: true };
  }
}

/**
 * A limiter over a {@link CounterStore}: `rate.points` per window, counted under `keyPrefix + key`.
 * Over a {@link MemoryCounterStore} it counts in the rule's own scope and answers synchronously
 * through `consumeSync`, so the request path needs no Promise; so it does over any store whose
 * counts are this process's only (`localKeys`), which answers at once. Otherwise every consume is
 * a Promise, and a store that fails lets the request through (or refuses it with `failClosed`),
 * as with an RLF store.
 */
export class CounterLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowSeconds: number;
  readonly consumeSync?: (key: string, points?: number) => LimitResult;
  private readonly peekLocal?: (key: string) => WindowCount | undefined;
  private readonly windowMs: number;

  constructor(
    rate: Rate,
    private readonly keyPrefix: string,
    private readonly store: CounterStore,
    private readonly opts: RateLimiterOptions = {},
  ) {
    this.limit = rate.points;
    this.windowSeconds = rate.windowSeconds;
    this.windowMs = rate.windowSeconds * 1000;
    if (store instanceof MemoryCounterStore) {
      // The rule's own table: the request's key as it is, no `prefix + key` string per request.
      const scope = store.scope(keyPrefix);
      this.consumeSync = (key, points = 1) => this.result(scope.consume(key, points, this.windowMs));
      this.peekLocal = (key) => scope.get(key);
    } else if (store.localKeys) {
      this.consumeSync = (key, points = 1) => this.settleSync(store.consume(this.keyPrefix + key, points, this.windowMs));
    }
  }

  consume(key: string, points = 1): Promise<LimitResult> {
    if (this.consumeSync) return Promise.resolve(this.consumeSync(key, points));
    try {
      const counted = this.store.consume(this.keyPrefix + key, points, this.windowMs);
      if (!isPromise(counted)) return Promise.resolve(this.result(counted));
      return counted.then(
        (c) => this.result(c),
        (err: unknown) => this.failed(err),
      );
    } catch (err) {
      return Promise.resolve(this.failed(err));
    }
  }

  peek(key: string): LimitResult | Promise<LimitResult> {
    if (this.peekLocal) return this.afterOne(this.peekLocal(key));
    try {
      const c = this.store.get(this.keyPrefix + key);
      if (!isPromise(c)) return this.afterOne(c);
      return c.then(
        (w) => this.afterOne(w),
        (err: unknown) => this.unavailable(err),
      );
    } catch (err) {
      return this.unavailable(err);
    }
  }

  /** The result one more point would give on top of window `c` (undefined: none open). */
  private afterOne(c: WindowCount | undefined): LimitResult {
    return this.result(c ? { consumed: c.consumed + 1, resetMs: c.resetMs } : { consumed: 1, resetMs: this.windowMs });
  }

  private settleSync(counted: WindowCount | Promise<WindowCount>): LimitResult {
    // A store claiming local keys should answer at once; if it does not, count it as a failure.
    if (!isPromise(counted)) return this.result(counted);
    counted.catch(() => undefined);
    return this.failed(new Error('a store with localKeys answered with a Promise'));
  }

  private result(c: WindowCount): LimitResult {
    const left = ms(c.resetMs);
    if (c.consumed > this.limit) return { ok: false, remaining: 0, retryAfterMs: left, resetMs: left };
    return { ok: true, remaining: this.limit - c.consumed, resetMs: left };
  }

  private failed(err: unknown): LimitResult {
    try {
      this.opts.onStoreError?.(err);
    } catch {
      // a listener's failure must not turn into a rejected consume
    }
    return this.unavailable(err);
  }

  /** The answer while the store fails (a peek answers it without telling `onStoreError`). */
  private unavailable(err: unknown): LimitResult {
    // A shared store configured to fail closed says so by refusing as unavailable.
    return this.opts.failClosed || isStoreUnavailable(err)
      ? { ok: false, remaining: 0, retryAfterMs: STORE_FAILURE_RETRY_MS, resetMs: STORE_FAILURE_RETRY_MS, degraded: true }
      : { ok: true, remaining: this.limit, resetMs: this.windowMs, degraded: true };
  }
}

/**
 * A limiter of `rate.points` per `rate.windowSeconds` (fixed window per key), or undefined when the
 * rate is off (`0/...`). Give each rule its own `keyPrefix` (e.g. `client:<api>|`, `spike:<api>|`)
 * so rules never share counters. `store` is a {@link CounterStore} (by default a private
 * {@link MemoryCounterStore}: synchronous, `consumeSync`) or an RLF store factory, used through
 * RLF's API.
 */
export function createRateLimiter(
  rate: Rate,
  keyPrefix: string,
  store: CounterStore | RateLimiterStoreFactory = memoryStore,
  opts: RateLimiterOptions = {},
): RateLimiter | undefined {
  if (!(rate.points > 0) || !(rate.windowSeconds > 0)) return undefined;
  if (store === memoryStore) return new CounterLimiter(rate, keyPrefix, new MemoryCounterStore(), opts);
  if (typeof store !== 'function') return new CounterLimiter(rate, keyPrefix, store, opts);
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
