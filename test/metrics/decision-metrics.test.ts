/**
 * `ase_decisions_total` through real listeners on the three frameworks: each outcome's request,
 * then a scrape of the management API's `/metrics`, which must show that one series (and no other)
 * moved by exactly 1.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type AdminServer, startAdminServer } from '@ase/admin';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { call } from '../admin/harness';
import { api, pattern, servers } from '../helpers/config';
import { type RequestOptions, freePort, request } from '../helpers/http';

const JWT = path.join(__dirname, '..', 'fixtures', 'jwt');

const APIS = {
  shop: api('/shop', {
    enable_blocking: true,
    oauth2_access_token: true,
    api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
  }),
  limited: api('/limited', { flow_control: { client_spike_threshold: '1/minute' } }),
  secure: api('/secure', {
    enable_blocking: true,
    api_pattern_enforcement: pattern({ protocol_allowed: 'https', http_redirect: { response_code: 301, response_def: 'Moved Permanently', https_url: 'https://shop.example.com' } }),
  }),
  tls: api('/tls', { enable_blocking: true, api_pattern_enforcement: pattern({ protocol_allowed: 'https' }) }),
  mandatory: api('/mandatory', { enable_blocking: true, oauth2_access_token: true, is_token_mandatory: true }),
  hosted: api('/hosted', { hostname: 'hosted.example' }),
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

type Series = Map<string, number>;

async function decisions(admin: AdminServer): Promise<Series> {
  const r = await call(admin.port, 'GET', '/metrics');
  expect(r.status).toBe(200);
  const out: Series = new Map();
  for (const m of r.text.matchAll(/^ase_decisions_total(\{[^}]*\}) (\d+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

function moved(before: Series, after: Series): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) diff[k] = v - (before.get(k) ?? 0);
  return diff;
}

const series = (api: string, outcome: string, reason: string, list?: { type: string; tag: string }): string =>
  `{api="${api}",outcome="${outcome}",reason="${reason}"${list ? `,list_type="${list.type}",tag="${list.tag}"` : ''}}`;

interface Step {
  name: string;
  /** Sent first, uncounted by the step (the request the limit lets through). */
  before?: RequestOptions;
  request: RequestOptions;
  status: number;
  counted: string;
}

const STEPS: Step[] = [
  { name: 'passed', request: { path: '/shop/items' }, status: 200, counted: series('shop', 'passed', 'allowed') },
  { name: 'no API matched (the app answers)', request: { path: '/elsewhere' }, status: 200, counted: series('', 'passed', 'unmatched') },
  { name: 'deny list', request: { path: '/shop/items', headers: { authorization: 'Bearer listed-token' } }, status: 401, counted: series('shop', 'blocked', 'deny_list', { type: 'token', tag: 'manual' }) },
  { name: 'decoy', request: { path: '/shop/admin' }, status: 200, counted: series('shop', 'decoy', 'decoy') },
  { name: 'method violation', request: { path: '/shop/items', method: 'DELETE' }, status: 401, counted: series('shop', 'blocked', 'invalid_method') },
  { name: 'rate limited', before: { path: '/limited/a' }, request: { path: '/limited/a' }, status: 429, counted: series('limited', 'rate_limited', 'rate_limited') },
  { name: 'unknown API', request: { path: '/hosted/x', headers: { host: 'other.example' } }, status: 503, counted: series('', 'unknown_api', 'unknown_api') },
  { name: 'redirected to HTTPS', request: { path: '/secure/x' }, status: 301, counted: series('secure', 'redirected', 'redirect') },
  { name: 'protocol violation', request: { path: '/tls/x' }, status: 401, counted: series('tls', 'blocked', 'invalid_protocol') },
  { name: 'missing mandatory token', request: { path: '/mandatory/x' }, status: 403, counted: series('mandatory', 'blocked', 'missing_token') },
  {
    name: 'CORS preflight refused',
    request: { path: '/shop/items', method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' } },
    status: 401,
    counted: series('shop', 'blocked', 'cors_preflight'),
  },
  { name: 'malformed Host', request: { path: '/shop/items', headers: { host: 'good.example@evil.example' } }, status: 400, counted: series('', 'blocked', 'malformed') },
  { name: 'health probe', request: { path: '/ase' }, status: 200, counted: series('', 'answered', 'health') },
  { name: 'no backend up', before: { path: '/down/x' }, request: { path: '/down/x' }, status: 503, counted: series('down', 'unavailable', 'no_backend') },
  { name: 'invalid JWT', request: { path: '/signed/x', headers: { authorization: `Bearer ${forgedJwt()}` } }, status: 401, counted: series('signed', 'blocked', 'invalid_jwt') },
];

describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s', (_name, harness) => {
  let enforcer: Enforcer;
  let app: RunningApp;
  let admin: AdminServer;

  beforeAll(async () => {
    // Violations list nobody here, so each step's client is as the step says.
    // `down` has one server, where nothing listens: the first request finds it down.
    const down = api('/down', { servers: servers(await freePort()) });
    enforcer = createEnforcer({ logger: silentLogger, conf: { enable_ase_detected_attack: false, enable_ase_health: true }, apis: { ...APIS, down } as never });
    await enforcer.ready;
    await enforcer.addDeny({ type: 'token', value: 'listed-token' });
    app = await harness.start(enforcer);
    admin = await startAdminServer(enforcer, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await admin.close();
    await app.close();
    await enforcer.close();
  });

  test.each(STEPS.map((s) => [s.name, s] as const))('%s moves its counter by exactly 1', async (_n, step) => {
    if (step.before) await request(app.port, step.before);
    const before = await decisions(admin);
    const r = await request(app.port, step.request);
    expect(r.status).toBe(step.status);
    expect(moved(before, await decisions(admin))).toEqual({ [step.counted]: 1 });
  });
});
