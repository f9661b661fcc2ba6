import { api, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

describe('Express adapter: matching a request to an API', () => {
  let a: Backend, b: Backend, c: Backend;
  let app: AppUnderTest;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startBackend('a'), startBackend('b'), startBackend('c')]);
    app = await startExpressApp({
      apis: {
        shop: api('/shop', { servers: servers(a.port) }),
        shopItems: api('/shop/items', { servers: servers(b.port) }),
        exactHost: api('/shop', { hostname: 'api.example.com', servers: servers(c.port) }),
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('the longest url prefix wins', async () => {
    const r = await request(app.port, { path: '/shop/items/42' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).server).toBe('b');
    expect(JSON.parse((await request(app.port, { path: '/shop/cart' })).body).server).toBe('a');
  });

  test('a prefix matches on whole segments only: /shopping is not /shop', async () => {
    const r = await request(app.port, { path: '/shopping' });
    expect(r.body).toBe('host app GET /shopping');
  });

  test('an exact hostname wins over *, and the Host port and case are ignored', async () => {
    const r = await request(app.port, { path: '/shop/items', headers: { host: 'API.Example.com:8443' } });
    expect(JSON.parse(r.body).server).toBe('c');
  });

  test('url matching is case-insensitive and ignores a trailing slash and ;params', async () => {
    expect(JSON.parse((await request(app.port, { path: '/SHOP/Items/' })).body).server).toBe('b');
    expect(JSON.parse((await request(app.port, { path: '/shop/items;jsessionid=1' })).body).server).toBe('b');
  });

  test('the backend receives the normalised path, its case and params kept, and the original query', async () => {
    await request(app.port, { path: '/shop//x/./y/../Z;v=1?q=%20a&b=c' });
    expect(a.seen.at(-1)?.url).toBe('/shop/x/Z;v=1?q=%20a&b=c');
  });

  test('a request no API matches goes to the host app untouched', async () => {
    const r = await request(app.port, { path: '/elsewhere?x=1', headers: { host: 'other.example' } });
    expect(r.status).toBe(200);
    expect(r.body).toBe('host app GET /elsewhere?x=1');
  });

  test('url "/" on a host matches every path of that host, and no other host reaches those paths', async () => {
    const rootApp = await startExpressApp({ apis: { root: api('/', { hostname: 'root.example.com', servers: servers(c.port) }) } });
    try {
      const r = await request(rootApp.port, { path: '/anything/deep', headers: { host: 'root.example.com' } });
      expect(JSON.parse(r.body).server).toBe('c');
      const other = await request(rootApp.port, { path: '/anything/deep', headers: { host: 'other.example' } });
      expect([other.status, other.body]).toEqual([503, 'Error: Unknown API']);
    } finally {
      await rootApp.close();
    }
  });
});
