import { pattern } from '../helpers/config';
import * as path from 'node:path';
import type { AttackEvent, ListEntry } from '@ase/core';
import { DELAYED_MS } from './backends';
import type { Answer, BackendRef, Expected, ListedEntry, Scenario, ScenarioRequest, Step } from './types';

/**
 * THE conformance table: every behaviour of the core, as data, played on Express, Koa and Fastify
 * by conformance.test.ts. A new core behaviour gets its scenario here, so no adapter can drift.
 * Where a framework answers differently on purpose, the step says so in `differs`, with the reason.
 */

// ------------------------------------------------------------------ small builders (data only)

/** A minimal API definition; `over` is merged into api_metadata. */
export function api(url: string, over: Record<string, unknown> = {}): { api_metadata: Record<string, unknown> } {
  return { api_metadata: { protocol: 'http', url, hostname: '*', ...over } };
}

/** `servers` entries naming the scenario's backends. */
export function on(...names: string[]): BackendRef[] {
  return names.map((backend) => ({ backend }));
}

const TEXT = 'text/plain; charset=utf-8';
/** Headers of every answer the enforcer writes itself. */
const ASE_HEADERS = { 'content-type': TEXT, 'cache-control': 'no-store' } as const;

const malformed: Expected = { status: 400, reason: 'Bad Request', headers: ASE_HEADERS, body: 'Error: Malformed Request', reached: 'nobody' };
const unauthorized: Expected = { status: 403, reason: 'Unauthorized', headers: ASE_HEADERS, body: 'Error: Unauthorized', reached: 'nobody' };
const hostApp = (method: string, url: string): Pick<Expected, 'status' | 'body' | 'reached'> => ({ status: 200, body: `host app ${method} ${url}`, reached: 'app' });
const fromBackend = (name: string, url: string): Pick<Expected, 'status' | 'reached' | 'received' | 'headers'> => ({
  status: 200,
  reached: { backend: name },
  received: { url },
  headers: { 'x-backend': name },
});
const ip = (tag: ListedEntry['tag'], value = '127.0.0.1'): ListedEntry => ({ type: 'ip', value, tag });

const violation: Expected = { status: 401, reason: 'Unauthorized', headers: ASE_HEADERS, body: '401 Unauthorized', reached: 'nobody' };

const identity = { oauth2_access_token: true, apikey_header: 'X-API-Key', cookie: 'JSESSIONID', username_header: 'x-user' };

const TLS_CA = path.join(__dirname, '..', 'fixtures', 'tls', 'ca.crt');

