import * as http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';
import { type Enforcer, type EnforcerOptions, silentLogger, startEnforcer } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { asePlugin } from '@ase/fastify';
import { redisStores, type RedisStores } from '@ase/redis';
import { api, servers } from '../../../test/helpers/config';
import { type Backend, listen, request, startBackend } from '../../../test/helpers/http';
import { REDIS_URL, adminConnection, dropClusterKeys, eventually, uniqueClusterId } from './redis-server';

interface App {
  enforcer: Enforcer;
  port: number;
  close(): Promise<void>;
}

/**
 * Limits that hold for a cluster's total: an Express app and a Fastify app in this process, each
 * with its own enforcer over `redisStores` on one Redis and cluster id, in front of one backend.
 */
describe('cluster-wide limits over Redis (an Express and a Fastify app, one backend)', () => {
  let admin: Redis;
  let clusterId: string;
  let backend: Backend;
  const apps: App[] = [];
  const storeSets: RedisStores[] = [];
  /** Requests the backend holds open until released. */
  const held: http.ServerResponse[] = [];

  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterAll(async () => {
    await admin?.quit();
  });
  beforeEach(async () => {
    clusterId = uniqueClusterId();
    backend = await startBackend('b', (req, res) => {
      if (!req.url.includes('hold')) return false;
      held.push(res);
      return true;
    });
  });
  afterEach(async () => {
    for (const res of held.splice(0)) res.end('released');
    for (const a of apps.splice(0)) await a.close();
    for (const s of storeSets.splice(0)) await s.close();
    await backend?.close();
    await dropClusterKeys(admin, clusterId);
  });

  async function enforcer(apisDef: EnforcerOptions['apis']): Promise<Enforcer> {
    const stores = redisStores({ url: REDIS_URL, clusterId, logger: { warn: () => {} } });
    storeSets.push(stores);
    return startEnforcer({ logger: silentLogger, stores, apis: apisDef });
  }

  async function expressApp(apisDef: EnforcerOptions['apis']): Promise<App> {
    const e = await enforcer(apisDef);
    const app = express();
    app.use(aseMiddleware(e));
    const srv = await listen(http.createServer(app));
    const a = { enforcer: e, port: srv.port, close: async () => (await srv.close(), await e.close()) };
    apps.push(a);
    return a;
  }

  async function fastifyApp(apisDef: EnforcerOptions['apis']): Promise<App> {
    const e = await enforcer(apisDef);
    const app = Fastify();
    await app.register(asePlugin, { enforcer: e });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = { enforcer: e, port: (app.server.address() as { port: number }).port, close: async () => (await app.close(), await e.close()) };
    apps.push(a);
    return a;
  }

  async function both(apisDef: () => EnforcerOptions['apis']): Promise<[App, App]> {
    return [await expressApp(apisDef()), await fastifyApp(apisDef())];
  }

  const status = async (a: App, path: string): Promise<number> => (await request(a.port, { path })).status;

  test('client_spike_threshold holds for the sum of both apps', async () => {
    const [x, f] = await both(() => ({ shop: api('/shop', { servers: servers(backend.port), flow_control: { client_spike_threshold: '4/minute' } }) }));
    const got = [await status(x, '/shop/1'), await status(f, '/shop/2'), await status(x, '/shop/3'), await status(f, '/shop/4'), await status(f, '/shop/5'), await status(x, '/shop/6')];
    expect(got).toEqual([200, 200, 200, 200, 429, 429]);
  });

  test('server_spike_threshold holds for the sum of both apps', async () => {
    const [x, f] = await both(() => ({ shop: api('/shop', { servers: [{ host: '127.0.0.1', port: backend.port, server_spike_threshold: '3/minute' }] }) }));
    const got = [await status(x, '/shop/1'), await status(f, '/shop/2'), await status(f, '/shop/3'), await status(x, '/shop/4'), await status(f, '/shop/5')];
    expect(got).toEqual([200, 200, 200, 503, 503]);
    expect(backend.seen).toHaveLength(3);
  });

  test('server_connection_quota holds across both apps; a slot freed on one wakes a request queued on the other', async () => {
    const def = (queueing: boolean) => ({
      shop: api('/shop', { flow_control: { server_connection_queueing: queueing }, servers: [{ host: '127.0.0.1', port: backend.port, server_connection_quota: 1 }] }),
    });
    const x = await expressApp(def(false));
    const f = await fastifyApp(def(true));
    const first = request(x.port, { path: '/shop/hold' });
    await eventually(() => expect(held).toHaveLength(1), 2000);
    // The one slot is taken through Express: Express (no queueing) refuses at once.
    expect(await status(x, '/shop/other')).toBe(503);
    // Fastify queues; the slot is freed on the Express side, and the queued request goes through.
    const queued = request(f.port, { path: '/shop/queued' });
    await new Promise((r) => setTimeout(r, 200));
    expect(backend.seen.map((s) => s.url)).toEqual(['/shop/hold']);
    held.shift()!.end('done');
    expect((await first).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(backend.seen.map((s) => s.url)).toEqual(['/shop/hold', '/shop/queued']);
  });

  test('a deny entry added on one app blocks on the other within a second', async () => {
    const [x, f] = await both(() => ({ shop: api('/shop', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) }) }));
    expect(await status(f, '/shop/x?api_key=k1')).toBe(200);
    await x.enforcer.addDeny({ type: 'api_key', name: 'api_key', value: 'k1' });
    await eventually(async () => expect(await status(f, '/shop/x?api_key=k1')).toBe(403), 1000);
    expect(await status(f, '/shop/x?api_key=k2')).toBe(200);
  });
});
