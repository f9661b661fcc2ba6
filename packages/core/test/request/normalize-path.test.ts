import { normalizeTarget, toMatchPath } from '../../src/request/normalize-path';

function ok(raw: string): { path: string; matchPath: string; query: string } {
  const r = normalizeTarget(raw);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(raw)} to normalise, got: ${r.reason}`);
  return { path: r.path, matchPath: r.matchPath, query: r.query };
}

function rejected(raw: string): string {
  const r = normalizeTarget(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got path ${JSON.stringify(r.path)}`);
  return r.reason;
}

describe('normalizeTarget: clean origin-form targets', () => {
  it('keeps an already-normal path and splits off the query including "?"', () => {
    expect(ok('/shop/items?id=1')).toEqual({ path: '/shop/items', matchPath: '/shop/items', query: '?id=1' });
  });

  it('gives an empty query when there is none', () => {
    expect(ok('/shop/items')).toEqual({ path: '/shop/items', matchPath: '/shop/items', query: '' });
  });

  it('keeps the query byte for byte, from the first "?" (later "?" and escapes untouched)', () => {
    expect(ok('/a?x=%2F..%zz&y=?z+1').query).toBe('?x=%2F..%zz&y=?z+1');
  });

  it('keeps a bare "?" as the query', () => {
    expect(ok('/a?')).toEqual({ path: '/a', matchPath: '/a', query: '?' });
  });

  it('normalises the root path to itself', () => {
    expect(ok('/')).toEqual({ path: '/', matchPath: '/', query: '' });
  });

  it('does not treat a leading-dot segment name as a dot segment', () => {
    expect(ok('/.well-known/x').path).toBe('/.well-known/x');
    expect(ok('/a/...').path).toBe('/a/...');
    expect(ok('/a/.b/..c').path).toBe('/a/.b/..c');
  });
});

describe('normalizeTarget: fragment', () => {
  it('drops a #fragment after the path (Envoy CVE-2021-32779)', () => {
    expect(ok('/app1/admin#foo')).toEqual({ path: '/app1/admin', matchPath: '/app1/admin', query: '' });
  });

  it('drops a #fragment after the query', () => {
    expect(ok('/a?x=1#frag').query).toBe('?x=1');
  });

  it('treats a "?" inside the fragment as part of the fragment', () => {
    expect(ok('/a#f?x=1')).toEqual({ path: '/a', matchPath: '/a', query: '' });
  });
});

describe('normalizeTarget: absolute-form', () => {
  it('keeps only path and query of an http:// target (host ignored)', () => {
    expect(ok('http://evil.example/admin?x=1')).toEqual({ path: '/admin', matchPath: '/admin', query: '?x=1' });
  });

  it('accepts https:// and any scheme case', () => {
    expect(ok('HTTPS://Evil.Example:8443/Shop/')).toEqual({ path: '/Shop/', matchPath: '/shop', query: '' });
  });

  it('normalises the path of an absolute-form target too', () => {
    expect(ok('http://h/a/../admin').path).toBe('/admin');
    expect(rejected('http://h/%2e%2e/etc')).toMatch(/root/);
  });

  it('gives "/" when the absolute-form target has no path', () => {
    expect(ok('http://h')).toEqual({ path: '/', matchPath: '/', query: '' });
    expect(ok('http://h?q=1')).toEqual({ path: '/', matchPath: '/', query: '?q=1' });
    expect(ok('http://h#f')).toEqual({ path: '/', matchPath: '/', query: '' });
    expect(ok('http://h#/admin?x=1')).toEqual({ path: '/', matchPath: '/', query: '' });
  });

  it('does not let userinfo or a "/" look-alike in the authority leak into the path', () => {
    expect(ok('http://user@evil.example/ok').path).toBe('/ok');
  });
});

describe('normalizeTarget: targets that are not a path', () => {
  it.each([
    ['asterisk-form', '*'],
    ['empty', ''],
    ['authority-form', 'example.com:443'],
    ['relative path', 'admin'],
    ['other scheme', 'ftp://h/a'],
    ['scheme without //', 'http:/a'],
    ['bare scheme', 'http'],
  ])('refuses %s (%j)', (_name, raw) => {
    expect(rejected(raw)).toBeTruthy();
  });
});

