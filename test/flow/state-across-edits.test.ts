import type { ServerResponse } from 'node:http';
import { createAdmin, startAdminServer } from '@ase/admin';
import { api, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

// Runtime state lives in core (api-runtime.ts); the adapters only carry requests to it, so one
// framework over real servers shows it.
const keys = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' };

describe('Runtime state kept across management edits of an API', () => {
  let a: Backend;
  let b: Backend;
  let app: AppUnderTest;
  let admin: Awaited<ReturnType<typeof startAdminServer>>;
  const held: ServerResponse[] = [];

  const rest = async (method: string, path: string, body: unknown): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${admin.port}${path}`, { method, headers: keys, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    a = await startBackend('a', (req, res) => {
      if (req.url.endsWith('/hold')) {
        held.push(res);
        return true;
      }
      return false;
    });
    b = await startBackend('b');
    app = await startExpressApp({
      apis: {
        quota: api('/quota', { servers: [{ host: '127.0.0.1', port: a.port, server_connection_quota: 1 }] }),
        sticky: api('/sticky', { cookie: 'sid', cookie_persistence_enabled: true, servers: servers(a.port, b.port) }),
        limited: api('/limited', { servers: servers(a.port), flow_control: { client_spike_threshold: '2/minute' } }),
      },
    });
    admin = await startAdminServer(createAdmin(app.enforcer), { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const res of held) res.end();
    await admin.close();
    await app.close();
    await a.close();
    await b.close();
  });

  test('a request in flight keeps its slot under server_connection_quota 1 across a REST update of that server', async () => {
    const first = request(app.port, { path: '/quota/hold' });
    for (let i = 0; i < 50 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(held).toHaveLength(1);
    const update = { server: { host: '127.0.0.1', port: a.port, server_connection_quota: 1, server_spike_threshold: '1000/second' } };
    expect(await rest('POST', '/v4/ase/firewall/flowcontrol/server?api_id=quota', update)).toBe(200);
    const seenBefore = a.seen.length;
    const second = await request(app.port, { path: '/quota/x' });
    expect(second.status).not.toBe(200);
    expect(a.seen.length).toBe(seenBefore);
    held.shift()!.end('done');
    expect((await first).status).toBe(200);
    expect((await request(app.port, { path: '/quota/x' })).status).toBe(200);
  });

  test('a sticky client stays pinned to its server across an unrelated edit of the API', async () => {
    expect((await request(app.port, { path: '/sticky/x' })).headers['x-backend']).toBe('a');
    const pinned = (await request(app.port, { path: '/sticky/x', headers: { cookie: 'sid=s1' } })).headers['x-backend'];
    expect(pinned).toBe('b');
    expect(await rest('POST', '/v4/ase/firewall/flowcontrol?api_id=sticky', { flow_control: { client_spike_threshold: '1000/second' } })).toBe(200);
    for (let i = 0; i < 3; i++) expect((await request(app.port, { path: '/sticky/x', headers: { cookie: 'sid=s1' } })).headers['x-backend']).toBe('b');
  });

  test('a pin to a removed server is gone, also when the server comes back', async () => {
    const meta = { url: '/sticky', hostname: '*', cookie: 'sid', cookie_persistence_enabled: true };
    expect((await request(app.port, { path: '/sticky/x', headers: { cookie: 'sid=s2' } })).status).toBe(200);
    const pin = async (): Promise<unknown> => (await request(app.port, { path: '/sticky/x', headers: { cookie: 'sid=s2' } })).headers['x-backend'];
    // Pin s2 to b whatever it got first: remove a, ask, put a back.
    expect(await rest('PUT', '/v4/ase/api?api_id=sticky', { api_metadata: { ...meta, servers: servers(b.port) } })).toBe(200);
    await request(app.port, { path: '/sticky/x', headers: { cookie: 'sid=s2' } });
    expect(await rest('PUT', '/v4/ase/api?api_id=sticky', { api_metadata: { ...meta, servers: servers(a.port, b.port) } })).toBe(200);
    expect(await pin()).toBe('b');
    expect(await rest('PUT', '/v4/ase/api?api_id=sticky', { api_metadata: { ...meta, servers: servers(a.port) } })).toBe(200);
    expect(await pin()).toBe('a');
    expect(await rest('PUT', '/v4/ase/api?api_id=sticky', { api_metadata: { ...meta, servers: servers(a.port, b.port) } })).toBe(200);
    expect(await pin()).toBe('a');
  });

  test('a client at its rate limit stays limited across an edit that keeps client_spike_threshold', async () => {
    expect((await request(app.port, { path: '/limited/x' })).status).toBe(200);
    expect((await request(app.port, { path: '/limited/x' })).status).toBe(200);
    expect((await request(app.port, { path: '/limited/x' })).status).toBe(429);
    const update = { server: { host: '127.0.0.1', port: a.port, server_connection_quota: 100 } };
    expect(await rest('POST', '/v4/ase/firewall/flowcontrol/server?api_id=limited', update)).toBe(200);
    expect((await request(app.port, { path: '/limited/x' })).status).toBe(429);
  });
});
