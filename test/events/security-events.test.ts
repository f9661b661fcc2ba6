/**
 * The enforcer's security events (`blocked`, `decoy`, `violation`, `listed`, `unlisted`) through
 * real listeners on the three frameworks: each request produces exactly the events it should, in
 * the documented shape, with identifier values masked and no query string; passing traffic
 * produces none.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Enforcer, type SecurityEvent, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { api, pattern } from '../helpers/config';
import { type RequestOptions, request } from '../helpers/http';

const JWT = path.join(__dirname, '..', 'fixtures', 'jwt');
const TYPES = ['blocked', 'decoy', 'violation', 'listed', 'unlisted'] as const;

const APIS = {
  shop: api('/shop', {
    enable_blocking: true,
    oauth2_access_token: true,
    api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
  }),
  secure: api('/secure', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern({ protocol_allowed: 'https' }) }),
  mandatory: api('/mandatory', { enable_blocking: true, oauth2_access_token: true, is_token_mandatory: true }),
  limited: api('/limited', { flow_control: { client_spike_threshold: '1/minute' } }),
  watch: api('/watch', { enable_blocking: false, oauth2_access_token: true, api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }) }),
  signed: api('/signed', {
    jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
    enable_blocking: true,
    api_pattern_enforcement: pattern(),
    jwt_verification: { algorithms: ['HS256'], secret_file: path.join(JWT, 'hs256.secret'), required: true },
  }),
};

/** A token signed with another secret than the API's. */
function forgedJwt(): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  const secret = readFileSync(path.join(JWT, 'hs256.secret'), 'utf8').trim() + '-not';
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const FORGED = forgedJwt();

const IP = '127.0.0.1';
const http = (method: string, p: string) => ({ method, path: p });
const token = (value: string) => ({ type: 'token', value });

interface Step {
  name: string;
  /** Sent first, its events not checked (the request a rate limit lets through). */
  before?: RequestOptions;
  request: RequestOptions;
  status: number;
  /** The events, in order, without `time` (checked apart). */
  events: Omit<SecurityEvent, 'time'>[];
  /** Raw values that must appear in no event. */
  secrets: string[];
}

