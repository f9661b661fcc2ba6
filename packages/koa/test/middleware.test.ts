import * as http from 'node:http';
import * as net from 'node:net';
import Koa from 'koa';
import { type ApiJsonInput, type Decision, type Enforcer, createEnforcer, fromNodeRequest, silentLogger } from '@ase/core';
import { aseMiddleware } from '@ase/koa';
import { listen, request } from '../../../test/helpers/http';

const api = (url: string, over: Record<string, unknown> = {}): ApiJsonInput => ({ api_metadata: { protocol: 'http', url, hostname: '*', ...over } }) as ApiJsonInput;
const decoy = { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] };

/** Koa-specific wiring; what every framework must do alike is in test/conformance. */
describe('@ase/koa', () => {
  let enforcer: Enforcer;
  let close: (() => Promise<void>) | undefined;
  beforeEach(() => {
    enforcer = createEnforcer({ logger: silentLogger, apis: { shop: api('/shop', { enable_blocking: true, decoy_config: decoy }) } });
  });
  afterEach(async () => {
    await close?.();
    await enforcer.close();
  });
  const serve = async (app: Koa): Promise<number> => {
    const srv = await listen(http.createServer(app.callback()));
    close = srv.close;
    return srv.port;
  };

  test('mounted under a path (koa-mount rewrites req.url), the policy still sees the full target', async () => {
    const app = new Koa();
    // What koa-mount('/shop', sub) does before the sub-app's middleware runs.
    app.use(async (ctx, next) => {
      if (ctx.path.startsWith('/shop/')) ctx.path = ctx.path.slice('/shop'.length);
      await next();
    });
    app.use(aseMiddleware(enforcer));
    app.use((ctx) => void (ctx.body = `app ${ctx.url}`));
    const port = await serve(app);
    const r = await request(port, { path: '/shop/admin' });
    expect([r.status, r.body]).toEqual([200, 'decoy']);
  });

  test('blocks and decoys are answered through Koa: upstream middleware sees them after next()', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      await next();
      ctx.set('x-seen-by-upstream', `${ctx.status} ${ctx.message}`);
    });
    app.use(aseMiddleware(enforcer));
    app.use((ctx) => void (ctx.body = 'app'));
    const port = await serve(app);
    await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
    const blocked = await request(port, { path: '/shop/items' });
    expect([blocked.status, blocked.statusMessage, blocked.body]).toEqual([403, 'Unauthorized', 'Error: Unauthorized']);
    expect(blocked.headers['x-seen-by-upstream']).toBe('403 Unauthorized');
    expect(blocked.headers['content-type']).toBe('text/plain; charset=utf-8');
    // A pass continues down the stack, and the stack unwinds through the adapter.
    const passed = await request(port, { path: '/other' });
    expect([passed.status, passed.body, passed.headers['x-seen-by-upstream']]).toEqual([200, 'app', '200 OK']);
  });

  test('an answer is byte for byte what setting it through the ctx aliases gives', async () => {
    // The adapter writes through ctx.response and res.setHeader (docs/performance.md); the
    // reference below is how it used to answer.
    const reference = new Koa();
    reference.use(async (ctx, next) => {
      const raw = fromNodeRequest(ctx.req);
      raw.url = ctx.originalUrl;
      const d = (await enforcer.decide(raw)) as Decision;
      if (d.action !== 'respond') return next();
      const spec = d.response;
      ctx.status = spec.status;
      if (spec.reason) ctx.message = spec.reason;
      ctx.set(spec.headers);
      ctx.body = spec.body;
    });
    const mine = new Koa();
    mine.use(aseMiddleware(enforcer));
    for (const app of [reference, mine]) app.use((ctx) => void (ctx.body = 'app'));
    const refSrv = await listen(http.createServer(reference.callback()));
    try {
      const port = await serve(mine);
      await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
      const exchange = (p: number, head: string) =>
        new Promise<string>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const sock = net.connect(p, '127.0.0.1', () => sock.end(head));
          sock.on('data', (c: Buffer) => chunks.push(c));
          sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1').replace(/\r\nDate: [^\r]*/, '')));
          sock.on('error', reject);
        });
      for (const head of ['GET /shop/items HTTP/1.1', 'HEAD /shop/items HTTP/1.1', 'GET /shop/admin HTTP/1.1', 'GET /shop/%zz HTTP/1.1']) {
        const text = `${head}\r\nHost: x\r\nConnection: close\r\n\r\n`;
        expect([head, await exchange(port, text)]).toEqual([head, await exchange(refSrv.port, text)]);
      }
    } finally {
      await refSrv.close();
    }
  });

  test('an error inside the enforcer goes to Koa’s error handling: 500 without the cause, nothing downstream runs', async () => {
    const app = new Koa();
    const errors: unknown[] = [];
    app.on('error', (err: unknown) => errors.push(err));
    let ran = false;
    app.use(aseMiddleware(enforcer));
    app.use((ctx) => void ((ran = true), (ctx.body = 'app')));
    const port = await serve(app);
    enforcer.decide = () => {
      throw new Error('secret detail');
    };
    const r = await request(port, { path: '/other' });
    expect([r.status, r.body]).toEqual([500, 'Internal Server Error']);
    expect(ran).toBe(false);
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_ASE_INTERNAL', cause: expect.objectContaining({ message: 'secret detail' }) })]);
  });
});
