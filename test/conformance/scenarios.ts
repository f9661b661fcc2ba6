import * as path from 'node:path';
import type { BackendRef, Expected, ListedEntry, Scenario, Step } from './types';

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

const pattern = (over: Record<string, unknown>): Record<string, unknown> => ({
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: [],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
  ...over,
});
const violation: Expected = { status: 401, reason: 'Unauthorized', headers: ASE_HEADERS, body: '401 Unauthorized', reached: 'nobody' };

const identity = { oauth2_access_token: true, apikey_header: 'X-API-Key', cookie: 'JSESSIONID', username_header: 'x-user' };

const TLS_CA = path.join(__dirname, '..', 'fixtures', 'tls', 'ca.crt');

/** Fastify's router refuses an invalid percent-escape before any hook runs. */
const FASTIFY_BAD_URL = {
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
  root: api('/', { hostname: 'root.example.com', servers: on('c') }),
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
  matching('url "/" on a host matches every path of that host', [
    { request: { path: '/anything/deep', headers: { host: 'root.example.com' } }, expect: fromBackend('c', '/anything/deep') },
  ]),
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
      { request: { path: '/exact/x', headers: { host: 'good.example@evil.example' } }, expect: hostApp('GET', '/exact/x') },
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
    name: 'lists: a deny-listed user name is found in a JWT claim',
    backends: { b: 'echo' },
    apis: { jwt: api('/jwt', { enable_blocking: true, jwt: { location: 'h:authorization:bearer', username: 'sub' }, servers: on('b') }) },
    steps: [
      { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_MALLORY}` } }, expect: unauthorized },
      { request: { path: '/jwt/x', headers: { authorization: `Bearer ${JWT_ALICE}` } }, expect: fromBackend('b', '/jwt/x') },
    ],
  },
  lists('an API key in the query string is matched by its parameter name', [
    { act: [{ deny: { type: 'api_key', name: 'api_key', value: 'qk' } }], request: { path: '/qs/x?api_key=qk' }, expect: unauthorized },
    { request: { path: '/qs/x?api_key=other' }, expect: fromBackend('b', '/qs/x?api_key=other') },
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
};
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
    { request: { path: '/methods/x', method: 'DELETE' }, expect: { ...violation, denyList: [ip('invalid_method')], events: ['attack:invalid_method:true'] } },
    // The entry now blocks the client on every API with enable_blocking, with that API's response.
    { request: { path: '/other/y' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
  ]),
  patterns('a violation is pinned on the token when the request carries one', [
    {
      request: { path: '/methods/x', method: 'PUT', headers: { authorization: 'Bearer t-42' } },
      expect: { ...violation, denyList: [{ type: 'token', value: 't-42', tag: 'invalid_method' }] },
    },
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
  patterns('with ASE-detected attacks disabled a violation is blocked but lists nobody, and disabling purges automatic entries', [
    { act: [{ deny: { type: 'ip', value: '10.9.9.9' } }], request: { path: '/methods/x', method: 'DELETE' }, expect: { ...violation, denyList: [ip('manual', '10.9.9.9'), ip('invalid_method')] } },
    { act: [{ aseDetected: false }], request: { path: '/methods/x', method: 'DELETE' }, expect: { ...violation, denyList: [ip('manual', '10.9.9.9')], events: ['attack:invalid_method:true'] } },
  ]),
  patterns('is_token_mandatory: a request without a token is blocked and its IP listed', [
    { request: { path: '/mandatory/x', headers: { authorization: 'Bearer t-1' } }, expect: fromBackend('b', '/mandatory/x') },
    { request: { path: '/mandatory/x' }, expect: { ...unauthorized, denyList: [ip('missing_token')], events: ['attack:missing_token:true'] } },
  ]),
];

// ------------------------------------------------------------------ decoys, health, gateway mode, failure

const decoyApis = {
  shop: api('/shop', {
    enable_blocking: true,
    servers: on('b'),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: '{"admin": true}', decoy_subpaths: ['/shop/admin'] },
  }),
  trap: api('/trap', { decoy_config: { decoy_enabled: true, response_code: 404, response_def: 'Not Found', response_message: 'nothing here', decoy_subpaths: [] } }),
};

const MISC: Scenario[] = [
  {
    name: 'decoy: a decoy hit deny-lists the client, who is then blocked on the API',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: decoyApis,
    steps: [
      { request: { path: '/shop/items' }, expect: fromBackend('b', '/shop/items') },
      { request: { path: '/shop/admin' }, expect: { ...decoyAnswer, body: '{"admin": true}', denyList: [ip('decoy')], events: ['attack:decoy:false'] } },
      { request: { path: '/shop/items' }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
      // A listed client still gets the decoy: the trap never gives itself away.
      { request: { path: '/shop/admin' }, expect: { ...decoyAnswer, body: '{"admin": true}' } },
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

export const SCENARIOS: readonly Scenario[] = [...MATCHING, ...HOST_APP, ...PATH_ATTACKS, ...LISTS, ...PATTERN, ...MISC, ...XFF, ...UPSTREAM];
