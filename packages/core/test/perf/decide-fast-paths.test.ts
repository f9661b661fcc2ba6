/**
 * The fast paths of decide() for blocked traffic (docs/performance.md) must give exactly the
 * answers of the code they replaced: each is checked here against that code (kept in this file
 * where it no longer exists) on generated and edge-case inputs.
 */
import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import type { ApiJsonInput } from '../../src/config/types';
import { type AttackEvent, type BlockedEvent, Enforcer } from '../../src/enforcer';
import { authorizationCredentials } from '../../src/identity/identifiers';
import { ClientList, ListBudget, typeIndex } from '../../src/lists/client-list';
import { ENTRY_TYPES, type EntryType } from '../../src/lists/entries';
import { ApiMatcher } from '../../src/match/api-matcher';
import { decoyPathsOf, isDecoyPath } from '../../src/policy/decoy';
import {
  ClientIpResolver,
  type ClientIpOptions,
  TrustedProxies,
  XFF_MAX_ENTRIES,
  canonicalIp,
  dottedQuadValue,
  isDottedQuad,
  canonicalIpv6Literal,
  resolveClientIp,
  xffEntryIp,
} from '../../src/request/client-ip';
import { parseHost } from '../../src/request/host';
import { normalizeTarget, toMatchPath } from '../../src/request/normalize-path';
import type { EnforcerRequest, RawRequest } from '../../src/types';

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomString(r: () => number, alphabet: string, maxLen: number): string {
  let s = '';
  const n = Math.floor(r() * (maxLen + 1));
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

describe('dottedQuadValue', () => {
  test('is isDottedQuad on the range, and the address as a number', () => {
    const r = rng(21);
    const cases = ['1.2.3.4', '255.255.255.255', '0.0.0.0', '01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.', ' 1.2.3.4', '10.0.0.1'];
    for (let i = 0; i < 6000; i++) cases.push(randomString(r, r() < 0.8 ? '0123456789.' : '0123456789.: ,a', 17));
    for (const c of cases) {
      // The same text inside a longer string, as the X-Forwarded-For walk reads it.
      for (const [pre, post] of [['', ''], ['x, ', ''], ['', ' ,y'], ['9', '9']] as const) {
        const s = `${pre}${c}${post}`;
        const v = dottedQuadValue(s, pre.length, pre.length + c.length);
        const want = isDottedQuad(c) ? c.split('.').reduce((a, o) => a * 256 + Number(o), 0) : -1;
        expect([s, v]).toEqual([s, want]);
      }
    }
  });
});

describe('TrustedProxies.hasIpv4Value', () => {
  test.each([[['127.0.0.0/8', '::1/128']], [['10.0.0.0/8', '192.168.1.7']], [['::/0']], [[]], [['128.0.0.0/1']]])('agrees with hasCanonical for %j', (entries) => {
    const t = new TrustedProxies(entries);
    const r = rng(4);
    const octet = () => (r() < 0.3 ? pick(r, [0, 1, 10, 127, 128, 192, 255]) : Math.floor(r() * 256));
    for (let i = 0; i < 5000; i++) {
      const ip = `${octet()}.${octet()}.${octet()}.${octet()}`;
      expect([ip, t.hasIpv4Value(dottedQuadValue(ip, 0, ip.length))]).toEqual([ip, t.hasCanonical(ip)]);
    }
  });
});

/** resolveClientIp before the dotted-quad fast path: every entry sliced, canonicalised and checked. */
function referenceClientIp(socketAddress: string | undefined, xff: string | undefined, opts: ClientIpOptions): string {
  const peer = canonicalIp(socketAddress);
  if (xff === undefined) return peer;
  if (!opts.enableXff) return peer;
  if (!opts.trusted.hasCanonical(peer)) return peer;
  const header = xff;
  let lastTrusted = peer;
  let end = header.length;
  const ows = (c: number) => c === 0x20 || c === 0x09;
  for (let n = 0; n < XFF_MAX_ENTRIES; n++) {
    const comma = end > 0 ? header.lastIndexOf(',', end - 1) : -1;
    let a = comma + 1;
    let b = end;
    while (a < b && ows(header.charCodeAt(a))) a++;
    while (b > a && ows(header.charCodeAt(b - 1))) b--;
    const ip = xffEntryIp(header.slice(a, b));
    if (ip.length === 0) return lastTrusted;
    if (!opts.trusted.hasCanonical(ip)) return ip;
    lastTrusted = ip;
    if (comma < 0) break;
    end = comma;
  }
  return lastTrusted;
}

describe('client IP resolution', () => {
  const entries = ['10.0.0.1', '10.1.2.3:8080', '198.51.100.7', '127.0.0.1', '127.0.0.9', '::1', '[::1]:443', '2001:db8::5', '::ffff:10.0.0.2', 'unknown', '', ' ', '01.2.3.4', '1.2.3.4.5', '\t203.0.113.9 ', '256.0.0.1', '192.168.0.1'];
  const peers = ['127.0.0.1', '::ffff:127.0.0.1', '::1', '203.0.113.1', undefined, '', 'garbage'];
  const trustSets = [['127.0.0.0/8', '::1/128', '10.0.0.0/8'], ['127.0.0.1'], ['::/0'], []];

  test('the X-Forwarded-For walk answers as it did before', () => {
    const r = rng(9);
    for (const trust of trustSets) {
      const opts: ClientIpOptions = { enableXff: true, trusted: new TrustedProxies(trust) };
      for (let i = 0; i < 4000; i++) {
        const n = Math.floor(r() * 6);
        const parts: string[] = [];
        for (let j = 0; j < n; j++) parts.push(pick(r, entries));
        const xff = r() < 0.1 ? undefined : parts.join(pick(r, [',', ', ', ' ,']));
        const peer = pick(r, peers);
        expect([peer, xff, resolveClientIp(peer, xff, opts)]).toEqual([peer, xff, referenceClientIp(peer, xff, opts)]);
      }
    }
  });

  test('ClientIpResolver, which remembers the last peer, answers like resolveClientIp', () => {
    const r = rng(10);
    for (const enableXff of [true, false]) {
      let warnings = 0;
      const opts: ClientIpOptions = { enableXff, trusted: new TrustedProxies(trustSets[0]!), onUntrustedXff: () => warnings++ };
      const resolver = new ClientIpResolver(opts);
      for (let i = 0; i < 4000; i++) {
        const peer = r() < 0.7 ? '127.0.0.1' : pick(r, peers);
        const xff = r() < 0.2 ? undefined : r() < 0.1 ? [pick(r, entries), pick(r, entries)] : `${pick(r, entries)}, ${pick(r, entries)}`;
        warnings = 0;
        const got = resolver.resolve(peer, xff);
        const gotWarnings = warnings;
        warnings = 0;
        expect([peer, xff, got, gotWarnings]).toEqual([peer, xff, resolveClientIp(peer, xff, opts), warnings]);
      }
    }
  });
});

describe('normalizeTarget', () => {
  test('its matching form is toMatchPath of its path, also when it skips the second scan', () => {
    const r = rng(12);
    const cases = ['/', '/a', '/a/', '/A', '/a;x', '/v1/svc7/items/7?page=1', '/a//b', '/a/./b', '/%41', 'http://h/X?y', 'http://h', '/a#f', '/?q', '/;', '/a/B/'];
    for (let i = 0; i < 8000; i++) cases.push(`/${randomString(r, 'abcAB/;.%2?#~-_', 14)}`);
    for (const c of cases) {
      const t = normalizeTarget(c);
      if (t.ok) expect([c, t.matchPath]).toEqual([c, toMatchPath(t.path)]);
    }
  });
});

/** parseHost before `..` was found during its scan (IPv6 literals are handled as before). */
function referenceParseHost(hostHeader: string | string[] | undefined): ReturnType<typeof parseHost> {
  let value: string;
  if (hostHeader === undefined) return { ok: true, host: '' };
  if (Array.isArray(hostHeader)) {
    if (hostHeader.length === 0) return { ok: true, host: '' };
    if (hostHeader.length > 1) return { ok: false, reason: 'several Host headers' };
    value = hostHeader[0] ?? '';
  } else value = hostHeader;
  if (value.length === 0) return { ok: true, host: '' };
  if (value.length > 255 + 6) return { ok: false, reason: 'Host too long' };
  if (value.charCodeAt(0) === 0x5b) return parseHost(value);
  const validPort = (from: number): boolean => {
    if (value.length - from > 5) return false;
    let v = 0;
    for (let i = from; i < value.length; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
    }
    return v <= 65535;
  };
  let end = value.length;
  let upper = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f) continue;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      continue;
    }
    if (c === 0x3a) {
      if (!validPort(i + 1)) return { ok: false, reason: 'invalid port in Host' };
      end = i;
      break;
    }
    if (c === 0x2c) return { ok: false, reason: 'several values in Host' };
    if (c === 0x40) return { ok: false, reason: 'userinfo in Host' };
    if (c === 0x20 || c === 0x09) return { ok: false, reason: 'whitespace in Host' };
    return { ok: false, reason: 'invalid character in Host' };
  }
  if (end > 0 && value.charCodeAt(end - 1) === 0x2e) end--;
  if (end === 0) return { ok: false, reason: 'empty host name' };
  if (end > 255) return { ok: false, reason: 'Host too long' };
  const name = end === value.length ? value : value.slice(0, end);
  if (name.charCodeAt(0) === 0x2e || name.indexOf('..') >= 0 || name.charCodeAt(name.length - 1) === 0x2e) return { ok: false, reason: 'empty label in Host' };
  return { ok: true, host: upper ? name.toLowerCase() : name };
}

