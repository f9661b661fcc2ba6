import type { Expected, ListedEntry, Scenario, Step } from '../types';
import { api, on } from '../scenarios';

/**
 * The lists cannot be washed or flooded, and rotating identifiers or addresses does not escape them
 * (docs/security.md, "The lists cannot be washed or flooded" and "Rotation does not escape").
 * Clients are told apart by X-Forwarded-For, which the default trusted proxies (loopback) vouch for.
 */

const TEXT = 'text/plain; charset=utf-8';
const ASE_HEADERS = { 'content-type': TEXT, 'cache-control': 'no-store' } as const;
const violation: Expected = { status: 401, reason: 'Unauthorized', headers: ASE_HEADERS, body: '401 Unauthorized', reached: 'nobody' };
const blocked: Expected = { status: 401, reason: 'Unauthorized', headers: ASE_HEADERS, body: '401 Unauthorized', reached: 'nobody' };
const decoyAnswer: Expected = { status: 200, reason: 'OK', headers: ASE_HEADERS, body: 'decoy', reached: 'nobody' };
const fromBackend = (url: string): Expected => ({ status: 200, reached: { backend: 'b' }, received: { url }, headers: { 'x-backend': 'b' } });
const tooMany: Expected = { status: 429, reason: 'Too Many Requests', reached: 'nobody' };

const pattern = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: ['GET'],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
};
const XFF = { enable_xff: true, enable_ase_detected_attack: true };
const from = (ip: string, token?: string): Record<string, string> => ({ 'x-forwarded-for': ip, ...(token ? { authorization: `Bearer ${token}` } : {}) });

const guarded = api('/rot', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern, servers: on('b') });
const shop = api('/shop', {
  enable_blocking: true,
  oauth2_access_token: true,
  api_pattern_enforcement: pattern,
  servers: on('b'),
  decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
});

const token = (value: string): ListedEntry => ({ type: 'token', value, tag: 'invalid_method' });

