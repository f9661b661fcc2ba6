import {
  MAX_COOKIES,
  MAX_COOKIE_HEADER,
  decodeFormComponent,
  getQueryParam,
  parseCookies,
} from '../../src/request/cookies';

describe('parseCookies', () => {
  it('reads name=value pairs separated by ";"', () => {
    const c = parseCookies('JSESSIONID=abc; theme=dark');
    expect([...c]).toEqual([
      ['JSESSIONID', 'abc'],
      ['theme', 'dark'],
    ]);
  });

  it('returns an empty map for an absent header', () => {
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('keeps the first occurrence of a name', () => {
    expect(parseCookies('sid=first; sid=second').get('sid')).toBe('first');
  });

  it('unquotes a value in double quotes', () => {
    expect(parseCookies('sid="abc def"').get('sid')).toBe('abc def');
  });

  it('keeps a lone or unbalanced quote as is', () => {
    expect(parseCookies('a="; b="x').get('a')).toBe('"');
    expect(parseCookies('b="x').get('b')).toBe('"x');
  });

  it('skips pairs without "=", with an empty name or an empty value', () => {
    const c = parseCookies('flag; =novalue; empty=; quoted=""; ok=1');
    expect([...c]).toEqual([['ok', '1']]);
  });

  it('lets a later valid pair win when the first of a name was skipped', () => {
    expect(parseCookies('sid=; sid=real').get('sid')).toBe('real');
  });

  it('trims spaces and tabs around names and values, keeps "=" inside values', () => {
    expect(parseCookies(' \ta = b=c== \t;b=2').get('a')).toBe('b=c==');
  });

  it('does not decode values, so bad percent-encoding cannot throw', () => {
    const c = parseCookies('a=%E0%A4%A; b=%zz; c=%41');
    expect(c.get('a')).toBe('%E0%A4%A');
    expect(c.get('b')).toBe('%zz');
    expect(c.get('c')).toBe('%41');
  });

  it('treats names case-sensitively', () => {
    const c = parseCookies('SID=1; sid=2');
    expect(c.get('SID')).toBe('1');
    expect(c.get('sid')).toBe('2');
  });

  it('keeps __proto__ as an ordinary name', () => {
    const c = parseCookies('__proto__=x; constructor=y');
    expect(c.get('__proto__')).toBe('x');
    expect(c.get('constructor')).toBe('y');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('joins an array of headers as several cookie lists', () => {
    const c = parseCookies(['a=1; b=2', 'b=3; c=4']);
    expect([...c]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '4'],
    ]);
  });

  it(`keeps at most ${MAX_COOKIES} cookies`, () => {
    const header = Array.from({ length: MAX_COOKIES + 10 }, (_, i) => `c${i}=${i}`).join('; ');
    const c = parseCookies(header);
    expect(c.size).toBe(MAX_COOKIES);
    expect(c.get(`c${MAX_COOKIES - 1}`)).toBe(String(MAX_COOKIES - 1));
    expect(c.has(`c${MAX_COOKIES}`)).toBe(false);
  });

  it(`reads only whole pairs within the first ${MAX_COOKIE_HEADER} characters`, () => {
    const big = `a=${'x'.repeat(MAX_COOKIE_HEADER - 20)}`;
    const c = parseCookies(`${big}; b=whole; cut=${'y'.repeat(100)}; after=1`);
    expect(c.get('a')).toBe(big.slice(2));
    expect(c.get('b')).toBe('whole');
    expect(c.has('cut')).toBe(false);
    expect(c.has('after')).toBe(false);
  });

  it('keeps a pair that ends exactly at the bound', () => {
    const v = 'x'.repeat(MAX_COOKIE_HEADER - 2);
    const c = parseCookies(`a=${v}; b=1`);
    expect(c.get('a')).toBe(v);
    expect(c.has('b')).toBe(false);
  });

  it('reads nothing from one pair longer than the bound', () => {
    expect(parseCookies(`a=${'x'.repeat(MAX_COOKIE_HEADER)}`).size).toBe(0);
  });
});

describe('getQueryParam', () => {
  it('returns the value of a parameter', () => {
    expect(getQueryParam('?apikey=k1&x=2', 'apikey')).toBe('k1');
    expect(getQueryParam('?x=2&apikey=k1', 'apikey')).toBe('k1');
  });

  it('accepts a query without the leading "?"', () => {
    expect(getQueryParam('apikey=k1', 'apikey')).toBe('k1');
  });

  it('returns undefined when the name is absent or the query is empty', () => {
    expect(getQueryParam('?x=1', 'apikey')).toBeUndefined();
    expect(getQueryParam('', 'apikey')).toBeUndefined();
    expect(getQueryParam('?', 'apikey')).toBeUndefined();
  });

  it('returns the first value of a repeated name', () => {
    expect(getQueryParam('?apikey=first&apikey=second', 'apikey')).toBe('first');
  });

  it('returns "" for a name without a value', () => {
    expect(getQueryParam('?apikey&x=1', 'apikey')).toBe('');
    expect(getQueryParam('?apikey=', 'apikey')).toBe('');
  });

  it('matches whole names, case-sensitively', () => {
    expect(getQueryParam('?xapikey=1&apikeyx=2', 'apikey')).toBeUndefined();
    expect(getQueryParam('?APIKEY=1', 'apikey')).toBeUndefined();
  });

  it('decodes "+" and percent-escapes in the value', () => {
    expect(getQueryParam('?q=a+b%20c%2Bd', 'q')).toBe('a b c+d');
    expect(getQueryParam('?q=caf%C3%A9', 'q')).toBe('caf\u00e9');
  });

  it('decodes the name before comparing it', () => {
    expect(getQueryParam('?api%6Bey=k1', 'apikey')).toBe('k1');
    expect(getQueryParam('?my+key=v', 'my key')).toBe('v');
  });

  it('keeps "=" inside the value', () => {
    expect(getQueryParam('?t=a=b==', 't')).toBe('a=b==');
  });

  it('skips empty pairs', () => {
    expect(getQueryParam('?&&apikey=k1&', 'apikey')).toBe('k1');
  });

  it('never throws on malformed escapes, leaving them as written (like URLSearchParams)', () => {
    const hostile = ['%', '%zz', '%E0%A4%A', '%C0%AE', '%4', 'a%'];
    for (const v of hostile) {
      const q = `?k=${v}`;
      expect([v, getQueryParam(q, 'k')]).toEqual([v, new URLSearchParams(q).get('k')]);
    }
  });

  it('agrees with URLSearchParams on the first value', () => {
    const queries = ['?a=1&a=2', '?a=%2B+%2b', '?b=1&a', '?a=%F0%9F%98%80', '?%61=x', '?a=%ff%fe'];
    for (const q of queries) expect([q, getQueryParam(q, 'a')]).toEqual([q, new URLSearchParams(q).get('a') ?? undefined]);
  });
});

describe('decodeFormComponent', () => {
  it('returns the input when there is nothing to decode', () => {
    expect(decodeFormComponent('plain')).toBe('plain');
  });

  it('turns invalid UTF-8 into U+FFFD instead of throwing', () => {
    expect(decodeFormComponent('%C0%AE')).toBe('\ufffd\ufffd');
  });
});
