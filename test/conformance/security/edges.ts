import type { Expected, Scenario } from '../types';
import { api, on } from '../scenarios';

/** Small edges: HEAD wherever GET is, and CORS preflights that never deny-list a browser. */

const methods = (allowed: string[]): Record<string, unknown> => ({
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: allowed,
  content_type_allowed: '',
  error_code: '403',
  error_def: 'Forbidden',
  error_message_body: 'Error: Forbidden by ASE',
});
const refused: Expected = { status: 403, reason: 'Forbidden', body: 'Error: Forbidden by ASE', reached: 'nobody' };
const preflight = (method: string): Record<string, string> => ({ origin: 'https://app.example', 'access-control-request-method': method });
const listed = [{ type: 'ip' as const, value: '127.0.0.1', tag: 'invalid_method' as const }];

const strict = (allowed: string[]) => ({
  shop: api('/shop', { enable_blocking: true, api_pattern_enforcement: methods(allowed), servers: on('b') }),
  local: api('/local', { enable_blocking: true, api_pattern_enforcement: methods(allowed) }),
});

export const SCENARIOS: Scenario[] = [
  {
    name: 'edges: HEAD is allowed wherever GET is, proxied and in-process',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['GET']),
    steps: [
      { request: { method: 'HEAD', path: '/shop/items' }, expect: { status: 200, reached: { backend: 'b' }, received: { method: 'HEAD', url: '/shop/items' }, denyList: [] } },
      { request: { method: 'HEAD', path: '/local/items' }, expect: { status: 200, reached: 'app', received: { method: 'HEAD' }, denyList: [] } },
      // Only GET brings HEAD with it.
      { request: { method: 'PUT', path: '/shop/items' }, expect: { ...refused, denyList: listed } },
    ],
  },
  {
    name: 'edges: HEAD is not allowed where GET is not',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['POST']),
    steps: [{ request: { method: 'HEAD', path: '/shop/items' }, expect: { ...refused, body: '', denyList: listed } }],
  },
  {
    name: 'edges: a CORS preflight for an allowed method reaches the app or backend (they own CORS) and lists nobody',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['GET', 'POST']),
    steps: [
      { request: { method: 'OPTIONS', path: '/shop/items', headers: preflight('POST') }, expect: { status: 200, reached: { backend: 'b' }, received: { method: 'OPTIONS' }, denyList: [] } },
      { request: { method: 'OPTIONS', path: '/local/items', headers: preflight('post') }, expect: { status: 200, reached: 'app', received: { method: 'OPTIONS' }, denyList: [] } },
    ],
  },
  {
    name: 'edges: a CORS preflight for a method the API does not allow is refused, and the browser is not deny-listed',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['GET']),
    steps: [
      { request: { method: 'OPTIONS', path: '/shop/items', headers: preflight('DELETE') }, expect: { ...refused, denyList: [], events: ['blocked:cors_preflight'] } },
      { request: { method: 'OPTIONS', path: '/local/items', headers: preflight('DELETE') }, expect: { ...refused, denyList: [], events: ['blocked:cors_preflight'] } },
      // The same browser's next request still goes through.
      { request: { path: '/shop/items' }, expect: { status: 200, reached: { backend: 'b' } } },
    ],
  },
  {
    name: 'edges: an OPTIONS that is not a preflight (no Origin, or a body) is an ordinary method violation',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['GET']),
    steps: [
      { request: { method: 'OPTIONS', path: '/shop/items', headers: { 'access-control-request-method': 'GET' } }, expect: { ...refused, denyList: listed } },
    ],
  },
  {
    name: 'edges: a preflight-looking OPTIONS carrying a body is an ordinary method violation',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: strict(['GET']),
    steps: [
      { request: { method: 'OPTIONS', path: '/shop/items', raw: true, headers: { ...preflight('GET'), 'content-type': 'text/plain' }, body: 'x' }, expect: { ...refused, denyList: listed } },
    ],
  },
  {
    name: 'edges: on a detect-only API a refused preflight goes on like every other request, unlisted',
    backends: { b: 'echo' },
    conf: { enable_ase_detected_attack: true },
    apis: { shop: api('/shop', { enable_blocking: false, api_pattern_enforcement: methods(['GET']), servers: on('b') }) },
    steps: [{ request: { method: 'OPTIONS', path: '/shop/items', headers: preflight('DELETE') }, expect: { status: 200, reached: { backend: 'b' }, denyList: [] } }],
  },
];