/** `n` violations, each from its own address under its own throwaway token. */
function flood(n: number): Step[] {
  return Array.from({ length: n }, (_, i): Step => ({
    request: { path: '/shop/x', method: 'DELETE', headers: from(`198.51.${100 + (i >> 8)}.${i & 255}`, `junk-${i}`) },
    expect: violation,
  }));
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'lists: three violations under three distinct tokens from one address deny-list the address, so it is blocked even without a token; another address passes',
    backends: { b: 'echo' },
    conf: XFF,
    apis: { rot: guarded },
    steps: [
      { request: { path: '/rot/x', method: 'DELETE', headers: from('203.0.113.5', 'throwaway-1') }, expect: { ...violation, denyList: [token('throwaway-1')] } },
      { request: { path: '/rot/x', method: 'DELETE', headers: from('203.0.113.5', 'throwaway-2') }, expect: violation },
      {
        request: { path: '/rot/x', method: 'DELETE', headers: from('203.0.113.5', 'throwaway-3') },
        expect: {
          ...violation,
          denyList: [token('throwaway-1'), token('throwaway-2'), token('throwaway-3'), { type: 'ip', value: '203.0.113.5', tag: 'invalid_method' }],
          events: ['attack:invalid_method:true', 'attack:invalid_method:true', 'blocked:invalid_method'],
        },
      },
      { request: { path: '/rot/x', headers: from('203.0.113.5') }, expect: { ...blocked, events: ['blocked:deny_list'] } },
      { request: { path: '/rot/x', headers: from('203.0.113.5', 'fresh-token') }, expect: { ...blocked, events: ['blocked:deny_list'] } },
      { request: { path: '/rot/x', headers: from('203.0.113.6') }, expect: fromBackend('/rot/x') },
    ],
  },
  {
    name: 'lists: the same token three times is one identifier, not a rotation: the address stays unlisted',
    backends: { b: 'echo' },
    conf: { ...XFF, ip_rotation_threshold: 2 },
    apis: { rot: guarded },
    steps: [
      { request: { path: '/rot/x', method: 'DELETE', headers: from('203.0.113.7', 'same') }, expect: violation },
      { request: { path: '/rot/x', method: 'DELETE', headers: from('203.0.113.7', 'same') }, expect: { ...blocked, denyList: [token('same')] } },
      { request: { path: '/rot/x', headers: from('203.0.113.7') }, expect: fromBackend('/rot/x') },
    ],
  },
  {
    name: 'lists: an IPv6 client caught by a decoy is listed by its /64, so moving to another address of its /64 stays blocked; the next /64 passes',
    backends: { b: 'echo' },
    conf: XFF,
    apis: { shop },
    steps: [
      { request: { path: '/shop/admin', headers: from('2001:db8:1:2::1') }, expect: { ...decoyAnswer, denyList: [{ type: 'ip', value: '2001:db8:1:2::/64', tag: 'decoy' }] } },
      { request: { path: '/shop/x', headers: from('2001:db8:1:2::2') }, expect: { ...blocked, events: ['blocked:deny_list'] } },
      { request: { path: '/shop/x', headers: from('2001:db8:1:2:ffff:ffff:ffff:ffff') }, expect: blocked },
      { request: { path: '/shop/x', headers: from('2001:db8:1:3::1') }, expect: fromBackend('/shop/x') },
    ],
  },
  {
    name: 'lists: with ipv6_client_prefix 128 every IPv6 address is a client of its own',
    backends: { b: 'echo' },
    conf: { ...XFF, ipv6_client_prefix: 128 },
    apis: { shop },
    steps: [
      { request: { path: '/shop/admin', headers: from('2001:db8:1:2::1') }, expect: { ...decoyAnswer, denyList: [{ type: 'ip', value: '2001:db8:1:2::1', tag: 'decoy' }] } },
      { request: { path: '/shop/x', headers: from('2001:db8:1:2::2') }, expect: fromBackend('/shop/x') },
    ],
  },
  {
    name: "lists: the client spike counter counts an IPv6 client's /64 as one client",
    backends: { b: 'echo' },
    conf: { enable_xff: true },
    apis: { f: api('/f', { flow_control: { client_spike_threshold: '3/minute' }, servers: on('b') }) },
    steps: [
      { request: { path: '/f/x', headers: from('2001:db8:1:2::1') }, expect: fromBackend('/f/x') },
      { request: { path: '/f/x', headers: from('2001:db8:1:2::2') }, expect: fromBackend('/f/x') },
      { request: { path: '/f/x', headers: from('2001:db8:1:2::3') }, expect: fromBackend('/f/x') },
      { request: { path: '/f/x', headers: from('2001:db8:1:2::4') }, expect: { ...tooMany, events: ['flow_control:client_spike', 'blocked:rate_limited'] } },
      { request: { path: '/f/x', headers: from('2001:db8:1:3::1') }, expect: fromBackend('/f/x') },
    ],
  },
  {
    name: 'lists: a manual IPv6 address blocks that address only; a manual /64 network blocks all of it',
    backends: { b: 'echo' },
    conf: { enable_xff: true },
    apis: { shop },
    steps: [
      { act: [{ deny: { type: 'ip', value: '2001:db8:5::1' } }], request: { path: '/shop/x', headers: from('2001:db8:5::1') }, expect: blocked },
      { request: { path: '/shop/x', headers: from('2001:db8:5::2') }, expect: fromBackend('/shop/x') },
      { act: [{ deny: { type: 'ip', value: '2001:db8:6:7::/64' } }], request: { path: '/shop/x', headers: from('2001:db8:6:7::99') }, expect: blocked },
      { request: { path: '/shop/x', headers: from('2001:db8:6:8::99') }, expect: fromBackend('/shop/x') },
    ],
  },
  {
    name: 'lists: a flood of violations under throwaway tokens evicts neither the decoy-made entry nor the manual one, and a manual entry can still be added',
    backends: { b: 'echo' },
    // Small enough that the flood fills the automatic share many times over.
    conf: { ...XFF, attack_list_memory: '8kb' },
    apis: { shop },
    steps: [
      { act: [{ deny: { type: 'ip', value: '192.0.2.1' } }], request: { path: '/shop/admin', headers: from('192.0.2.66') }, expect: decoyAnswer },
      ...flood(150),
      { request: { path: '/shop/x', headers: from('192.0.2.66') }, expect: { ...blocked, events: ['blocked:deny_list'] } },
      { request: { path: '/shop/x', headers: from('192.0.2.1') }, expect: { ...blocked, events: ['blocked:deny_list'] } },
      { act: [{ deny: { type: 'ip', value: '192.0.2.2' } }], request: { path: '/shop/x', headers: from('192.0.2.2') }, expect: blocked },
      { request: { path: '/shop/x', headers: from('192.0.2.3') }, expect: fromBackend('/shop/x') },
    ],
  },
];
