import {
  MAX_SET_COOKIE_HEADERS,
  MAX_STICKY_VALUE_LENGTH,
  StickyTable,
  cookieFromSetCookie,
  readSetCookie,
  stickyEntryBytes,
} from '../../src/upstream/sticky-sessions';

describe('StickyTable', () => {
  test('entry size estimate is 96 + 2 x value length + id length', () => {
    expect(stickyEntryBytes('abcd', '10.0.0.1:80')).toBe(96 + 8 + 11);
    const t = new StickyTable({ maxBytes: 1e6, idleMs: 0 });
    t.set('abcd', '10.0.0.1:80', 0);
    t.set('xy', 's:1', 0);
    expect(t.bytes).toBe(stickyEntryBytes('abcd', '10.0.0.1:80') + stickyEntryBytes('xy', 's:1'));
    t.set('abcd', 's:1', 0); // replacing keeps the accounting right
    expect(t.bytes).toBe(stickyEntryBytes('abcd', 's:1') + stickyEntryBytes('xy', 's:1'));
    expect(t.delete('abcd')).toBe(true);
    expect(t.delete('abcd')).toBe(false);
    expect(t.bytes).toBe(stickyEntryBytes('xy', 's:1'));
  });

  test('over the byte budget the least recently used entries are evicted', () => {
    const one = stickyEntryBytes('c1', 's1');
    const t = new StickyTable({ maxBytes: one * 3, idleMs: 0 });
    t.set('c1', 's1', 1);
    t.set('c2', 's1', 2);
    t.set('c3', 's1', 3);
    expect(t.get('c1', 4)).toBe('s1'); // c1 is now the most recently used
    t.set('c4', 's1', 5);
    expect(t.size).toBe(3);
    expect(t.get('c2', 6)).toBeUndefined();
    expect(t.get('c1', 6)).toBe('s1');
    expect(t.get('c3', 6)).toBe('s1');
    expect(t.get('c4', 6)).toBe('s1');
    expect(t.bytes).toBeLessThanOrEqual(one * 3);
  });

  test('an entry larger than the whole budget is not kept', () => {
    const t = new StickyTable({ maxBytes: 100, idleMs: 0 });
    t.set('a'.repeat(10), 's', 0);
    expect(t.size).toBe(0);
    expect(t.bytes).toBe(0);
  });

  test('idle entries expire; use refreshes them', () => {
    const t = new StickyTable({ maxBytes: 1e6, idleMs: 1000 });
    t.set('c', 's1', 0);
    expect(t.get('c', 900)).toBe('s1');
    expect(t.get('c', 1800)).toBe('s1'); // 900 ms after the last use
    expect(t.get('c', 2801)).toBeUndefined(); // 1001 ms idle
    expect(t.size).toBe(0);
  });

  test('expired entries are pruned from the LRU end as the table is used, and by sweep()', () => {
    const t = new StickyTable({ maxBytes: 1e6, idleMs: 100 });
    for (let i = 0; i < 5; i++) t.set(`old${i}`, 's', i);
    t.set('new', 's', 500);
    expect(t.size).toBe(1);
    for (let i = 0; i < 40; i++) t.set(`x${i}`, 's', 1000);
    expect(t.sweep(1200)).toBe(40);
    expect(t.size).toBe(0);
    expect(t.bytes).toBe(0);
  });

  test('idleMs 0 means no idle expiry', () => {
    const t = new StickyTable({ maxBytes: 1e6, idleMs: 0 });
    t.set('c', 's', 0);
    expect(t.get('c', 1e12)).toBe('s');
  });

  test('dropServer forgets every pin to that server', () => {
    const t = new StickyTable({ maxBytes: 1e6, idleMs: 0 });
    t.set('a', 's1');
    t.set('b', 's2');
    t.set('c', 's1');
    expect(t.dropServer('s1')).toBe(2);
    expect(t.size).toBe(1);
    expect(t.get('b')).toBe('s2');
    expect(t.bytes).toBe(stickyEntryBytes('b', 's2'));
  });

  test('empty and overlong cookie values are not tracked', () => {
    const t = new StickyTable({ maxBytes: 1e9, idleMs: 0 });
    t.set('', 's');
    t.set('v'.repeat(MAX_STICKY_VALUE_LENGTH + 1), 's');
    expect(t.size).toBe(0);
    t.set('v'.repeat(MAX_STICKY_VALUE_LENGTH), 's');
    expect(t.size).toBe(1);
  });
});

