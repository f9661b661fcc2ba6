/**
 * `decisionHandler` on a real listener, asked the way each proxy asks: Envoy's ext_authz HTTP
 * service (the original request itself, under a path prefix), Traefik's ForwardAuth (a GET with
 * X-Forwarded-*), nginx's auth_request (X-Original-*, and the answer fetched with its ticket).
 * Envoy and Traefik themselves are not packaged for this Debian; nginx runs for real in nginx.test.ts.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { type AseConf, type DecisionServiceOptions, type Enforcer, type Logger, createEnforcer, decisionHandler } from '@ase/core';
import { api, pattern } from '../helpers/config';
import { type Reply, listen, request } from '../helpers/http';

const BLOCK_BODY = '{"error":"blocked by policy"}';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

interface Service {
  enforcer: Enforcer;
  port: number;
  logger: ReturnType<typeof recordingLogger>;
  ask(o: { method?: string; path?: string; headers?: Record<string, string | string[]> }): Promise<Reply>;
  close(): Promise<void>;
}

const open: Service[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const SHOP_APIS = {
  shop: api('/shop', {
    hostname: 'shop.example',
    enable_blocking: true,
    api_pattern_enforcement: pattern({ methods_allowed: ['GET', 'POST'], error_code: '451', error_def: 'Unavailable For Legal Reasons', error_message_body: BLOCK_BODY }),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'welcome, admin', decoy_subpaths: ['/shop/admin'] },
  } as never),
  secure: api('/secure', { hostname: 'shop.example', enable_blocking: true, api_pattern_enforcement: pattern({ protocol_allowed: 'https' }) } as never),
};

async function service(options: DecisionServiceOptions, conf: Partial<AseConf> = {}, apis: Record<string, unknown> = SHOP_APIS): Promise<Service> {
  const logger = recordingLogger();
  const enforcer = createEnforcer({
    logger,
    conf: { enable_xff: true, enable_ase_detected_attack: true, ...conf },
    apis: apis as never,
  });
  const server = http.createServer(decisionHandler(enforcer, options));
  const l = await listen(server);
  const s: Service = {
    enforcer,
    port: l.port,
    logger,
    ask: (o) => request(l.port, { method: o.method ?? 'GET', path: o.path ?? '/', headers: o.headers ?? {} }),
    close: async () => {
      await l.close();
      await enforcer.close();
    },
  };
  open.push(s);
  return s;
}

describe('Envoy ext_authz (HTTP service): the original request under path_prefix', () => {
  // What Envoy sends: the client's method, path and headers, X-Forwarded-For as the connection
  // manager set it (use_remote_address), and its own x-envoy-* and x-request-id.
  const envoy = (path: string, client: string, o: { method?: string; headers?: Record<string, string> } = {}) => ({
    method: o.method ?? 'GET',
    path: `/ase-authz${path}`,
    headers: { host: 'shop.example', 'x-forwarded-for': client, 'x-forwarded-proto': 'http', 'x-envoy-internal': 'true', 'x-request-id': 'b5e1f3c2-0d3c-4f5e-9a1b-1c2d3e4f5a6b', ...o.headers },
  });

  test('pass: 200, empty, with the API and the client address the decision used', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' });
    const r = await s.ask(envoy('/shop/items?page=2', '203.0.113.7'));
    expect([r.status, r.body]).toEqual([200, '']);
    expect(r.headers).toMatchObject({ 'x-ase-decision': 'pass', 'x-ase-api': 'shop', 'x-ase-client-ip': '203.0.113.7' });
    // No API matched: passes, and says so with empty identity headers (the proxy replaces the client's copies).
    const other = await s.ask(envoy('/public', '203.0.113.7'));
    expect(other.status).toBe(200);
    expect([other.headers['x-ase-api'], other.headers['x-ase-client-ip']]).toEqual(['', '']);
  });

  test("a deny-listed client and a refused method get the API's own status, headers and body, which Envoy serves", async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' });
    await s.enforcer.addDeny({ type: 'ip', value: '203.0.113.9' });
    const denied = await s.ask(envoy('/shop/items', '203.0.113.9'));
    expect([denied.status, denied.statusMessage, denied.body]).toEqual([451, 'Unavailable For Legal Reasons', BLOCK_BODY]);
    expect(denied.headers).toMatchObject({ 'x-ase-decision': 'block', 'x-ase-status': '451', 'content-type': 'text/plain; charset=utf-8' });
    const del = await s.ask(envoy('/shop/items/1', '203.0.113.10', { method: 'DELETE' }));
    expect([del.status, del.body]).toEqual([451, BLOCK_BODY]);
  });

  test('a decoy answering 200 goes out as 403 (Envoy would read 200 as pass) with its body, and blocks the client from then on', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' });
    const trap = await s.ask(envoy('/shop/admin', '203.0.113.20'));
    expect([trap.status, trap.body]).toEqual([403, 'welcome, admin']);
    expect(trap.headers).toMatchObject({ 'x-ase-decision': 'decoy', 'x-ase-decoy': '1', 'x-ase-status': '200' });
    expect((await s.ask(envoy('/shop/items', '203.0.113.20'))).status).toBe(451);
    expect((await s.ask(envoy('/shop/items', '203.0.113.21'))).status).toBe(200);
  });

  test('X-Forwarded-For and X-Forwarded-Proto count only from a trusted proxy', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, { xff_trusted_proxies: ['10.0.0.1'] });
    const r = await s.ask(envoy('/shop/items', '203.0.113.7'));
    expect(r.headers['x-ase-client-ip']).toBe('127.0.0.1');
    // HTTPS-only API: a forged X-Forwarded-Proto from an untrusted peer does not make the request HTTPS.
    expect((await s.ask(envoy('/secure/a', '203.0.113.7', { headers: { 'x-forwarded-proto': 'https' } }))).status).not.toBe(200);
    const trusted = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' });
    expect((await trusted.ask(envoy('/secure/a', '203.0.113.7', { headers: { 'x-forwarded-proto': 'https' } }))).status).toBe(200);
    expect((await trusted.ask(envoy('/secure/a', '203.0.113.7'))).status).not.toBe(200);
  });

  test('a path outside path_prefix is a misconfiguration: 500, and one warning', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' });
    for (let i = 0; i < 2; i++) {
      const r = await s.ask({ path: '/shop/items', headers: { host: 'shop.example' } });
      expect([r.status, r.body]).toEqual([500, 'Error: Decision Request Incomplete']);
    }
    expect(s.logger.warnings.filter((w) => w.includes('path prefix /ase-authz'))).toHaveLength(1);
    // `/ase-authzX` is not under the prefix `/ase-authz`.
    expect((await s.ask({ path: '/ase-authzshop/items', headers: { host: 'shop.example' } })).status).toBe(500);
  });
});

describe("X-ASE-Client on pass: the client's strongest identifier, masked as the access log masks it", () => {
  const JWT_SECRET = readFileSync(path.join(__dirname, '..', 'fixtures', 'jwt', 'hs256.secret'), 'utf8').trim();
  const jwt = (claims: Record<string, unknown>, secret = JWT_SECRET): string => {
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const ID_APIS = {
    ids: api('/ids', { hostname: 'shop.example', enable_blocking: true, oauth2_access_token: true, apikey_header: 'X-API-Key', cookie: 'JSESSIONID', api_pattern_enforcement: pattern() } as never),
    watch: api('/watch', { hostname: 'shop.example', enable_blocking: false, oauth2_access_token: true, api_pattern_enforcement: pattern() } as never),
    signed: api('/signed', {
      hostname: 'shop.example',
      enable_blocking: true,
      jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
      jwt_verification: { algorithms: ['HS256'], secret_file: path.join(__dirname, '..', 'fixtures', 'jwt', 'hs256.secret'), required: false },
    } as never),
    named: api('/named', { hostname: 'shop.example', username_header: 'X-User' } as never),
    proxied: api('/proxied', { hostname: 'shop.example', username_header: 'X-User', username_header_trusted: true } as never),
  };
  const envoy = (p: string, headers: Record<string, string | string[]> = {}) => ({
    path: `/ase-authz${p}`,
    headers: { host: 'shop.example', 'x-forwarded-for': '203.0.113.7', ...headers },
  });
  const TOKEN = 'eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLXZhbHVl.sig-secret-part';

  /** Every header value of the reply in one string, to show a raw credential is in none of them. */
  const allHeaders = (r: Reply): string => JSON.stringify(r.headers);

  test('token, else API key, else cookie, else the IP; empty when no API matched', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, {}, ID_APIS);
    const cases: [Record<string, string>, string][] = [
      [{ authorization: `Bearer ${TOKEN}`, 'x-api-key': 'key-123456', cookie: 'JSESSIONID=sess-abcdef' }, 'token:eyJh****'],
      [{ 'x-api-key': 'key-123456', cookie: 'JSESSIONID=sess-abcdef' }, 'api_key:key-****'],
      [{ cookie: 'JSESSIONID=sess-abcdef' }, 'cookie:sess****'],
      [{}, 'ip:203.0.113.7'],
    ];
    for (const [headers, client] of cases) {
      const r = await s.ask(envoy('/ids/items', headers));
      expect([r.status, r.headers['x-ase-decision'], r.headers['x-ase-client']]).toEqual([200, 'pass', client]);
      for (const secret of [TOKEN, 'key-123456', 'sess-abcdef', 'sig-secret-part']) expect(allHeaders(r)).not.toContain(secret);
    }
    const other = await s.ask(envoy('/public', { authorization: `Bearer ${TOKEN}` }));
    expect([other.status, other.headers['x-ase-client']]).toEqual([200, '']);
  });

  test('a user name is named only when the enforcer trusts it: a verified JWT, or username_header from a trusted proxy', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, {}, ID_APIS);
    const signed = await s.ask(envoy('/signed/a', { authorization: `Bearer ${jwt({ sub: 'alice' })}` }));
    expect([signed.status, signed.headers['x-ase-client']]).toEqual([200, 'username:alice']);
    // Signed with another secret: the claim is the client's own word (the JWT is not required, so it passes).
    const forged = await s.ask(envoy('/signed/a', { authorization: `Bearer ${jwt({ sub: 'admin' }, `${JWT_SECRET}-not`)}` }));
    expect([forged.status, forged.headers['x-ase-client']]).toEqual([200, 'ip:203.0.113.7']);
    // username_header without username_header_trusted: anyone could have sent it.
    expect((await s.ask(envoy('/named/a', { 'x-user': 'admin' }))).headers['x-ase-client']).toBe('ip:203.0.113.7');
    // The decision request comes from 127.0.0.1, a trusted proxy (the default xff_trusted_proxies).
    expect((await s.ask(envoy('/proxied/a', { 'x-user': 'bob' }))).headers['x-ase-client']).toBe('username:bob');
    const untrusted = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, { xff_trusted_proxies: ['10.0.0.1'] }, ID_APIS);
    expect((await untrusted.ask(envoy('/proxied/a', { 'x-user': 'bob' }))).headers['x-ase-client']).toBe('ip:127.0.0.1');
  });

  test('values a header cannot carry as they are are percent-encoded; a long user name is cut', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, {}, ID_APIS);
    // The access_token parameter is percent-decoded: its first characters may be anything.
    const r = await s.ask(envoy('/ids/a?access_token=%0D%0AX:%25secret-rest'));
    expect([r.status, r.headers['x-ase-client']]).toEqual([200, 'token:%0D%0AX:****']);
    expect(allHeaders(r)).not.toContain('secret-rest');
    const unicode = await s.ask(envoy('/signed/a', { authorization: `Bearer ${jwt({ sub: 'zoë 東' })}` }));
    expect(unicode.headers['x-ase-client']).toBe('username:zo%C3%AB%20%E6%9D%B1');
    const long = await s.ask(envoy('/signed/a', { authorization: `Bearer ${jwt({ sub: 'u'.repeat(500) })}` }));
    expect(long.headers['x-ase-client']).toBe(`username:${'u'.repeat(64)}...`);
  });

  test('the identifiers are read however the firewall let the request on: allow-listed, listed on a detect-only API, or the firewall off', async () => {
    const s = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, {}, ID_APIS);
    await s.enforcer.addDeny({ type: 'ip', value: '203.0.113.7' });
    // Detect-only: the listed IP is reported, the request passes, and its token is still named.
    const watched = await s.ask(envoy('/watch/a', { authorization: `Bearer ${TOKEN}` }));
    expect([watched.status, watched.headers['x-ase-client']]).toEqual([200, 'token:eyJh****']);
    await s.enforcer.addAllow({ type: 'ip', value: '198.51.100.1' });
    const allowed = await s.ask(envoy('/ids/a', { 'x-forwarded-for': '198.51.100.1', 'x-api-key': 'key-123456' }));
    expect([allowed.status, allowed.headers['x-ase-client']]).toEqual([200, 'api_key:key-****']);
    const off = await service({ proxy: 'envoy', pathPrefix: '/ase-authz' }, { enable_firewall: false }, ID_APIS);
    const r = await off.ask(envoy('/ids/a', { cookie: 'JSESSIONID=sess-abcdef' }));
    expect([r.status, r.headers['x-ase-client']]).toEqual([200, 'cookie:sess****']);
  });

  test('Traefik and nginx get the same header', async () => {
    const t = await service({ proxy: 'traefik' }, {}, ID_APIS);
    const viaTraefik = await t.ask({ headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/ids/a', 'x-forwarded-host': 'shop.example', 'x-forwarded-for': '192.0.2.9', authorization: `Bearer ${TOKEN}` } });
    expect([viaTraefik.status, viaTraefik.headers['x-ase-client']]).toEqual([200, 'token:eyJh****']);
    const n = await service({ proxy: 'nginx' }, {}, ID_APIS);
    const viaNginx = await n.ask({ headers: { host: 'shop.example', 'x-original-method': 'GET', 'x-original-uri': '/ids/a', 'x-forwarded-for': '192.0.2.9', 'x-api-key': 'key-123456' } });
    expect([viaNginx.status, viaNginx.headers['x-ase-client']]).toEqual([200, 'api_key:key-****']);
  });
});

