import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { type AddressInfo } from 'node:net';
import { createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { adminExpress, adminFastify, createAdmin, startAdminServer } from '@ase/admin';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, listen, request, startBackend } from '../helpers/http';
import { MOUNTS, type Served, call, serveAdmin } from './harness';
import { COOKIE_ENTRY, IP_ENTRY, REST_API, TOKEN_ENTRY } from './seed-samples';
import { send } from '../fuzz/management-requests';

const [standalone, expressMount] = MOUNTS as [(typeof MOUNTS)[number], (typeof MOUNTS)[number]];
const AUDIT_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| (?:rest_api|cli) \| [^|]+ \| .+$/;

async function with_(s: Served, fn: (s: Served) => Promise<void>): Promise<void> {
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe('protection of the management plane', () => {
  test('repeated wrong credentials from one address are throttled (429, Retry-After), then allowed again; a success resets the count', async () => {
    for (const mount of [standalone, expressMount]) {
      await with_(await serveAdmin(mount, { admin: { throttle: { maxFailures: 3, windowMs: 60_000, lockoutMs: 300 } } }), async (s) => {
        expect((await call(s.port, 'GET', '/v4/ase/firewall', { secret: 'x1' })).status).toBe(403);
        expect((await call(s.port, 'GET', '/v4/ase/firewall', { secret: 'x2' })).status).toBe(403);
        expect((await call(s.port, 'GET', '/v4/ase/firewall')).status).toBe(200); // resets the count
        for (const guess of ['y1', 'y2', 'y3']) expect((await call(s.port, 'GET', '/v4/ase/firewall', { secret: guess })).status).toBe(403);
        const locked = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY }); // right key, still refused
        expect(locked.status).toBe(429);
        expect(locked.headers['retry-after']).toBe('1');
        expect(locked.json).toEqual({ status: 'fail', status_message: 'too many failed attempts from 127.0.0.1; try again in 1 seconds' });
        expect(s.enforcer.denyList.size).toBe(0);
        expect(s.audit.at(-1)).toMatch(/POST \/v4\/ase\/firewall\/blacklist \| .*result=429$/);
        await new Promise((r) => setTimeout(r, 350));
        expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY })).status).toBe(200);
      });
    }
  });

  test('by default, five failures within a minute lock the address out', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      for (let i = 0; i < 5; i++) expect((await call(s.port, 'GET', '/v4/ase/api', { secret: `guess${i}` })).status).toBe(403);
      const r = await call(s.port, 'GET', '/v4/ase/api');
      expect([r.status, r.headers['retry-after']]).toEqual([429, expect.stringMatching(/^(59|60)$/)]);
    });
  });

  test('update_password: the new secret works at once and survives a restart; the old one stops working; only a salted hash is stored', async () => {
    const dir = configDir();
    await with_(await serveAdmin(standalone, { dir }), async (s) => {
      const bad = await call(s.port, 'POST', '/v4/ase/password', { body: { new_password: ' padded ' } });
      expect([bad.status, (bad.json as { status: string }).status]).toEqual([403, 'validation_error']);
      const typo = await call(s.port, 'POST', '/v4/ase/password', { body: { password: 'x' } });
      expect((typo.json as { status: string }).status).toBe('validation_error');
      const r = await call(s.port, 'POST', '/v4/ase/password', { body: { new_password: 'Sup3r-Secret!' } });
      expect([r.status, r.json]).toEqual([200, { status: 'success', status_message: 'password updated successfully' }]);
      expect((await call(s.port, 'GET', '/v4/ase/firewall')).json).toEqual({ status: 'fail', status_message: 'authorization failure' });
      expect((await call(s.port, 'GET', '/v4/ase/firewall', { secret: 'Sup3r-Secret!' })).status).toBe(200);
      const audit = fs.readFileSync(path.join(dir, 'logs', 'audit.log'), 'utf8');
      expect(audit).toMatch(/POST \/v4\/ase\/password \| new_password=\*{10}, x-ase-access-key=admin, x-ase-secret-key=\*{10}, client=127\.0\.0\.1, result=200/);
      expect(audit).not.toMatch(/Sup3r-Secret!/);
    });
    const stored = fs.readFileSync(path.join(dir, 'data', 'credentials.json'), 'utf8');
    expect(stored).not.toMatch(/Sup3r-Secret!/);
    expect(JSON.parse(stored)).toMatchObject({ version: 1, algorithm: 'scrypt', salt: expect.any(String), hash: expect.any(String) });
    await with_(await serveAdmin(standalone, { dir }), async (s) => {
      expect((await call(s.port, 'GET', '/v4/ase/firewall')).status).toBe(403);
      expect((await call(s.port, 'GET', '/v4/ase/firewall', { secret: 'Sup3r-Secret!' })).status).toBe(200);
    });
  });

  test('a broken credentials file stops the admin API from starting rather than letting anyone in', () => {
    const dir = configDir();
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'credentials.json'), '{"version": 1, "algorithm": "md5"}');
    const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    expect(() => createAdmin(enforcer)).toThrow(/credentials\.json: is not a version 1 scrypt credentials file/);
    return enforcer.close();
  });

  test('request bodies are capped at 1 MiB by default (413)', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      const body = JSON.stringify({ api_metadata: { url: '/big', hostname: '*', login_url: 'x'.repeat(1024 * 1024) } });
      const r = await call(s.port, 'POST', '/v4/ase/api?api_id=big', { body });
      expect([r.status, r.json]).toEqual([413, { status: 'fail', status_message: 'request body too large (limit 1048576 bytes)' }]);
      expect(s.enforcer.getApi('big')).toBeUndefined();
    });
  });

  test('a write that cannot be persisted is not acknowledged: 500 unknown error', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      fs.mkdirSync(path.join(s.dir, 'data', 'lists.json'), { recursive: true }); // a directory where the file must go
      const r = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      expect([r.status, r.json]).toEqual([500, { status: 'fail', status_message: 'unknown error' }]);
    });
  });

  test('concurrent edits of one API are applied one after the other: none is lost', async () => {
    await with_(await serveAdmin(standalone, { apis: { shop: api('/shop') } }), async (s) => {
      const replies = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) => call(s.port, 'POST', '/v4/ase/server?api_id=shop', { body: { server: { host: '127.0.0.1', port: 9000 + i } } })),
      );
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const file = JSON.parse(fs.readFileSync(path.join(s.dir, 'api', 'shop.json'), 'utf8')) as { api_metadata: { servers: { port: number }[] } };
      expect(file.api_metadata.servers.map((x) => x.port).sort()).toEqual([9001, 9002, 9003, 9004, 9005, 9006]);
    });
  });
});

