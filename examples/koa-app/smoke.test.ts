import { request } from '../../test/helpers/http';
import { type RunningExample, startExample } from '../../test/helpers/example';

/** What README.md says the example answers, in the README's order (the deny list carries over). */
describe('examples/koa-app answers as its README says', () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample('koa-app');
  });
  afterAll(async () => {
    expect(await ex.stop()).toBe(0);
    expect(ex.proc.stderr()).toBe('');
  });

  test('own routes, in-process protection, proxying, the decoy, and blocking afterwards', async () => {
    const get = (path: string) => request(ex.port, { path });
    const json = { 'content-type': 'application/json' };
    expect(await get('/health')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await get('/api/orders')).toMatchObject({ status: 200, body: '[{"id":1,"item":"book"}]' });
    expect(await request(ex.port, { method: 'POST', path: '/api/orders', headers: json, body: '{"item":"pen"}' })).toMatchObject({ status: 201, body: '{"id":2,"item":"pen"}' });
    expect(await get('/inventory/items?sku=7')).toMatchObject({ status: 200, body: '{"backend":"inventory","url":"/inventory/items?sku=7"}' });
    expect(await request(ex.port, { method: 'DELETE', path: '/api/orders/1' })).toMatchObject({ status: 403, body: 'Error: Unauthorized' });
    // DELETE is not allowed on /api: the client is now deny-listed on every API with blocking.
    expect(await get('/api/orders')).toMatchObject({ status: 403, body: 'Error: Unauthorized' });
    expect(await get('/inventory/items')).toMatchObject({ status: 403, body: 'Error: Unauthorized' });
    // The decoy still answers like a real endpoint.
    expect(await get('/api/admin')).toMatchObject({ status: 200, body: '{"admin": true}' });
    // The app's own unprotected route is untouched.
    expect(await get('/health')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });
});
