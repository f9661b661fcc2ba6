import { api, servers, pattern } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';


describe('Express adapter: pattern enforcement', () => {
  let backend: Backend;
  let app: AppUnderTest;

  beforeAll(async () => {
    backend = await startBackend('b');
    app = await startExpressApp({
      conf: { enable_ase_detected_attack: true },
      apis: {
        methods: api('/methods', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern({ methods_allowed: ['GET', 'post'] }), servers: servers(backend.port) }),
        json: api('/json', { enable_blocking: true, api_pattern_enforcement: pattern({ content_type_allowed: 'application/json' }), servers: servers(backend.port) }),
        httpsOnly: api('/secure', {
          enable_blocking: true,
          api_pattern_enforcement: pattern({ protocol_allowed: 'https', http_redirect: { response_code: 301, response_def: 'Moved Permanently', https_url: 'https://shop.example.com' } }),
          servers: servers(backend.port),
        }),
        httpsNoRedirect: api('/tls', { enable_blocking: true, api_pattern_enforcement: pattern({ protocol_allowed: 'HTTPS, WSS' }), servers: servers(backend.port) }),
        detectOnly: api('/detect', { enable_blocking: false, api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }), servers: servers(backend.port) }),
        other: api('/other', { enable_blocking: true, servers: servers(backend.port) }),
      },
    });
  });
  afterEach(() => app.enforcer.clearDeny());
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  test('a method outside methods_allowed is blocked with the API error response and deny-lists the client', async () => {
    expect((await request(app.port, { path: '/methods/x', method: 'POST', headers: { 'content-length': '0' } })).status).toBe(200);
    const before = backend.seen.length;
    const r = await request(app.port, { path: '/methods/x', method: 'DELETE' });
    expect(r.status).toBe(401);
    expect(r.statusMessage).toBe('Unauthorized');
    expect(r.body).toBe('401 Unauthorized');
    expect(backend.seen.length).toBe(before);
    expect(app.enforcer.denyList.list('invalid_method')).toEqual([expect.objectContaining({ type: 'ip', value: '127.0.0.1' })]);
    // The entry now blocks the client on every API with enable_blocking, with that API's response.
    const next = await request(app.port, { path: '/other/y' });
    expect(next.status).toBe(403);
    expect(next.body).toBe('Error: Unauthorized');
  });

  test('a violation is pinned on the token when the request carries one', async () => {
    await request(app.port, { path: '/methods/x', method: 'PUT', headers: { authorization: 'Bearer t-42' } });
    expect(app.enforcer.denyList.list('invalid_method')).toEqual([expect.objectContaining({ type: 'token', value: 't-42' })]);
    expect((await request(app.port, { path: '/methods/x' })).status).toBe(200);
  });

  test('a body with another media type is blocked; charset and case do not matter; bodiless requests are not checked', async () => {
    const ok = await request(app.port, { path: '/json/x', method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '{}' });
    expect(ok.status).toBe(200);
    expect((await request(app.port, { path: '/json/x' })).status).toBe(200);
    const bad = await request(app.port, { path: '/json/x', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(bad.status).toBe(401);
    expect(app.enforcer.denyList.list('invalid_content_type')).toHaveLength(1);
  });

  test('a tab inside the media type does not sneak past the content-type rule', async () => {
    const r = await request(app.port, { path: '/json/x', method: 'POST', headers: { 'content-type': 'application/json\t;x=1' }, body: '{}' });
    expect(r.status).toBe(401);
  });

  test('plain HTTP on an HTTPS-only API with https_url is redirected, keeping path and query, and is not a violation', async () => {
    const r = await request(app.port, { path: '/secure/cart?id=3' });
    expect(r.status).toBe(301);
    expect(r.statusMessage).toBe('Moved Permanently');
    expect(r.headers.location).toBe('https://shop.example.com/secure/cart?id=3');
    expect(app.enforcer.denyList.size).toBe(0);
  });

  test('plain HTTP on an HTTPS-only API without a redirect is an invalid_protocol violation', async () => {
    const r = await request(app.port, { path: '/tls/x' });
    expect(r.status).toBe(401);
    expect(app.enforcer.denyList.list('invalid_protocol')).toHaveLength(1);
  });

  test('on an API without enable_blocking a violation is recorded but the request goes through', async () => {
    const attacks: string[] = [];
    const on = (e: { kind: string; blocked: boolean }): void => void attacks.push(`${e.kind}:${e.blocked}`);
    app.enforcer.on('attack', on);
    const r = await request(app.port, { path: '/detect/x', method: 'DELETE' });
    app.enforcer.off('attack', on);
    expect(r.status).toBe(200);
    expect(attacks).toEqual(['invalid_method:false']);
    expect(app.enforcer.denyList.list('invalid_method')).toHaveLength(1);
  });

  test('with ASE-detected attacks disabled a violation blocks the request but lists nobody, and disabling purges entries', async () => {
    await request(app.port, { path: '/methods/x', method: 'DELETE' });
    await app.enforcer.addDeny({ type: 'ip', value: '10.9.9.9' });
    expect(app.enforcer.denyList.size).toBe(2);
    await app.enforcer.setAseDetectedAttacks(false);
    try {
      expect(app.enforcer.denyList.list().map((e) => e.tag)).toEqual(['manual']);
      expect((await request(app.port, { path: '/methods/x', method: 'DELETE' })).status).toBe(401);
      expect(app.enforcer.denyList.size).toBe(1);
    } finally {
      await app.enforcer.setAseDetectedAttacks(true);
    }
  });
});
