import { RateLimiterRes } from 'rate-limiter-flexible';
import { parseRate } from '../../src/config/units';
import {
  type LimitResult,
  type RateLimiterStoreFactory,
  classifyRejection,
  createRateLimiter,
  rateLimitHeaders,
  retryAfterSeconds,
} from '../../src/flow/rate-limit';

const rate = (s: string) => {
  const r = parseRate(s);
  if (!r) throw new Error(`bad rate ${s}`);
  return r;
};

describe('createRateLimiter', () => {
  afterEach(() => jest.useRealTimers());

  test('a 0/... rate is off', () => {
    expect(createRateLimiter(rate('0/second'), 'x')).toBeUndefined();
    expect(createRateLimiter(rate('0/hour'), 'x')).toBeUndefined();
  });

  test('N requests pass, N+1 is limited with a retry within the window', async () => {
    const l = createRateLimiter(rate('3/minute'), 'client:a')!;
    expect(l.limit).toBe(3);
    expect(l.windowSeconds).toBe(60);
    const results: LimitResult[] = [];
    for (let i = 0; i < 4; i++) results.push(await l.consume('1.2.3.4'));
    expect(results.slice(0, 3).map((r) => r.ok && r.remaining)).toEqual([2, 1, 0]);
    const last = results[3]!;
    expect(last.ok).toBe(false);
    if (last.ok) return;
    expect(last.remaining).toBe(0);
    expect(last.retryAfterMs).toBeGreaterThan(59_000);
    expect(last.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(last.degraded).toBeUndefined();
    // another key has its own budget
    expect((await l.consume('5.6.7.8')).ok).toBe(true);
  });

  test('points can be consumed in bulk', async () => {
    const l = createRateLimiter(rate('10/second'), 'bulk')!;
    expect(await l.consume('k', 7)).toMatchObject({ ok: true, remaining: 3 });
    expect((await l.consume('k', 4)).ok).toBe(false);
  });

  test('the budget comes back when the window ends', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = createRateLimiter(rate('1/second'), 'w')!;
    expect((await l.consume('k')).ok).toBe(true);
    expect((await l.consume('k')).ok).toBe(false);
    jest.advanceTimersByTime(1001);
    expect((await l.consume('k')).ok).toBe(true);
  });

  test('store failure fails open by default and reports the error', async () => {
    const errors: unknown[] = [];
    const failing: RateLimiterStoreFactory = () => ({ consume: () => Promise.reject(new Error('redis down')) });
    const l = createRateLimiter(rate('5/second'), 'p', failing, { onStoreError: (e) => errors.push(e) })!;
    const r = await l.consume('k');
    expect(r).toEqual({ ok: true, remaining: 5, resetMs: 1000, degraded: true });
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('redis down');
  });

  test('store failure with failClosed refuses', async () => {
    const failing: RateLimiterStoreFactory = () => ({ consume: () => Promise.reject(new Error('redis down')) });
    const l = createRateLimiter(rate('5/second'), 'p', failing, {
      failClosed: true,
      onStoreError: () => {
        throw new Error('listener bug');
      },
    })!;
    const r = await l.consume('k');
    expect(r).toEqual({ ok: false, remaining: 0, retryAfterMs: 1000, resetMs: 1000, degraded: true });
  });

  test('a store rejecting with a RateLimiterRes-shaped object means limited, not failure', async () => {
    const errors: unknown[] = [];
    const store: RateLimiterStoreFactory = () => ({
      consume: () => Promise.reject({ remainingPoints: 0, msBeforeNext: 2500.4, consumedPoints: 6 }),
    });
    const l = createRateLimiter(rate('5/second'), 'p', store, { onStoreError: (e) => errors.push(e) })!;
    expect(await l.consume('k')).toEqual({ ok: false, remaining: 0, retryAfterMs: 2501, resetMs: 2501 });
    expect(errors).toHaveLength(0);
  });

  test('the factory receives points, duration and key prefix', () => {
    const seen: unknown[] = [];
    createRateLimiter(rate('7/hour'), 'spike:api1', (o) => {
      seen.push(o);
      return { consume: () => Promise.reject(new Error('unused')) };
    });
    expect(seen).toEqual([{ points: 7, duration: 3600, keyPrefix: 'spike:api1' }]);
  });
});

describe('classifyRejection', () => {
  test('RateLimiterRes is limited; Errors and anything else are store failures', () => {
    expect(classifyRejection(new RateLimiterRes(0, 100, 4, false)).kind).toBe('limited');
    expect(classifyRejection(new Error('x')).kind).toBe('store_error');
    expect(classifyRejection('boom').kind).toBe('store_error');
    expect(classifyRejection(undefined).kind).toBe('store_error');
    const errWithFields = Object.assign(new Error('x'), { msBeforeNext: 1, remainingPoints: 0 });
    expect(classifyRejection(errWithFields).kind).toBe('store_error');
  });
});

describe('rateLimitHeaders', () => {
  const limiter = { limit: 10, windowSeconds: 60 };

  test('allowed: policy and state, no Retry-After', () => {
    expect(rateLimitHeaders({ ok: true, remaining: 3, resetMs: 41_200 }, limiter)).toEqual({
      'ratelimit-policy': '10;w=60',
      ratelimit: 'limit=10, remaining=3, reset=42',
    });
  });

  test('limited: Retry-After in whole seconds, rounded up', () => {
    expect(rateLimitHeaders({ ok: false, remaining: 0, retryAfterMs: 1500, resetMs: 1500 }, limiter)).toEqual({
      'ratelimit-policy': '10;w=60',
      ratelimit: 'limit=10, remaining=0, reset=2',
      'retry-after': '2',
    });
  });

  test('Retry-After is at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(-5)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(rateLimitHeaders({ ok: false, remaining: 0, retryAfterMs: 0, resetMs: 0 }, limiter)['retry-after']).toBe('1');
  });
});
