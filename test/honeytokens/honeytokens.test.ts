/**
 * Honeytokens through real servers on Express, Koa and Fastify: a decoy (a fake `/.env`) plants an
 * API key, a bearer token and a session cookie; whoever presents one later — from another address,
 * on another API, under any header name, in a cookie, the query string, or on a path no API
 * matches — is deny-listed (address and identifiers, tag `honeytoken`) with a `honeytoken` event,
 * and refused where the API blocks. The tokens outlive a restart (data/honeytokens.jsonl).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Enforcer, type SecurityEvent, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { configDir } from '../helpers/config';
import { request } from '../helpers/http';
import { ATTACKER, CONF, HONEYTOKEN_APIS, from, planted } from './honeytoken-fixtures';

describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s', (_name, harness) => {
  let dir: string;
  let enforcer: Enforcer;
  let app: RunningApp;
  const events: SecurityEvent[] = [];
  const onEvent = (e: SecurityEvent): void => void events.push(e);
  let tokens: { apiKey: string; bearer: string; cookie: string };

  const start = async (): Promise<void> => {
    enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    await enforcer.ready;
    enforcer.on('honeytoken', onEvent);
    enforcer.on('listed', onEvent);
    app = await harness.start(enforcer);
  };
  const stop = async (): Promise<void> => {
    enforcer.off('honeytoken', onEvent);
    enforcer.off('listed', onEvent);
    await app.close();
    await enforcer.close();
  };
  const tagOf = (type: 'ip' | 'token' | 'api_key' | 'cookie', value: string, name?: string): string | undefined => enforcer.denyList.get(type, value, name)?.tag;

  beforeAll(async () => {
    dir = configDir({ conf: CONF, apis: HONEYTOKEN_APIS });
    await start();
  });

  afterAll(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => void (events.length = 0));

  test('the decoy plants an API key, a bearer token and a session cookie; the same client gets the same ones back', async () => {
    const first = await request(app.port, { path: '/ops/.env', headers: from(ATTACKER) });
    expect(first.status).toBe(200);
    tokens = planted(first.body, first.headers['set-cookie']);
    const again = await request(app.port, { path: '/ops/.env', headers: from(ATTACKER) });
    expect(planted(again.body, again.headers['set-cookie'])).toEqual(tokens);
    // Another client of the decoy gets values of its own.
    const other = await request(app.port, { path: '/ops/.env', headers: from('203.0.113.8') });
    const theirs = planted(other.body, other.headers['set-cookie']);
    for (const k of ['apiKey', 'bearer', 'cookie'] as const) expect(theirs[k]).not.toBe(tokens[k]);
    expect(tagOf('ip', ATTACKER)).toBe('decoy');
  });

  test('the API key replayed from another address on another API, with a key of its own: 403, address and identifiers listed, one honeytoken event', async () => {
    const ip = '198.51.100.9';
    const r = await request(app.port, { path: '/shop/items', headers: from(ip, { 'x-shop-key': tokens.apiKey, authorization: 'Bearer throwaway-token-1' }) });
    expect(r.status).toBe(403);
    expect(app.appSeen.some((s) => s.url === '/shop/items')).toBe(false);
    expect(tagOf('ip', ip)).toBe('honeytoken');
    expect(tagOf('token', 'throwaway-token-1')).toBe('honeytoken');
    // The planted key itself is no client's identifier: it is not listed.
    expect(enforcer.denyList.get('api_key', tokens.apiKey, 'x-shop-key')).toBeUndefined();
    const hits = events.filter((e) => e.type === 'honeytoken');
    expect(hits).toHaveLength(1);
    const { time: _t, honeytoken, ...rest } = hits[0]!;
    expect(rest).toEqual({ type: 'honeytoken', api: 'shop', reason: 'honeytoken', client: { ip, identifier: { type: 'ip', value: ip } }, blocked: true, method: 'GET', path: '/shop/items' });
    expect(honeytoken).toMatchObject({ kind: 'api_key', value: 'sk_l****', api: 'ops', planted_to: ATTACKER });
    expect(Date.parse(honeytoken!.planted_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(events.filter((e) => e.type === 'listed').map((e) => [e.reason, e.client.identifier?.type])).toEqual([
      ['honeytoken', 'ip'],
      ['honeytoken', 'token'],
    ]);
    expect(JSON.stringify(events)).not.toContain(tokens.apiKey);
  });

  test('the bearer token under a header name no API reads, on a detect-only API: served, and the sender listed', async () => {
    const ip = '198.51.100.10';
    const r = await request(app.port, { path: '/watch/x', headers: from(ip, { 'x-anything': `Bearer ${tokens.bearer}` }) });
    expect(r.status).toBe(200);
    expect(tagOf('ip', ip)).toBe('honeytoken');
    expect(events.find((e) => e.type === 'honeytoken')).toMatchObject({ api: 'watch', blocked: false, honeytoken: { kind: 'bearer_token' } });
    // Listed: the next request to a blocking API is refused.
    expect((await request(app.port, { path: '/shop/items', headers: from(ip) })).status).toBe(403);
  });

  test('the cookie on a path no API matches: the app answers, the sender is listed and refused on the APIs after', async () => {
    const ip = '198.51.100.11';
    const r = await request(app.port, { path: '/nowhere', headers: from(ip, { cookie: `theme=dark; sid=${tokens.cookie}` }) });
    expect(r.status).toBe(200);
    expect(tagOf('ip', ip)).toBe('honeytoken');
    expect(events.find((e) => e.type === 'honeytoken')).toMatchObject({ api: null, blocked: false, honeytoken: { kind: 'cookie', planted_to: ATTACKER } });
    expect((await request(app.port, { path: '/shop/items', headers: from(ip) })).status).toBe(403);
  });

  test('a percent-escaped key in the query string, and a key as the user name of a Basic credential, are found', async () => {
    const escaped = [...tokens.apiKey].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect((await request(app.port, { path: `/shop/items?key=${escaped}`, headers: from('198.51.100.12') })).status).toBe(403);
    expect(tagOf('ip', '198.51.100.12')).toBe('honeytoken');
    const basic = Buffer.from(`${tokens.apiKey}:`).toString('base64');
    expect((await request(app.port, { path: '/shop/items', headers: from('198.51.100.13', { authorization: `Basic ${basic}` }) })).status).toBe(403);
    expect(tagOf('ip', '198.51.100.13')).toBe('honeytoken');
  });

  test('a key of the same shape that no decoy planted, or a planted one cut short, lists nobody', async () => {
    const ip = '198.51.100.14';
    const made = `sk_live_${'A'.repeat(32)}`;
    expect((await request(app.port, { path: '/shop/items', headers: from(ip, { 'x-shop-key': made }) })).status).toBe(200);
    expect((await request(app.port, { path: '/shop/items', headers: from(ip, { 'x-shop-key': tokens.apiKey.slice(0, -1) }) })).status).toBe(200);
    expect((await request(app.port, { path: '/shop/items', headers: from(ip, { 'x-shop-key': `${tokens.apiKey}x` }) })).status).toBe(200);
    expect(enforcer.denyList.get('ip', ip)).toBeUndefined();
    expect(events).toEqual([]);
  });

  test('after a restart the planted tokens are still caught (data/honeytokens.jsonl, owner-only)', async () => {
    await stop();
    expect(fs.statSync(path.join(dir, 'data', 'honeytokens.jsonl')).mode & 0o777).toBe(0o600);
    await start();
    const ip = '198.51.100.20';
    expect((await request(app.port, { path: '/shop/items', headers: from(ip, { authorization: `Bearer ${tokens.bearer}` }) })).status).toBe(403);
    expect(tagOf('ip', ip)).toBe('honeytoken');
    // The restarted decoy still gives its client the tokens it planted before.
    const again = await request(app.port, { path: '/ops/.env', headers: from(ATTACKER) });
    expect(planted(again.body, again.headers['set-cookie'])).toEqual(tokens);
  });
});