describe('cookieFromSetCookie', () => {
  const NOW = Date.parse('2025-06-01T00:00:00Z');

  test('finds the named cookie among several headers, ignoring attributes', () => {
    const h = ['lang=en; Path=/', 'JSESSIONID=abc123; Path=/; HttpOnly; Secure; SameSite=Lax', 'other=1'];
    expect(cookieFromSetCookie(h, 'JSESSIONID', NOW)).toBe('abc123');
    expect(cookieFromSetCookie('JSESSIONID=xyz', 'JSESSIONID', NOW)).toBe('xyz');
    expect(cookieFromSetCookie(h, 'missing', NOW)).toBeUndefined();
    expect(cookieFromSetCookie(undefined, 'JSESSIONID', NOW)).toBeUndefined();
  });

  test('names are case-sensitive and exact', () => {
    expect(cookieFromSetCookie('jsessionid=abc', 'JSESSIONID', NOW)).toBeUndefined();
    expect(cookieFromSetCookie('JSESSIONIDX=abc', 'JSESSIONID', NOW)).toBeUndefined();
    expect(cookieFromSetCookie(' JSESSIONID = abc ; Path=/', 'JSESSIONID', NOW)).toBe('abc');
  });

  test('quoted values are unquoted like parseCookies does; = inside a value is kept', () => {
    expect(cookieFromSetCookie('sid="a b"; Path=/', 'sid', NOW)).toBe('a b');
    expect(cookieFromSetCookie('sid=YWJj==; Path=/', 'sid', NOW)).toBe('YWJj==');
  });

  test('deletions return undefined', () => {
    expect(cookieFromSetCookie('sid=gone; Max-Age=0', 'sid', NOW)).toBeUndefined();
    expect(cookieFromSetCookie('sid=gone; max-age=-1', 'sid', NOW)).toBeUndefined();
    expect(cookieFromSetCookie('sid=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'sid', NOW)).toBeUndefined();
    expect(cookieFromSetCookie('sid=; Path=/', 'sid', NOW)).toBeUndefined();
    expect(readSetCookie('sid=gone; Max-Age=0', 'sid', NOW)).toEqual({ kind: 'delete' });
  });

  test('a future Expires or a positive Max-Age is a set; Max-Age wins over Expires', () => {
    expect(cookieFromSetCookie('sid=v; Expires=Wed, 01 Jan 2031 00:00:00 GMT', 'sid', NOW)).toBe('v');
    expect(cookieFromSetCookie('sid=v; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'sid', NOW)).toBe('v');
    expect(cookieFromSetCookie('sid=v; Expires=garbage', 'sid', NOW)).toBe('v');
  });

  test('the last header naming the cookie wins', () => {
    expect(cookieFromSetCookie(['sid=a', 'sid=b'], 'sid', NOW)).toBe('b');
    expect(cookieFromSetCookie(['sid=a', 'sid=x; Max-Age=0'], 'sid', NOW)).toBeUndefined();
    expect(readSetCookie(['sid=a', 'other=1'], 'sid', NOW)).toEqual({ kind: 'set', value: 'a' });
  });

  test('input is bounded', () => {
    const many = Array.from({ length: MAX_SET_COOKIE_HEADERS }, (_, i) => `c${i}=1`);
    expect(cookieFromSetCookie([...many, 'sid=late'], 'sid', NOW)).toBeUndefined();
    const long = `sid=${'v'.repeat(20_000)}`;
    const v = cookieFromSetCookie(long, 'sid', NOW);
    expect(v!.length).toBeLessThan(8192);
    expect(cookieFromSetCookie('no-equals-sign', 'sid', NOW)).toBeUndefined();
  });
});
