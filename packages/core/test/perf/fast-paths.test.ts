/**
 * The request path's fast paths (docs/performance.md) must give exactly the answers of the slower
 * code they stand in for: checked against it on generated and edge-case inputs.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseRate } from '../../src/config/units';
import { CounterLimiter, createRateLimiter } from '../../src/flow/rate-limit';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { ClientList, ListBudget } from '../../src/lists/client-list';
import { PresenceFilter, TOP16_UNKNOWN, TOP16_V6, keyHash, keyHashAndTop16, scanned } from '../../src/lists/presence-filter';
import { TrustedProxies, isDottedQuad } from '../../src/request/client-ip';
import { ipv4Prefix } from '../../src/request/ip-address';

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('PresenceFilter', () => {
  test('never says "absent" for a key that was added; few false positives', () => {
    const f = new PresenceFilter(20_000);
    for (let i = 0; i < 20_000; i++) f.add(keyHash(1, '', `tok-${i}`));
    for (let i = 0; i < 20_000; i++) expect(f.mayContain(keyHash(1, '', `tok-${i}`))).toBe(true);
    let fp = 0;
    for (let i = 0; i < 20_000; i++) if (f.mayContain(keyHash(1, '', `other-${i}`))) fp++;
    expect(fp / 20_000).toBeLessThan(0.02);
  });

  test('kind, name and value all count; long values are hashed from a bounded sample', () => {
    expect(keyHash(1, '', 'v')).not.toBe(keyHash(2, '', 'v'));
    expect(keyHash(3, 'a', 'bc')).not.toBe(keyHash(3, 'ab', 'c'));
    const long = 'x'.repeat(5000);
    expect(keyHash(1, '', long)).toBe(keyHash(1, '', long));
    expect(keyHash(1, '', `${long}1`)).not.toBe(keyHash(1, '', `${long}2`));
  });
});

describe('keyHashAndTop16', () => {
  /** The first 16 bits as the network index parses them on its own. */
  function reference(s: string): number {
    const v4 = /^(\d{1,3})\.(\d{1,3})\./.exec(s);
    if (v4 && Number(v4[1]) <= 255 && Number(v4[2]) <= 255) return (Number(v4[1]) << 8) | Number(v4[2]);
    const v6 = /^([0-9a-fA-F]{0,4}):/.exec(s);
    return v6 ? TOP16_V6 + (parseInt(v6[1]!, 16) || 0) : TOP16_UNKNOWN;
  }

  test("gives keyHash's hash, and an address's first 16 bits (or none) from the same pass", () => {
    const cases = ['192.168.1.1', '0.0.0.0', '255.255.255.255', '10.0.0.0/8', '::', '::1', '2001:db8::1', 'fe80::1', 'FFFF::', '12345::1', '1.2', '1.2.', '256.1.1.1', '1.256.1.1', '1a.2.3.4', '::ffff:1.2.3.4', '', 'x'.repeat(200)];
    const r = rng(5);
    const alphabet = '0123456789.:abcdefABCDEFx/';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = Math.floor(r() * 20);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * (r() < 0.7 ? 12 : alphabet.length))];
      cases.push(s);
    }
    for (let i = 0; i < 2000; i++) {
      const g = () => Math.floor(r() * 65536).toString(16);
      cases.push(`${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`, `${g()}:${g()}::${g()}`);
    }
    for (const c of cases) {
      const hash = keyHashAndTop16(0, c);
      const top = scanned.top;
      expect([c, hash]).toEqual([c, keyHash(0, '', c)]);
      // TOP16_UNKNOWN only sends the caller to its own parse; any other answer must be the parse's.
      if (top !== TOP16_UNKNOWN || isIPv4(c) || isIPv6(c)) expect([c, top]).toEqual([c, reference(c)]);
    }
  });
});