describe('an API with servers and server flow control', () => {
  test('the server slot a decision takes is given back at once: the proxy, not ASE, carries the request', async () => {
    const logger = recordingLogger();
    // Without queueing a server at its quota answers 503 at once: a slot kept would refuse the second request.
    const enforcer = createEnforcer({ logger, conf: { enable_xff: true }, apis: { q: api('/q', { servers: [{ host: '127.0.0.1', port: 9, server_connection_quota: 1 }] } as never) } });
    const l = await listen(http.createServer(decisionHandler(enforcer, { proxy: 'envoy' })));
    try {
      for (let i = 0; i < 3; i++) {
        const r = await request(l.port, { path: '/q/items', headers: { 'x-forwarded-for': '203.0.113.7' } });
        expect([r.status, r.headers['x-ase-api']]).toEqual([200, 'q']);
      }
    } finally {
      await l.close();
      await enforcer.close();
    }
  });
});

describe('Traefik ForwardAuth: a GET with the original request in X-Forwarded-*', () => {
  const traefik = (method: string, uri: string, client: string, o: { proto?: string; headers?: Record<string, string | string[]> } = {}) => ({
    method: 'GET',
    path: '/',
    headers: {
      host: '127.0.0.1:8000',
      'x-forwarded-method': method,
      'x-forwarded-proto': o.proto ?? 'http',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-uri': uri,
      'x-forwarded-for': client,
      ...o.headers,
    },
  });

  test('pass with the identity headers; the method, target, host and scheme are the original request\'s', async () => {
    const s = await service({ proxy: 'traefik' });
    const r = await s.ask(traefik('POST', '/shop/orders', '198.51.100.4'));
    expect([r.status, r.body]).toEqual([200, '']);
    expect(r.headers).toMatchObject({ 'x-ase-api': 'shop', 'x-ase-client-ip': '198.51.100.4' });
    expect((await s.ask(traefik('DELETE', '/shop/orders/1', '198.51.100.5'))).status).toBe(451);
    expect((await s.ask(traefik('GET', '/secure/a', '198.51.100.6', { proto: 'https' }))).status).toBe(200);
    expect((await s.ask(traefik('GET', '/secure/a', '198.51.100.6'))).status).not.toBe(200);
  });

  test('a decoy hit, then every request of that client refused with the API\'s answer', async () => {
    const s = await service({ proxy: 'traefik' });
    const trap = await s.ask(traefik('GET', '/shop/admin', '198.51.100.30'));
    expect([trap.status, trap.body, trap.headers['x-ase-decoy']]).toEqual([403, 'welcome, admin', '1']);
    const next = await s.ask(traefik('GET', '/shop/items', '198.51.100.30'));
    expect([next.status, next.body]).toEqual([451, BLOCK_BODY]);
  });

  test('X-Forwarded-Uri missing or sent twice (a client copy let through) is refused with 500', async () => {
    const s = await service({ proxy: 'traefik' });
    const twice = await s.ask(traefik('GET', '/shop/items', '198.51.100.4', { headers: { 'x-forwarded-uri': ['/public', '/shop/admin'] } }));
    expect(twice.status).toBe(500);
    const { 'x-forwarded-uri': _, ...without } = traefik('GET', '/shop/items', '198.51.100.4').headers;
    expect((await s.ask({ path: '/', headers: without })).status).toBe(500);
    expect(s.logger.warnings.some((w) => w.includes('x-forwarded-uri twice'))).toBe(true);
    expect(s.logger.warnings.some((w) => w.includes('no x-forwarded-uri'))).toBe(true);
  });
});

