import { AseError } from '../../src/errors';
import {
  TrustedProxies,
  XFF_MAX_CHARS,
  XFF_MAX_ENTRIES,
  canonicalIp,
  isIpOrCidr,
  resolveClientIp,
} from '../../src/request/client-ip';

describe('canonicalIp', () => {
  it('returns a plain IPv4 address as is', () => {
    expect(canonicalIp('1.2.3.4')).toBe('1.2.3.4');
  });

  it('maps IPv4-mapped IPv6 in dotted form to IPv4', () => {
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(canonicalIp('::FFFF:1.2.3.4')).toBe('1.2.3.4');
    expect(canonicalIp('0:0:0:0:0:ffff:1.2.3.4')).toBe('1.2.3.4');
  });

  it('maps IPv4-mapped IPv6 in hex form to the same IPv4 (GHSA-46wh-pxpv-q5gq)', () => {
    expect(canonicalIp('::ffff:102:304')).toBe('1.2.3.4');
    expect(canonicalIp('::ffff:7f00:1')).toBe('127.0.0.1');
  });

  it('keeps other embedded-IPv4 forms as IPv6', () => {
    expect(canonicalIp('2001:db8::1.2.3.4')).toBe('2001:db8::102:304');
    expect(canonicalIp('::1.2.3.4')).toBe('::102:304');
    expect(canonicalIp('::ffff:0:1.2.3.4')).toBe('::ffff:0:102:304');
  });

  it('writes IPv6 compressed and lower case (RFC 5952)', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('1::')).toBe('1::');
  });

  it('compresses the longest zero run, the first one on a tie, and never a single zero group', () => {
    expect(canonicalIp('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(canonicalIp('1:0:0:2:3:0:0:4')).toBe('1::2:3:0:0:4');
    expect(canonicalIp('1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7');
  });

  it('gives every spelling of one IPv6 address the same form', () => {
    const forms = ['2001:db8::a:1', '2001:DB8:0::A:1', '[2001:db8:0:0:0:0:a:1]', '2001:db8:0:0:0:0:a:1%eth0'];
    expect(new Set(forms.map(canonicalIp))).toEqual(new Set(['2001:db8::a:1']));
  });

  it('strips brackets and a zone', () => {
    expect(canonicalIp('[::1]')).toBe('::1');
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('[fe80::1%25en0]')).toBe('fe80::1');
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['garbage', 'not-an-ip'],
    ['non-hex group', '1g::'],
    ['IPv4 with leading zero', '01.2.3.4'],
    ['IPv4 out of range', '256.1.1.1'],
    ['short IPv4', '1.2.3'],
    ['IPv4 with port', '1.2.3.4:80'],
    ['two "::"', '1::2::3'],
    ['surrounding space', ' 1.2.3.4'],
    ['unpaired bracket', '[::1'],
    ['bracketed IPv4', '[1.2.3.4]'],
    ['very long input', `${'1'.repeat(200)}`],
  ])('gives "" for %s', (_name, v) => {
    expect(canonicalIp(v)).toBe('');
  });
});