describe('parseHost', () => {
  test('answers as it did before, reasons included', () => {
    const r = rng(13);
    const cases = ['a..b', 'a.', 'a..', '.a', 'a.:80', 'a..:80', '..', '.', 'a.b.:1', 'A..B', 'x:', '[::1]', 'a@b', ''];
    for (let i = 0; i < 10_000; i++) cases.push(randomString(r, 'ab.A:9-_ @', 12));
    for (const c of cases) expect([c, parseHost(c)]).toEqual([c, referenceParseHost(c)]);
    expect(canonicalIpv6Literal('::1')).toBe('::1');
  });
});

describe('authorizationCredentials', () => {
  /** Before: the scheme compared after lower-casing a copy of it. */
  function reference(auth: string | undefined, scheme: string): string | undefined {
    if (!auth || auth.length > 16384) return undefined;
    const sp = auth.indexOf(' ');
    if (sp <= 0 || auth.slice(0, sp).toLowerCase() !== scheme) return undefined;
    const cred = auth.slice(sp + 1).trim();
    return cred.length > 0 ? cred : undefined;
  }

  test('compares the scheme as toLowerCase did and trims as trim() did, non-ASCII included', () => {
    const r = rng(14);
    const cases = ['Bearer x', 'BEARER x', 'bearer  x ', 'Bearerx', ' Bearer x', 'Bearer', 'MAC id="a"', 'maC x', '\u212Aey x', 'BEAR\u0130R x', 'Bear\u00e9r x', 'B\u0130 x'];
    for (let i = 0; i < 5000; i++) cases.push(`${randomString(r, 'beBErRaAmMcC\u212A\u0130', 7)} ${randomString(r, 'ab \t\u00a0\u2003\ufeff', 4)}`);
    for (const c of cases) {
      for (const scheme of ['bearer', 'mac', 'key', 'bi\u0307']) {
        const req = { headers: { authorization: c } } as unknown as EnforcerRequest;
        expect([c, scheme, authorizationCredentials(req, scheme)]).toEqual([c, scheme, reference(c, scheme)]);
      }
    }
  });
});