/** Fastify's router refuses an invalid percent-escape before any hook runs. */
export const FASTIFY_BAD_URL = {
  fastify: {
    expect: { headers: { 'content-type': 'application/json', 'cache-control': null }, body: /^\{"error":"Bad Request","code":"FST_ERR_BAD_URL",/ },
    why:
      "find-my-way cannot decode the path, so Fastify answers its own 400 (JSON, FST_ERR_BAD_URL) before onRequest: ASE never sees the request. Same status, nobody reached; only the body differs. `ase start --framework fastify` sends these through the enforcer (frameworkErrors), so the gateway's answer is ASE's.",
  },
} as const;

// ------------------------------------------------------------------ matching

const matchingApis = {
  shop: api('/shop', { servers: on('a') }),
  shopItems: api('/shop/items', { servers: on('b') }),
  exactHost: api('/shop', { hostname: 'api.example.com', servers: on('c') }),
};
const matching = (name: string, steps: Step[]): Scenario => ({ name: `matching: ${name}`, backends: { a: 'echo', b: 'echo', c: 'echo' }, apis: matchingApis, steps });

const MATCHING: Scenario[] = [
  matching('the longest url prefix wins', [
    { request: { path: '/shop/items/42' }, expect: fromBackend('b', '/shop/items/42') },
    { request: { path: '/shop/cart' }, expect: fromBackend('a', '/shop/cart') },
  ]),
  matching('a prefix matches whole segments only: /shopping is not /shop', [{ request: { path: '/shopping' }, expect: hostApp('GET', '/shopping') }]),
  matching('an exact hostname wins over *, ignoring the Host port and case', [
    { request: { path: '/shop/items', headers: { host: 'API.Example.com:8443' } }, expect: fromBackend('c', '/shop/items') },
  ]),
  matching('url matching ignores case, a trailing slash and ;params', [
    { request: { path: '/SHOP/Items/' }, expect: fromBackend('b', '/SHOP/Items/') },
    { request: { path: '/shop/items;jsessionid=1' }, expect: fromBackend('b', '/shop/items;jsessionid=1') },
  ]),
  matching('the backend receives the normalised path, its case and params kept, and the query as sent', [
    { request: { path: '/shop//x/./y/../Z;v=1?q=%20a&b=c' }, expect: fromBackend('a', '/shop/x/Z;v=1?q=%20a&b=c') },
  ]),
  {
    name: 'matching: url "/" on a host matches every path of that host',
    backends: { c: 'echo' },
    apis: { root: api('/', { hostname: 'root.example.com', servers: on('c') }) },
    steps: [{ request: { path: '/anything/deep', headers: { host: 'root.example.com' } }, expect: fromBackend('c', '/anything/deep') }],
  },
  matching('a request no API matches reaches the host app untouched', [
    {
      request: { path: '/elsewhere?x=1', headers: { host: 'other.example' } },
      expect: { ...hostApp('GET', '/elsewhere?x=1'), received: { method: 'GET', url: '/elsewhere?x=1', headers: { host: 'other.example' } } },
    },
  ]),
];

// ------------------------------------------------------------------ the host app's own routes

const HOST_APP: Scenario[] = [
  {
    name: 'host app: an unprotected route is untouched (method, target, headers, body), even for a deny-listed client',
    backends: { a: 'echo' },
    apis: { shop: api('/shop', { enable_blocking: true, servers: on('a') }) },
    steps: [
      {
        act: [{ deny: { type: 'ip', value: '127.0.0.1' } }],
        request: {
          method: 'POST',
          path: '/public/form?x=1&y=%2F',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9', 'x-custom': 'kept' },
          body: 'a=1&b=2',
        },
        expect: {
          ...hostApp('POST', '/public/form?x=1&y=%2F'),
          // Nothing of ASE's on the answer either.
          headers: { 'cache-control': null },
          received: {
            method: 'POST',
            url: '/public/form?x=1&y=%2F',
            body: 'a=1&b=2',
            headers: { 'x-forwarded-for': '203.0.113.9', 'x-custom': 'kept', 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': null },
          },
          events: [],
        },
      },
      // The same client on a protected API: the deny entry was live all along.
      { request: { path: '/shop/x' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
    ],
  },
  {
    name: 'host app: an API without servers passes to the host app, still protected by the lists',
    apis: { inproc: api('/inproc', { ...identity, enable_blocking: true }) },
    steps: [
      { request: { path: '/inproc/page' }, expect: { ...hostApp('GET', '/inproc/page'), received: { method: 'GET', url: '/inproc/page' } } },
      { act: [{ deny: { type: 'username', value: 'eve' } }], request: { path: '/inproc/page', headers: { 'x-user': 'eve' } }, expect: unauthorized },
      { request: { path: '/inproc/page', headers: { 'x-user': 'bob' } }, expect: hostApp('GET', '/inproc/page') },
    ],
  },
];

// ------------------------------------------------------------------ path attacks

const pathApis = {
  shop: api('/shop', {
    servers: on('shop'),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
  }),
};
/** Every spelling of the decoy path must hit it; nothing may slip past to the backend. */
const DECOY_SPELLINGS = [
  '/shop/admin',
  '/shop/x/../admin',
  '//shop//admin',
  '/shop/./admin',
  '/shop/%61dmin',
  '/shop/x/%2e%2e/admin',
  '/shop/x/%2E%2e/admin',
  '/shop/x/.%2e/admin',
  '/SHOP/Admin/',
  '/shop/admin;x=1',
  '/shop/x/..;y=2/admin',
  '/shop/admin/users',
  '/shop/admin#frag',
  'http://evil.example/shop/admin',
];
const MALFORMED_TARGETS = [
  '/shop/..%2fadmin',
  '/shop%2Fadmin',
  '/shop/a%5cadmin',
  '/shop\\admin',
  '/shop/a%00b',
  '/shop/a%0ab',
  '/..',
  '/shop/../../etc/passwd',
  '/%2e%2e/etc/passwd',
];
/** Invalid percent-escapes: ASE refuses them; on Fastify the router refuses them first. */
const UNDECODABLE_TARGETS = ['/shop/%zz', '/shop/%4'];

const decoyAnswer: Expected = { status: 200, reason: 'OK', headers: ASE_HEADERS, body: 'decoy', reached: 'nobody' };

const PATH_ATTACKS: Scenario[] = [
  ...DECOY_SPELLINGS.map(
    (target): Scenario => ({
      name: `path: ${target} hits the decoy and reaches nobody`,
      backends: { shop: 'echo' },
      apis: pathApis,
      steps: [{ request: { path: target, raw: true }, expect: decoyAnswer }],
    }),
  ),
  ...MALFORMED_TARGETS.map(
    (target): Scenario => ({
      name: `path: ${target} gets 400 Error: Malformed Request and reaches nobody`,
      backends: { shop: 'echo' },
      apis: pathApis,
      steps: [{ request: { path: target, raw: true }, expect: malformed }],
    }),
  ),
  ...UNDECODABLE_TARGETS.map(
    (target): Scenario => ({
      name: `path: ${target} gets 400 and reaches nobody`,
      backends: { shop: 'echo' },
      apis: pathApis,
      steps: [{ request: { path: target, raw: true }, expect: malformed, differs: FASTIFY_BAD_URL }],
    }),
  ),
  {
    name: 'path: a raw NUL in the target is refused by the HTTP parser before any handler runs',
    backends: { shop: 'echo' },
    apis: pathApis,
    steps: [{ request: { path: '/shop/a\x00b', raw: true }, expect: { status: 400, reached: 'nobody' } }],
  },
  {
    name: 'path: an absolute-form target is matched and forwarded by its path',
    backends: { shop: 'echo' },
    apis: pathApis,
    steps: [{ request: { path: 'http://evil.example/shop/items?x=1', raw: true }, expect: fromBackend('shop', '/shop/items?x=1') }],
  },
  ...[
    ['userinfo', 'good.example@evil.example'],
    ['a space', 'good.example evil'],
    ['several values', 'a.example, b.example'],
  ].map(
    ([what, host]): Scenario => ({
      name: `path: a Host header with ${what} gets 400`,
      backends: { shop: 'echo' },
      apis: pathApis,
      steps: [{ request: { path: '/shop/items', headers: { host: host! } }, expect: malformed }],
    }),
  ),
  {
    name: 'path: a clean request still reaches the backend',
    backends: { shop: 'echo' },
    apis: pathApis,
    steps: [{ request: { path: '/shop/items?id=7' }, expect: { ...fromBackend('shop', '/shop/items?id=7'), received: { method: 'GET', url: '/shop/items?id=7' } } }],
  },
  {
    name: 'path: with enable_strict_request_parser=false an unusable Host matches as absent; paths stay strict',
    backends: { b: 'echo' },
    conf: { enable_strict_request_parser: false },
    apis: { any: api('/any', { servers: on('b') }), exact: api('/exact', { hostname: 'good.example', servers: on('b') }) },
    steps: [
      { request: { path: '/any/x', headers: { host: 'good.example@evil.example' } }, expect: fromBackend('b', '/any/x') },
      // Absent Host, so not good.example's API: and not its routes in the app either.
      { request: { path: '/exact/x', headers: { host: 'good.example@evil.example' } }, expect: { status: 503, body: 'Error: Unknown API', reached: 'nobody' } },
      { request: { path: '/any/%2e%2e/%2e%2e/x', raw: true }, expect: malformed },
    ],
  },
];

// ------------------------------------------------------------------ deny and allow lists

const listApis = {
  blocking: api('/blocking', { ...identity, enable_blocking: true, servers: on('b') }),
  detect: api('/detect', { ...identity, enable_blocking: false, servers: on('b') }),
  qs: api('/qs', { apikey_qs: 'api_key', enable_blocking: true, servers: on('b') }),
};
const IDENTIFIERS = [
  { type: 'ip', entry: { type: 'ip', value: '127.0.0.1' }, headers: {} },
  { type: 'token', entry: { type: 'token', value: 'tok-1' }, headers: { authorization: 'Bearer tok-1' } },
  { type: 'api_key', entry: { type: 'api_key', name: 'x-api-key', value: 'k-1' }, headers: { 'x-api-key': 'k-1' } },
  { type: 'cookie', entry: { type: 'cookie', name: 'JSESSIONID', value: 'c-1' }, headers: { cookie: 'a=b; JSESSIONID=c-1' } },
  { type: 'username', entry: { type: 'username', value: 'mallory' }, headers: { 'x-user': 'mallory' } },
] as const;
/** Unsigned JWTs: ASE reads the claim for identification only (it is not an authenticator). */
const jwt = (claims: Record<string, unknown>): string =>
  [{ alg: 'none', typ: 'JWT' }, claims].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.sig';
const JWT_MALLORY = jwt({ sub: 'mallory' });
const JWT_ALICE = jwt({ sub: 'alice' });
/** Every `jwt.location` form, and how a request to /jwt/x carries a JWT there. */
const JWT_LOCATIONS: { location: string; carry: (token: string) => ScenarioRequest & { path: string } }[] = [
  { location: 'qs:access_token', carry: (t) => ({ path: `/jwt/x?access_token=${t}` }) },
  { location: 'h:X-JWT', carry: (t) => ({ path: '/jwt/x', headers: { 'x-jwt': t } }) },
  { location: 'h:authorization:bearer', carry: (t) => ({ path: '/jwt/x', headers: { authorization: `Bearer ${t}` } }) },
  { location: 'h:authorization:mac', carry: (t) => ({ path: '/jwt/x', headers: { authorization: `MAC id="${t}", ts="1", nonce="n", mac="m"` } }) },
  { location: 'h:cookie:access_token', carry: (t) => ({ path: '/jwt/x', headers: { cookie: `a=1; access_token=${t}` } }) },
];
const lists = (name: string, steps: Step[]): Scenario => ({ name: `lists: ${name}`, backends: { b: 'echo' }, apis: listApis, steps });

const LISTS: Scenario[] = [
  ...IDENTIFIERS.map(({ type, entry, headers }) =>
    lists(`a deny-listed ${type} is blocked on an API with enable_blocking${type === 'ip' ? '' : '; a request without it passes'}`, [
      { act: [{ deny: entry }], request: { path: '/blocking/x', headers }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
      ...(type === 'ip' ? [] : [{ request: { path: '/blocking/x' }, expect: fromBackend('b', '/blocking/x') }]),
    ]),
  ),
  ...IDENTIFIERS.map(({ type, entry, headers }) =>
    lists(`a deny-listed ${type} is only recorded on an API without enable_blocking`, [
      { act: [{ deny: entry }], request: { path: '/detect/x', headers }, expect: { ...fromBackend('b', '/detect/x'), events: ['blocked:deny_list'] } },
    ]),
  ),
  {
    name: 'lists: a deny-listed ip is blocked; a request from another client IP passes (X-Forwarded-For from a trusted proxy)',
    backends: { b: 'echo' },
    conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1' },
    apis: { blocking: listApis.blocking },
    steps: [
      {
        act: [{ deny: { type: 'ip', value: '203.0.113.7' } }],
        request: { path: '/blocking/x', headers: { 'x-forwarded-for': '203.0.113.7' } },
        expect: { ...unauthorized, events: ['blocked:deny_list'] },
      },
      { request: { path: '/blocking/x', headers: { 'x-forwarded-for': '198.51.100.2' } }, expect: { ...fromBackend('b', '/blocking/x'), events: [] } },
    ],
  },
  ...JWT_LOCATIONS.map(
    ({ location, carry }): Scenario => ({
      name: `lists: a deny-listed user name in a JWT claim at ${location} is blocked; another user, or no JWT, passes`,
      backends: { b: 'echo' },
      apis: { jwt: api('/jwt', { enable_blocking: true, jwt: { location, username: 'sub' }, servers: on('b') }) },
      steps: [
        { act: [{ deny: { type: 'username', value: 'mallory' } }], request: carry(JWT_MALLORY), expect: { ...unauthorized, events: ['blocked:deny_list'] } },
        { request: carry(JWT_ALICE), expect: { ...fromBackend('b', carry(JWT_ALICE).path), events: [] } },
        { request: { path: '/jwt/x' }, expect: { ...fromBackend('b', '/jwt/x'), events: [] } },
      ],
    }),
  ),
  {
    name: 'lists: the JWT claim and username_header both name the client: a deny-listed name in either blocks',
    backends: { b: 'echo' },
    apis: { jwt: api('/jwt', { enable_blocking: true, jwt: { location: 'h:authorization:bearer', username: 'sub' }, username_header: 'x-user', servers: on('b') }) },
    steps: [
      // A backend may read either: every user name the request carries is looked up.
      { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_ALICE}`, 'x-user': 'mallory' } }, expect: unauthorized },
      { request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_ALICE}`, 'x-user': 'alice' } }, expect: fromBackend('b', '/jwt/x') },
      { request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_MALLORY}`, 'x-user': 'alice' } }, expect: unauthorized },
      // Without a JWT the header names the user.
      { request: { path: '/jwt/x', headers: { 'x-user': 'mallory' } }, expect: unauthorized },
    ],
  },
  lists('an API key in the query string (apikey_qs) is matched by its parameter name; another key, or none, passes', [
    { act: [{ deny: { type: 'api_key', name: 'api_key', value: 'qk' } }], request: { path: '/qs/x?api_key=qk' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
    { request: { path: '/qs/x?api_key=other' }, expect: fromBackend('b', '/qs/x?api_key=other') },
    { request: { path: '/qs/x?other=qk' }, expect: fromBackend('b', '/qs/x?other=qk') },
  ]),
  lists('the allow list wins over the deny list', [
    { act: [{ deny: { type: 'ip', value: '127.0.0.1' } }, { allow: { type: 'token', value: 'good' } }], request: { path: '/blocking/x' }, expect: unauthorized },
    { request: { path: '/blocking/x', headers: { authorization: 'Bearer good' } }, expect: { ...fromBackend('b', '/blocking/x'), events: [] } },
  ]),
  lists('with the firewall disabled the deny list is not enforced', [
    { act: [{ deny: { type: 'ip', value: '127.0.0.1' } }, { firewall: false }], request: { path: '/blocking/x' }, expect: { ...fromBackend('b', '/blocking/x'), events: [] } },
    { act: [{ firewall: true }], request: { path: '/blocking/x' }, expect: unauthorized },
  ]),
];

// ------------------------------------------------------------------ identity: hostile input

const inputApis = {
  id: api('/id', { enable_blocking: true, oauth2_access_token: true, apikey_qs: 'key', cookie: 'sid', servers: on('b') }),
  jwt: api('/jwt', { enable_blocking: true, jwt: { location: 'h:authorization:bearer', username: 'sub' }, servers: on('b') }),
};
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A request the identifiers cannot be read from is served as one without them: never an error. */
const served = (path: string): Expected => ({ ...fromBackend('b', path), events: [] });
const refused: Expected = { ...unauthorized, events: ['blocked:deny_list'] };
const withHeader = (path: string, name: string, values: string[], expect: Expected): Step[] => values.map((v) => ({ request: { path, headers: { [name]: v } }, expect }));
const hostileInput = (name: string, steps: Step[]): Scenario => ({ name: `identity: ${name}`, backends: { b: 'echo' }, apis: inputApis, steps });

const HOSTILE_INPUT: Scenario[] = [
  hostileInput('a bearer token is matched exactly (scheme in any case); a malformed Authorization header is no token and never fails a request', [
    { act: [{ deny: { type: 'token', value: 'abc' } }], request: { path: '/id/x', headers: { authorization: 'Bearer abc' } }, expect: refused },
    ...withHeader('/id/x', 'authorization', ['bearer abc', 'BEARER abc'], refused),
    ...withHeader('/id/x', 'authorization', ['Bearer abcd', 'Bearerabc', 'Bearer', 'Bearer    ', 'Basic abc', 'abc', 'MAC id="abc"', `Bearer ${'a'.repeat(12000)}`], served('/id/x')),
    { request: { path: '/id/x', raw: true, headers: { authorization: '' } }, expect: served('/id/x') },
  ]),
  hostileInput('a garbage or oversized JWT never fails a request; it names no user', [
    { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_MALLORY}` } }, expect: refused },
    // An array claim names its first element.
    { request: { path: '/jwt/x', headers: { authorization: `Bearer ${jwt({ sub: ['mallory', 'alice'] })}` } }, expect: refused },
    ...withHeader(
      '/jwt/x',
      'authorization',
      [
        'Bearer not-a-jwt',
        'Bearer a.b',
        'Bearer ..',
        `Bearer ${JWT_MALLORY}.extra`,
        `Bearer ${b64({ alg: 'none' })}.${Buffer.from('{{{').toString('base64url')}.s`,
        `Bearer ${b64({})}.${b64(['mallory'])}.s`,
        `Bearer ${b64({})}.${b64('mallory')}.s`,
        `Bearer ${b64({})}.!!!.s`,
        `Bearer ${b64({})}.${b64({ sub: { name: 'mallory' } })}.s`,
        `Bearer ${b64({})}.${'A'.repeat(9000)}.s`,
        `Bearer ${'x'.repeat(12000)}`,
      ],
      served('/jwt/x'),
    ),
  ]),
  hostileInput('cookies without values or malformed never fail a request; the named cookie is matched exactly, and a listed value in any repeat is refused', [
    { act: [{ deny: { type: 'cookie', name: 'sid', value: 'evil' } }], request: { path: '/id/x', headers: { cookie: 'sid=evil' } }, expect: refused },
    ...withHeader('/id/x', 'cookie', ['x=1; sid="evil"', 'a=%zz; sid=evil', 'sid=evil; sid=ok', 'sid=ok; sid=evil'], refused),
    ...withHeader('/id/x', 'cookie', ['sid', 'sid=', '=evil', ';;;', 'sid="evil', 'SID=evil', 'xsid=evil', 'a=%zz; sid=ok'], served('/id/x')),
    { request: { path: '/id/x', raw: true, headers: { cookie: '' } }, expect: served('/id/x') },
  ]),
  hostileInput('repeated query keys: the first non-empty value is the API key, decoded; a deny-listed key in any repeat is refused', [
    { act: [{ deny: { type: 'api_key', name: 'key', value: 'bad' } }], request: { path: '/id/x?key=bad&key=good' }, expect: refused },
    { request: { path: '/id/x?key=%62ad' }, expect: refused },
    { request: { path: '/id/x?x=1&key=bad' }, expect: refused },
    // Backends disagree on which repeat counts, so every repeat is checked against the deny list.
    { request: { path: '/id/x?key=good&key=bad' }, expect: refused },
    { request: { path: '/id/x?key=&key=bad' }, expect: refused },
    ...['/id/x?keys=bad', '/id/x?key=bad%'].map((path): Step => ({ request: { path }, expect: served(path) })),
  ]),
];