describe('normalizeTarget: slashes', () => {
  it('collapses a leading double slash (not read as an authority)', () => {
    expect(ok('//a')).toEqual({ path: '/a', matchPath: '/a', query: '' });
  });

  it('collapses repeated slashes inside the path (rou3 CVE-2025-71399)', () => {
    expect(ok('/shop//admin').path).toBe('/shop/admin');
    expect(ok('/shop///admin//x').path).toBe('/shop/admin/x');
  });

  it('keeps one trailing slash in the path and drops it in matchPath', () => {
    expect(ok('/shop/admin/')).toEqual({ path: '/shop/admin/', matchPath: '/shop/admin', query: '' });
    expect(ok('/shop/admin//').path).toBe('/shop/admin/');
  });

  it('collapses "//" alone to the root', () => {
    expect(ok('//').path).toBe('/');
  });

  it('refuses an encoded slash in either case (Envoy CVE-2021-29492)', () => {
    expect(rejected('/something%2F..%2Fadmin')).toMatch(/slash/);
    expect(rejected('/a%2fb')).toMatch(/slash/);
    expect(rejected('/admin%2F')).toMatch(/slash/);
  });

  it('refuses a raw backslash', () => {
    expect(rejected('/a\\..\\admin')).toMatch(/backslash/);
    expect(rejected('/a\\b')).toMatch(/backslash/);
  });

  it('refuses an encoded backslash in either case', () => {
    expect(rejected('/a%5c..%5cadmin')).toMatch(/backslash/);
    expect(rejected('/a%5Cb')).toMatch(/backslash/);
  });
});

describe('normalizeTarget: dot segments', () => {
  it('resolves ".." (Envoy CVE-2019-9901)', () => {
    expect(ok('/a/../b').path).toBe('/b');
    expect(ok('/info/../private').path).toBe('/private');
  });

  it('resolves "."', () => {
    expect(ok('/a/./b/.').path).toBe('/a/b/');
  });

  it('ends with a slash when the last segment is a dot segment (RFC 3986 5.2.4)', () => {
    expect(ok('/a/b/..').path).toBe('/a/');
    expect(ok('/a/b/..').matchPath).toBe('/a');
    expect(ok('/a/..').path).toBe('/');
  });

  it('decodes %2e before resolving, in any case mix (Traefik GHSA-vrch-868g-9jx5)', () => {
    expect(ok('/shop/%2e%2e/admin').path).toBe('/admin');
    expect(ok('/shop/x/%2E%2e/').path).toBe('/shop/');
    expect(ok('/shop/x/.%2e/admin').path).toBe('/shop/admin');
    expect(ok('/shop/x/%2E./admin').path).toBe('/shop/admin');
    expect(ok('/shop/%2e/admin').path).toBe('/shop/admin');
  });

  it('treats ".." followed by ;params as a dot segment (Envoy CVE-2026-73551)', () => {
    expect(ok('/a/..;x=1/b').path).toBe('/b');
    expect(ok('/user/..;foo=bar/admin').path).toBe('/admin');
    expect(ok('/a/..;x/b').path).toBe('/b');
    expect(ok('/a/.;x/b').path).toBe('/a/b');
    expect(ok('/a/%2e%2e;x/b').path).toBe('/b');
  });

  it('refuses a path that climbs above the root', () => {
    expect(rejected('/..')).toMatch(/root/);
    expect(rejected('/../')).toMatch(/root/);
    expect(rejected('/a/../../b')).toMatch(/root/);
    expect(rejected('/%2e%2e/etc')).toMatch(/root/);
    expect(rejected('/..;x/etc')).toMatch(/root/);
    expect(rejected('/./../etc')).toMatch(/root/);
  });
});

describe('normalizeTarget: dot segments across empty segments', () => {
  // Found by the generated requests (test/fuzz): RFC 3986 and WHATWG resolution keep empty segments,
  // so `/members//..` is `/members/` to them and `/` once slashes are merged.
  it.each(['/members//..', '/./shop//..', '/a//b/../..', '/a//./..', '/a/.//..'])('refuses %s: the `..` removes an empty segment', (raw) => {
    expect(rejected(raw)).toMatch(/empty segment/);
  });

  it('still merges slashes around dot segments that remove real segments', () => {
    expect(ok('//shop//x/../admin').path).toBe('/shop/admin');
    expect(ok('/a//b/..').path).toBe('/a/');
    expect(ok('/a//b/./c').path).toBe('/a/b/c');
  });
});

