import { FailureThrottle, LOOPBACK, throttleKey } from '../src/throttle';

describe('throttleKey: what the throttle counts as one client', () => {
  test.each([
    ['127.0.0.1', LOOPBACK],
    ['127.0.0.2', LOOPBACK],
    ['127.255.255.254', LOOPBACK],
    ['::1', LOOPBACK],
    ['::ffff:127.0.0.1', LOOPBACK],
    ['0:0:0:0:0:0:0:1', LOOPBACK],
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(throttleKey(ip)).toBe(key);
  });
});

describe('FailureThrottle', () => {
  const T0 = 1_000_000;

  test('an attempt is counted when it starts: five started attempts lock the sixth out before any of them ends', () => {
    const t = new FailureThrottle();
    for (let i = 0; i < 5; i++) expect(t.begin('192.0.2.1', T0)).toBe(0);
    expect(t.begin('192.0.2.1', T0)).toBe(60);
    expect(t.retryAfter('192.0.2.1', T0 + 30_500)).toBe(30);
    expect(t.begin('192.0.2.1', T0 + 60_000)).toBe(0);
  });

  test('a success clears the count and the lockout; attempts outside the window are forgotten', () => {
    const t = new FailureThrottle({ maxFailures: 3, windowMs: 1000, lockoutMs: 5000 });
    t.begin('192.0.2.1', T0);
    t.begin('192.0.2.1', T0);
    t.begin('192.0.2.1', T0);
    expect(t.retryAfter('192.0.2.1', T0)).toBe(5);
    t.succeed('192.0.2.1');
    expect(t.retryAfter('192.0.2.1', T0)).toBe(0);
    t.begin('192.0.2.1', T0);
    t.begin('192.0.2.1', T0);
    expect(t.begin('192.0.2.1', T0 + 1500)).toBe(0); // the first two have left the window
    expect(t.retryAfter('192.0.2.1', T0 + 1500)).toBe(0);
  });

  test('a locked-out remote address does not lock out loopback, and the other way round', () => {
    const t = new FailureThrottle();
    for (let i = 0; i < 5; i++) t.begin('192.0.2.1', T0);
    expect(t.retryAfter('192.0.2.1', T0)).toBe(60);
    expect(t.begin('127.0.0.1', T0)).toBe(0);
    t.succeed('127.0.0.1');
    for (let i = 0; i < 5; i++) t.begin(`127.0.0.${i + 2}`, T0);
    expect(t.retryAfter('::1', T0)).toBe(60);
    t.succeed('198.51.100.1');
    expect(t.retryAfter('192.0.2.1', T0)).toBe(60);
  });

  test('addresses rotated inside one IPv6 /64 share one budget', () => {
    const t = new FailureThrottle();
    for (let i = 1; i <= 5; i++) expect(t.begin(`2001:db8:1:2::${i.toString(16)}`, T0)).toBe(0);
    expect(t.begin('2001:db8:1:2:ffff::99', T0)).toBe(60);
    expect(t.begin('2001:db8:1:3::1', T0)).toBe(0);
  });

  test('memory is bounded: an address flood keeps at most maxTracked clients and never washes out the loopback lockout', () => {
    const t = new FailureThrottle({ maxTracked: 100 });
    for (let i = 0; i < 5; i++) t.begin('127.0.0.1', T0);
    for (let i = 0; i < 10_000; i++) t.begin(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0);
    expect(t.size).toBe(100);
    expect(t.retryAfter('127.0.0.1', T0)).toBe(60);
    expect(t.retryAfter('10.0.39.15', T0)).toBe(0); // the last one seen: still counted
    for (let i = 0; i < 4; i++) t.begin('10.0.39.15', T0);
    expect(t.retryAfter('10.0.39.15', T0)).toBe(60);
  });

  test('failed() reports a lockout once', () => {
    const t = new FailureThrottle({ maxFailures: 2 });
    t.begin('192.0.2.1', T0);
    expect(t.failed('192.0.2.1', T0)).toBe(false);
    t.begin('192.0.2.1', T0);
    expect(t.failed('192.0.2.1', T0)).toBe(true);
    expect(t.failed('192.0.2.1', T0)).toBe(false);
  });

  test('options must be positive whole numbers', () => {
    expect(() => new FailureThrottle({ maxTracked: 0 })).toThrow('throttle.maxTracked must be a positive whole number (got 0)');
  });
});
