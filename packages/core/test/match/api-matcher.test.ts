import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import { ApiMatcher, isUnder } from '../../src/match/api-matcher';

const apiOf = (id: string, url: string, hostname = '*') => compileApi(id, validateApiJson({ api_metadata: { url, hostname } }, id).api);

describe('ApiMatcher', () => {
  const matcher = new ApiMatcher([
    apiOf('root', '/'),
    apiOf('shop', '/shop'),
    apiOf('items', '/Shop/Items/'),
    apiOf('deep', '/a/b/c/d/e/f'),
    apiOf('hostShop', '/shop', 'API.example.com'),
  ]);
  const id = (host: string, path: string): string | undefined => {
    const m = matcher.match(host, path);
    return m.kind === 'api' ? m.api.id : m.kind;
  };

  test('picks the longest prefix that ends on a segment boundary', () => {
    expect(id('x', '/shop/items/1')).toBe('items');
    expect(id('x', '/shop/other')).toBe('shop');
    expect(id('x', '/shopping')).toBe('root');
    expect(id('x', '/')).toBe('root');
  });

  test('configured urls are compared in matching form (case, trailing slash)', () => {
    expect(id('x', '/shop/items')).toBe('items');
  });

  test('an exact host wins over *, even with a shorter prefix', () => {
    expect(id('api.example.com', '/shop/items/1')).toBe('hostShop');
    expect(id('api.example.com', '/other')).toBe('root');
  });

  test('paths deeper than six segments still match a six-segment url', () => {
    expect(id('x', '/a/b/c/d/e/f/g/h/i')).toBe('deep');
    expect(id('x', '/a/b/c/d/e')).toBe('root');
  });

  test('tells an unknown host from an unknown url', () => {
    const m = new ApiMatcher([apiOf('h', '/shop', 'a.example')]);
    expect(m.match('b.example', '/shop').kind).toBe('no_host');
    expect(m.match('a.example', '/other').kind).toBe('no_api');
    expect(new ApiMatcher([apiOf('w', '/shop')]).match('b.example', '/x').kind).toBe('no_api');
  });

  test('two APIs with the same host and url: the first one given wins', () => {
    const m = new ApiMatcher([apiOf('first', '/dup'), apiOf('second', '/dup/')]);
    const r = m.match('x', '/dup');
    expect(r.kind === 'api' && r.api.id).toBe('first');
  });

  test('a host that is a superstring of a configured host does not match it', () => {
    expect(id('evilapi.example.com', '/shop')).toBe('shop');
    expect(id('api.example.com.evil', '/shop')).toBe('shop');
  });

  test('isUnder compares on segment boundaries', () => {
    expect(isUnder('/shop/a', '/shop')).toBe(true);
    expect(isUnder('/shop', '/shop')).toBe(true);
    expect(isUnder('/shopping', '/shop')).toBe(false);
    expect(isUnder('/x', '/')).toBe(true);
  });
});