describe('normalizeTarget: the literal spelling of a target with dot segments', () => {
  it('is given, in matching form with the dot segments kept, only when there were dot segments', () => {
    expect(normalizeTarget('/Members/../x')).toMatchObject({ ok: true, matchPath: '/x', literalMatchPath: '/members/../x' });
    expect(normalizeTarget('/app/secret/%2e%2E;x/y')).toMatchObject({ ok: true, matchPath: '/app/y', literalMatchPath: '/app/secret/../y' });
    expect(normalizeTarget('/a/./b')).toMatchObject({ ok: true, matchPath: '/a/b', literalMatchPath: '/a/./b' });
    expect(normalizeTarget('/a//b')).not.toHaveProperty('literalMatchPath');
    expect(normalizeTarget('/a/%61')).not.toHaveProperty('literalMatchPath');
  });
});

describe('normalizeTarget: percent-escapes', () => {
  it('decodes escapes of unreserved characters', () => {
    expect(ok('/%61dmin').path).toBe('/admin');
    expect(ok('/%41%5A%7E%2D%5F%30').path).toBe('/AZ~-_0');
  });

  it('upper-cases the hex of escapes it keeps', () => {
    expect(ok('/caf%c3%a9').path).toBe('/caf%C3%A9');
    expect(ok('/a%3fb%23c%25').path).toBe('/a%3Fb%23c%25');
  });

  it('keeps already upper-case escapes as they are', () => {
    expect(ok('/caf%C3%A9?x').path).toBe('/caf%C3%A9');
  });

  it('keeps an escaped percent that a second decoding leaves alone', () => {
    expect(ok('/100%25').path).toBe('/100%25');
    expect(ok('/a%25zz/b%25').path).toBe('/a%25zz/b%25');
  });

  // Found by the generated requests (test/fuzz): a receiver that decodes twice read these as `..`, `/app`, `shop`.
  it.each(['/a/%252e%252e/b', '/a/%252E%252e/b', '/ap%2570', '/sh%25256fp', '/a/%25%32%65%25%32%65/b', '/a/%252f/b'])('refuses %s: a second decoding would change it', (raw) => {
    expect(rejected(raw)).toMatch(/double-encoded/);
  });

  it.each(['/a/%c0%ae%c0%ae/b', '/a/%C1%9C', '/a/%e0%80%ae', '/a/%F0%80%80%AE', '/a%c0%af'])('refuses overlong UTF-8 %s (a lax decoder reads `.`, `/` or `\\`)', (raw) => {
    expect(rejected(raw)).toMatch(/overlong/);
  });

  it('keeps valid UTF-8 that starts like an overlong form', () => {
    expect(ok('/caf%c3%a9/%e0%a4%a4/%f0%9f%98%80').path).toBe('/caf%C3%A9/%E0%A4%A4/%F0%9F%98%80');
    expect(ok('/a%e0').path).toBe('/a%E0');
  });

  it.each(['/shop%3b/shop', '/a%3Bx/b'])('refuses the encoded semicolon in %s (a decoder in front of a router would turn it into `;params`)', (raw) => {
    expect(rejected(raw)).toMatch(/semicolon/);
  });

  it.each([
    ['non-hex digits', '/a%zz'],
    ['one hex digit at the end', '/a%4'],
    ['one hex digit then a slash', '/a%4/b'],
    ['a bare percent', '/a%'],
    ['a percent before the query', '/a%?x=1'],
    ['half-hex', '/a%g1'],
  ])('refuses a malformed escape: %s', (_name, raw) => {
    expect(rejected(raw)).toMatch(/percent-escape/);
  });

  it('refuses encoded NUL', () => {
    expect(rejected('/a%00.json')).toMatch(/control/);
  });

  it.each(['%0a', '%0D', '%09', '%1f', '%7F', '%7f', '%01'])('refuses the encoded control character %s', (esc) => {
    expect(rejected(`/a${esc}b`)).toMatch(/control/);
  });

  it('refuses raw control, space and non-ASCII characters (defence in depth: Node already does)', () => {
    expect(rejected('/a\u0000b')).toBeTruthy();
    expect(rejected('/a b')).toBeTruthy();
    expect(rejected('/a\tb')).toBeTruthy();
    expect(rejected('/caf\u00e9')).toBeTruthy();
    expect(rejected('/a\u007fb')).toBeTruthy();
  });

  it('does not judge the query (it is forwarded as received)', () => {
    expect(ok('/a?x=%00%zz%2f\\').query).toBe('?x=%00%zz%2f\\');
  });
});