describe('isDecoyPath', () => {
  test('agrees with the startsWith test it replaces', () => {
    const r = rng(15);
    const apis = [
      { url: '/shop', sub: ['admin', 'debug', '/shop/a/b', 'adminx/y'] },
      { url: '/', sub: ['x', '/y/z'] },
      { url: '/v1/svc7', sub: ['admin', 'debug'] },
      { url: '/whole', sub: [] },
    ];
    for (const a of apis) {
      const api = compileApi('d', validateApiJson({ api_metadata: { hostname: '*', url: a.url, decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'x', decoy_subpaths: a.sub } } }, 'd').api);
      const decoy = decoyPathsOf(api)!;
      const old = (p: string) => api.decoy.wholeApi || api.decoy.matchPaths.some((d) => p === d || (p.startsWith(d) && p.charCodeAt(d.length) === 47));
      const cases = ['/', '/shop', '/shop/admin', '/shop/admin/x', '/shop/adminx', '/shop/admix', '/other', '/other/1', '/x', '/v1/svc7/items/7', '/v1/svc7/admin', '/shop/a/b'];
      for (let i = 0; i < 5000; i++) cases.push(`/${randomString(r, 'shopadminx/b', 14)}`);
      for (const c of cases) expect([a.url, c, isDecoyPath(decoy, c)]).toEqual([a.url, c, old(c)]);
    }
    const off = compileApi('n', validateApiJson({ api_metadata: { hostname: '*', url: '/n' } }, 'n').api);
    expect(decoyPathsOf(off)).toBeUndefined();
  });
});

