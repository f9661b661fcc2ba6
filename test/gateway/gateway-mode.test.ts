import * as http from 'node:http';
import express from 'express';
import { createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { api } from '../helpers/config';
import { listen, request } from '../helpers/http';

/** The standalone product's answers for what the middleware would hand to the app. */
describe('gateway mode', () => {
  const start = async (conf: Record<string, unknown> = {}) => {
    const enforcer = createEnforcer({
      mode: 'gateway',
      logger: silentLogger,
      conf,
      apis: { shop: api('/shop', { hostname: 'shop.example' }), local: api('/local') },
    });
    const app = express();
    app.use(aseMiddleware(enforcer));
    app.use((_req, res) => void res.status(599).send('must not be reached'));
    const srv = await listen(http.createServer(app));
    return { port: srv.port, close: async () => (await srv.close(), await enforcer.close()) };
  };

  test('an unknown host with no `*` API: 503 Error: Unknown Hostname; a known host, unknown path: Unknown API', async () => {
    const enforcer = createEnforcer({ mode: 'gateway', logger: silentLogger, apis: { shop: api('/shop', { hostname: 'shop.example' }) } });
    const app = express();
    app.use(aseMiddleware(enforcer));
    const srv = await listen(http.createServer(app));
    try {
      const host = await request(srv.port, { path: '/shop', headers: { host: 'other.example' } });
      expect(host.status).toBe(503);
      expect(host.body).toBe('Error: Unknown Hostname');
      const path = await request(srv.port, { path: '/cart', headers: { host: 'shop.example' } });
      expect(path.body).toBe('Error: Unknown API');
    } finally {
      await srv.close();
      await enforcer.close();
    }
  });

  test('an API without servers: 503 Error: No Backend Available', async () => {
    const g = await start();
    try {
      const r = await request(g.port, { path: '/local/x' });
      expect(r.status).toBe(503);
      expect(r.body).toBe('Error: No Backend Available');
    } finally {
      await g.close();
    }
  });

  test('enable_ase_health answers GET /ase with 200 OK; off, /ase is just an unknown API', async () => {
    const on = await start({ enable_ase_health: true });
    const off = await start();
    try {
      const r = await request(on.port, { path: '/ase' });
      expect(r.status).toBe(200);
      expect(r.body).toBe('OK');
      expect((await request(off.port, { path: '/ase' })).body).toBe('Error: Unknown API');
    } finally {
      await on.close();
      await off.close();
    }
  });
});
