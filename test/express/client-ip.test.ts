import { api, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { startExpressApp } from '../helpers/express-app';

describe('Express adapter: client IP and X-Forwarded-For', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  const apis = (): Record<string, unknown> => ({ shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) });

  test('with enable_xff off, a spoofed X-Forwarded-For neither evades nor frames anyone, and is not passed on', async () => {
    const app = await startExpressApp({ apis: apis() as never });
    try {
      await app.enforcer.addDeny({ type: 'ip', value: '203.0.113.7' });
      const spoof = await request(app.port, { path: '/shop/x', headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect(spoof.status).toBe(200);
      expect(backend.seen.at(-1)?.headers['x-forwarded-for']).toBe('127.0.0.1');
      await app.enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
      const evade = await request(app.port, { path: '/shop/x', headers: { 'x-forwarded-for': '198.51.100.1' } });
      expect(evade.status).toBe(403);
      expect(app.enforcer.warnings.some((w) => w.includes('enable_xff is false'))).toBe(true);
    } finally {
      await app.close();
    }
  });

  test('with enable_xff on behind a trusted proxy, the first untrusted address from the right is the client', async () => {
    const app = await startExpressApp({ conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1,10.0.0.0/8' }, apis: apis() as never });
    try {
      await app.enforcer.addDeny({ type: 'ip', value: '203.0.113.7' });
      // The client cannot hide behind a forged left-most entry: 203.0.113.7 is the first untrusted hop.
      const r = await request(app.port, { path: '/shop/x', headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.7, 10.1.2.3' } });
      expect(r.status).toBe(403);
      const other = await request(app.port, { path: '/shop/x', headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' } });
      expect(other.status).toBe(200);
      expect(backend.seen.at(-1)?.headers['x-forwarded-for']).toBe('203.0.113.7, 198.51.100.2, 127.0.0.1');
    } finally {
      await app.close();
    }
  });
});