describe('ApiMatcher host groups', () => {
  test('the host-length filter never hides a host group', () => {
    const apiOf = (id: string, url: string, hostname: string) => compileApi(id, validateApiJson({ api_metadata: { url, hostname } }, id).api);
    const m = new ApiMatcher([apiOf('a', '/x', 'a.example'), apiOf('b', '/x', 'bb.example'), apiOf('w', '/x', '*')]);
    const id = (host: string) => {
      const r = m.match(host, '/x/1');
      return r.kind === 'api' ? r.api.id : r.kind;
    };
    expect([id('a.example'), id('bb.example'), id('c.example'), id('cc.example'), id('')]).toEqual(['a', 'b', 'w', 'w', 'w']);
    const only = new ApiMatcher([apiOf('a', '/x', 'a.example')]);
    expect([only.match('a.example', '/y').kind, only.match('b.example', '/x').kind, only.match('aa.example', '/x').kind]).toEqual(['no_api', 'no_host', 'no_host']);
  });
});

describe('ClientList lookups', () => {
  test('typeIndex is the position in ENTRY_TYPES (it is part of every filter hash)', () => {
    for (const t of ENTRY_TYPES) expect(typeIndex(t)).toBe(ENTRY_TYPES.indexOf(t));
  });

  test('the recent-hit cache answers like the maps through adds, removals, re-tagging and clearing', () => {
    const list = new ClientList('blacklist', new ListBudget(1e9));
    const truth = new Map<string, string>();
    const key = (type: EntryType, value: string, name?: string) => `${type}|${name ?? ''}|${value}`;
    const r = rng(16);
    const types: EntryType[] = ['ip', 'token', 'cookie', 'api_key', 'username'];
    for (let step = 0; step < 15_000; step++) {
      const type = pick(r, types);
      const name = type === 'cookie' || type === 'api_key' ? pick(r, ['sid', 'k']) : undefined;
      const value = `v${Math.floor(r() * 60)}`;
      const op = r();
      if (op < 0.08) {
        const tag = pick(r, ['manual', 'decoy', 'invalid_method'] as const);
        if (list.add(name === undefined ? { type, value } : { type, name, value }, tag)) truth.set(key(type, value, name), tag);
      } else if (op < 0.14) {
        list.remove(name === undefined ? { type, value } : { type, name, value });
        truth.delete(key(type, value, name));
      } else if (op < 0.1405) {
        list.clear((t) => t === 'decoy');
        for (const [k, t] of [...truth]) if (t === 'decoy') truth.delete(k);
      } else {
        // A fresh string each time, as header values are.
        const probe = `${value.slice(0, 1)}${value.slice(1)}`;
        const want = truth.get(key(type, value, name));
        const got = list.get(type, probe, name);
        expect([type, name, value, got?.tag]).toEqual([type, name, value, want]);
        expect(list.has(type, probe, name)).toBe(want !== undefined);
      }
    }
  });
});

