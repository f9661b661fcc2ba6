import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import Koa from 'koa';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type AdminApi, adminExpress, adminKoa, createAdmin } from '@ase/admin';
import { aseMiddleware } from '@ase/express';
import { aseMiddleware as aseKoa } from '@ase/koa';
import { call } from '../admin/harness';
import { api, configDir } from '../helpers/config';
import { listen, request } from '../helpers/http';

/*
 * explain's answer against what the enforcer then does. Each row asks `POST /v4/ase/explain`
 * first (and checks that doing so changed nothing: no list entry, no event, no counter), then
 * sends the same request for real through the same listening app and compares.
 */

const SECRET = 'explain-test-secret-of-at-least-32-bytes!';

function writeConfig(): string {
  const dir = configDir({
    conf: 'enable_xff=true\nxff_trusted_proxies=127.0.0.1\nenable_ase_detected_attack=true\n',
    apis: {
      shop: api('/shop', {
        enable_blocking: true,
        api_pattern_enforcement: {
          protocol_allowed: '',
          http_redirect: { response_code: '', response_def: '', https_url: '' },
          methods_allowed: ['GET', 'POST'],
          content_type_allowed: 'application/json',
          error_code: '401',
          error_def: 'Unauthorized',
          error_message_body: '401 Unauthorized',
        },
        oauth2_access_token: true,
        decoy_config: { decoy_enabled: true, decoy_subpaths: ['/shop/admin'] },
      }),
      secure: api('/secure', {
        enable_blocking: true,
        jwt: { location: 'h:authorization:bearer', username: 'sub' },
        jwt_verification: { algorithms: ['HS256'], secret_file: 'keys/jwt.secret', required: true },
      }),
      limited: api('/limited', { enable_blocking: true, flow_control: { client_spike_threshold: '1/minute' } }),
      other: api('/other', { hostname: 'other.example', enable_blocking: true }),
    },
  });
  fs.mkdirSync(path.join(dir, 'keys'));
  fs.writeFileSync(path.join(dir, 'keys', 'jwt.secret'), SECRET);
  return dir;
}

interface App {
  enforcer: Enforcer;
  admin: AdminApi;
  port: number;
  dir: string;
  events: string[];
  close(): Promise<void>;
}

function watch(enforcer: Enforcer): string[] {
  const events: string[] = [];
  enforcer.on('attack', (e) => events.push(`attack:${e.kind}`));
  enforcer.on('blocked', (e) => events.push(`blocked:${e.reason}`));
  enforcer.on('flow_control', (e) => events.push(`flow_control:${e.kind}`));
  return events;
}

async function expressApp(): Promise<App> {
  const dir = writeConfig();
  const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
  const admin = createAdmin(enforcer);
  const events = watch(enforcer);
  const app = express();
  app.use(adminExpress(admin));
  app.use(aseMiddleware(enforcer));
  app.use((req, res) => void res.status(200).type('text/plain').send(`host app ${req.method} ${req.originalUrl}`));
  const srv = await listen(http.createServer(app));
  return { enforcer, admin, port: srv.port, dir, events, close: async () => closeAll(srv, admin, enforcer, dir) };
}

async function koaApp(): Promise<App> {
  const dir = writeConfig();
  const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
  const admin = createAdmin(enforcer);
  const events = watch(enforcer);
  const app = new Koa();
  app.use(adminKoa(admin));
  app.use(aseKoa(enforcer));
  app.use((ctx) => {
    ctx.type = 'text/plain';
    ctx.body = `host app ${ctx.method} ${ctx.originalUrl}`;
  });
  const srv = await listen(http.createServer(app.callback()));
  return { enforcer, admin, port: srv.port, dir, events, close: async () => closeAll(srv, admin, enforcer, dir) };
}

