import { ClientList, ListBudget, entryCost } from '../../src/lists/client-list';
import { canonicalEntry, entryKey } from '../../src/lists/entries';

describe('canonicalEntry', () => {
  test('canonicalises IPs, including IPv4-mapped IPv6', () => {
    expect(canonicalEntry({ type: 'ip', value: '::ffff:10.0.0.1' })).toEqual({ type: 'ip', value: '10.0.0.1' });
    expect(canonicalEntry({ type: 'ip', value: '2001:DB8:0:0::1' })).toEqual({ type: 'ip', value: '2001:db8::1' });
  });

  test('lower-cases api_key names (header names are case-insensitive) but keeps cookie names', () => {
    expect(canonicalEntry({ type: 'api_key', name: 'X-API-Key', value: 'V' })).toEqual({ type: 'api_key', name: 'x-api-key', value: 'V' });
    expect(canonicalEntry({ type: 'cookie', name: 'JSESSIONID', value: 'v' })).toEqual({ type: 'cookie', name: 'JSESSIONID', value: 'v' });
  });

  test.each([
    [{ type: 'email', value: 'x' }, /type must be one of/],
    [{ type: 'ip', value: 'not-an-ip' }, /IPv4 or IPv6/],
    [{ type: 'token', value: '' }, /non-empty/],
    [{ type: 'cookie', value: 'v' }, /need a non-empty name/],
    [{ type: 'token', value: 'a\u0000b' }, /without control characters/],
    [null, /must be an object/],
  ])('refuses %j with a message naming the problem', (input, msg) => {
    expect(() => canonicalEntry(input)).toThrow(msg);
    try {
      canonicalEntry(input);
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_ASE_LIST_ENTRY', status: 400 });
    }
  });

  test('keys of different types or names never collide', () => {
    expect(entryKey('token', 'a')).not.toBe(entryKey('username', 'a'));
    expect(entryKey('cookie', 'b', 'a')).not.toBe(entryKey('cookie', 'a\u0000b'));
    expect(entryKey('token', 'v')).not.toBe(entryKey('cookie', 'v', 'token'));
  });
});

describe('ClientList', () => {
  test('add, has, remove, list by tag, clear by tag', () => {
    const l = new ClientList('blacklist', new ListBudget(1e6));
    expect(l.add({ type: 'ip', value: '1.1.1.1' }, 'manual')).toBe(true);
    expect(l.add({ type: 'ip', value: '1.1.1.1' }, 'decoy')).toBe(false);
    l.add({ type: 'token', value: 't' }, 'decoy');
    expect(l.has('ip', '1.1.1.1')).toBe(true);
    expect(l.hasType('username')).toBe(false);
    expect(l.list('decoy').map((e) => e.value)).toEqual(['t']);
    expect(l.clear((t) => t === 'decoy')).toBe(1);
    expect(l.remove({ type: 'ip', value: '1.1.1.1' })).toBe(true);
    expect(l.size).toBe(0);
    expect(l.hasType('ip')).toBe(false);
  });

  test('deny and allow lists share one memory budget, returned on removal', () => {
    const budget = new ListBudget(10_000);
    const deny = new ClientList('blacklist', budget);
    const allow = new ClientList('whitelist', budget);
    deny.add({ type: 'ip', value: '1.1.1.1' }, 'manual');
    allow.add({ type: 'ip', value: '2.2.2.2' }, 'manual');
    expect(budget.used).toBe(entryCost({ type: 'ip', value: '1.1.1.1' }) * 2);
    deny.clear();
    allow.clear();
    expect(budget.used).toBe(0);
  });

  test('when a share is full, automatic entries evict the oldest of their own share; manual entries are refused', () => {
    const cost = entryCost({ type: 'ip', value: '10.0.0.1' });
    // 100 bytes per percent: the manual share holds one IP entry, the decoy share two.
    const manual = (cost + 10) / 100;
    const decoy = (2 * cost + 10) / 100;
    const budget = new ListBudget(100 * 100, { manual, decoy, automatic: 100 - manual - decoy });
    const deny = new ClientList('blacklist', budget);
    deny.add({ type: 'ip', value: '10.0.0.1' }, 'manual');
    deny.add({ type: 'ip', value: '10.0.0.2' }, 'decoy');
    deny.add({ type: 'ip', value: '10.0.0.3' }, 'decoy');
    deny.add({ type: 'ip', value: '10.0.0.4' }, 'decoy');
    expect(deny.list().map((e) => e.value)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    expect(() => deny.add({ type: 'ip', value: '10.0.0.5' }, 'manual')).toThrow(/manual share of attack_list_memory is full/);
    expect(deny.size).toBe(3);
  });
});
