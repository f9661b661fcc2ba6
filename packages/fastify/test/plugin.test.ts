import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ApiJsonInput, type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { aseFrameworkErrors, asePlugin } from '@ase/fastify';
import { type Reply, type RequestOptions, rawReply, request } from '../../../test/helpers/http';

const api = (url: string, over: Record<string, unknown> = {}): ApiJsonInput => ({ api_metadata: { protocol: 'http', url, hostname: '*', ...over } }) as ApiJsonInput;
const decoy = { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/api/admin'] };

/** Serves the app on port 0 and sends one request over a real socket (light-my-request's ESM-only
 *  `cookie` dependency does not load under jest 29, so no inject()). */
async function call(app: FastifyInstance, opts: RequestOptions): Promise<Reply> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  return request((app.server.address() as AddressInfo).port, opts);
}

/** Fastify-specific wiring; what every framework must do alike is in test/conformance. */
describe('@ase/fastify', () => {
  let enforcer: Enforcer;
  let app: FastifyInstance;
  beforeEach(() => {
    enforcer = createEnforcer({
      logger: silentLogger,
      conf: { enable_ase_detected_attack: true },
      apis: { api: api('/api', { enable_blocking: true, decoy_config: decoy }) },
    });
  });
  afterEach(async () => {
    await app?.close();
    await enforcer.close();
  });

  test('requests that match no route are checked too (onRequest runs for the 404 handler)', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    app.get('/health', async () => 'ok');
    const trap = await call(app, { path: '/api/admin' });
    expect([trap.status, trap.body]).toEqual([200, 'decoy']);
    const blocked = await call(app, { path: '/api/anything' });
    expect([blocked.status, blocked.body]).toEqual([403, 'Error: Unauthorized']);
    // No API, no route: Fastify's own 404.
    expect((await call(app, { path: '/nowhere' })).status).toBe(404);
  });

  test('it applies app-wide (fastify-plugin): routes registered after it, and in other plugins, are protected', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    app.get('/api/root-level', async () => 'root');
    await app.register(async (child) => {
      child.get('/api/orders', async () => 'orders');
    });
    await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    expect((await call(app, { path: '/api/root-level' })).status).toBe(403);
    expect((await call(app, { path: '/api/orders' })).status).toBe(403);
  });

  test('a route with config: { ase: false } is not checked; its neighbours are', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    app.post('/api/webhook', { config: { ase: false } }, async () => 'webhook');
    app.post('/api/orders', { config: { ase: true } }, async () => 'orders');
    app.post('/api/other', async () => 'other');
    await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    expect((await call(app, { method: 'POST', path: '/api/webhook' })).body).toBe('webhook');
    expect((await call(app, { method: 'POST', path: '/api/orders' })).status).toBe(403);
    expect((await call(app, { method: 'POST', path: '/api/other' })).status).toBe(403);
  });

  test('config.ase other than true or false refuses the route at start-up', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    expect(() => app.get('/api/x', { config: { ase: 'off' as unknown as boolean } }, async () => 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_ASE_CONFIG', message: expect.stringMatching(/route GET \/api\/x: config\.ase: must be true or false \(got "off"\)/) }),
    );
  });

  test('registering without an enforcer fails at start-up', async () => {
    app = Fastify();
    await expect(app.register(asePlugin, {} as never)).rejects.toThrow(/asePlugin, \{ enforcer \}/);
  });

  test('the policy sees the target as sent, even when rewriteUrl changes it for routing', async () => {
    app = Fastify({ rewriteUrl: (req) => (req.url ?? '/').replace(/^\/v1/, '') || '/' });
    await app.register(asePlugin, { enforcer: createEnforcer({ logger: silentLogger, apis: { v1: api('/v1', { decoy_config: { ...decoy, decoy_subpaths: ['/v1/admin'] } }) } }) });
    app.get('/admin', async () => 'app admin');
    expect((await call(app, { path: '/v1/admin' })).body).toBe('decoy');
  });

  test('an error inside the enforcer fails closed: 500 without the cause, and no route runs', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    let ran = false;
    app.get('/open', async () => ((ran = true), 'open'));
    enforcer.decide = () => {
      throw new Error('secret detail');
    };
    const r = await call(app, { path: '/open' });
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'ERR_ASE_INTERNAL', message: 'internal error' });
    expect(r.body).not.toMatch(/secret detail/);
    expect(ran).toBe(false);
  });

  test('closing the app closes the enforcer (onClose)', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    const close = jest.spyOn(enforcer, 'close');
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  test('aseFrameworkErrors: requests Fastify refuses before its hooks get the enforcer answer; a pass keeps Fastify’s', async () => {
    app = Fastify({ routerOptions: { maxParamLength: 10 }, frameworkErrors: aseFrameworkErrors(enforcer) });
    await app.register(asePlugin, { enforcer });
    app.get('/api/items/:id', async () => 'item');
    app.get('/items/:id', async () => 'item');
    const port = (await call(app, { path: '/items/1' }), (app.server.address() as AddressInfo).port);
    const get = (target: string) => rawReply(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    // A path find-my-way cannot decode: ASE's 400 instead of Fastify's JSON one.
    const bad = await get('/api/%zz');
    expect([bad.status, bad.headers['content-type'], bad.body]).toEqual([400, 'text/plain; charset=utf-8', 'Error: Malformed Request']);
    expect((await get('/api/admin%zz')).body).toBe('Error: Malformed Request');
    // An over-long parameter: no API matches, so Fastify's own 414.
    const long = await get('/items/12345678901');
    expect(long.status).toBe(414);
    expect(JSON.parse(long.body)).toMatchObject({ code: 'FST_ERR_MAX_PARAM_LENGTH' });
    // The same on a protected API, by a deny-listed client: ASE's block, not the 414.
    await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    const blocked = await get('/api/items/12345678901');
    expect([blocked.status, blocked.body]).toEqual([403, 'Error: Unauthorized']);
  });

  test('without aseFrameworkErrors, Fastify answers an undecodable path itself, before ASE (documented difference)', async () => {
    app = Fastify();
    await app.register(asePlugin, { enforcer });
    const r = await call(app, { path: '/api/%zz' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'FST_ERR_BAD_URL' });
  });
});