describe('audit log', () => {
  test('one line per call in logs/audit.log: secrets masked, credentials of API clients cut to a prefix, failures recorded', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: TOKEN_ENTRY });
      await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: COOKIE_ENTRY });
      await call(s.port, 'GET', '/v4/ase/cluster', { secret: 'my-wrong-secret' });
      await call(s.port, 'GET', '/v4/ase/cluster', { auth: false });
      await call(s.port, 'DELETE', '/v4/ase/api?api_id=shop', { headers: { 'x-ase-cli-command': 'delete_api' } });
      await s.admin.close();
      const lines = fs.readFileSync(path.join(s.dir, 'logs', 'audit.log'), 'utf8').trimEnd().split('\n');
      expect(lines).toEqual(s.audit);
      expect(lines).toHaveLength(6);
      for (const l of lines) expect(l).toMatch(AUDIT_LINE);
      const body = lines.map((l) => l.slice(20));
      expect(body).toEqual([
        '| rest_api | POST /v4/ase/firewall/blacklist | type=ip, value=1.1.1.1, x-ase-access-key=admin, x-ase-secret-key=**********, client=127.0.0.1, result=200',
        '| rest_api | POST /v4/ase/firewall/blacklist | type=token, value=sadj****, x-ase-access-key=admin, x-ase-secret-key=**********, client=127.0.0.1, result=200',
        '| rest_api | POST /v4/ase/firewall/whitelist | type=cookie, name=JSESSIONID, value=ljkh****, x-ase-access-key=admin, x-ase-secret-key=**********, client=127.0.0.1, result=200',
        '| rest_api | GET /v4/ase/cluster | x-ase-access-key=admin, x-ase-secret-key=**********, client=127.0.0.1, result=403',
        '| rest_api | GET /v4/ase/cluster | x-ase-access-key=(missing), x-ase-secret-key=(missing), client=127.0.0.1, result=403',
        '| cli | delete_api | username=admin, api_id=shop, client=127.0.0.1, result=404',
      ]);
      const all = lines.join('\n');
      expect(all).not.toMatch(/my-wrong-secret|sadjhasiufgkjdsbfkgfa|ljkhasioutfdqbjsfdmakhflia/);
    });
  });

  test('request data cannot forge a line or a field', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      await call(s.port, 'GET', '/v4/ase/api?api_id=a%0Ab%2C%20result%3D200');
      expect(s.audit).toHaveLength(1);
      expect(s.audit[0]).toMatch(/api_id="a\\nb, result=200", x-ase-access-key/);
    });
  });

  test('enable_audit=false: no line written, no event', async () => {
    await with_(await serveAdmin(standalone, { conf: 'enable_audit=false\n' }), async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      await call(s.port, 'GET', '/v4/ase/api', { secret: 'wrong' });
      await s.admin.close();
      expect(s.audit).toEqual([]);
      expect(fs.existsSync(path.join(s.dir, 'logs', 'audit.log'))).toBe(false);
    });
  });
});

