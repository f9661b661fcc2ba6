import type { Expected, RequestStep, Scenario, Step } from '../types';
import { FASTIFY_BAD_URL, api, on } from '../scenarios';

/**
 * Paths the generated requests (test/fuzz) found a way through, each with the exact target that
 * did it (docs/security.md, "Dot segments cannot step out of an API" and "Double-encoded and
 * overlong spellings are refused"). The host app receives the target as sent, and its router
 * (Express, Koa's routers, find-my-way) matches it with dot segments unresolved; a receiver may
 * decode twice, or read overlong UTF-8.
 */

const ASE_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } as const;
const malformed: Expected = { status: 400, reason: 'Bad Request', headers: ASE_HEADERS, body: 'Error: Malformed Request', reached: 'nobody' };
const refused: Expected = { status: 403, reason: 'Forbidden', body: 'Error: Forbidden by ASE', reached: 'nobody', events: ['blocked:deny_list'] };
const decoy: Expected = { status: 200, body: 'app decoy', reached: 'nobody' };
const hostApp = (url: string): Expected => ({ status: 200, body: `host app GET ${url}`, reached: 'app' });

const block = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: [],
  content_type_allowed: '',
  error_code: '403',
  error_def: 'Forbidden',
  error_message_body: 'Error: Forbidden by ASE',
};
const APIS = {
  members: api('/members', { hostname: 'good.example', enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: block }),
  app: api('/app', {
    enable_blocking: true,
    oauth2_access_token: true,
    api_pattern_enforcement: block,
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'app decoy', decoy_subpaths: ['/app/secret'] },
  }),
  shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: block, servers: on('b') }),
};
const BAD = { authorization: 'Bearer bad', host: 'good.example' };

const scenario = (name: string, steps: Step[]): Scenario => ({
  name: `paths: ${name}`,
  backends: { b: 'echo' },
  apis: APIS,
  steps: [{ act: [{ deny: { type: 'token', value: 'bad' } }], ...steps[0]! } as Step, ...steps.slice(1)],
});
const get = (path: string, expect: Expected, headers: Record<string, string> = BAD): RequestStep => ({ request: { path, raw: true, headers }, expect });

export const SCENARIOS: Scenario[] = [
  scenario("dot segments out of an in-process API's url are refused: the app's router reads them under it", [
    get('/members/me', refused),
    get('/members/../x', malformed),
    get('/members/me/../../', malformed),
    get('/members/%2e%2e/x', malformed),
    get('/Members/.%2E;x/x', malformed),
    get('/app/x/../../x', malformed),
    // Out of an API into another, or from nowhere into one: the two spellings disagree too.
    get('/x/../members/me', malformed),
    get('/shop/../members/me', malformed),
    // Within one API the policy's path and the router's agree on the API: checked as before.
    get('/members/a/../me', refused),
    // Paths no API claims, with or without dot segments, are still the app's.
    get('/x/../y', hostApp('/x/../y')),
  ]),
  scenario('a decoy spelled with dot segments out of it is still the decoy for an in-process API', [
    get('/app/secret/../items', decoy, { host: 'good.example' }),
    get('/app/secret/%2e%2e/items', decoy, { host: 'good.example' }),
    get('/app/x/../secret', decoy, { host: 'good.example' }),
    get('/app/items', hostApp('/app/items'), { host: 'good.example' }),
  ]),
  scenario('a `..` that removes an empty segment is refused: RFC 3986 and WHATWG resolvers keep `//`', [
    get('/./shop//..', malformed, { host: 'good.example' }),
    get('/members//..', malformed),
    get('/shop/items//../..', malformed, { host: 'good.example' }),
  ]),
  scenario('a proxied API still resolves dot segments: its backend gets the resolved path', [
    get('/shop/x/../items', { status: 200, reached: { backend: 'b' }, received: { url: '/shop/items' } }, { host: 'good.example' }),
  ]),
  scenario('double-encoded escapes, overlong UTF-8 and an encoded `;` are refused on every API and outside them', [
    get('/app/%252e%252e/shop/items', malformed, { host: 'good.example' }),
    get('/shop/x/%252e%252e/admin', malformed, { host: 'good.example' }),
    get('/ap%2570/items', malformed, { host: 'good.example' }),
    get('/sh%25256fp', malformed, { host: 'good.example' }),
    get('/shop%3b/shop', malformed, { host: 'good.example' }),
    get('/shop/%2541', malformed, { host: 'good.example' }),
    // Not UTF-8 at all: Fastify's router cannot decode them and answers its own 400 first.
    { ...get('/app/x/%c0%ae%c0%ae/secret', malformed, { host: 'good.example' }), differs: FASTIFY_BAD_URL },
    { ...get('/app/%e0%80%ae%e0%80%ae/shop', malformed, { host: 'good.example' }), differs: FASTIFY_BAD_URL },
    get('/x/100%25', hostApp('/x/100%25'), { host: 'good.example' }),
  ]),
];