describe('TrustedProxies', () => {
  it('trusts listed addresses and addresses inside listed CIDRs, nothing else', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.168.1.5', '2001:db8::/32', '::1']);
    expect(t.has('10.200.1.1')).toBe(true);
    expect(t.has('11.0.0.1')).toBe(false);
    expect(t.has('192.168.1.5')).toBe(true);
    expect(t.has('192.168.1.6')).toBe(false);
    expect(t.has('2001:db8:ffff::1')).toBe(true);
    expect(t.has('2001:db9::1')).toBe(false);
    expect(t.has('::1')).toBe(true);
    expect(t.has('::2')).toBe(false);
  });

  it('compares IPv4-mapped lookups as IPv4', () => {
    const t = new TrustedProxies(['127.0.0.0/8']);
    expect(t.has('::ffff:127.0.0.1')).toBe(true);
    expect(t.has('::ffff:7f00:1')).toBe(true);
    expect(t.has('::ffff:128.0.0.1')).toBe(false);
  });

  it('reads IPv4-mapped entries as IPv4 addresses and networks', () => {
    const t = new TrustedProxies(['::ffff:10.0.0.0/104', '::ffff:192.168.0.1']);
    expect(t.has('10.9.9.9')).toBe(true);
    expect(t.has('11.0.0.1')).toBe(false);
    expect(t.has('192.168.0.1')).toBe(true);
    expect(t.has('192.168.0.2')).toBe(false);
  });

  it('keeps an IPv4-mapped entry with a prefix under 96 as the IPv6 network it spells', () => {
    const t = new TrustedProxies(['::ffff:10.0.0.0/80']); // = ::/80, which holds ::1 and all IPv4-mapped space
    expect(t.has('::1')).toBe(true);
    expect(t.has('8.8.8.8')).toBe(true);
    expect(t.has('1::1')).toBe(false);
  });

  it('treats ::/0 as covering IPv4 too (it contains the IPv4-mapped space)', () => {
    const all6 = new TrustedProxies(['::/0']);
    expect(all6.has('8.8.8.8')).toBe(true);
    const doc = new TrustedProxies(['2001:db8::/32']);
    expect(doc.has('8.8.8.8')).toBe(false);
  });

  it('trusts nothing when empty, and nothing that is not an address', () => {
    const t = new TrustedProxies([]);
    expect(t.has('127.0.0.1')).toBe(false);
    const l = new TrustedProxies(['127.0.0.0/8']);
    expect(l.has('')).toBe(false);
    expect(l.has('localhost')).toBe(false);
  });

  it('skips empty entries and trims whitespace', () => {
    const t = new TrustedProxies([' 10.0.0.1 ', '']);
    expect(t.size).toBe(1);
    expect(t.has('10.0.0.1')).toBe(true);
  });

  it.each(['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/abc', '10.0.0.0/-1', '1.2.3.4.5', '10.0.0.0/8/8'])(
    'refuses the invalid entry %j with a config error naming it',
    (entry) => {
      let err: unknown;
      try {
        new TrustedProxies(['127.0.0.1', entry]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AseError);
      expect((err as AseError).code).toBe('ERR_ASE_CONFIG');
      expect((err as AseError).message).toContain(JSON.stringify(entry));
    },
  );

  it('keeps answering correctly after many distinct lookups (bounded answer cache)', () => {
    const t = new TrustedProxies(['10.0.0.0/8']);
    for (let i = 0; i < 10000; i++) {
      const ip = `${i % 2 === 0 ? 10 : 11}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      if (t.has(ip) !== (i % 2 === 0)) throw new Error(`wrong answer for ${ip}`);
    }
    expect(t.has('10.1.2.3')).toBe(true);
    expect(t.has('11.1.2.3')).toBe(false);
  });

  it('isIpOrCidr agrees with the constructor', () => {
    expect(isIpOrCidr('10.0.0.0/8')).toBe(true);
    expect(isIpOrCidr('::1/128')).toBe(true);
    expect(isIpOrCidr('10.0.0.0/33')).toBe(false);
    expect(isIpOrCidr('example.com')).toBe(false);
  });
});

describe('resolveClientIp with enable_xff off', () => {
  const trusted = new TrustedProxies(['127.0.0.0/8', '::1/128']);

  it('uses the socket address and ignores a spoofed X-Forwarded-For', () => {
    const warn = jest.fn();
    const ip = resolveClientIp('203.0.113.9', '10.10.10.10', { enableXff: false, trusted, onUntrustedXff: warn });
    expect(ip).toBe('203.0.113.9');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('ignores X-Forwarded-For even from a trusted peer', () => {
    expect(resolveClientIp('127.0.0.1', '10.10.10.10', { enableXff: false, trusted })).toBe('127.0.0.1');
  });

  it('does not report when there is no X-Forwarded-For', () => {
    const warn = jest.fn();
    expect(resolveClientIp('203.0.113.9', undefined, { enableXff: false, trusted, onUntrustedXff: warn })).toBe('203.0.113.9');
    expect(warn).not.toHaveBeenCalled();
  });

  it('returns the socket address canonical', () => {
    expect(resolveClientIp('::ffff:203.0.113.9', undefined, { enableXff: false, trusted })).toBe('203.0.113.9');
    expect(resolveClientIp('2001:DB8:0::1', undefined, { enableXff: false, trusted })).toBe('2001:db8::1');
  });

  it('returns "" for a missing socket address', () => {
    expect(resolveClientIp(undefined, undefined, { enableXff: false, trusted })).toBe('');
  });
});

describe('resolveClientIp with enable_xff on', () => {
  const trusted = new TrustedProxies(['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
  const on = { enableXff: true, trusted };

  it('takes the right-most entry when the peer is a trusted proxy', () => {
    expect(resolveClientIp('127.0.0.1', '198.51.100.7', on)).toBe('198.51.100.7');
  });

  it('does not call onUntrustedXff', () => {
    const warn = jest.fn();
    resolveClientIp('127.0.0.1', '198.51.100.7', { ...on, onUntrustedXff: warn });
    resolveClientIp('203.0.113.1', '198.51.100.7', { ...on, onUntrustedXff: warn });
    expect(warn).not.toHaveBeenCalled();
  });

  it('skips trusted hops and returns the first untrusted address from the right', () => {
    // client-forged, real client, proxy 2, proxy 1 (peer is proxy 0)
    expect(resolveClientIp('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2, 10.0.0.1', on)).toBe('198.51.100.7');
  });

  it('cannot be spoofed by entries the client puts on the left', () => {
    expect(resolveClientIp('127.0.0.1', '127.0.0.1, 10.0.0.5, 198.51.100.7', on)).toBe('198.51.100.7');
  });

  it('ignores X-Forwarded-For from an untrusted socket peer', () => {
    expect(resolveClientIp('203.0.113.9', '198.51.100.7', on)).toBe('203.0.113.9');
  });

  it('returns the left-most address when every hop is trusted', () => {
    expect(resolveClientIp('127.0.0.1', '10.0.0.3, 10.0.0.2', on)).toBe('10.0.0.3');
  });

  it('reads several headers, joined by Node or given as an array, as one list', () => {
    expect(resolveClientIp('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.1', on)).toBe('198.51.100.7');
    expect(resolveClientIp('127.0.0.1', ['6.6.6.6', '198.51.100.7, 10.0.0.1'], on)).toBe('198.51.100.7');
    expect(resolveClientIp('127.0.0.1', ['6.6.6.6, 10.0.0.9', '10.0.0.1'], on)).toBe('6.6.6.6');
  });

  it('treats an IPv4-mapped peer and IPv4-mapped hops as IPv4', () => {
    expect(resolveClientIp('::ffff:127.0.0.1', '::ffff:198.51.100.7', on)).toBe('198.51.100.7');
    expect(resolveClientIp('::ffff:7f00:1', '198.51.100.7, ::ffff:10.0.0.1', on)).toBe('198.51.100.7');
  });

  it('returns IPv6 clients canonical', () => {
    expect(resolveClientIp('::1', '2001:DB8:0:0::7', on)).toBe('2001:db8::7');
    expect(resolveClientIp('::1', '[2001:db8::7]', on)).toBe('2001:db8::7');
  });

  it('strips a port from IPv4 and bracketed IPv6 entries', () => {
    expect(resolveClientIp('127.0.0.1', '198.51.100.7:5678', on)).toBe('198.51.100.7');
    expect(resolveClientIp('127.0.0.1', '[2001:db8::7]:443', on)).toBe('2001:db8::7');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7, 10.0.0.1:1234', on)).toBe('198.51.100.7');
  });

  it('stops at an entry with an invalid port and uses the last trusted hop', () => {
    expect(resolveClientIp('127.0.0.1', '198.51.100.7:99999', on)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7:', on)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', '[2001:db8::7]x', on)).toBe('127.0.0.1');
  });

  it('stops at garbage and uses the last trusted hop seen', () => {
    expect(resolveClientIp('127.0.0.1', 'garbage', on)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7, unknown, 10.0.0.2', on)).toBe('10.0.0.2');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7, <script>, 10.0.0.2', on)).toBe('10.0.0.2');
  });

  it('treats empty entries as garbage', () => {
    expect(resolveClientIp('127.0.0.1', '', on)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7,', on)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', ',10.0.0.2', on)).toBe('10.0.0.2');
    expect(resolveClientIp('127.0.0.1', '198.51.100.7, , 10.0.0.2', on)).toBe('10.0.0.2');
  });

  it('tolerates spaces and tabs around entries', () => {
    expect(resolveClientIp('127.0.0.1', ' 198.51.100.7 ,\t10.0.0.1\t', on)).toBe('198.51.100.7');
  });

  it(`examines at most ${XFF_MAX_ENTRIES} entries`, () => {
    const hops = Array.from({ length: XFF_MAX_ENTRIES + 5 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const header = ['198.51.100.7', ...hops].join(', ');
    // The 32 right-most entries are all trusted: the walk ends there, at the left-most one it read.
    expect(resolveClientIp('127.0.0.1', header, on)).toBe(hops[hops.length - XFF_MAX_ENTRIES]);
    const shorter = ['198.51.100.7', ...hops.slice(0, XFF_MAX_ENTRIES - 1)].join(', ');
    expect(resolveClientIp('127.0.0.1', shorter, on)).toBe('198.51.100.7');
  });

  it(`reads only the right-most ${XFF_MAX_CHARS} characters of a long header, so left padding changes nothing`, () => {
    const padding = `${'x'.repeat(XFF_MAX_CHARS * 2)}, `;
    expect(resolveClientIp('127.0.0.1', `${padding}198.51.100.7, 10.0.0.1`, on)).toBe('198.51.100.7');
    expect(resolveClientIp('127.0.0.1', [padding, '198.51.100.7'], on)).toBe('198.51.100.7');
    // One entry longer than the bound is not read at all.
    expect(resolveClientIp('127.0.0.1', `198.51.100.7${' '.repeat(XFF_MAX_CHARS)}`, on)).toBe('127.0.0.1');
  });

  it('drops an entry cut by the length bound instead of reading its tail', () => {
    // The cut falls inside "11.1.1.1": what is left of it, "1.1.1.1", must not be read as an address.
    const right = `, ${' '.repeat(XFF_MAX_CHARS - 7 - 10)}10.0.0.1`;
    const header = `x, 11.1.1.1${right}`;
    expect(header.slice(-XFF_MAX_CHARS).startsWith('1.1.1.1,')).toBe(true);
    expect(header.length).toBeGreaterThan(XFF_MAX_CHARS);
    expect(resolveClientIp('127.0.0.1', header, on)).toBe('10.0.0.1');
  });
});
