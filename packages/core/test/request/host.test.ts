import { parseHost } from '../../src/request/host';

function host(v: string | string[] | undefined): string {
  const r = parseHost(v);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(v)} to parse, got: ${r.reason}`);
  return r.host;
}

function reason(v: string | string[] | undefined): string {
  const r = parseHost(v);
  if (r.ok) throw new Error(`expected ${JSON.stringify(v)} to be refused, got host ${JSON.stringify(r.host)}`);
  return r.reason;
}

describe('parseHost: accepted hosts', () => {
  it('returns a plain lower-case name as is', () => {
    expect(host('shop.example.com')).toBe('shop.example.com');
  });

  it('lower-cases', () => {
    expect(host('Shop.EXAMPLE.com')).toBe('shop.example.com');
  });

  it('strips the port', () => {
    expect(host('shop.example.com:8000')).toBe('shop.example.com');
    expect(host('LOCALHOST:65535')).toBe('localhost');
    expect(host('h:0')).toBe('h');
  });

  it('accepts an empty port (RFC 3986 port = *DIGIT)', () => {
    expect(host('h:')).toBe('h');
  });

  it('removes one trailing dot', () => {
    expect(host('example.com.')).toBe('example.com');
    expect(host('Example.COM.:80')).toBe('example.com');
  });

  it('accepts IPv4 literals, with or without a port', () => {
    expect(host('127.0.0.1')).toBe('127.0.0.1');
    expect(host('127.0.0.1:8000')).toBe('127.0.0.1');
  });

  it('keeps an IPv6 literal in brackets without its port', () => {
    expect(host('[::1]:8000')).toBe('[::1]');
    expect(host('[::1]')).toBe('[::1]');
  });

  it('writes IPv6 literals canonical and lower case', () => {
    expect(host('[2001:DB8:0:0::1]:443')).toBe('[2001:db8::1]');
    expect(host('[0:0:0:0:0:0:0:1]')).toBe('[::1]');
  });

  it('accepts underscores and hyphens in names', () => {
    expect(host('my_svc-1.internal')).toBe('my_svc-1.internal');
  });

  it('treats an absent Host (HTTP/1.0) as ok with ""', () => {
    expect(host(undefined)).toBe('');
  });

  it('treats an empty Host as ok with ""', () => {
    expect(host('')).toBe('');
  });

  it('reads a one-element array as its element', () => {
    expect(host(['Shop.example.com:80'])).toBe('shop.example.com');
  });

  it('accepts a 255-character name', () => {
    const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    expect(name.length).toBe(255);
    expect(host(`${name}:8000`)).toBe(name);
  });
});

describe('parseHost: refused hosts', () => {
  it('refuses userinfo (Koa CVE-2026-27959)', () => {
    expect(reason('good.example@evil.example')).toMatch(/userinfo/);
    expect(reason('evil@malicious.com')).toMatch(/userinfo/);
    expect(reason('user:pass@good.example')).toBeTruthy();
  });

  it('refuses whitespace', () => {
    expect(reason('good.example evil')).toMatch(/whitespace/);
    expect(reason('good.example\tevil')).toMatch(/whitespace/);
    expect(reason(' good.example')).toMatch(/whitespace/);
  });

  it('refuses several values', () => {
    expect(reason('a.example,b.example')).toMatch(/several/);
    expect(reason(['a.example', 'b.example'])).toMatch(/several/);
  });

  it.each([
    ['non-numeric', 'h:80a'],
    ['out of range', 'h:65536'],
    ['too many digits', 'h:000080'],
    ['negative', 'h:-1'],
    ['second colon', 'h:80:81'],
    ['IPv6 literal with a bad port', '[::1]:x'],
    ['IPv6 literal with an out-of-range port', '[::1]:70000'],
  ])('refuses a bad port: %s (%j)', (_name, v) => {
    expect(reason(v)).toBeTruthy();
  });

  it.each([
    ['slash', 'h/admin'],
    ['backslash', 'h\\x'],
    ['percent', 'h%2e'],
    ['semicolon', 'h;x'],
    ['non-ASCII', 'b\u00fccher.example'],
    ['NUL', 'h\u0000x'],
    ['bare IPv6', '::1'],
    ['quote', '"h"'],
  ])('refuses characters outside a host name: %s', (_name, v) => {
    expect(reason(v)).toBeTruthy();
  });

  it.each([
    ['unterminated', '[::1'],
    ['not IPv6', '[1.2.3.4]'],
    ['garbage', '[zz]'],
    ['zone', '[fe80::1%25eth0]'],
    ['text after the bracket', '[::1]x'],
    ['IPvFuture', '[v1.x]'],
  ])('refuses a bad IPv6 literal: %s', (_name, v) => {
    expect(reason(v)).toBeTruthy();
  });

  it.each([
    ['only a port', ':8000'],
    ['only a dot', '.'],
    ['leading dot', '.example.com'],
    ['empty label', 'a..example.com'],
    ['two trailing dots', 'example.com..'],
  ])('refuses an empty name or label: %s', (_name, v) => {
    expect(reason(v)).toBeTruthy();
  });

  it('refuses names longer than 255 characters', () => {
    expect(reason('a'.repeat(256))).toMatch(/long/);
    expect(reason(`${'a'.repeat(300)}:80`)).toMatch(/long/);
  });
});
