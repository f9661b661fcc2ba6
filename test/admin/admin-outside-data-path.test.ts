import * as http from 'node:http';
import express from 'express';
import Koa from 'koa';
import Fastify from 'fastify';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware as aseExpress } from '@ase/express';
import { aseMiddleware as aseKoa } from '@ase/koa';
import { asePlugin } from '@ase/fastify';
import { adminExpress, adminFastify, adminKoa } from '@ase/admin';
import { api } from '../helpers/config';
import { listen, request } from '../helpers/http';
import { call } from './harness';

/*
 * The management API mounted in an app AFTER the enforcer's middleware, under an API whose url is
 * `/`: the operator's address gets deny-listed by a decoy hit, and the operator must still be able
 * to remove the entry through the mounted management API.
 */

const DECOY = { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/trap'] };

function enforcer(): Enforcer {
  return createEnforcer({
    logger: silentLogger,
    conf: { enable_ase_detected_attack: true },
    apis: { site: api('/', { enable_blocking: true, decoy_config: DECOY }) },
  });
}

interface App {
  port: number;
  close(): Promise<void>;
}

const APPS: Record<string, (e: Enforcer) => Promise<App>> = {
  express: async (e) => {
    const app = express();
    app.use(aseExpress(e));
    app.get('/page', (_req, res) => void res.send('page'));
    app.use(adminExpress(e));
    const srv = await listen(http.createServer(app));
    return { port: srv.port, close: () => srv.close() };
  },
  koa: async (e) => {
    const app = new Koa();
    app.use(aseKoa(e));
    app.use(async (ctx, next) => {
      if (ctx.path === '/page') ctx.body = 'page';
      else await next();
    });
    app.use(adminKoa(e));
    const srv = await listen(http.createServer(app.callback()));
    return { port: srv.port, close: () => srv.close() };
  },
  fastify: async (e) => {
    const app = Fastify();
    await app.register(asePlugin, { enforcer: e });
    app.get('/page', async () => 'page');
    await app.register(adminFastify, { admin: e });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
  },
};

describe.each(Object.keys(APPS))('the management API mounted on %s after the enforcer is outside the data path', (name) => {
  test('an operator deny-listed by a decoy hit on an API with url "/" removes the entry through the mounted management API', async () => {
    const e = enforcer();
    const app = await APPS[name]!(e);
    try {
      expect((await request(app.port, { path: '/page' })).status).toBe(200);
      await request(app.port, { path: '/trap' }); // the decoy lists 127.0.0.1
      expect(e.denyList.has('ip', '127.0.0.1')).toBe(true);
      expect((await request(app.port, { path: '/page' })).status).toBe(403);

      const listed = await call(app.port, 'GET', '/v4/ase/firewall/blacklist');
      expect(listed.status).toBe(200);
      const removed = await call(app.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.1' } });
      expect([removed.status, removed.json]).toMatchObject([200, { status: 'success' }]);
      expect((await request(app.port, { path: '/page' })).status).toBe(200);
    } finally {
      await app.close();
      await e.close();
    }
  });

  test('only the management routes are let through: other paths, and look-alikes that decode or normalise to them, are still decided', async () => {
    const e = enforcer();
    const app = await APPS[name]!(e);
    try {
      await request(app.port, { path: '/trap' });
      for (const p of ['/page', '/v4/ase/../page', '/v4/ase/%2e%2e/page', '/x/v4/ase/firewall', '/V4/ASE/firewall']) {
        expect([p, (await request(app.port, { path: p })).status]).toEqual([p, 403]);
      }
      // Without credentials the management API itself refuses: being outside the data path is not being open.
      const anonymous = await call(app.port, 'GET', '/v4/ase/firewall', { auth: false });
      expect([anonymous.status, anonymous.json]).toEqual([403, { status: 'fail', status_message: 'x-ase-access-key header missing' }]);
      // An unknown route under the management prefix is the management API's 404, never the app's.
      expect((await call(app.port, 'GET', '/v4/ase/page')).status).toBe(404);
    } finally {
      await app.close();
      await e.close();
    }
  });
});

describe('a management API mounted under a path', () => {
  test('Express: app.use("/admin", adminExpress(e, { mountPath: "/admin" })) after the enforcer is reachable by a deny-listed operator; the root is not an admin path', async () => {
    const e = enforcer();
    const app = express();
    app.use(aseExpress(e));
    app.get('/page', (_req, res) => void res.send('page'));
    app.use('/admin', adminExpress(e, { mountPath: '/admin' }));
    const srv = await listen(http.createServer(app));
    try {
      await request(srv.port, { path: '/trap' });
      expect((await request(srv.port, { path: '/page' })).status).toBe(403);
      expect((await call(srv.port, 'GET', '/v4/ase/firewall')).status).toBe(403);
      expect((await call(srv.port, 'GET', '/v4/ase/firewall')).json).toBeUndefined(); // the enforcer's text answer
      const removed = await call(srv.port, 'DELETE', '/admin/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.1' } });
      expect([removed.status, removed.json]).toMatchObject([200, { status: 'success' }]);
      expect((await request(srv.port, { path: '/page' })).status).toBe(200);
    } finally {
      await srv.close();
      await e.close();
    }
  });

  test('Koa under koa-style mounting: a mount that finds itself elsewhere than its mountPath moves there and warns once', async () => {
    const warned: string[] = [];
    const e = createEnforcer({
      logger: { info() {}, warn: (m) => void warned.push(m), error() {} },
      conf: { enable_ase_detected_attack: true },
      apis: { site: api('/', { enable_blocking: true, decoy_config: DECOY }) },
    });
    const admin = adminKoa(e); // mountPath forgotten
    const app = new Koa();
    app.use(async (ctx, next) => {
      // What koa-mount does: the mounted middleware sees the URL without its prefix.
      if (!ctx.url.startsWith('/ops/')) return next();
      const full = ctx.url;
      ctx.url = full.slice('/ops'.length);
      try {
        await admin(ctx, next);
      } finally {
        ctx.url = full;
      }
    });
    app.use(aseKoa(e));
    app.use((ctx) => void (ctx.body = 'page'));
    const srv = await listen(http.createServer(app.callback()));
    try {
      expect((await call(srv.port, 'GET', '/ops/v4/ase/firewall')).status).toBe(200);
      expect(warned.filter((w) => w.includes("mountPath: '/ops'"))).toHaveLength(1);
      expect(e.managementMounts.route('/v4/ase/firewall')).toBeUndefined();
      expect(e.managementMounts.route('/ops/v4/ase/firewall')?.url).toBe('/v4/ase/firewall');
    } finally {
      await srv.close();
      await e.close();
    }
  });
});
