import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { api, servers } from '../helpers/config';
import { type Backend, freePort, listen, request, startBackend } from '../helpers/http';
import { startExpressApp } from '../helpers/express-app';

const tls = (f: string): Buffer => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', f));

describe('Express adapter: proxying to backend servers', () => {
  let a: Backend, b: Backend;
  beforeAll(async () => {
    [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
  });
  afterAll(async () => Promise.all([a.close(), b.close()]));

  test('requests are spread round-robin over the servers', async () => {
    const app = await startExpressApp({ apis: { rr: api('/rr', { servers: servers(a.port, b.port) }) } });
    try {
      const names = [];
      for (let i = 0; i < 4; i++) names.push(JSON.parse((await request(app.port, { path: '/rr/x' })).body).server);
      expect(names).toEqual(['a', 'b', 'a', 'b']);
    } finally {
      await app.close();
    }
  });

  test('internal_url replaces the public url prefix before forwarding', async () => {
    const app = await startExpressApp({ apis: { m: api('/Public/v1', { api_mapping: { internal_url: '/internal/v2' }, servers: servers(a.port) }) } });
    try {
      await request(app.port, { path: '/public/V1/Items/7?x=1' });
      expect(a.seen.at(-1)?.url).toBe('/internal/v2/Items/7?x=1');
      await request(app.port, { path: '/public/v1' });
      expect(a.seen.at(-1)?.url).toBe('/internal/v2');
    } finally {
      await app.close();
    }
  });

  test('the request body, method and headers reach the backend; X-Forwarded-For is set from the client', async () => {
    const app = await startExpressApp({ apis: { p: api('/p', { servers: servers(a.port) }) } });
    try {
      await request(app.port, { path: '/p/x', method: 'POST', headers: { 'content-type': 'application/json', 'x-custom': '1' }, body: '{"n":1}' });
      const seen = a.seen.at(-1)!;
      expect(seen.method).toBe('POST');
      expect(seen.body).toBe('{"n":1}');
      expect(seen.headers['x-custom']).toBe('1');
      expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });

  test('a server that refuses connections is marked down and the request is retried once on the next server', async () => {
    const dead = await freePort();
    const downs: string[] = [];
    const app = await startExpressApp({ apis: { f: api('/f', { servers: servers(dead, a.port) }) } });
    app.enforcer.on('backend_down', (e) => downs.push(e.server));
    try {
      const before = a.seen.length;
      for (let i = 0; i < 3; i++) expect((await request(app.port, { path: '/f/x' })).status).toBe(200);
      expect(a.seen.length - before).toBe(3);
      // Marked down after the first failure: it is skipped, not retried on every request.
      expect(downs).toEqual([`127.0.0.1:${dead}`]);
    } finally {
      await app.close();
    }
  });

  test('no reachable server: 503 Error: No Backend Available', async () => {
    const app = await startExpressApp({ apis: { f: api('/f', { servers: servers(await freePort(), await freePort()) }) } });
    try {
      const r = await request(app.port, { path: '/f/x' });
      expect([502, 503]).toContain(r.status);
      const again = await request(app.port, { path: '/f/x' });
      expect(again.status).toBe(503);
      expect(again.body).toBe('Error: No Backend Available');
    } finally {
      await app.close();
    }
  });

  test('a backend slower than backend_timeout gets 504', async () => {
    const slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 2000).unref();
      return true;
    });
    const app = await startExpressApp({ conf: { backend_timeout: 200 }, apis: { s: api('/s', { servers: servers(slow.port) }) } });
    try {
      const r = await request(app.port, { path: '/s/x' });
      expect(r.status).toBe(504);
      expect(r.body).toBe('Error: Gateway Timeout');
    } finally {
      await app.close();
      await slow.close();
    }
  });

  test('a backend that answers garbage gets 502, and its bytes are not echoed', async () => {
    // resume(): a paused socket never sees the peer's FIN, and close() would wait forever.
    const garbage = net.createServer((s) => s.resume().end('NOT HTTP <script>\r\n\r\n'));
    const g = await listen(garbage);
    const app = await startExpressApp({ apis: { g: api('/g', { servers: servers(g.port) }) } });
    try {
      const r = await request(app.port, { path: '/g/x' });
      expect(r.status).toBe(502);
      expect(r.body).toBe('Error: Bad Gateway');
    } finally {
      await app.close();
      await g.close();
    }
  });

  test('server_ssl proxies over HTTPS, verifying the backend against server_ca_cert_path', async () => {
    const seen: string[] = [];
    const httpsServer = https.createServer({ key: tls('server.key'), cert: tls('server.crt') }, (req, res) => {
      seen.push(req.url ?? '');
      res.end('over tls');
    });
    const s = await listen(httpsServer);
    const caPath = path.join(__dirname, '..', 'fixtures', 'tls', 'ca.crt');
    const good = await startExpressApp({ conf: { server_ca_cert_path: caPath }, apis: { t: api('/t', { server_ssl: true, servers: servers(s.port) }) } });
    const untrusted = await startExpressApp({ apis: { t: api('/t', { server_ssl: true, servers: servers(s.port) }) } });
    try {
      const r = await request(good.port, { path: '/t/x' });
      expect(r.status).toBe(200);
      expect(r.body).toBe('over tls');
      expect(seen).toEqual(['/t/x']);
      // The backend's identity is its configured host, whatever Host the client names.
      const named = await request(good.port, { path: '/t/y', headers: { host: 'shop.example' } });
      expect(named.status).toBe(200);
      expect(seen).toEqual(['/t/x', '/t/y']);
      // Without the CA the certificate is not trusted: the request must not go through.
      const bad = await request(untrusted.port, { path: '/t/x' });
      expect(bad.status).toBeGreaterThanOrEqual(502);
      expect(seen).toEqual(['/t/x', '/t/y']);
    } finally {
      await good.close();
      await untrusted.close();
      await s.close();
    }
  });
});