// ------------------------------------------------------------------ pattern enforcement

const patternApis = {
  methods: api('/methods', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern({ methods_allowed: ['GET', 'post'] }), servers: on('b') }),
  json: api('/json', { enable_blocking: true, api_pattern_enforcement: pattern({ content_type_allowed: 'application/json' }), servers: on('b') }),
  secure: api('/secure', {
    enable_blocking: true,
    api_pattern_enforcement: pattern({ protocol_allowed: 'https', http_redirect: { response_code: 301, response_def: 'Moved Permanently', https_url: 'https://shop.example.com' } }),
    servers: on('b'),
  }),
  tls: api('/tls', { enable_blocking: true, api_pattern_enforcement: pattern({ protocol_allowed: 'HTTPS, WSS' }), servers: on('b') }),
  detect: api('/detect', { enable_blocking: false, api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }), servers: on('b') }),
  other: api('/other', { enable_blocking: true, servers: on('b') }),
  mandatory: api('/mandatory', { enable_blocking: true, oauth2_access_token: true, is_token_mandatory: true, servers: on('b') }),
  watch: api('/watch', { enable_blocking: false, oauth2_access_token: true, is_token_mandatory: true, servers: on('b') }),
};
/** The `attack` event of a detection on this machine's client (127.0.0.1). */
const attack = (kind: ListedEntry['tag'], apiId: string, over: { identifier?: ListEntry; listed?: boolean; blocked?: boolean } = {}): AttackEvent => ({
  kind,
  api: apiId,
  ip: '127.0.0.1',
  identifier: over.identifier ?? { type: 'ip', value: '127.0.0.1' },
  listed: over.listed ?? true,
  blocked: over.blocked ?? true,
});
const patterns = (name: string, steps: Step[]): Scenario => ({
  name: `pattern: ${name}`,
  backends: { b: 'echo' },
  conf: { enable_ase_detected_attack: true },
  apis: patternApis,
  steps,
});