describe('changes over REST act on live traffic at once and survive a restart', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  /** An Express gateway (aseMiddleware) and the standalone admin listener on one enforcer. */
  async function stack(dir: string): Promise<{ port: number; adminPort: number; close(): Promise<void> }> {
    const enforcer = createEnforcer({ configDir: dir, logger: silentLogger, mode: 'gateway' });
    const app = express();
    app.use(aseMiddleware(enforcer));
    const data = await listen(http.createServer(app));
    const admin = await startAdminServer(enforcer, { port: 0, host: '127.0.0.1' });
    return {
      port: data.port,
      adminPort: admin.port,
      close: async () => {
        await admin.close();
        await data.close();
        await enforcer.close();
      },
    };
  }

  test('a deny-list entry added over REST blocks the next request, and still does after a restart', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) } });
    let s = await stack(dir);
    try {
      expect((await request(s.port, { path: '/shop/items' })).status).toBe(200);
      expect((await call(s.adminPort, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.1' } })).status).toBe(200);
      const blocked = await request(s.port, { path: '/shop/items' });
      expect([blocked.status, blocked.body]).toEqual([403, 'Error: Unauthorized']);
    } finally {
      await s.close();
    }
    s = await stack(dir);
    try {
      expect((await request(s.port, { path: '/shop/items' })).status).toBe(403);
      // Removing it over REST lets the client in again, at once.
      expect((await call(s.adminPort, 'DELETE', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.1' } })).status).toBe(200);
      expect((await request(s.port, { path: '/shop/items' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('an API created, a server added and the firewall switched over REST are live at once and survive a restart', async () => {
    const dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true }) } });
    let s = await stack(dir);
    try {
      expect((await request(s.port, { path: '/cart/x' })).status).toBe(503);
      expect((await call(s.adminPort, 'POST', '/v4/ase/api?api_id=cart', { body: api('/cart', { servers: servers(backend.port) }) })).status).toBe(200);
      expect((await request(s.port, { path: '/cart/x' })).status).toBe(200);
      expect((await call(s.adminPort, 'POST', '/v4/ase/server?api_id=shop', { body: { server: { host: '127.0.0.1', port: backend.port } } })).status).toBe(200);
      expect((await request(s.port, { path: '/shop/x' })).status).toBe(200);
      await call(s.adminPort, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '127.0.0.1' } });
      expect((await request(s.port, { path: '/shop/x' })).status).toBe(403);
      expect((await call(s.adminPort, 'POST', '/v4/ase/firewall?status=disable')).status).toBe(200);
      expect((await request(s.port, { path: '/shop/x' })).status).toBe(200);
    } finally {
      await s.close();
    }
    expect(fs.existsSync(path.join(dir, 'api', 'cart.json'))).toBe(true);
    s = await stack(dir);
    try {
      expect((await call(s.adminPort, 'GET', '/v4/ase/firewall')).json).toEqual({ status: 'disabled', status_message: 'Ok' });
      expect((await request(s.port, { path: '/cart/x' })).status).toBe(200);
      expect((await request(s.port, { path: '/shop/x' })).status).toBe(200); // firewall still off
      await call(s.adminPort, 'POST', '/v4/ase/firewall?status=enable');
      expect((await request(s.port, { path: '/shop/x' })).status).toBe(403);
      expect((await call(s.adminPort, 'DELETE', '/v4/ase/api?api_id=cart')).status).toBe(200);
      expect((await request(s.port, { path: '/cart/x' })).status).toBe(503);
    } finally {
      await s.close();
    }
    s = await stack(dir);
    try {
      expect((await request(s.port, { path: '/cart/x' })).status).toBe(503);
      expect((await call(s.adminPort, 'GET', '/v4/ase/firewall')).json).toEqual({ status: 'enabled', status_message: 'Ok' });
    } finally {
      await s.close();
    }
  });
});

describe('mounting', () => {
  test('Express: under a path, after express.json(), and other paths reach the app', async () => {
    const enforcer = createEnforcer({ configDir: configDir(), logger: silentLogger });
    const admin = createAdmin(enforcer);
    const app = express();
    app.use(express.json());
    app.use('/admin', adminExpress(admin));
    app.use((req, res) => void res.status(418).send(`app ${req.url}`));
    const srv = await listen(http.createServer(app));
    try {
      expect((await call(srv.port, 'POST', '/admin/v4/ase/firewall/blacklist', { body: IP_ENTRY })).status).toBe(200);
      expect(enforcer.denyList.size).toBe(1);
      const proto = await call(srv.port, 'POST', '/admin/v4/ase/firewall/blacklist', { body: '{"type":"ip","value":"2.2.2.2","__proto__":{"x":1}}' });
      expect((proto.json as { status: string }).status).toBe('validation_error');
      const other = await call(srv.port, 'GET', '/v4/ase/firewall');
      expect([other.status, other.text]).toEqual([418, 'app /v4/ase/firewall']);
      expect((await call(srv.port, 'GET', '/admin/else')).text).toBe('app /admin/else');
    } finally {
      await srv.close();
      await enforcer.close();
    }
  });

  test('Fastify: with a prefix; the rest of the app keeps its own JSON parsing', async () => {
    const enforcer = createEnforcer({ configDir: configDir(), logger: silentLogger });
    const app = Fastify();
    await app.register(adminFastify, { admin: enforcer, prefix: '/admin' });
    app.post('/echo', async (req) => req.body);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    try {
      expect((await call(port, 'POST', '/admin/v4/ase/api?api_id=sample_api', { body: REST_API })).status).toBe(200);
      expect((await call(port, 'GET', '/admin/v4/ase/api')).json).toEqual({ api_count: '1', api: [{ api_id: 'sample_api', status: 'loaded' }] });
      expect((await call(port, 'GET', '/v4/ase/api')).status).toBe(404);
      expect((await call(port, 'POST', '/echo', { body: { a: 1 } })).json).toEqual({ a: 1 });
    } finally {
      await app.close();
      await enforcer.close();
    }
  });

  test('the standalone listener answers only /v4/ase and binds to management_bind', async () => {
    const enforcer = createEnforcer({ configDir: configDir(), logger: silentLogger });
    const srv = await startAdminServer(enforcer, { port: 0 });
    try {
      expect(srv.host).toBe('127.0.0.1');
      expect((srv.server.address() as AddressInfo).address).toBe('127.0.0.1');
      expect((await call(srv.port, 'GET', '/')).json).toEqual({ status: 'fail', status_message: 'unknown endpoint' });
    } finally {
      await srv.close();
      await enforcer.close();
    }
  });
});

// Found by the generated tests (test/fuzz/): the exact inputs.
describe('hostile request bodies and heads', () => {
  const invalidUtf8 = Buffer.from([...Buffer.from('{"type":"ip","value":"1.2.3.4'), 0xff, ...Buffer.from('"}')]);

  test.each(MOUNTS)('$name: bytes that are not UTF-8 are no JSON, a key given twice is refused, and neither changes anything', async (mount) => {
    await with_(await serveAdmin(mount), async (s) => {
      const bad = await send(s.port, 'admin', { method: 'POST', path: '/v4/ase/firewall/blacklist', query: [], contentType: 'application/json', body: invalidUtf8 });
      expect([bad.status, bad.json]).toEqual([403, { status: 'fail', status_message: 'json parsing error' }]);
      const twice = await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: '{"type":"ip","value":"1.1.1.1","value":"2.2.2.2"}' });
      expect([twice.status, twice.json]).toEqual([403, { status: 'validation_error', status_message: 'request body: /value: duplicate key `value`; each key may appear once in an object' }]);
      const lists = await call(s.port, 'GET', '/v4/ase/firewall/whitelist');
      expect(lists.json).toEqual({ whitelist: [] });
      expect((await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=manual')).json).toEqual({ manual_blacklist: [] });
    });
  });

  test('an API body of 80 000 unknown keys is refused at once, with a short answer', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      const metadata: Record<string, unknown> = { url: '/x', hostname: '*' };
      for (let i = 0; i < 80_000; i++) metadata[`k${i}`] = 1;
      const started = Date.now();
      const r = await call(s.port, 'POST', '/v4/ase/api?api_id=x', { body: { api_metadata: metadata } });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect([r.status, r.json]).toEqual([403, { status: 'validation_error', status_message: 'api x: /api_metadata: has too many entries (80002; at most 1024 in one object or list)' }]);
    });
  });

  test('Fastify plugin: a Content-Type that is no media type gets the envelope, not Fastify\'s own 415', async () => {
    await with_(await serveAdmin(MOUNTS[3]!), async (s) => {
      for (const [ct, status, message] of [[';;;', 415, 'content-type must be application/json'], ['', 403, 'content-type header missing']] as const) {
        const r = await send(s.port, 'admin', { method: 'POST', path: '/v4/ase/firewall/blacklist', query: [], contentType: ct, body: Buffer.from('{"type":"ip","value":"1.1.1.1"}') });
        expect([r.status, r.json]).toEqual([status, { status: 'fail', status_message: message }]);
      }
    });
  });

  test('the standalone listener answers a request head over 16 KB with 431 in its envelope', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      const r = await send(s.port, 'admin', { method: 'GET', path: '/v4/ase/api', query: [['api_id', 'a'.repeat(20_000)]], contentType: undefined, body: undefined });
      expect([r.status, r.json]).toEqual([431, { status: 'fail', status_message: 'request head too large' }]);
      expect((await call(s.port, 'GET', '/v4/ase/status')).status).toBe(200);
    });
  });
});
