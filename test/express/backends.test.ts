import * as http from 'node:http';
import { api, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { startExpressApp } from '../helpers/express-app';

const until = async (what: () => Promise<boolean>, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
};

describe('Express adapter: sticky sessions', () => {
  let a: Backend, b: Backend;
  beforeAll(async () => {
    // Each backend starts a session the first time it sees a client without one.
    const sessions = (name: string) => (req: { headers: Record<string, unknown> }, res: import('node:http').ServerResponse) => {
      const has = String(req.headers['cookie'] ?? '').includes('sid=');
      res.writeHead(200, has ? {} : { 'set-cookie': `sid=${name}-${Math.random().toString(36).slice(2)}; Path=/; HttpOnly` });
      res.end(name);
      return true;
    };
    [a, b] = await Promise.all([startBackend('a', sessions('a')), startBackend('b', sessions('b'))]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  test('a client stays on the server that started its session across 20 requests; others still spread', async () => {
    const app = await startExpressApp({
      apis: { s: api('/s', { cookie: 'sid', cookie_persistence_enabled: true, logout_api_enabled: true, servers: servers(a.port, b.port) }) },
    });
    try {
      const first = await request(app.port, { path: '/s/login' });
      const cookie = String(first.headers['set-cookie']?.[0]).split(';')[0]!;
      const home = first.body;
      for (let i = 0; i < 20; i++) expect((await request(app.port, { path: '/s/x', headers: { cookie } })).body).toBe(home);
      const anonymous = new Set<string>();
      for (let i = 0; i < 4; i++) anonymous.add((await request(app.port, { path: '/s/x' })).body);
      expect(anonymous).toEqual(new Set(['a', 'b']));
      // logout ends the stickiness once it is answered
      await request(app.port, { path: '/s/logout', headers: { cookie } });
      const after = new Set<string>();
      for (let i = 0; i < 4; i++) after.add((await request(app.port, { path: '/s/x', headers: { cookie: 'sid=unknown' } })).body);
      expect(after.size).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });
});

describe('Express adapter: health checks', () => {
  test('a failing server stops receiving traffic after health_retry_count failures and gets it back after recovery', async () => {
    let healthy = true;
    const headersSeen: string[] = [];
    const flaky = await startBackend('flaky', (req, res) => {
      if (req.url === '/health') {
        headersSeen.push(String(req.headers['x-host']));
        res.writeHead(healthy ? 200 : 503);
        res.end();
        return true;
      }
      return false;
    });
    const steady = await startBackend('steady');
    const downs: string[] = [];
    const app = await startExpressApp({
      apis: {
        h: api('/h', {
          health_check: true,
          health_check_interval: 1,
          health_retry_count: 2,
          health_url: '/health',
          health_check_headers: { 'X-Host': '%{HOST}' },
          servers: servers(flaky.port, steady.port),
        }),
      },
    });
    app.enforcer.on('backend_down', (e) => downs.push(e.server));
    const names = async (n: number): Promise<Set<string>> => {
      const s = new Set<string>();
      for (let i = 0; i < n; i++) s.add(JSON.parse((await request(app.port, { path: '/h/x' })).body).server);
      return s;
    };
    try {
      expect(await names(4)).toEqual(new Set(['flaky', 'steady']));
      healthy = false;
      await until(async () => downs.includes(`127.0.0.1:${flaky.port}`), 4000);
      expect(await names(6)).toEqual(new Set(['steady']));
      healthy = true;
      await until(async () => (await names(4)).has('flaky'), 4000);
      expect(headersSeen).toContain('127.0.0.1');
    } finally {
      await app.close();
      await Promise.all([flaky.close(), steady.close()]);
    }
  }, 15000);
});

describe('Express adapter: server quota with queueing', () => {
  test('a queued request whose client hangs up does not keep the server slot', async () => {
    const slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('done'), 300).unref();
      return true;
    });
    const app = await startExpressApp({
      conf: { queue_max_wait: 2000 },
      apis: {
        q: api('/q', { flow_control: { server_connection_queueing: true }, servers: [{ host: '127.0.0.1', port: slow.port, server_connection_quota: 1 }] }),
      },
    });
    try {
      const first = request(app.port, { path: '/q/1' });
      await new Promise((r) => setTimeout(r, 50));
      // The second request queues behind the first, then its client gives up.
      const quitter = http.request({ host: '127.0.0.1', port: app.port, path: '/q/2', agent: false });
      quitter.on('error', () => undefined);
      quitter.end();
      await new Promise((r) => setTimeout(r, 30));
      quitter.destroy();
      expect((await first).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      const third = await request(app.port, { path: '/q/3' });
      expect(third.status).toBe(200);
      expect(slow.seen.map((s) => s.url)).toEqual(['/q/1', '/q/3']);
    } finally {
      await app.close();
      await slow.close();
    }
  });
});
