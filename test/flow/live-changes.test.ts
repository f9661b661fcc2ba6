import { createAdmin, startAdminServer } from '@ase/admin';
import { api, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

const keys = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' };

describe('Flow control and health through the management API, on live traffic', () => {
  let backend: Backend;
  let app: AppUnderTest;
  let admin: Awaited<ReturnType<typeof startAdminServer>>;

  beforeAll(async () => {
    backend = await startBackend('b', (req, res) => {
      if (req.url === '/health') {
        res.writeHead(503);
        res.end();
        return true;
      }
      return false;
    });
    app = await startExpressApp({ apis: { shop: api('/shop', { servers: servers(backend.port) }) } });
    admin = await startAdminServer(createAdmin(app.enforcer), { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await admin.close();
    await app.close();
    await backend.close();
  });

  test('a client_spike_threshold set over REST limits the very next requests', async () => {
    for (let i = 0; i < 5; i++) expect((await request(app.port, { path: '/shop/x' })).status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${admin.port}/v4/ase/firewall/flowcontrol?api_id=shop`, {
      method: 'POST',
      headers: keys,
      body: JSON.stringify({ flow_control: { client_spike_threshold: '2/minute' } }),
    });
    expect(res.status).toBe(200);
    expect((await request(app.port, { path: '/shop/x' })).status).toBe(200);
    expect((await request(app.port, { path: '/shop/x' })).status).toBe(200);
    const limited = await request(app.port, { path: '/shop/x' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  test('health state reached by health checks is what the server read reports', async () => {
    const res = await fetch(`http://127.0.0.1:${admin.port}/v4/ase/api?api_id=shop`, {
      method: 'PUT',
      headers: keys,
      body: JSON.stringify({
        api_metadata: { url: '/shop', hostname: '*', health_check: true, health_check_interval: 1, health_retry_count: 1, health_url: '/health', servers: servers(backend.port) },
      }),
    });
    expect(res.status).toBe(200);
    let status = '';
    for (let i = 0; i < 40 && status !== 'Down'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const read = await fetch(`http://127.0.0.1:${admin.port}/v4/ase/server?api_id=shop`, { headers: keys });
      const body = (await read.json()) as { server: { health_status: string }[] };
      status = body.server[0]?.health_status ?? '';
    }
    expect(status).toBe('Down');
    expect((await request(app.port, { path: '/shop/x' })).status).toBe(503);
  });
});