describe('normalizeTarget: case and ;params', () => {
  it('keeps case in the path and lower-cases matchPath', () => {
    expect(ok('/SHOP/Admin')).toEqual({ path: '/SHOP/Admin', matchPath: '/shop/admin', query: '' });
  });

  it('keeps ;jsessionid in the path and removes it from matchPath', () => {
    expect(ok('/shop/admin;jsessionid=1')).toEqual({
      path: '/shop/admin;jsessionid=1',
      matchPath: '/shop/admin',
      query: '',
    });
  });

  it('removes ;params from every segment of matchPath', () => {
    expect(ok('/shop;a=1/Admin;b=2/').matchPath).toBe('/shop/admin');
  });

  it('makes the attack spellings of /shop/admin share one matchPath', () => {
    const spellings = [
      '/shop/admin',
      '/SHOP/Admin/',
      '/shop/admin;x=1',
      '//shop//admin',
      '/shop/x/../admin',
      '/shop/%61dmin',
      '/shop/./admin',
      '/shop/x/%2e%2e/admin',
      '/shop/x/..;y/admin',
      'http://other/shop/admin',
      '/shop/admin#x',
      '/shop/;x/admin',
    ];
    for (const s of spellings) expect([s, ok(s).matchPath]).toEqual([s, '/shop/admin']);
  });

  it('does not confuse a longer segment with its prefix', () => {
    expect(ok('/shopping').matchPath).toBe('/shopping');
  });
});

describe('toMatchPath', () => {
  it('returns a clean lower-case path unchanged', () => {
    expect(toMatchPath('/shop/items')).toBe('/shop/items');
  });

  it('keeps the root as "/"', () => {
    expect(toMatchPath('/')).toBe('/');
  });

  it('lower-cases ASCII letters only', () => {
    expect(toMatchPath('/ABC/\u00c9')).toBe('/abc/\u00c9');
  });

  it('drops the trailing slash, ;params and empty segments', () => {
    expect(toMatchPath('/A;x//B/')).toBe('/a/b');
    expect(toMatchPath('/;x')).toBe('/');
    expect(toMatchPath('/a/;x/')).toBe('/a');
  });

  it('treats an empty string as the root', () => {
    expect(toMatchPath('')).toBe('/');
  });
});

describe('normalizeTarget: robustness', () => {
  /** Deterministic PRNG so failures reproduce. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }
  const alphabet = ['/', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', '0', 'a', 'A', ';', '=', '?', '#', '\\', 'z', '%2e', '%2f', '..', '//'];

  it('never throws, and every accepted path is normal and idempotent', () => {
    const rand = rng(42);
    const problems: string[] = [];
    let accepted = 0;
    for (let n = 0; n < 20000; n++) {
      let raw = '/';
      const len = Math.floor(rand() * 16);
      for (let k = 0; k < len; k++) raw += alphabet[Math.floor(rand() * alphabet.length)];
      const r = normalizeTarget(raw);
      if (!r.ok) continue;
      accepted++;
      const p = r.path;
      const again = normalizeTarget(p);
      const bad = [
        !p.startsWith('/') && 'no leading slash',
        p.includes('//') && 'double slash',
        p.includes('\\') && 'backslash',
        /%2f/i.test(p) && 'encoded slash',
        p.split('/').some((s) => s.split(';')[0] === '.' || s.split(';')[0] === '..') && 'dot segment',
        !(again.ok && again.path === p) && 'not idempotent',
        r.matchPath !== toMatchPath(p) && 'matchPath differs from toMatchPath(path)',
      ].filter(Boolean);
      if (bad.length > 0) problems.push(`${JSON.stringify(raw)} -> ${JSON.stringify(p)}: ${bad.join(', ')}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(accepted).toBeGreaterThan(2000); // the corpus really exercises the accepting paths
  });

  it('stays linear on long hostile paths', () => {
    const longUpper = `/${'A/'.repeat(8000)}`;
    const longDots = `/${'a/../'.repeat(3000)}b`;
    const longParams = `/${'x;'.repeat(5000)}`;
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 10; k++) {
      expect(normalizeTarget(longUpper).ok).toBe(true);
      expect(normalizeTarget(longDots)).toMatchObject({ ok: true, path: '/b' });
      expect(normalizeTarget(longParams)).toMatchObject({ ok: true, matchPath: '/x' });
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeLessThan(1000);
  });
});
