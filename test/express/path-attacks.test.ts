import { api, servers } from '../helpers/config';
import { type Backend, rawRequest, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

/**
 * Traversal and smuggling attempts on the path. A decoy on /shop/admin stands for "a rule on a
 * path": every spelling of that path must hit it, and nothing must slip past to the backend.
 */
describe('Express adapter: path normalisation before matching', () => {
  let backend: Backend;
  let app: AppUnderTest;

  beforeAll(async () => {
    backend = await startBackend('shop');
    app = await startExpressApp({
      apis: {
        shop: api('/shop', {
          servers: servers(backend.port),
          decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
        }),
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  const decoySpellings = [
    '/shop/admin',
    '/shop/x/../admin',
    '//shop//admin',
    '/shop/./admin',
    '/shop/%61dmin',
    '/shop/x/%2e%2e/admin',
    '/shop/x/%2E%2e/admin',
    '/shop/x/.%2e/admin',
    '/SHOP/Admin/',
    '/shop/admin;x=1',
    '/shop/x/..;y=2/admin',
    '/shop/admin/users',
    '/shop/admin#frag',
  ];
  test.each(decoySpellings)('%s hits the decoy and never reaches the backend', async (path) => {
    const before = backend.seen.length;
    const r = await rawRequest(app.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(r.text.endsWith('decoy')).toBe(true);
    expect(backend.seen.length).toBe(before);
  });

  const malformed = [
    '/shop/..%2fadmin',
    '/shop%2Fadmin',
    '/shop/a%5cadmin',
    '/shop\\admin',
    '/shop/a%00b',
    '/shop/a%0ab',
    '/..',
    '/shop/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/shop/%zz',
    '/shop/%4',
  ];
  test.each(malformed)('%s gets 400 Error: Malformed Request and reaches nobody', async (path) => {
    const before = backend.seen.length;
    const seenByApp = app.appSeen.length;
    const r = await rawRequest(app.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(r.text.endsWith('Error: Malformed Request')).toBe(true);
    expect(backend.seen.length).toBe(before);
    expect(app.appSeen.length).toBe(seenByApp);
  });

  test('a raw NUL in the target is refused by the HTTP parser before any handler runs', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(app.port, 'GET /shop/a\x00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(400);
    expect(backend.seen.length).toBe(before);
  });

  test('an absolute-form target is matched and forwarded by its path; Host decides the API', async () => {
    const r = await rawRequest(app.port, 'GET http://evil.example/shop/items?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    expect(backend.seen.at(-1)?.url).toBe('/shop/items?x=1');
    const decoy = await rawRequest(app.port, 'GET http://evil.example/shop/admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(decoy.text.endsWith('decoy')).toBe(true);
  });

  test.each([
    ['userinfo', 'good.example@evil.example'],
    ['a space', 'good.example evil'],
    ['several values', 'a.example, b.example'],
  ])('a Host header with %s gets 400', async (_what, host) => {
    const r = await request(app.port, { path: '/shop/items', headers: { host } });
    expect(r.status).toBe(400);
    expect(r.body).toBe('Error: Malformed Request');
  });

  test('a clean request still passes through to the backend', async () => {
    const r = await request(app.port, { path: '/shop/items?id=7' });
    expect(r.status).toBe(200);
    expect(backend.seen.at(-1)?.url).toBe('/shop/items?id=7');
  });
});

describe('Express adapter: enable_strict_request_parser=false', () => {
  test('an unusable Host header matches as absent (only `*` APIs) instead of 400; paths stay strict', async () => {
    const backend = await startBackend('lenient');
    const app = await startExpressApp({
      conf: { enable_strict_request_parser: false },
      apis: { any: api('/any', { servers: servers(backend.port) }), exact: api('/exact', { hostname: 'good.example', servers: servers(backend.port) }) },
    });
    try {
      expect((await request(app.port, { path: '/any/x', headers: { host: 'good.example@evil.example' } })).status).toBe(200);
      // Absent Host, so not good.example's API: and not its routes in the app either.
      expect((await request(app.port, { path: '/exact/x', headers: { host: 'good.example@evil.example' } })).body).toBe('Error: Unknown API');
      expect((await rawRequest(app.port, 'GET /any/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(400);
    } finally {
      await app.close();
      await backend.close();
    }
  });
});