describe('ClientList with its filter', () => {
  test('answers like a map through growth, removal and clearing', () => {
    const list = new ClientList('blacklist', new ListBudget(1e9));
    const present = new Set<string>();
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const v = `v${Math.floor(r() * 3000)}`;
      if (r() < 0.7) {
        list.add({ type: 'cookie', name: 'sid', value: v }, 'manual');
        present.add(v);
      } else {
        list.remove({ type: 'cookie', name: 'sid', value: v });
        present.delete(v);
      }
    }
    for (let i = 0; i < 3000; i++) {
      const v = `v${i}`;
      expect(list.has('cookie', v, 'sid')).toBe(present.has(v));
      expect(list.get('cookie', v, 'other')).toBeUndefined();
      expect(list.get('token', v)).toBeUndefined();
    }
    list.clear();
    for (const v of present) expect(list.has('cookie', v, 'sid')).toBe(false);
    list.add({ type: 'cookie', name: 'sid', value: 'again' }, 'manual');
    expect(list.get('cookie', 'again', 'sid')).toEqual({ type: 'cookie', name: 'sid', value: 'again', tag: 'manual' });
  });
});

describe('ClientList with networks', () => {
  test('finds an address exactly when a listed network or the address itself holds it', () => {
    const list = new ClientList('blacklist', new ListBudget(1e9));
    const ref = new BlockList();
    const r = rng(9);
    for (let i = 0; i < 300; i++) {
      const len = 8 + Math.floor(r() * 24);
      const net = ipv4Prefix(`${20 + Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`, len);
      if (list.add({ type: 'ip', value: net }, 'manual')) ref.addSubnet(net.split('/')[0]!, len, 'ipv4');
    }
    for (const net of ['2001:db8::/32', 'fe80::/10', '2001:db8:1::/48']) {
      list.add({ type: 'ip', value: net }, 'manual');
      ref.addSubnet(net.split('/')[0]!, Number(net.split('/')[1]), 'ipv6');
    }
    list.add({ type: 'ip', value: '192.168.7.7' }, 'manual');
    ref.addAddress('192.168.7.7', 'ipv4');
    const addrs = ['192.168.7.7', '192.168.7.8', '2001:db8::1', '2001:db9::1', 'fe80::1', 'febf::1', '::1', '2001:db8:1::7'];
    for (let i = 0; i < 20_000; i++) addrs.push(`${18 + Math.floor(r() * 8)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
    for (const a of addrs) {
      const e = list.get('ip', a);
      expect([a, e !== undefined]).toEqual([a, ref.check(a, a.includes(':') ? 'ipv6' : 'ipv4')]);
      expect([a, list.has('ip', a)]).toEqual([a, e !== undefined]);
    }
  });
});

describe('isDottedQuad', () => {
  test('agrees with net.isIPv4', () => {
    const cases = ['0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', ' 1.2.3.4', '1..2.3', '1.2.3.04', '10.0.0.1', 'a.b.c.d', '1.2.3.-4', '1.2.3.4\n', '', '::1', '100.200.250.199'];
    const r = rng(11);
    const alphabet = '0123456789.:a ';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = 1 + Math.floor(r() * 16);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * (r() < 0.8 ? 11 : alphabet.length))];
      cases.push(s);
    }
    for (const c of cases) expect([c, isDottedQuad(c)]).toEqual([c, isIPv4(c)]);
  });
});

describe('TrustedProxies IPv4 path', () => {
  test.each([
    [['127.0.0.0/8', '::1/128']],
    [['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12']],
    [['::/0']],
    [['::ffff:0:0/96']],
    [['::ffff:10.0.0.0/104']],
    [['::/8', '2001:db8::/32']],
    [['::fffe:0:0/96', '::ffff:0:0/95']],
    [['0.0.0.0/0']],
    [['128.0.0.0/1', '255.255.255.255']],
  ])('agrees with BlockList for %j', (entries) => {
    const t = new TrustedProxies(entries);
    const ref = new BlockList();
    for (const e of entries) {
      const [ip, prefix] = e.split('/');
      const family = ip!.includes(':') ? 'ipv6' : 'ipv4';
      if (prefix === undefined) ref.addAddress(ip!, family);
      else ref.addSubnet(ip!, Number(prefix), family);
    }
    const r = rng(3);
    const octet = () => (r() < 0.3 ? [0, 1, 10, 127, 128, 172, 192, 255][Math.floor(r() * 8)]! : Math.floor(r() * 256));
    for (let i = 0; i < 5000; i++) {
      const ip = `${octet()}.${octet()}.${octet()}.${octet()}`;
      expect([ip, t.hasCanonical(ip)]).toEqual([ip, ref.check(ip, 'ipv4')]);
    }
  });
});

describe('MemoryCounterStore', () => {
  afterEach(() => jest.useRealTimers());

  test('createRateLimiter builds a limiter over it by default, which answers synchronously', () => {
    const l = createRateLimiter(parseRate('2/second')!, 'client:a');
    expect(l).toBeInstanceOf(CounterLimiter);
    expect(l!.consumeSync!('k')).toMatchObject({ ok: true, remaining: 1 });
    expect(l!.consumeSync!('k')).toMatchObject({ ok: true, remaining: 0 });
    expect(l!.consumeSync!('k')).toMatchObject({ ok: false, remaining: 0 });
  });

  test('expired windows are swept, so idle keys do not accumulate', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryCounterStore();
    for (let i = 0; i < 100; i++) store.consume(`ip-${i}`, 1, 1000);
    expect(store.size).toBe(100);
    jest.advanceTimersByTime(1001);
    store.consume('fresh', 1, 1000);
    expect(store.size).toBe(1);
  });

  test('a shorter window sweeps sooner: long windows do not keep short ones alive', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryCounterStore();
    store.consume('hourly', 1, 3_600_000);
    for (let i = 0; i < 100; i++) store.consume(`ip-${i}`, 1, 1000);
    jest.advanceTimersByTime(1001);
    store.consume('hourly', 1, 3_600_000);
    expect(store.size).toBe(1);
  });

  test('limiters of one rule over one store share their windows; other rules count apart; the bound is the store\'s', () => {
    const store = new MemoryCounterStore({ maxKeys: 10 });
    const rate = parseRate('1/minute')!;
    const a = new CounterLimiter(rate, 'client|shop|', store);
    const b = new CounterLimiter(rate, 'client|shop|', store);
    const other = new CounterLimiter(rate, 'client|blog|', store);
    expect(a.consumeSync!('10.0.0.1').ok).toBe(true);
    expect(b.consumeSync!('10.0.0.1').ok).toBe(false);
    expect(other.consumeSync!('10.0.0.1').ok).toBe(true);
    for (let i = 0; i < 20; i++) other.consumeSync!(`ip-${i}`);
    expect(store.size).toBe(10);
  });

  test('many client addresses within one window: at most maxKeys windows, the oldest forgotten', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = new CounterLimiter(parseRate('2/hour')!, 'c|', new MemoryCounterStore({ maxKeys: 1000 }));
    const store = (l as unknown as { store: MemoryCounterStore }).store;
    l.consumeSync!('first');
    l.consumeSync!('first');
    expect(l.consumeSync!('first').ok).toBe(false);
    l.consumeSync!('second');
    for (let i = 0; i < 5000; i++) l.consumeSync!(`ip-${i}`);
    expect(store.size).toBe(1000);
    // The oldest windows went first: 'first' starts over, the newest keys keep their counts.
    expect(l.consumeSync!('first')).toMatchObject({ ok: true, remaining: 1 });
    expect(l.consumeSync!('ip-4999')).toMatchObject({ ok: true, remaining: 0 });
    expect(l.consumeSync!('ip-4999').ok).toBe(false);
  });
});