const PATTERN: Scenario[] = [
  patterns('a method outside methods_allowed is blocked with the API error response and deny-lists the client everywhere', [
    { request: { path: '/methods/x', method: 'POST', headers: { 'content-length': '0' } }, expect: { ...fromBackend('b', '/methods/x'), received: { method: 'POST' } } },
    { request: { path: '/methods/x', method: 'DELETE' }, expect: { ...violation, denyList: [ip('invalid_method')], events: ['attack:invalid_method:true', 'blocked:invalid_method'] } },
    // The entry now blocks the client on every API with enable_blocking, with that API's response.
    { request: { path: '/other/y' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
  ]),
  patterns('a violation is pinned on the token when the request carries one', [
    {
      request: { path: '/methods/x', method: 'PUT', headers: { authorization: 'Bearer t-42' } },
      expect: {
        ...violation,
        denyList: [{ type: 'token', value: 't-42', tag: 'invalid_method' }],
        attacks: [attack('invalid_method', 'methods', { identifier: { type: 'token', value: 't-42' } })],
      },
    },
    { request: { path: '/methods/x', headers: { authorization: 'Bearer t-42' } }, expect: { ...violation, events: ['blocked:deny_list'], attacks: [] } },
    { request: { path: '/methods/x' }, expect: fromBackend('b', '/methods/x') },
  ]),
  patterns('a body of another media type is blocked; charset and case do not matter; bodiless requests are not checked', [
    {
      request: { path: '/json/x', method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '{}' },
      expect: { ...fromBackend('b', '/json/x'), received: { method: 'POST', body: '{}' } },
    },
    { request: { path: '/json/x' }, expect: fromBackend('b', '/json/x') },
    { request: { path: '/json/x', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }, expect: { ...violation, denyList: [ip('invalid_content_type')] } },
  ]),
  patterns('a tab inside the media type does not sneak past the content-type rule', [
    { request: { path: '/json/x', method: 'POST', headers: { 'content-type': 'application/json\t;x=1' }, body: '{}' }, expect: violation },
  ]),
  patterns('plain HTTP on an HTTPS-only API with https_url is redirected, keeping path and query, and is not a violation', [
    {
      request: { path: '/secure/cart?id=3' },
      expect: { status: 301, reason: 'Moved Permanently', headers: { location: 'https://shop.example.com/secure/cart?id=3' }, body: '', reached: 'nobody', denyList: [], events: [] },
    },
  ]),
  patterns('plain HTTP on an HTTPS-only API without a redirect is an invalid_protocol violation', [
    { request: { path: '/tls/x' }, expect: { ...violation, denyList: [ip('invalid_protocol')] } },
  ]),
  patterns('on an API without enable_blocking a violation is recorded and the request goes through', [
    { request: { path: '/detect/x', method: 'DELETE' }, expect: { ...fromBackend('b', '/detect/x'), received: { method: 'DELETE' }, events: ['attack:invalid_method:false'], denyList: [ip('invalid_method')] } },
  ]),
  patterns(
    'disabling ASE-detected attacks removes every ASE-detected entry (decoy, invalid_*, missing_token), keeps manual and abs_generated ones, and unblocks those clients; while disabled a violation is blocked but lists nobody',
    [
      {
        act: [
          { deny: { type: 'ip', value: '10.9.9.9' } },
          { deny: { type: 'username', value: 'eve' }, tag: 'abs_generated' },
          { deny: { type: 'ip', value: '10.0.0.1' }, tag: 'decoy' },
          { deny: { type: 'api_key', name: 'x-api-key', value: 'k' }, tag: 'invalid_content_type' },
          { deny: { type: 'cookie', name: 'JSESSIONID', value: 'c' }, tag: 'invalid_protocol' },
        ],
        request: { path: '/methods/x', method: 'DELETE', headers: { authorization: 'Bearer t-1' } },
        expect: { ...violation, attacks: [attack('invalid_method', 'methods', { identifier: { type: 'token', value: 't-1' } })] },
      },
      {
        request: { path: '/mandatory/x' },
        expect: {
          ...unauthorized,
          denyList: [
            ip('manual', '10.9.9.9'),
            { type: 'username', value: 'eve', tag: 'abs_generated' },
            ip('decoy', '10.0.0.1'),
            { type: 'api_key', name: 'x-api-key', value: 'k', tag: 'invalid_content_type' },
            { type: 'cookie', name: 'JSESSIONID', value: 'c', tag: 'invalid_protocol' },
            { type: 'token', value: 't-1', tag: 'invalid_method' },
            ip('missing_token'),
          ],
          attacks: [attack('missing_token', 'mandatory')],
        },
      },
      { request: { path: '/other/y' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
      {
        act: [{ aseDetected: false }],
        request: { path: '/other/y' },
        expect: { ...fromBackend('b', '/other/y'), denyList: [ip('manual', '10.9.9.9'), { type: 'username', value: 'eve', tag: 'abs_generated' }], events: [] },
      },
      {
        request: { path: '/methods/x', method: 'DELETE' },
        expect: { ...violation, denyList: [ip('manual', '10.9.9.9'), { type: 'username', value: 'eve', tag: 'abs_generated' }], attacks: [attack('invalid_method', 'methods', { listed: false })] },
      },
      {
        act: [{ aseDetected: true }],
        request: { path: '/methods/x', method: 'DELETE' },
        expect: {
          ...violation,
          denyList: [ip('manual', '10.9.9.9'), { type: 'username', value: 'eve', tag: 'abs_generated' }, ip('invalid_method')],
          attacks: [attack('invalid_method', 'methods')],
        },
      },
    ],
  ),
  patterns('is_token_mandatory: a request without a token is blocked and its IP listed (missing_token); the client stays blocked with a token', [
    { request: { path: '/mandatory/x', headers: { authorization: 'Bearer t-1' } }, expect: { ...fromBackend('b', '/mandatory/x'), denyList: [], events: [] } },
    {
      request: { path: '/mandatory/x' },
      expect: { ...unauthorized, denyList: [ip('missing_token')], events: ['attack:missing_token:true', 'blocked:missing_token'], attacks: [attack('missing_token', 'mandatory')] },
    },
    { request: { path: '/mandatory/x', headers: { authorization: 'Bearer t-1' } }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
  ]),
  patterns('is_token_mandatory without enable_blocking: the missing token is detected and the IP listed, but the request is served', [
    {
      request: { path: '/watch/x' },
      expect: { ...fromBackend('b', '/watch/x'), denyList: [ip('missing_token')], events: ['attack:missing_token:false'], attacks: [attack('missing_token', 'watch', { blocked: false })] },
    },
    { request: { path: '/watch/x', headers: { authorization: 'Bearer t-1' } }, expect: { ...fromBackend('b', '/watch/x'), events: ['blocked:deny_list'] } },
  ]),
];

// ------------------------------------------------------------------ decoys, health, gateway mode, failure

const decoyApis = {
  other: api('/other', { enable_blocking: true, servers: on('o') }),
  shop: api('/shop', {
    enable_blocking: true,
    servers: on('b'),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: '{"admin": true}', decoy_subpaths: ['/shop/admin'] },
  }),
  trap: api('/trap', { decoy_config: { decoy_enabled: true, response_code: 404, response_def: 'Not Found', response_message: 'nothing here', decoy_subpaths: [] } }),
};

const MISC: Scenario[] = [
  {
    name: "decoy: the attacker's path: probe a decoy, get the decoy answer (no backend sees it), then be blocked on the real API and on another API",
    backends: { b: 'echo', o: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: decoyApis,
    steps: [
      { request: { path: '/shop/items' }, expect: fromBackend('b', '/shop/items') },
      { request: { path: '/other/x' }, expect: fromBackend('o', '/other/x') },
      {
        request: { path: '/shop/admin/users?id=1' },
        expect: { ...decoyAnswer, body: '{"admin": true}', denyList: [ip('decoy')], events: ['attack:decoy:false'], attacks: [attack('decoy', 'shop', { blocked: false })] },
      },
      { request: { path: '/shop/items' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
      { request: { path: '/other/x' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
      // A listed client still gets the decoy: the trap never gives itself away.
      { request: { path: '/shop/admin' }, expect: { ...decoyAnswer, body: '{"admin": true}' } },
    ],
  },
  {
    name: 'decoy: with ASE-detected attacks disabled the decoy still answers, but nobody is listed',
    backends: { b: 'echo', o: 'echo' },
    apis: decoyApis,
    steps: [
      { request: { path: '/shop/admin' }, expect: { ...decoyAnswer, body: '{"admin": true}', denyList: [], attacks: [attack('decoy', 'shop', { listed: false, blocked: false })] } },
      { request: { path: '/shop/items' }, expect: { ...fromBackend('b', '/shop/items'), events: [] } },
    ],
  },
  {
    name: 'decoy: an API with decoy_enabled and no subpaths is a decoy as a whole; HEAD gets the head only',
    apis: { trap: decoyApis.trap },
    steps: [
      { request: { path: '/trap/anything', method: 'POST', body: 'x' }, expect: { status: 404, reason: 'Not Found', headers: ASE_HEADERS, body: 'nothing here', reached: 'nobody', denyList: [] } },
      { request: { path: '/trap', method: 'HEAD' }, expect: { status: 404, reason: 'Not Found', headers: { ...ASE_HEADERS, 'content-length': '12' }, body: '', reached: 'nobody' } },
    ],
  },
  {
    name: 'health: with enable_ase_health, GET /ase answers 200 OK',
    conf: { enable_ase_health: true },
    apis: { root: api('/') },
    steps: [
      { request: { path: '/ase' }, expect: { status: 200, reason: 'OK', headers: ASE_HEADERS, body: 'OK', reached: 'nobody' } },
      { request: { path: '/ase/more' }, expect: hostApp('GET', '/ase/more') },
    ],
  },
  {
    name: 'health: without enable_ase_health, /ase is an ordinary path',
    apis: {},
    steps: [{ request: { path: '/ase' }, expect: hostApp('GET', '/ase') }],
  },
  {
    name: 'gateway mode: no API and no servers are answered by ASE, never by the host app',
    mode: 'gateway',
    apis: { local: api('/local') },
    steps: [
      { request: { path: '/nothing' }, expect: { status: 503, reason: 'Service Unavailable', headers: ASE_HEADERS, body: 'Error: Unknown API', reached: 'nobody' } },
      { request: { path: '/local/x' }, expect: { status: 503, reason: 'Service Unavailable', headers: ASE_HEADERS, body: 'Error: No Backend Available', reached: 'nobody' } },
    ],
  },
  {
    name: 'gateway mode: a host no API names gets Unknown Hostname; a known host, unknown path, Unknown API',
    mode: 'gateway',
    apis: { hosted: api('/hosted', { hostname: 'only.example' }) },
    steps: [
      { request: { path: '/hosted/x', headers: { host: 'other.example' } }, expect: { status: 503, reason: 'Service Unavailable', headers: ASE_HEADERS, body: 'Error: Unknown Hostname', reached: 'nobody' } },
      { request: { path: '/nothing', headers: { host: 'only.example' } }, expect: { status: 503, body: 'Error: Unknown API', reached: 'nobody' } },
    ],
  },
  {
    name: 'failure: an error inside the enforcer fails closed with 500, and nothing is reached',
    backends: { b: 'echo' },
    apis: { shop: api('/shop', { servers: on('b') }) },
    steps: [
      { request: { path: '/shop/x' }, expect: fromBackend('b', '/shop/x') },
      {
        act: [{ breakDecide: true }],
        request: { path: '/shop/x' },
        // The cause is not shown to the client.
        expect: { status: 500, reason: 'Internal Server Error', body: /^(?![\s\S]*decide exploded)/, reached: 'nobody' },
        differs: {
          express: {
            expect: { body: /^<!DOCTYPE html>/ },
            why: "Express's final handler renders the error as an HTML page, and outside NODE_ENV=production that page shows the error's message and stack (Express's own default; @ase/express passes the error to next(err)).",
          },
        },
      },
      { request: { path: '/public' }, expect: { status: 500, reached: 'nobody' } },
    ],
  },
];

// ------------------------------------------------------------------ client IP and X-Forwarded-For

const XFF: Scenario[] = [
  {
    name: 'xff: with enable_xff off a spoofed X-Forwarded-For neither evades nor frames anyone, and is not passed on',
    backends: { b: 'echo' },
    apis: { shop: api('/shop', { enable_blocking: true, servers: on('b') }) },
    steps: [
      {
        act: [{ deny: { type: 'ip', value: '203.0.113.7' } }],
        request: { path: '/shop/x', headers: { 'x-forwarded-for': '203.0.113.7' } },
        expect: { ...fromBackend('b', '/shop/x'), received: { headers: { 'x-forwarded-for': '127.0.0.1' } } },
      },
      { act: [{ deny: { type: 'ip', value: '127.0.0.1' } }], request: { path: '/shop/x', headers: { 'x-forwarded-for': '198.51.100.1' } }, expect: unauthorized },
    ],
  },
  {
    name: 'xff: with enable_xff on behind a trusted proxy, the first untrusted address from the right is the client',
    backends: { b: 'echo' },
    conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1,10.0.0.0/8' },
    apis: { shop: api('/shop', { enable_blocking: true, servers: on('b') }) },
    steps: [
      // The client cannot hide behind a forged left-most entry: 203.0.113.7 is the first untrusted hop.
      { act: [{ deny: { type: 'ip', value: '203.0.113.7' } }], request: { path: '/shop/x', headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.7, 10.1.2.3' } }, expect: unauthorized },
      {
        request: { path: '/shop/x', headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' } },
        expect: { ...fromBackend('b', '/shop/x'), received: { headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.2, 127.0.0.1' } } },
      },
    ],
  },
];

// ------------------------------------------------------------------ proxying to backends

const UPSTREAM: Scenario[] = [
  {
    name: 'upstream: requests are spread round-robin over the servers',
    backends: { a: 'echo', b: 'echo' },
    apis: { rr: api('/rr', { servers: on('a', 'b') }) },
    steps: ['a', 'b', 'a', 'b'].map((name): Step => ({ request: { path: '/rr/x' }, expect: fromBackend(name, '/rr/x') })),
  },
  {
    name: 'upstream: internal_url replaces the public url prefix before forwarding',
    backends: { a: 'echo' },
    apis: { m: api('/Public/v1', { api_mapping: { internal_url: '/internal/v2' }, servers: on('a') }) },
    steps: [
      { request: { path: '/public/V1/Items/7?x=1' }, expect: fromBackend('a', '/internal/v2/Items/7?x=1') },
      { request: { path: '/public/v1' }, expect: fromBackend('a', '/internal/v2') },
    ],
  },
  {
    name: 'upstream: method, body and headers reach the backend, with X-Forwarded-* set by ASE; the answer comes back as sent',
    backends: { a: 'echo' },
    apis: { p: api('/p', { servers: on('a') }) },
    steps: [
      {
        request: { path: '/p/x?q=1', method: 'POST', headers: { 'content-type': 'application/json', 'x-custom': '1' }, body: '{"n":1}' },
        expect: {
          status: 200,
          reason: 'OK',
          headers: { 'x-backend': 'a', 'content-type': 'application/json', 'cache-control': null },
          body: '{"server":"a","url":"/p/x?q=1"}',
          reached: { backend: 'a' },
          received: {
            method: 'POST',
            url: '/p/x?q=1',
            body: '{"n":1}',
            headers: { 'x-custom': '1', 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': '127.0.0.1' },
          },
        },
      },
    ],
  },
  {
    name: 'upstream: a server that refuses connections is marked down and the request retried once on the next one',
    backends: { dead: 'refused', a: 'echo' },
    apis: { f: api('/f', { servers: on('dead', 'a') }) },
    steps: [
      { request: { path: '/f/x' }, expect: { ...fromBackend('a', '/f/x'), events: ['backend_down:dead'] } },
      // Marked down after the first failure: skipped, not retried on every request.
      { request: { path: '/f/x' }, expect: { ...fromBackend('a', '/f/x'), events: [] } },
      { request: { path: '/f/x' }, expect: { ...fromBackend('a', '/f/x'), events: [] } },
    ],
  },
  {
    name: 'upstream: no reachable server gets 503 Error: No Backend Available',
    backends: { dead1: 'refused', dead2: 'refused' },
    apis: { f: api('/f', { servers: on('dead1', 'dead2') }) },
    steps: [
      { request: { path: '/f/x' }, expect: { status: 503, reason: 'Service Unavailable', headers: ASE_HEADERS, body: 'Error: No Backend Available', reached: 'nobody', events: ['backend_down:dead1', 'backend_down:dead2'] } },
      { request: { path: '/f/x' }, expect: { status: 503, reason: 'Service Unavailable', headers: ASE_HEADERS, body: 'Error: No Backend Available', reached: 'nobody', events: [] } },
    ],
  },
  {
    name: 'upstream: a backend slower than backend_timeout gets 504',
    backends: { slow: 'slow' },
    conf: { backend_timeout: 200 },
    apis: { s: api('/s', { servers: on('slow') }) },
    steps: [{ request: { path: '/s/x' }, expect: { status: 504, reason: 'Gateway Timeout', headers: ASE_HEADERS, body: 'Error: Gateway Timeout', reached: { backend: 'slow' } } }],
  },
  {
    name: 'upstream: a backend that answers garbage gets 502, and its bytes are not echoed',
    backends: { g: 'garbage' },
    apis: { g: api('/g', { servers: on('g') }) },
    steps: [{ request: { path: '/g/x' }, expect: { status: 502, reason: 'Bad Gateway', headers: ASE_HEADERS, body: 'Error: Bad Gateway', reached: { backend: 'g' } } }],
  },
  {
    name: 'upstream: server_ssl proxies over HTTPS, verifying the backend against server_ca_cert_path',
    backends: { t: 'tls' },
    conf: { server_ca_cert_path: TLS_CA },
    apis: { t: api('/t', { server_ssl: true, servers: on('t') }) },
    steps: [{ request: { path: '/t/x' }, expect: { status: 200, body: 'over tls', reached: { backend: 't' }, received: { url: '/t/x' } } }],
  },
  {
    name: 'upstream: server_ssl without the CA does not trust the backend: 502, nothing forwarded',
    backends: { t: 'tls' },
    apis: { t: api('/t', { server_ssl: true, servers: on('t') }) },
    steps: [{ request: { path: '/t/x' }, expect: { status: 502, body: 'Error: Bad Gateway', reached: 'nobody' } }],
  },
];

// ------------------------------------------------------------------ flow control, health checks, sticky sessions

/** Two clients behind the trusted proxy 127.0.0.1 (every request comes from there). */
const XFF_TRUST_LOCAL = { enable_xff: true, xff_trusted_proxies: '127.0.0.1' };
const clientA = { 'x-forwarded-for': '203.0.113.1' };
const clientB = { 'x-forwarded-for': '203.0.113.2' };

const tooMany: Expected = {
  status: 429,
  reason: 'Too Many Requests',
  headers: {
    ...ASE_HEADERS,
    // Whole seconds to the end of the window, so 1..60 for a minute window.
    'retry-after': /^([1-9]|[1-5][0-9]|60)$/,
    ratelimit: /^limit=3, remaining=0, reset=([1-9]|[1-5][0-9]|60)$/,
    'ratelimit-policy': '3;w=60',
  },
  body: 'Error: Too Many Requests',
  reached: 'nobody',
  events: ['flow_control:client_spike', 'blocked:rate_limited'],
};
const busy = (retryAfter: string | RegExp = '1'): Answer => ({
  status: 503,
  reason: 'Service Unavailable',
  headers: { ...ASE_HEADERS, 'retry-after': retryAfter },
  body: 'Error: Service Unavailable',
  reached: 'nobody',
});
const ok = (name: string): Answer => ({ status: 200, reached: { backend: name }, headers: { 'x-backend': name } });
const times = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

const FLOW: Scenario[] = [
  {
    name: 'flow: the (N+1)th request of a client within a client_spike_threshold window gets 429 with Retry-After and RateLimit headers; another client passes; only while the firewall is enabled',
    backends: { b: 'echo' },
    conf: XFF_TRUST_LOCAL,
    apis: { f: api('/f', { flow_control: { client_spike_threshold: '3/minute' }, servers: on('b') }) },
    steps: [
      { repeat: 3, request: { path: '/f/x', headers: clientA }, expect: { spread: { b: 3 }, status: 200, events: [] } },
      { request: { path: '/f/x', headers: clientA }, expect: tooMany },
      { request: { path: '/f/x', headers: clientB }, expect: { ...fromBackend('b', '/f/x'), events: [] } },
      { act: [{ firewall: false }], request: { path: '/f/x', headers: clientA }, expect: { ...fromBackend('b', '/f/x'), events: [] } },
      { act: [{ firewall: true }], request: { path: '/f/x', headers: clientA }, expect: tooMany },
    ],
  },
  {
    name: 'flow: a server at its server_connection_quota gets no more than its quota at once; without queueing the rest get 503 with Retry-After; only while the firewall is enabled',
    backends: { a: 'delayed' },
    apis: { q: api('/q', { servers: [{ backend: 'a', server_connection_quota: 2 }] }) },
    steps: [
      {
        concurrent: times(3, { path: '/q/x' }),
        expect: { answers: [ok('a'), ok('a'), busy()], backends: { a: { maxConcurrent: 2 } }, events: ['flow_control:server_busy'] },
      },
      { act: [{ firewall: false }], concurrent: times(3, { path: '/q/x' }), expect: { answers: times(3, ok('a')), backends: { a: { maxConcurrent: 3 } }, events: [] } },
    ],
  },
  {
    name: 'flow: with server_connection_queueing, requests over the quota wait and complete as slots free, never above the quota',
    backends: { a: 'delayed' },
    apis: { q: api('/q', { flow_control: { server_connection_queueing: true }, servers: [{ backend: 'a', server_connection_quota: 2 }] }) },
    steps: [
      {
        // Bodies too: a request that waited for its slot is forwarded whole.
        concurrent: [1, 2, 3, 4].map((n) => ({ method: 'POST', path: `/q/${n}`, headers: { 'content-type': 'text/plain' }, body: `body ${n}` })),
        expect: {
          answers: [1, 2, 3, 4].map((n) => ({ ...ok('a'), received: { method: 'POST', url: `/q/${n}`, body: `body ${n}` } })),
          backends: { a: { maxConcurrent: 2 } },
          events: [],
        },
      },
    ],
  },
  {
    name: 'flow: the queue is bounded by queue_max_size and queue_max_wait: the rest get 503',
    backends: { a: 'delayed' },
    conf: { queue_max_size: 1, queue_max_wait: DELAYED_MS / 5 },
    apis: { q: api('/q', { flow_control: { server_connection_queueing: true }, servers: [{ backend: 'a', server_connection_quota: 1 }] }) },
    steps: [
      {
        concurrent: times(3, { path: '/q/x' }),
        // One served; one queued until queue_max_wait; one finds the queue full.
        expect: { answers: [ok('a'), busy(), busy()], backends: { a: { maxConcurrent: 1 } }, events: ['flow_control:queue_full', 'flow_control:queue_timeout'] },
      },
    ],
  },
  {
    name: 'flow: a server over its server_spike_threshold is skipped in favour of another; when every server is over it, 503 with Retry-After',
    backends: { a: 'echo', b: 'echo' },
    apis: {
      s: api('/s', {
        servers: [
          { backend: 'a', server_spike_threshold: '1/minute' },
          { backend: 'b', server_spike_threshold: '2/minute' },
        ],
      }),
    },
    steps: [
      { request: { path: '/s/x' }, expect: fromBackend('a', '/s/x') },
      { request: { path: '/s/x' }, expect: fromBackend('b', '/s/x') },
      // a's turn, but a is over its rate: b takes it.
      { request: { path: '/s/x' }, expect: { ...fromBackend('b', '/s/x'), events: [] } },
      { request: { path: '/s/x' }, expect: { ...busy(/^([1-9]|[1-5][0-9]|60)$/), events: ['flow_control:server_busy'] } },
    ],
  },
  {
    name: 'flow: with a quota on every server, sequential requests are spread by quota (1 and 2: a third and two thirds)',
    backends: { a: 'echo', b: 'echo' },
    apis: {
      w: api('/w', {
        servers: [
          { backend: 'a', server_connection_quota: 1 },
          { backend: 'b', server_connection_quota: 2 },
        ],
      }),
    },
    steps: [{ repeat: 12, request: { path: '/w/x' }, expect: { spread: { a: 4, b: 8 }, status: 200 } }],
  },
  {
    name: 'health: a failing server stops receiving traffic after health_retry_count failed checks and receives it again after it recovers',
    backends: { flaky: 'failing', steady: 'echo' },
    apis: {
      h: api('/h', {
        health_check: true,
        health_check_interval: 1,
        health_retry_count: 2,
        health_url: '/health',
        servers: on('flaky', 'steady'),
      }),
    },
    steps: [
      // flaky fails from the start; its first failed check (health checks start with the enforcer) does not take it out.
      { request: { path: '/h/x' }, expect: { status: 503, body: 'down', reached: { backend: 'flaky' } } },
      { request: { path: '/h/x' }, expect: fromBackend('steady', '/h/x') },
      // The second failed check, one interval later, takes it out at once.
      { waitFor: { event: 'backend_down:flaky', withinMs: 2500 }, expect: { backends: { flaky: { failedProbes: 2 } } } },
      { repeat: 4, request: { path: '/h/x' }, expect: { spread: { steady: 4 }, status: 200 } },
      // One good check brings it back.
      { act: [{ backend: 'flaky', healthy: true }], waitFor: { event: 'backend_up:flaky', withinMs: 2500 } },
      { repeat: 2, request: { path: '/h/x' }, expect: { spread: { flaky: 1, steady: 1 }, status: 200 } },
    ],
  },
  {
    name: 'sticky: with cookie_persistence_enabled a client stays on the server that set its session cookie across 20 requests; others still spread; logout ends it',
    backends: { a: 'session', b: 'session' },
    apis: { s: api('/s', { cookie: 'sid', cookie_persistence_enabled: true, logout_api_enabled: true, servers: on('a', 'b') }) },
    steps: [
      { request: { path: '/s/login' }, expect: { ...fromBackend('a', '/s/login'), headers: { 'x-backend': 'a', 'set-cookie': 'sid=a-1; Path=/' } } },
      { repeat: 20, request: { path: '/s/x', headers: { cookie: 'sid=a-1' } }, expect: { spread: { a: 20 }, status: 200 } },
      { repeat: 4, request: { path: '/s/x' }, expect: { spread: { a: 2, b: 2 }, status: 200 } },
      { request: { path: '/s/x', headers: { cookie: 'x=1; sid=a-1' } }, expect: fromBackend('a', '/s/x') },
      { request: { path: '/s/logout', headers: { cookie: 'sid=a-1' } }, expect: fromBackend('a', '/s/logout') },
      // No longer pinned: round-robin, whose turn is b's.
      { request: { path: '/s/x', headers: { cookie: 'sid=a-1' } }, expect: fromBackend('b', '/s/x') },
    ],
  },
];

export const SCENARIOS: readonly Scenario[] = [...MATCHING, ...HOST_APP, ...PATH_ATTACKS, ...LISTS, ...HOSTILE_INPUT, ...PATTERN, ...MISC, ...XFF, ...UPSTREAM, ...FLOW];
