import { ClientList, ListBudget, entryCost } from '../../src/lists/client-list';

const deny = (): ClientList => new ClientList('blacklist', new ListBudget(1e7));

describe('IPv4 networks', () => {
  test('a network covers its addresses, the longest listed prefix answers, and removal stops it', () => {
    const l = deny();
    l.add({ type: 'ip', value: '203.0.0.0/16' }, 'manual');
    l.add({ type: 'ip', value: '203.0.113.0/24' }, 'decoy');
    expect(l.get('ip', '203.0.113.77')).toEqual({ type: 'ip', value: '203.0.113.0/24', tag: 'decoy' });
    expect(l.get('ip', '203.0.7.1')).toEqual({ type: 'ip', value: '203.0.0.0/16', tag: 'manual' });
    expect(l.has('ip', '203.1.0.1')).toBe(false);
    expect(l.has('ip', '2001:db8::1')).toBe(false);
    expect(l.remove({ type: 'ip', value: '203.0.113.0/24' })).toBe(true);
    expect(l.get('ip', '203.0.113.77')?.value).toBe('203.0.0.0/16');
    l.remove({ type: 'ip', value: '203.0.0.0/16' });
    expect(l.has('ip', '203.0.113.77')).toBe(false);
    expect(l.memoryUsed).toBe(0);
  });

  test('/1 covers half the address space, and a network is listed under its own value', () => {
    const l = deny();
    l.add({ type: 'ip', value: '128.0.0.0/1' }, 'manual');
    expect(l.has('ip', '255.255.255.255')).toBe(true);
    expect(l.has('ip', '127.255.255.255')).toBe(false);
    expect(l.list().map((e) => e.value)).toEqual(['128.0.0.0/1']);
  });

  test('networks shorter than 16 bits cover every first-16-bit value under them, in both families, until removed', () => {
    const l = deny();
    l.add({ type: 'ip', value: '10.0.0.0/8' }, 'manual');
    l.add({ type: 'ip', value: '2000::/4' }, 'manual');
    expect([l.has('ip', '10.255.3.4'), l.has('ip', '10.0.0.1'), l.has('ip', '11.0.0.1'), l.has('ip', '9.255.255.255')]).toEqual([true, true, false, false]);
    expect([l.has('ip', '2001:db8::1'), l.has('ip', '2fff::1'), l.has('ip', '3000::1'), l.has('ip', '::1')]).toEqual([true, true, false, false]);
    l.remove({ type: 'ip', value: '10.0.0.0/8' });
    l.remove({ type: 'ip', value: '2000::/4' });
    l.add({ type: 'ip', value: '10.9.0.0/16' }, 'manual');
    expect([l.has('ip', '10.255.3.4'), l.has('ip', '10.9.3.4'), l.has('ip', '2001:db8::1')]).toEqual([false, true, false]);
  });

  test('a network costs more than one address in the budget', () => {
    const l = deny();
    l.add({ type: 'ip', value: '10.0.0.0/8' }, 'manual');
    expect(l.memoryUsed).toBeGreaterThan(entryCost({ type: 'ip', value: '10.0.0.0/8' }));
  });
});

describe('expiry', () => {
  afterEach(() => jest.useRealTimers());

  test('an expired entry stops matching at once, before any sweep, and the sweep removes it and its memory', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = deny();
    l.add({ type: 'token', value: 'tok' }, 'invalid_method', { meta: { expiresAt: 1_000_000 + 60_000 } });
    l.add({ type: 'ip', value: '198.51.100.0/24' }, 'manual', { meta: { expiresAt: 1_000_000 + 60_000 } });
    l.add({ type: 'ip', value: '2001:db8::/32' }, 'manual', { meta: { expiresAt: 1_000_000 + 60_000 } });
    l.add({ type: 'ip', value: '192.0.2.1' }, 'manual');
    expect(l.has('token', 'tok')).toBe(true); // and in the recent-hit cache now
    expect(l.has('ip', '198.51.100.9')).toBe(true);
    expect(l.has('ip', '2001:db8:5::1')).toBe(true);
    expect(l.nextExpiry).toBe(1_060_000);
    jest.setSystemTime(1_060_000);
    expect(l.has('token', 'tok')).toBe(false);
    expect(l.has('ip', '198.51.100.9')).toBe(false);
    expect(l.has('ip', '2001:db8:5::1')).toBe(false);
    expect(l.list().map((e) => e.value)).toEqual(['192.0.2.1']);
    expect(l.size).toBe(4);
    const gone = l.takeExpired();
    expect(gone.map((e) => e.value).sort()).toEqual(['198.51.100.0/24', '2001:db8::/32', 'tok']);
    expect(gone[0]!.expiresAt).toBe(1_060_000);
    expect(l.size).toBe(1);
    expect(l.memoryUsed).toBe(entryCost({ type: 'ip', value: '192.0.2.1' }));
    expect(l.nextExpiry).toBe(0);
  });

  test('an entry whose expiry has already passed is not added (a file or a store read late)', () => {
    const l = deny();
    expect(l.add({ type: 'ip', value: '192.0.2.1' }, 'manual', { meta: { expiresAt: Date.now() - 1 } })).toBe(false);
    expect(l.size).toBe(0);
  });
});

describe('history', () => {
  test('an entry records when and how it was added, its hits and its last hit; a network counts its own', () => {
    const l = deny();
    l.add({ type: 'ip', value: '203.0.113.0/24' }, 'decoy', { meta: { addedAt: 5000, via: 'detection', api: 'shop', requestId: 'r-1' } });
    const e = l.get('ip', '203.0.113.8')!;
    l.hit(e, 7000);
    l.hit(e, 9000);
    expect(l.list(undefined, true)).toEqual([{ type: 'ip', value: '203.0.113.0/24', tag: 'decoy', addedAt: 5000, via: 'detection', api: 'shop', requestId: 'r-1', hits: 2, lastHit: 9000 }]);
    expect(l.list()).toEqual([{ type: 'ip', value: '203.0.113.0/24', tag: 'decoy' }]);
  });

  test('hits are handed out once for a shared store; its total plus hits not yet sent is the count', () => {
    const l = deny();
    l.add({ type: 'token', value: 'a' }, 'manual');
    l.hit({ type: 'token', value: 'a' }, 10);
    l.hit({ type: 'token', value: 'a' }, 11);
    const batch = l.takeHits();
    expect(batch.map((b) => [b.entry.value, b.hits, b.lastHit])).toEqual([['a', 2, 11]]);
    expect(l.takeHits()).toEqual([]);
    l.hit({ type: 'token', value: 'a' }, 12); // while the batch is on its way
    l.setHits({ type: 'token', value: 'a' }, 40, 20); // other nodes counted too
    expect(l.entry({ type: 'token', value: 'a' })).toMatchObject({ hits: 41, lastHit: 20 });
  });
});

describe('history of long values', () => {
  test('a digested entry counts the hits of the requests it matched', () => {
    const l = deny();
    const long = 'x'.repeat(2000);
    l.add({ type: 'token', value: long }, 'manual');
    const e = l.get('token', long)!;
    expect(e.value).toMatch(/^sha256:/);
    l.hit(e, 3);
    expect(l.list(undefined, true)[0]).toMatchObject({ hits: 1, lastHit: 3 });
  });
});
