import { decodeCookieValue, getCookieValues, getQueryParams } from '../../src/request/cookies';

describe('getCookieValues', () => {
  it('returns the one value as a string when the cookie appears once', () => {
    expect(getCookieValues('a=1; sid=abc; b=2', 'sid')).toBe('abc');
  });

  it('returns every value, in order, when the cookie is repeated in one header', () => {
    expect(getCookieValues('sid=one; a=1; sid=two;sid="three"', 'sid')).toEqual(['one', 'two', 'three']);
  });

  it('reads several Cookie headers as one', () => {
    expect(getCookieValues(['sid=one', 'a=1; sid=two'], 'sid')).toEqual(['one', 'two']);
  });

  it('finds the cookie behind padding longer than the map bound and behind more than 64 cookies', () => {
    expect(getCookieValues(`pad=${'p'.repeat(9000)}; sid=late`, 'sid')).toBe('late');
    const many = Array.from({ length: 80 }, (_v, i) => `c${i}=v`).join('; ');
    expect(getCookieValues(`${many}; sid=late`, 'sid')).toBe('late');
  });

  it('skips empty values, other names and names that merely contain the name', () => {
    expect(getCookieValues('sid=; xsid=a; SID=b; sidx=c; sid', 'sid')).toBeUndefined();
    expect(getCookieValues('sid=a; xsid=b', 'sid')).toBe('a');
    expect(getCookieValues(undefined, 'sid')).toBeUndefined();
  });
});

describe('decodeCookieValue', () => {
  it('percent-decodes like the cookie package, and keeps a value it cannot decode', () => {
    expect(decodeCookieValue('%61bc')).toBe('abc');
    expect(decodeCookieValue('a%20b')).toBe('a b');
    expect(decodeCookieValue('%zz')).toBe('%zz');
    expect(decodeCookieValue('%E0%A4%A')).toBe('%E0%A4%A');
    expect(decodeCookieValue('plain+text')).toBe('plain+text');
  });
});

describe('getQueryParams', () => {
  it('returns every repeat, however many come before the last', () => {
    const query = `?${'k=good&'.repeat(30)}k=bad`;
    const all = getQueryParams(query, 'k');
    expect(all).toHaveLength(31);
    expect(all[30]).toBe('bad');
  });
});