describe('Enforcer: the deny list read while identifiers are read', () => {
  // With an empty allow list, identifiers are looked up as they are read and reading stops at the
  // first listed one; with any allow-list entry, all are read first and findListed searches them.
  // Both must give the same decisions and the same events.
  const jwt = (claims: Record<string, unknown>) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
  const apis: Record<string, ApiJsonInput> = {
    full: { api_metadata: { hostname: '*', url: '/full', oauth2_access_token: true, apikey_header: 'x-api-key', cookie: 'sid', enable_blocking: true, username_header: 'x-user' } },
    qs: { api_metadata: { hostname: '*', url: '/qs', apikey_qs: 'key', cookie: 'sid', enable_blocking: true, jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: 'cid' } } },
    open: { api_metadata: { hostname: '*', url: '/open', oauth2_access_token: true, apikey_header: 'x-api-key', cookie: 'sid', enable_blocking: false, is_token_mandatory: true } },
    strict: {
      api_metadata: {
        hostname: '*',
        url: '/strict',
        oauth2_access_token: true,
        cookie: 'sid',
        enable_blocking: true,
        api_pattern_enforcement: { methods_allowed: ['GET'], content_type_allowed: '', protocol_allowed: '', http_redirect: { response_code: '', response_def: '', https_url: '' }, error_code: '', error_def: '', error_message_body: '' },
      },
    },
  };

  function enforcer(allowSomething: boolean): { e: Enforcer; events: unknown[] } {
    const e = new Enforcer({ apis, conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1', enable_ase_detected_attack: true }, logger: { info() {}, warn() {}, error() {} } });
    for (const entry of [
      { type: 'ip', value: '10.0.0.1' },
      { type: 'token', value: 'bad-token' },
      { type: 'api_key', name: 'x-api-key', value: 'bad-key' },
      { type: 'api_key', name: 'key', value: 'bad-qs' },
      { type: 'cookie', name: 'sid', value: 'bad-sid' },
      { type: 'username', value: 'mallory' },
      { type: 'username', value: 'eve' },
    ] as const)
      e.denyList.add(entry, 'manual');
    if (allowSomething) e.allowList.add({ type: 'ip', value: '203.0.113.254' }, 'manual');
    const events: unknown[] = [];
    // The time differs between the two enforcers; the legacy fields are not enumerable, so they are named here.
    e.on('blocked', (b: BlockedEvent) => events.push(['blocked', { ...b, time: undefined, ip: b.ip, entry: b.entry }]));
    e.on('attack', (a: AttackEvent) => events.push(['attack', a]));
    return { e, events };
  }

  test('same decisions and events as reading every identifier first', async () => {
    const fast = enforcer(false);
    const general = enforcer(true);
    const r = rng(17);
    for (let i = 0; i < 3000; i++) {
      const headers: Record<string, string> = { host: 'api.example' };
      if (r() < 0.8) headers['x-forwarded-for'] = pick(r, ['10.0.0.1', '192.168.0.9', '10.0.0.1, 192.168.0.9']);
      if (r() < 0.7) headers['authorization'] = `Bearer ${pick(r, ['bad-token', 'good-token', jwt({ sub: 'mallory' }), jwt({ sub: 'bob', cid: 'c1' }), jwt({ sub: 'eve' })])}`;
      if (r() < 0.6) headers['x-api-key'] = pick(r, ['bad-key', 'good-key']);
      if (r() < 0.6) headers['cookie'] = pick(r, ['sid=bad-sid', 'sid=good; a=b', 'x=1']);
      if (r() < 0.3) headers['x-user'] = pick(r, ['mallory', 'bob']);
      const query = r() < 0.5 ? `?key=${pick(r, ['bad-qs', 'good-qs'])}${r() < 0.5 ? `&key=${pick(r, ['bad-qs', 'other', ''])}` : ''}` : '';
      const raw: RawRequest = { method: pick(r, ['GET', 'POST']), url: `${pick(r, ['/full', '/qs', '/open', '/strict'])}/x${query}`, headers, remoteAddress: '127.0.0.1', encrypted: false };
      const view = async (x: { e: Enforcer; events: unknown[] }) => {
        x.events.length = 0;
        const d = await x.e.decide(raw);
        return {
          action: d.action,
          reason: d.action === 'respond' ? d.reason : undefined,
          status: d.action === 'respond' ? d.response.status : undefined,
          api: d.api?.id,
          events: JSON.parse(JSON.stringify(x.events)) as unknown,
        };
      };
      expect([raw, await view(fast)]).toEqual([raw, await view(general)]);
    }
    expect(fast.e.denyList.list()).toEqual(general.e.denyList.list());
    await fast.e.close();
    await general.e.close();
  });
});