describe('nginx auth_request: X-Original-*, and the answer fetched once with its ticket', () => {
  const nginx = (method: string, uri: string, client: string, headers: Record<string, string> = {}) => ({
    path: '/.ase/decide',
    headers: { host: 'shop.example', 'x-original-method': method, 'x-original-uri': uri, 'x-forwarded-for': client, 'x-forwarded-proto': 'http', ...headers },
  });

  test("a refusal is 403 with the API's status and a ticket; the ticket fetches the answer once", async () => {
    const s = await service({ proxy: 'nginx' });
    const r = await s.ask(nginx('DELETE', '/shop/orders/1', '192.0.2.1'));
    expect([r.status, r.body]).toEqual([403, '']);
    expect(r.headers).toMatchObject({ 'x-ase-decision': 'block', 'x-ase-status': '451' });
    const ticket = String(r.headers['x-ase-answer']);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const answer = await s.ask({ path: '/shop/orders/1', headers: { host: 'shop.example', 'x-ase-answer': ticket } });
    expect([answer.status, answer.body]).toEqual([451, BLOCK_BODY]);
    const again = await s.ask({ path: '/shop/orders/1', headers: { host: 'shop.example', 'x-ase-answer': ticket } });
    expect([again.status, again.body]).toEqual([403, 'Error: Forbidden']);
    const guessed = await s.ask({ path: '/shop/orders/1', headers: { host: 'shop.example', 'x-ase-answer': 'A'.repeat(22) } });
    expect(guessed.status).toBe(403);
  });

  test('only the X-Original-* headers say what the request was: Traefik\'s names are ignored', async () => {
    const s = await service({ proxy: 'nginx' });
    const r = await s.ask(nginx('GET', '/shop/items', '192.0.2.2', { 'x-forwarded-uri': '/shop/admin', 'x-forwarded-method': 'DELETE' }));
    expect(r.status).toBe(200);
    expect((await s.ask(nginx('GET', '/shop/items', '192.0.2.2'))).status).toBe(200); // not listed by a decoy it never hit
  });

  test('without X-Original-Method the decision request is refused with 500', async () => {
    const s = await service({ proxy: 'nginx' });
    const r = await s.ask({ path: '/.ase/decide', headers: { host: 'shop.example', 'x-original-uri': '/shop/items' } });
    expect(r.status).toBe(500);
    expect(s.logger.warnings.some((w) => w.includes('no x-original-method'))).toBe(true);
  });

  test('with enable_xff off the handler warns at once that every client shares the proxy\'s address', async () => {
    const s = await service({ proxy: 'nginx' }, { enable_xff: false });
    expect(s.logger.warnings.some((w) => w.includes('enable_xff is false'))).toBe(true);
  });

  test('an unknown proxy name is refused', () => {
    const enforcer = createEnforcer({ logger: recordingLogger() });
    expect(() => decisionHandler(enforcer, { proxy: 'haproxy' as never })).toThrow(/proxy must be one of nginx, envoy, traefik/);
    return enforcer.close();
  });
});
