import { createHash } from 'node:crypto';
import { ClientList, DEFAULT_LIST_SHARES, ListBudget, entryCost } from '../../src/lists/client-list';
import { canonicalEntry } from '../../src/lists/entries';
import { RotationTracker } from '../../src/lists/rotation-tracker';
import { ipv6Prefix } from '../../src/request/client-ip';

/** An IPv4 entry costs 128–142 bytes (7–15 characters, and its record). */
const ipCost = 148;

/** A budget whose shares hold `manual`, `decoy` and `automatic` IPv4 entries. */
function budgetFor(manual: number, decoy: number, automatic: number): ListBudget {
  const bytes = (manual + decoy + automatic) * ipCost;
  const pct = (n: number) => (n * 100) / (manual + decoy + automatic);
  return new ListBudget(bytes, { manual: pct(manual), decoy: pct(decoy), automatic: pct(automatic) });
}

describe('attack_list_memory shares', () => {
  test('the default shares are 50% manual, 20% decoy, 30% automatic', () => {
    const b = new ListBudget(1000);
    expect(DEFAULT_LIST_SHARES).toEqual({ manual: 50, decoy: 20, automatic: 30 });
    expect([b.shareLimit('manual'), b.shareLimit('decoy'), b.shareLimit('automatic')]).toEqual([500, 200, 300]);
  });

  test('a flood of violation entries with throwaway tokens evicts neither manual nor decoy entries', () => {
    const deny = new ClientList('blacklist', budgetFor(10, 10, 10));
    deny.add({ type: 'ip', value: '192.0.2.1' }, 'manual');
    deny.add({ type: 'token', value: 'operator-listed' }, 'abs_generated');
    deny.add({ type: 'ip', value: '192.0.2.66' }, 'decoy');
    for (let i = 0; i < 10_000; i++) deny.add({ type: 'token', value: `throwaway-${i}` }, 'invalid_method');
    expect(deny.has('ip', '192.0.2.1')).toBe(true);
    expect(deny.has('token', 'operator-listed')).toBe(true);
    expect(deny.has('ip', '192.0.2.66')).toBe(true);
    expect(deny.has('token', 'throwaway-9999')).toBe(true);
    expect(deny.has('token', 'throwaway-0')).toBe(false);
  });

  test('automatic entries evict throwaway identifiers before IPs', () => {
    const deny = new ClientList('blacklist', budgetFor(1, 1, 8));
    deny.add({ type: 'ip', value: '198.51.100.7' }, 'invalid_method'); // oldest, but an address
    for (let i = 0; i < 500; i++) deny.add({ type: 'token', value: `t${i}` }, 'invalid_method');
    expect(deny.has('ip', '198.51.100.7')).toBe(true);
    expect(deny.has('token', 't499')).toBe(true);
  });

  test('the allow list counts against the manual share', () => {
    const budget = budgetFor(2, 1, 1);
    const deny = new ClientList('blacklist', budget);
    const allow = new ClientList('whitelist', budget);
    allow.add({ type: 'ip', value: '10.0.0.1' }, 'manual');
    allow.add({ type: 'ip', value: '10.0.0.2' }, 'manual');
    expect(() => deny.add({ type: 'ip', value: '10.0.0.3' }, 'manual')).toThrow(expect.objectContaining({ code: 'ERR_ASE_LIST_FULL', status: 507 }));
    deny.add({ type: 'ip', value: '10.0.0.4' }, 'decoy'); // other shares still take entries
    expect(deny.has('ip', '10.0.0.4')).toBe(true);
  });

  test('a manual add is refused only when the manual share itself is full', () => {
    const budget = budgetFor(3, 1, 1);
    const deny = new ClientList('blacklist', budget);
    for (let i = 0; i < 100; i++) deny.add({ type: 'ip', value: `10.9.0.${i}` }, 'missing_token');
    for (let i = 0; i < 100; i++) deny.add({ type: 'ip', value: `10.8.0.${i}` }, 'decoy');
    deny.add({ type: 'ip', value: '10.0.0.1' }, 'manual');
    deny.add({ type: 'ip', value: '10.0.0.2' }, 'manual');
    deny.add({ type: 'ip', value: '10.0.0.3' }, 'manual');
    let err: unknown;
    try {
      deny.add({ type: 'ip', value: '10.0.0.4' }, 'manual');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_ASE_LIST_FULL', status: 507 });
    expect((err as Error).message).toMatch(/blacklist: the manual share of attack_list_memory is full \(\d+ of \d+ bytes\)/);
    expect(deny.remove({ type: 'ip', value: '10.0.0.1' })).toBe(true);
    expect(deny.add({ type: 'ip', value: '10.0.0.4' }, 'manual')).toBe(true);
  });
});

describe('long values are kept by digest', () => {
  const long = 'x'.repeat(64 * 1024);
  const hex = createHash('sha256').update(long).digest('hex');

  test('a 64 KB token costs the same budget as a 64-character one, and is found by its value', () => {
    const budget = new ListBudget(1e6);
    const deny = new ClientList('blacklist', budget);
    deny.add({ type: 'token', value: long }, 'invalid_method');
    const longCost = budget.used;
    deny.clear();
    deny.add({ type: 'token', value: 'y'.repeat(64) }, 'invalid_method');
    expect(longCost).toBe(budget.used);
    deny.add({ type: 'token', value: long }, 'invalid_method');
    expect(deny.has('token', long)).toBe(true);
    expect(deny.has('token', `${long}z`)).toBe(false);
    expect(deny.get('token', long)).toEqual({ type: 'token', value: `sha256:${hex}`, tag: 'invalid_method' });
  });

  test('a digested entry lists as sha256:<hex>, reads back through canonicalEntry, and can be removed that way', () => {
    const deny = new ClientList('blacklist', new ListBudget(1e6));
    deny.add({ type: 'cookie', name: 'sid', value: long }, 'invalid_method');
    const [shown] = deny.list();
    expect(shown).toEqual({ type: 'cookie', name: 'sid', value: `sha256:${hex}`, tag: 'invalid_method' });
    const again = new ClientList('blacklist', new ListBudget(1e6));
    again.add(canonicalEntry(shown), shown!.tag);
    expect(again.has('cookie', long, 'sid')).toBe(true);
    expect(again.remove(canonicalEntry({ type: 'cookie', name: 'sid', value: `sha256:${hex.toUpperCase()}` }))).toBe(true);
    expect(again.size).toBe(0);
  });

  test('a short value that looks like a digest is itself digested, so it never names another entry', () => {
    const deny = new ClientList('blacklist', new ListBudget(1e6));
    deny.add({ type: 'token', value: long }, 'invalid_method');
    expect(deny.has('token', `sha256:${hex}`)).toBe(false);
    deny.add({ type: 'token', value: `sha256:${'0'.repeat(64)}` }, 'invalid_method');
    expect(deny.has('token', `sha256:${'0'.repeat(64)}`)).toBe(true);
    const reloaded = new ClientList('blacklist', new ListBudget(1e6));
    for (const e of deny.list()) reloaded.add(canonicalEntry(e), e.tag);
    expect(reloaded.has('token', `sha256:${'0'.repeat(64)}`)).toBe(true);
    expect(reloaded.has('token', long)).toBe(true);
  });
});

describe('IPv6 networks', () => {
  test('ipv6Prefix clears host bits; IPv4 has no prefix form', () => {
    expect(ipv6Prefix('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64)).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix('2001:db8:1:2::1', 48)).toBe('2001:db8:1::/48');
    expect(ipv6Prefix('2001:db8:1:2::1', 63)).toBe('2001:db8:1:2::/63');
    expect(ipv6Prefix('2001:db8:1:3::1', 63)).toBe('2001:db8:1:2::/63');
    expect(ipv6Prefix('10.0.0.1', 64)).toBe('');
  });

  test('canonicalEntry accepts IPv4 and IPv6 networks with host bits cleared, and refuses bad prefixes', () => {
    expect(canonicalEntry({ type: 'ip', value: '2001:DB8:1:2::5/64' })).toEqual({ type: 'ip', value: '2001:db8:1:2::/64' });
    expect(canonicalEntry({ type: 'ip', value: '2001:db8::5/128' })).toEqual({ type: 'ip', value: '2001:db8::5' });
    expect(canonicalEntry({ type: 'ip', value: '10.1.2.3/8' })).toEqual({ type: 'ip', value: '10.0.0.0/8' });
    expect(canonicalEntry({ type: 'ip', value: ' 203.0.113.9/24 ' })).toEqual({ type: 'ip', value: '203.0.113.0/24' });
    expect(canonicalEntry({ type: 'ip', value: '203.0.113.9/32' })).toEqual({ type: 'ip', value: '203.0.113.9' });
    expect(() => canonicalEntry({ type: 'ip', value: '10.0.0.0/33' })).toThrow(/IPv4 address with a prefix from \/1 to \/32/);
    expect(() => canonicalEntry({ type: 'ip', value: '10.0.0.0/0' })).toThrow(/network entry/);
    expect(() => canonicalEntry({ type: 'ip', value: '::ffff:10.0.0.1/120' })).toThrow(/network entry/);
    expect(() => canonicalEntry({ type: 'ip', value: '2001:db8::/0' })).toThrow(/IPv6 address with a prefix/);
    expect(() => canonicalEntry({ type: 'ip', value: '2001:db8::/129' })).toThrow(/IPv6 address with a prefix/);
    expect(() => canonicalEntry({ type: 'ip', value: '10.0.0/8' })).toThrow(/network entry/);
  });

  test('a network entry covers the addresses in it; an exact entry only itself', () => {
    const deny = new ClientList('blacklist', new ListBudget(1e6));
    deny.add({ type: 'ip', value: '2001:db8:1:2::/64' }, 'decoy');
    deny.add({ type: 'ip', value: '2001:db8:9::1' }, 'manual');
    expect(deny.get('ip', '2001:db8:1:2::77')).toEqual({ type: 'ip', value: '2001:db8:1:2::/64', tag: 'decoy' });
    expect(deny.has('ip', '2001:db8:1:2:ffff::1')).toBe(true);
    expect(deny.has('ip', '2001:db8:1:3::1')).toBe(false);
    expect(deny.has('ip', '2001:db8:9::2')).toBe(false);
    expect(deny.remove({ type: 'ip', value: '2001:db8:1:2::/64' })).toBe(true);
    expect(deny.has('ip', '2001:db8:1:2::77')).toBe(false);
  });
});

describe('RotationTracker', () => {
  test('three distinct identifiers within the window mark the address; repeats of one do not', () => {
    let now = 0;
    const t = new RotationTracker(3, 600_000, 100, () => now);
    expect(t.note('10.0.0.1', 1)).toBe(false);
    expect(t.note('10.0.0.1', 1)).toBe(false);
    expect(t.note('10.0.0.1', 2)).toBe(false);
    expect(t.note('10.0.0.2', 3)).toBe(false);
    now = 1000;
    expect(t.note('10.0.0.1', 3)).toBe(true);
  });

  test('identifiers older than the window no longer count', () => {
    let now = 0;
    const t = new RotationTracker(3, 600_000, 100, () => now);
    t.note('a', 1);
    t.note('a', 2);
    now = 600_000;
    expect(t.note('a', 3)).toBe(false);
    expect(t.note('a', 4)).toBe(false);
    expect(t.note('a', 5)).toBe(true);
  });

  test('the table is bounded: the least recently seen address goes first', () => {
    const t = new RotationTracker(3, 600_000, 10);
    for (let i = 0; i < 1000; i++) t.note(`10.0.${i >> 8}.${i & 255}`, i);
    expect(t.size).toBe(10);
  });

  test('threshold 0 turns it off', () => {
    const t = new RotationTracker(0, 600_000);
    for (let i = 0; i < 10; i++) expect(t.note('a', i)).toBe(false);
    expect(t.size).toBe(0);
  });
});
