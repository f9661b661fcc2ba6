/**
 * explain on a request that replays a planted honeytoken: the real request lists its sender and is
 * refused where the API blocks, so explain must answer that refusal, while changing nothing (no
 * list entry, no event, no hit counted on an entry). Through a real Express app with the admin
 * API mounted: a decoy plants the tokens, explain is asked, then the same request is sent.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import express from 'express';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type AdminApi, adminExpress, createAdmin } from '@ase/admin';
import { aseMiddleware } from '@ase/express';
import { call } from '../admin/harness';
import { configDir } from '../helpers/config';
import { listen, request } from '../helpers/http';
import { ATTACKER, CONF, HONEYTOKEN_APIS, from, planted } from '../honeytokens/honeytoken-fixtures';

type Explanation = {
  api: string | null;
  stage: string;
  outcome: string;
  reason: string | null;
  status: number | null;
  identifiers: { type: string; value: string; listed: string | null }[];
  would_list: { kind: string; identifier: { type: string; value: string }; listed: boolean }[];
};

let dir: string;
let enforcer: Enforcer;
let admin: AdminApi;
let srv: { port: number; close(): Promise<void> };
const events: string[] = [];
let tokens: { apiKey: string; bearer: string; cookie: string };

beforeAll(async () => {
  dir = configDir({ conf: CONF, apis: HONEYTOKEN_APIS });
  enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
  await enforcer.ready;
  for (const name of ['attack', 'blocked', 'listed', 'honeytoken'] as const) enforcer.on(name, (e: { kind?: string; reason?: string }) => void events.push(`${name}:${e.kind ?? e.reason ?? ''}`));
  admin = createAdmin(enforcer);
  const app = express();
  app.use(adminExpress(admin));
  app.use(aseMiddleware(enforcer));
  app.use((req, res) => void res.status(200).type('text/plain').send(`host app ${req.method} ${req.originalUrl}`));
  srv = await listen(http.createServer(app));
  const decoy = await request(srv.port, { path: '/ops/.env', headers: from(ATTACKER) });
  expect(decoy.status).toBe(200);
  tokens = planted(decoy.body, decoy.headers['set-cookie']);
});

afterAll(async () => {
  await srv.close();
  await admin.close();
  await enforcer.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function explain(path: string, headers: Record<string, string>): Promise<Explanation> {
  const r = await call(srv.port, 'POST', '/v4/ase/explain', { body: { method: 'GET', url: path, headers } });
  expect(r.status).toBe(200);
  return r.json as Explanation;
}

async function blacklist(): Promise<unknown> {
  return (await call(srv.port, 'GET', '/v4/ase/firewall/blacklist')).json;
}

test('a replayed honeytoken on a blocking API is explained as the deny-list refusal the real request gets, listing nobody', async () => {
  const replayer = '198.51.100.21';
  const headers = from(replayer, { 'x-shop-key': tokens.apiKey });
  const listsBefore = await blacklist();
  const eventsBefore = events.length;

  const x = await explain('/shop/orders', headers);
  expect(x).toMatchObject({ api: 'shop', stage: 'deny_list', outcome: 'block', reason: 'deny_list' });
  expect(x.would_list).toEqual([{ kind: 'honeytoken', identifier: { type: 'ip', value: replayer }, listed: true }]);
  // Not listed yet: explain answers what would happen, and the lists say what is.
  expect(x.identifiers).toContainEqual({ type: 'ip', value: replayer, listed: null });
  expect(x.identifiers.every((i) => i.listed === null)).toBe(true);
  // A second explanation is the same answer: the first listed nobody, counted nothing.
  expect(await explain('/shop/orders', headers)).toEqual(x);
  expect(await blacklist()).toEqual(listsBefore);
  expect(enforcer.denyList.get('ip', replayer)).toBeUndefined();
  expect(events.length).toBe(eventsBefore);

  const real = await request(srv.port, { path: '/shop/orders', headers });
  expect(real.status).toBe(x.status);
  expect(real.body).not.toMatch(/^host app/);
  expect(enforcer.denyList.get('ip', replayer)?.tag).toBe('honeytoken');
  expect(events.slice(eventsBefore)).toEqual(['listed:honeytoken', 'attack:honeytoken', 'honeytoken:honeytoken', 'blocked:deny_list']);

  // Once listed, explain answers the same refusal from the list itself, and proposes nothing new.
  const after = await explain('/shop/orders', headers);
  expect(after).toMatchObject({ stage: 'deny_list', outcome: 'block', reason: 'deny_list', status: x.status });
  expect(after.identifiers[0]).toEqual({ type: 'ip', value: replayer, listed: 'deny' });
  expect(after.would_list).toEqual([{ kind: 'honeytoken', identifier: { type: 'ip', value: replayer }, listed: false }]);
});

test('a replayed honeytoken on a detect-only API is explained as served, with its sender in would_list, as the real request is', async () => {
  const replayer = '198.51.100.22';
  const headers = from(replayer, { authorization: `Bearer ${tokens.bearer}` });
  const x = await explain('/watch/feed', headers);
  expect(x).toMatchObject({ api: 'watch', outcome: 'pass', reason: null, status: null });
  expect(x.would_list).toContainEqual({ kind: 'honeytoken', identifier: { type: 'ip', value: replayer }, listed: true });
  expect(enforcer.denyList.get('ip', replayer)).toBeUndefined();

  const real = await request(srv.port, { path: '/watch/feed', headers });
  expect(real.status).toBe(200);
  expect(real.body).toBe('host app GET /watch/feed');
  expect(enforcer.denyList.get('ip', replayer)?.tag).toBe('honeytoken');
});

test('a replayed honeytoken cookie is refused on the blocking API in explain and for real alike', async () => {
  const replayer = '198.51.100.23';
  const headers = from(replayer, { cookie: `session=${tokens.cookie}` });
  const x = await explain('/shop/cart', headers);
  expect(x).toMatchObject({ api: 'shop', stage: 'deny_list', outcome: 'block', reason: 'deny_list' });
  expect(enforcer.denyList.get('ip', replayer)).toBeUndefined();
  const real = await request(srv.port, { path: '/shop/cart', headers });
  expect(real.status).toBe(x.status);
  expect(enforcer.denyList.get('ip', replayer)?.tag).toBe('honeytoken');
});
