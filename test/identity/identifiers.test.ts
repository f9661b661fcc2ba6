import { api, servers } from '../helpers/config';
import { type Backend, rawRequest, request, startBackend } from '../helpers/http';
import { type AppUnderTest, startExpressApp } from '../helpers/express-app';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>): string => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.sig`;

describe('Client identity: user name from JWT claims and headers', () => {
  let backend: Backend;
  let app: AppUnderTest;
  const jwtApi = (url: string, location: string, extra: Record<string, unknown> = {}) =>
    api(url, { enable_blocking: true, jwt: { location, username: 'username', clientid: 'client_id' }, servers: servers(backend.port), ...extra });

  beforeAll(async () => {
    backend = await startBackend('b');
    app = await startExpressApp({
      apis: {
        bearer: jwtApi('/bearer', 'h:authorization:bearer'),
        mac: jwtApi('/mac', 'h:authorization:mac'),
        qs: jwtApi('/qs', 'qs:access_token'),
        hdr: jwtApi('/hdr', 'h:X-JWT'),
        cookie: jwtApi('/cookie', 'h:cookie:access_token'),
        both: jwtApi('/both', 'h:authorization:bearer', { username_header: 'x-user' }),
      },
    });
    await app.enforcer.addDeny({ type: 'username', value: 'mallory' });
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  const token = jwt({ username: 'mallory', client_id: 'c-1' });
  test.each([
    ['h:authorization:bearer', '/bearer/x', { authorization: `Bearer ${token}` }],
    ['h:authorization:mac', '/mac/x', { authorization: `MAC id="${token}", ts="1", nonce="n", mac="m"` }],
    ['qs:<key>', `/qs/x?access_token=${token}`, {}],
    ['h:<header>', '/hdr/x', { 'x-jwt': token }],
    ['h:cookie:<name>', '/cookie/x', { cookie: `a=1; access_token=${token}` }],
  ])('a deny-listed user name in a JWT at %s is blocked; another user passes', async (_loc, path, headers) => {
    expect((await request(app.port, { path, headers: headers as Record<string, string> })).status).toBe(403);
    const other = jwt({ username: 'alice' });
    const swap = (v: string): string => v.replace(token, other);
    const okPath = swap(path);
    const okHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, swap(v as string)]));
    expect((await request(app.port, { path: okPath, headers: okHeaders })).status).toBe(200);
  });

  test('an array claim uses its first element', async () => {
    const t = jwt({ username: ['mallory', 'alice'] });
    expect((await request(app.port, { path: '/bearer/x', headers: { authorization: `Bearer ${t}` } })).status).toBe(403);
  });

  test('with both configured, a deny-listed name in the JWT claim or in username_header blocks (a backend may read either)', async () => {
    const alice = jwt({ username: 'alice' });
    const r = await request(app.port, { path: '/both/x', headers: { authorization: `Bearer ${alice}`, 'x-user': 'mallory' } });
    expect(r.status).toBe(403);
    const clean = await request(app.port, { path: '/both/x', headers: { authorization: `Bearer ${alice}`, 'x-user': 'alice' } });
    expect(clean.status).toBe(200);
    const noJwt = await request(app.port, { path: '/both/x', headers: { 'x-user': 'mallory' } });
    expect(noJwt.status).toBe(403);
  });

  test.each([
    ['garbage', 'Bearer not-a-jwt'],
    ['two parts', 'Bearer a.b'],
    ['payload not JSON', `Bearer ${b64({ alg: 'none' })}.${Buffer.from('{{{').toString('base64url')}.s`],
    ['payload an array', `Bearer ${b64({})}.${b64(['mallory'])}.s`],
    ['oversized', `Bearer ${b64({})}.${'A'.repeat(9000)}.s`],
    ['scheme only', 'Bearer'],
    ['empty credentials', 'Bearer    '],
    ['other scheme', `Basic ${token}`],
  ])('a JWT that does not decode (%s) never fails the request', async (_what, authorization) => {
    const r = await request(app.port, { path: '/bearer/x', headers: { authorization } });
    expect(r.status).toBe(200);
  });
});

describe('Client identity: tokens, API keys, cookies, bad input', () => {
  let backend: Backend;
  let app: AppUnderTest;
  beforeAll(async () => {
    backend = await startBackend('b');
    app = await startExpressApp({
      apis: {
        keys: api('/keys', { enable_blocking: true, oauth2_access_token: true, apikey_qs: 'key', cookie: 'sid', servers: servers(backend.port) }),
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });
  afterEach(() => app.enforcer.clearDeny());

  test('repeated query keys: the first value is the API key', async () => {
    await app.enforcer.addDeny({ type: 'api_key', name: 'key', value: 'bad' });
    expect((await request(app.port, { path: '/keys/x?key=bad&key=good' })).status).toBe(403);
    expect((await request(app.port, { path: '/keys/x?key=%62ad' })).status).toBe(403);
  });

  test('a deny-listed key hidden in a later repeat (or behind an empty first value) is still blocked', async () => {
    await app.enforcer.addDeny({ type: 'api_key', name: 'key', value: 'bad' });
    // Backends disagree on which repeat counts (Express gives an array, many read the last one).
    expect((await request(app.port, { path: '/keys/x?key=good&key=bad' })).status).toBe(403);
    expect((await request(app.port, { path: '/keys/x?key=&key=bad' })).status).toBe(403);
  });

  test('an allow-listed key in a later repeat does not let a deny-listed first key through', async () => {
    await app.enforcer.addDeny({ type: 'api_key', name: 'key', value: 'bad' });
    await app.enforcer.addAllow({ type: 'api_key', name: 'key', value: 'vip' });
    try {
      expect((await request(app.port, { path: '/keys/x?key=bad&key=vip' })).status).toBe(403);
      expect((await request(app.port, { path: '/keys/x?key=vip' })).status).toBe(200);
    } finally {
      await app.enforcer.clearAllow();
    }
  });

  test('cookies without values, or malformed cookie headers, never fail a request', async () => {
    await app.enforcer.addDeny({ type: 'cookie', name: 'sid', value: 'evil' });
    for (const cookie of ['sid', 'sid=', '=x', ';;;', 'sid="evil', 'a=%zz; sid=ok']) {
      expect((await request(app.port, { path: '/keys/x', headers: { cookie } })).status).toBe(200);
    }
    expect((await request(app.port, { path: '/keys/x', headers: { cookie: 'x=1; sid="evil"' } })).status).toBe(403);
  });

  test('a bearer token is matched exactly; a malformed Authorization header is no token', async () => {
    await app.enforcer.addDeny({ type: 'token', value: 'abc' });
    expect((await request(app.port, { path: '/keys/x', headers: { authorization: 'bearer abc' } })).status).toBe(403);
    expect((await request(app.port, { path: '/keys/x', headers: { authorization: 'Bearer abcd' } })).status).toBe(200);
    const raw = await rawRequest(app.port, 'GET /keys/x HTTP/1.1\r\nHost: x\r\nAuthorization: \r\nConnection: close\r\n\r\n');
    expect(raw.status).toBe(200);
  });
});