async function closeAll(srv: { close(): Promise<void> }, admin: AdminApi, enforcer: Enforcer, dir: string): Promise<void> {
  await srv.close();
  await admin.close();
  await enforcer.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

interface Row {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Set-up before the row (list entries, a request that uses up a budget). */
  before?: (app: App) => Promise<void>;
  expect: { api: string | null; outcome: string; stage: string; status: number | null; match?: string | null };
}

const ROWS: Row[] = [
  { name: 'pass', method: 'GET', path: '/shop/items', headers: { 'x-forwarded-for': '10.1.0.1' }, expect: { api: 'shop', outcome: 'pass', stage: 'route', status: null } },
  {
    name: 'deny-listed IP',
    method: 'GET',
    path: '/shop/items',
    headers: { 'x-forwarded-for': '10.1.0.2' },
    before: async (a) => void (await a.enforcer.addDeny({ type: 'ip', value: '10.1.0.2' })),
    expect: { api: 'shop', outcome: 'block', stage: 'deny_list', status: 401 },
  },
  {
    name: 'deny-listed token',
    method: 'GET',
    path: '/shop/items',
    headers: { 'x-forwarded-for': '10.1.0.3', authorization: 'Bearer denied-token-123' },
    before: async (a) => void (await a.enforcer.addDeny({ type: 'token', value: 'denied-token-123' })),
    expect: { api: 'shop', outcome: 'block', stage: 'deny_list', status: 401 },
  },
  {
    name: 'allow-listed client breaking the method rule',
    method: 'DELETE',
    path: '/shop/items',
    headers: { 'x-forwarded-for': '10.1.0.4' },
    before: async (a) => void (await a.enforcer.addAllow({ type: 'ip', value: '10.1.0.4' })),
    expect: { api: 'shop', outcome: 'pass', stage: 'allow_list', status: null },
  },
  { name: 'decoy', method: 'GET', path: '/shop/admin', headers: { 'x-forwarded-for': '10.1.0.5' }, expect: { api: 'shop', outcome: 'decoy', stage: 'decoy', status: 200 } },
  { name: 'method violation', method: 'DELETE', path: '/shop/items', headers: { 'x-forwarded-for': '10.1.0.6' }, expect: { api: 'shop', outcome: 'block', stage: 'pattern', status: 401 } },
  {
    name: 'content-type violation',
    method: 'POST',
    path: '/shop/items',
    // A body is described by its headers, as the enforcer sees it before reading any of it.
    headers: { 'x-forwarded-for': '10.1.0.7', 'content-type': 'text/xml', 'content-length': '4' },
    body: '<a/>',
    expect: { api: 'shop', outcome: 'block', stage: 'pattern', status: 401 },
  },
  {
    name: 'unknown API (the app answers)',
    method: 'GET',
    path: '/nowhere',
    headers: { 'x-forwarded-for': '10.1.0.8' },
    expect: { api: null, match: 'no_prefix', outcome: 'pass', stage: 'match', status: null },
  },
  {
    name: "another host's API path",
    method: 'GET',
    path: '/other/x',
    headers: { 'x-forwarded-for': '10.1.0.9', host: 'elsewhere.example' },
    expect: { api: null, match: 'no_prefix', outcome: 'refuse', stage: 'match', status: 503 },
  },
  {
    name: 'invalid JWT',
    method: 'GET',
    path: '/secure/me',
    headers: { 'x-forwarded-for': '10.1.0.10', authorization: 'Bearer not.a.jwt' },
    expect: { api: 'secure', outcome: 'block', stage: 'identify', status: 403 },
  },
  {
    name: 'within the rate limit',
    method: 'GET',
    path: '/limited/x',
    headers: { 'x-forwarded-for': '10.1.0.11' },
    expect: { api: 'limited', outcome: 'pass', stage: 'route', status: null },
  },
  {
    name: 'over the rate limit',
    method: 'GET',
    path: '/limited/x',
    headers: { 'x-forwarded-for': '10.1.0.11' },
    expect: { api: 'limited', outcome: 'rate_limited', stage: 'flow_control', status: 429 },
  },
];

type Explanation = {
  api: string | null;
  match: string | null;
  outcome: string;
  stage: string;
  status: number | null;
  route: string | null;
  identifiers: { type: string; value: string; listed: string | null }[];
  would_list: { kind: string; identifier: { type: string; value: string }; listed: boolean }[];
};

async function lists(a: App): Promise<unknown> {
  const deny = await call(a.port, 'GET', '/v4/ase/firewall/blacklist');
  const allow = await call(a.port, 'GET', '/v4/ase/firewall/whitelist');
  return { deny: deny.json, allow: allow.json };
}

async function explain(a: App, row: Pick<Row, 'method' | 'path' | 'headers'>): Promise<Explanation> {
  const r = await call(a.port, 'POST', '/v4/ase/explain', { body: { method: row.method, url: row.path, headers: row.headers } });
  expect(r.status).toBe(200);
  return r.json as Explanation;
}

/** Explains, checks that nothing changed, sends for real; returns both. */
async function explainThenSend(a: App, row: Row): Promise<{ x: Explanation; real: { status: number; body: string } }> {
  await row.before?.(a);
  const listsBefore = await lists(a);
  const eventsBefore = a.events.length;
  const x = await explain(a, row);
  // A second explanation is the same: the first consumed nothing (a rate-limit budget of 1 would show it).
  expect(await explain(a, row)).toEqual(x);
  expect(a.events.length).toBe(eventsBefore);
  expect(await lists(a)).toEqual(listsBefore);
  const real = await request(a.port, { method: row.method, path: row.path, headers: row.headers, body: row.body });
  return { x, real };
}

function compare(row: Row, x: Explanation, real: { status: number; body: string }): void {
  expect({ api: x.api, outcome: x.outcome, stage: x.stage, status: x.status, ...(row.expect.match !== undefined ? { match: x.match } : {}) }).toEqual(row.expect);
  if (x.outcome === 'pass') {
    // The app answers: explain's status is null and its route says so.
    expect(x.route).toBe('app');
    expect(real.status).toBe(200);
    expect(real.body).toBe(`host app ${row.method} ${row.path}`);
  } else {
    expect(real.status).toBe(x.status);
    expect(real.body).not.toMatch(/^host app/);
  }
}

describe('explain matches the enforcer (Express, admin mounted on the app)', () => {
  let a: App;
  beforeAll(async () => {
    a = await expressApp();
  });
  afterAll(async () => {
    await a.close();
  });

  for (const row of ROWS) {
    test(row.name, async () => {
      const { x, real } = await explainThenSend(a, row);
      compare(row, x, real);
    });
  }

  test('identifiers are masked as in the access log, with the list they are on', async () => {
    const x = await explain(a, { method: 'GET', path: '/shop/items', headers: { 'x-forwarded-for': '10.1.0.3', authorization: 'Bearer denied-token-123' } });
    expect(x.identifiers).toEqual([
      { type: 'ip', value: '10.1.0.3', listed: null },
      { type: 'token', value: 'deni****', listed: 'deny' },
    ]);
    expect(JSON.stringify(x)).not.toContain('denied-token-123');
  });

  test('a detection says it would deny-list the client, and the real request does', async () => {
    const row = { method: 'DELETE', path: '/shop/items', headers: { 'x-forwarded-for': '10.1.0.20' } };
    const x = await explain(a, row);
    expect(x.would_list).toEqual([{ kind: 'invalid_method', identifier: { type: 'ip', value: '10.1.0.20' }, listed: true }]);
    expect(x.identifiers).toEqual([{ type: 'ip', value: '10.1.0.20', listed: null }]);
    expect((await request(a.port, row)).status).toBe(401);
    expect((await explain(a, row)).identifiers).toEqual([{ type: 'ip', value: '10.1.0.20', listed: 'deny' }]);
    expect(a.events).toContain('attack:invalid_method');
  });

  test('a bad body gets the validation_error envelope; no credentials, no answer', async () => {
    const bad = await call(a.port, 'POST', '/v4/ase/explain', { body: { method: 'GET' } });
    expect(bad.status).toBe(403);
    expect(bad.json).toEqual({ status: 'validation_error', status_message: expect.stringContaining('url') });
    const extra = await call(a.port, 'POST', '/v4/ase/explain', { body: { method: 'GET', url: '/', body: 'x' } });
    expect(extra.json).toMatchObject({ status: 'validation_error', status_message: expect.stringContaining('unknown key `body`') });
    const ip = await call(a.port, 'POST', '/v4/ase/explain', { body: { method: 'GET', url: '/', ip: 'nope' } });
    expect(ip.json).toMatchObject({ status: 'validation_error', status_message: expect.stringContaining('ip:') });
    const anon = await call(a.port, 'POST', '/v4/ase/explain', { auth: false, body: { method: 'GET', url: '/' } });
    expect(anon.status).toBe(403);
    expect(anon.json).toEqual({ status: 'fail', status_message: 'x-ase-access-key header missing' });
  });
});

describe('explain matches the enforcer (Koa)', () => {
  let a: App;
  beforeAll(async () => {
    a = await koaApp();
  });
  afterAll(async () => {
    await a.close();
  });

  for (const row of ROWS.filter((r) => ['pass', 'deny-listed IP', 'decoy', 'within the rate limit', 'over the rate limit'].includes(r.name))) {
    test(row.name, async () => {
      const { x, real } = await explainThenSend(a, row);
      compare(row, x, real);
    });
  }
});