// In order: the decoy lists the client's address, so it comes last.
const STEPS: Step[] = [
  { name: 'passing traffic', request: { path: '/shop/items?x=1', headers: { authorization: 'Bearer good-token-1' } }, status: 200, events: [], secrets: [] },
  {
    name: 'deny-listed token',
    request: { path: '/shop/items?access_token=query-secret', headers: { authorization: 'Bearer listed-token-2' } },
    status: 401,
    events: [{ type: 'blocked', api: 'shop', reason: 'deny_list', client: { ip: IP, identifier: token('list****') }, blocked: true, ...http('GET', '/shop/items') }],
    secrets: ['listed-token-2', 'query-secret'],
  },
  {
    name: 'invalid JWT',
    request: { path: '/signed/x', headers: { authorization: `Bearer ${FORGED}` } },
    status: 401,
    events: [{ type: 'blocked', api: 'signed', reason: 'invalid_jwt', client: { ip: IP }, blocked: true, ...http('GET', '/signed/x') }],
    secrets: [FORGED],
  },
  {
    name: 'method violation (blocking API)',
    request: { method: 'DELETE', path: '/shop/items', headers: { authorization: 'Bearer bad-token-3' } },
    status: 401,
    events: [
      { type: 'listed', api: 'shop', reason: 'invalid_method', client: { ip: IP, identifier: token('bad-****') }, blocked: true, ...http('DELETE', '/shop/items'), list: 'deny', source: 'detection' },
      { type: 'violation', api: 'shop', reason: 'invalid_method', client: { ip: IP, identifier: token('bad-****') }, blocked: true, ...http('DELETE', '/shop/items') },
      { type: 'blocked', api: 'shop', reason: 'invalid_method', client: { ip: IP }, blocked: true, ...http('DELETE', '/shop/items') },
    ],
    secrets: ['bad-token-3'],
  },
  {
    name: 'protocol violation',
    request: { path: '/secure/x?k=query-secret', headers: { authorization: 'Bearer proto-token-9' } },
    status: 401,
    events: [
      { type: 'listed', api: 'secure', reason: 'invalid_protocol', client: { ip: IP, identifier: token('prot****') }, blocked: true, ...http('GET', '/secure/x'), list: 'deny', source: 'detection' },
      { type: 'violation', api: 'secure', reason: 'invalid_protocol', client: { ip: IP, identifier: token('prot****') }, blocked: true, ...http('GET', '/secure/x') },
      { type: 'blocked', api: 'secure', reason: 'invalid_protocol', client: { ip: IP }, blocked: true, ...http('GET', '/secure/x') },
    ],
    secrets: ['query-secret', 'proto-token-9'],
  },
  {
    name: 'CORS preflight refused (nobody listed)',
    request: { method: 'OPTIONS', path: '/shop/items', headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE', authorization: 'Bearer pre-token-8' } },
    status: 401,
    events: [{ type: 'blocked', api: 'shop', reason: 'cors_preflight', client: { ip: IP }, blocked: true, ...http('OPTIONS', '/shop/items') }],
    secrets: ['pre-token-8'],
  },
  {
    name: 'over the rate limit (429)',
    before: { path: '/limited/a' },
    request: { path: '/limited/a?x=query-secret' },
    status: 429,
    events: [{ type: 'blocked', api: 'limited', reason: 'rate_limited', client: { ip: IP }, blocked: true, ...http('GET', '/limited/a') }],
    secrets: ['query-secret'],
  },
  {
    name: 'malformed request (no API, no path)',
    request: { path: '/shop/items', headers: { host: 'good.example@evil.example' } },
    status: 400,
    events: [{ type: 'blocked', api: null, reason: 'malformed', client: { ip: IP }, blocked: true, method: 'GET' }],
    secrets: ['evil.example'],
  },
  {
    name: 'method violation (detect-only API)',
    request: { method: 'DELETE', path: '/watch/items', headers: { authorization: 'Bearer odd-token-4' } },
    status: 200,
    events: [
      { type: 'listed', api: 'watch', reason: 'invalid_method', client: { ip: IP, identifier: token('odd-****') }, blocked: false, ...http('DELETE', '/watch/items'), list: 'deny', source: 'detection' },
      { type: 'violation', api: 'watch', reason: 'invalid_method', client: { ip: IP, identifier: token('odd-****') }, blocked: false, ...http('DELETE', '/watch/items') },
    ],
    secrets: ['odd-token-4'],
  },
  {
    name: 'decoy',
    request: { path: '/shop/admin?key=query-secret', headers: { authorization: 'Bearer good-token-5' } },
    status: 200,
    events: [
      { type: 'listed', api: 'shop', reason: 'decoy', client: { ip: IP, identifier: { type: 'ip', value: IP } }, blocked: false, ...http('GET', '/shop/admin'), list: 'deny', source: 'detection' },
      { type: 'decoy', api: 'shop', reason: 'decoy', client: { ip: IP, identifier: { type: 'ip', value: IP } }, blocked: false, ...http('GET', '/shop/admin') },
    ],
    secrets: ['good-token-5', 'query-secret'],
  },
];

describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s', (_name, harness) => {
  let enforcer: Enforcer;
  let app: RunningApp;
  const seen: SecurityEvent[] = [];
  const listen = (e: SecurityEvent): void => void seen.push(e);

  beforeAll(async () => {
    // Several steps violate from one address with different tokens: rotation (its own `listed`
    // event) is off, so each step's events are its own.
    enforcer = createEnforcer({ logger: silentLogger, conf: { enable_ase_detected_attack: true, ip_rotation_threshold: 0 }, apis: APIS as never });
    await enforcer.ready;
    await enforcer.addDeny({ type: 'token', value: 'listed-token-2' });
    for (const t of TYPES) enforcer.on(t, listen);
    app = await harness.start(enforcer);
  });

  afterAll(async () => {
    for (const t of TYPES) enforcer.off(t, listen);
    await app.close();
    await enforcer.close();
  });

  test.each(STEPS.map((s) => [s.name, s] as const))('%s: the documented events, once each', async (_n, step) => {
    if (step.before) await request(app.port, step.before);
    seen.length = 0;
    const started = Date.now();
    const r = await request(app.port, step.request);
    expect(r.status).toBe(step.status);
    expect(seen.map(({ time: _t, ...rest }) => ({ ...rest }))).toEqual(step.events);
    for (const e of seen) {
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(started - 1000);
      expect(new Date(e.time).toISOString()).toBe(e.time);
    }
    const text = JSON.stringify(seen);
    for (const s of step.secrets) expect(text).not.toContain(s);
  });

  test('list changes through management: listed and unlisted, masked, once each', async () => {
    seen.length = 0;
    await enforcer.addAllow({ type: 'api_key', name: 'x-key', value: 'allow-key-6' });
    await enforcer.removeAllow({ type: 'api_key', name: 'x-key', value: 'allow-key-6' });
    await enforcer.removeDeny({ type: 'token', value: 'listed-token-2' });
    await enforcer.removeDeny({ type: 'token', value: 'never-listed-7' });
    await enforcer.addAllow({ type: 'username', value: 'carol' });
    await enforcer.clearAllow();
    const key = { type: 'api_key', name: 'x-key', value: 'allo****' };
    expect(seen.map(({ time: _t, ...rest }) => ({ ...rest }))).toEqual([
      { type: 'listed', api: null, reason: 'manual', client: { identifier: key }, blocked: false, list: 'allow', source: 'management' },
      { type: 'unlisted', api: null, reason: 'manual', client: { identifier: key }, blocked: false, list: 'allow', source: 'management' },
      { type: 'unlisted', api: null, reason: 'manual', client: { identifier: token('list****') }, blocked: false, list: 'deny', source: 'management' },
      { type: 'listed', api: null, reason: 'manual', client: { identifier: { type: 'username', value: 'carol' } }, blocked: false, list: 'allow', source: 'management' },
      { type: 'unlisted', api: null, reason: 'manual', client: { identifier: { type: 'username', value: 'carol' } }, blocked: false, list: 'allow', source: 'management' },
    ]);
    const text = JSON.stringify(seen);
    for (const s of ['allow-key-6', 'listed-token-2']) expect(text).not.toContain(s);
  });
});
