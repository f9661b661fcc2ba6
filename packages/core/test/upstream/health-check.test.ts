import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type HealthCheckOptions, HealthChecker } from '../../src/upstream/health-check';

interface Backend {
  server: http.Server;
  port: number;
  status: number;
  hang: boolean;
  requests: http.IncomingMessage[];
  openSockets: number;
}

async function backend(server: http.Server = http.createServer()): Promise<Backend> {
  const b: Backend = { server, port: 0, status: 200, hang: false, requests: [], openSockets: 0 };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    b.requests.push(req);
    if (b.hang) return;
    res.statusCode = b.status;
    res.end('body');
  });
  server.on('connection', (s) => {
    b.openSockets++;
    s.on('close', () => b.openSockets--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as AddressInfo).port;
  return b;
}

const close = (b: Backend) =>
  new Promise<void>((r) => {
    b.server.closeAllConnections();
    b.server.close(() => r());
  });

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const baseOpts = (o: Partial<HealthCheckOptions> = {}): HealthCheckOptions => ({
  intervalMs: 20,
  retryCount: 2,
  path: '/health',
  headers: {},
  ssl: false,
  // The default probe timeout is min(interval, 5 s) = 20 ms here: far too tight on a loaded CI
  // machine. Tests about timeouts set their own.
  timeoutMs: 2000,
  ...o,
});

describe('HealthChecker', () => {
  const backends: Backend[] = [];
  const checkers: HealthChecker[] = [];
  afterEach(async () => {
    for (const c of checkers.splice(0)) c.stop();
    for (const b of backends.splice(0)) await close(b);
  });
  const make = async (): Promise<Backend> => {
    const b = await backend();
    backends.push(b);
    return b;
  };
  const checker = (...args: ConstructorParameters<typeof HealthChecker>): HealthChecker => {
    const c = new HealthChecker(...args);
    checkers.push(c);
    return c;
  };

  test('down after retryCount consecutive failures (reported once), up after one success', async () => {
    const b = await make();
    const events: [string, boolean][] = [];
    const hc = checker([{ id: 'srv', host: '127.0.0.1', port: b.port }], baseOpts({ retryCount: 3 }), (id, up) => events.push([id, up]));
    b.status = 500;
    await hc.checkOnce();
    await hc.checkOnce();
    expect(events).toEqual([]);
    expect(hc.isHealthy('srv')).toBe(true);
    await hc.checkOnce();
    expect(events).toEqual([['srv', false]]);
    await hc.checkOnce();
    expect(events).toEqual([['srv', false]]);
    b.status = 302; // 3xx is a success
    await hc.checkOnce();
    expect(events).toEqual([
      ['srv', false],
      ['srv', true],
    ]);
    expect(hc.isHealthy('srv')).toBe(true);
    expect(b.requests.every((r) => r.method === 'GET' && r.url === '/health')).toBe(true);
  });

  test('a success in between resets the failure count', async () => {
    const b = await make();
    const events: boolean[] = [];
    const hc = checker([{ id: 's', host: '127.0.0.1', port: b.port }], baseOpts({ retryCount: 2 }), (_id, up) => events.push(up));
    b.status = 503;
    await hc.checkOnce();
    b.status = 204;
    await hc.checkOnce();
    b.status = 503;
    await hc.checkOnce();
    expect(events).toEqual([]);
    await hc.checkOnce();
    expect(events).toEqual([false]);
  });

  test('runs on its own every interval once started', async () => {
    const b = await make();
    const events: [string, boolean][] = [];
    b.status = 500;
    const hc = checker([{ id: 'srv', host: '127.0.0.1', port: b.port }], baseOpts({ intervalMs: 15, retryCount: 2 }), (id, up) =>
      events.push([id, up]),
    );
    hc.start();
    await waitFor(() => events.length === 1);
    expect(events).toEqual([['srv', false]]);
    b.status = 200;
    await waitFor(() => events.length === 2);
    expect(events[1]).toEqual(['srv', true]);
  });

  test('%{HOST} in header values is replaced by each server host', async () => {
    const b = await make();
    const hc = checker(
      [
        { id: 'one', host: '127.0.0.1', port: b.port },
        { id: 'two', host: 'localhost', port: b.port },
      ],
      baseOpts({ headers: { 'x-check': 'probe from ase', 'x-target': 'https://%{HOST}/x?h=%{HOST}' } }),
      () => {},
    );
    await hc.checkOnce();
    const targets = b.requests.map((r) => r.headers['x-target']).sort();
    expect(targets).toEqual(['https://127.0.0.1/x?h=127.0.0.1', 'https://localhost/x?h=localhost']);
    expect(b.requests.every((r) => r.headers['x-check'] === 'probe from ase')).toBe(true);
  });

  test('connection refused, timeouts and invalid headers are failures, never exceptions', async () => {
    const b = await make();
    const deadPort = b.port;
    await close(backends.pop()!);
    const hung = await make();
    hung.hang = true;
    const events: string[] = [];
    const hc = checker(
      [
        { id: 'dead', host: '127.0.0.1', port: deadPort },
        { id: 'hung', host: '127.0.0.1', port: hung.port },
      ],
      baseOpts({ retryCount: 1, timeoutMs: 50 }),
      (id) => events.push(id),
    );
    await hc.checkOnce();
    expect(events.sort()).toEqual(['dead', 'hung']);

    const bad = await make();
    const bad2: string[] = [];
    const hc2 = checker([{ id: 'bad', host: '127.0.0.1', port: bad.port }], baseOpts({ retryCount: 1, headers: { 'x-bad': 'a\r\nInjected: 1' } }), (id) =>
      bad2.push(id),
    );
    await expect(hc2.checkOnce()).resolves.toBeUndefined();
    expect(bad2).toEqual(['bad']);
    expect(bad.requests).toHaveLength(0);
  });

  test('a throwing onChange does not stop the checks', async () => {
    const b = await make();
    b.status = 500;
    let calls = 0;
    const hc = checker([{ id: 's', host: '127.0.0.1', port: b.port }], baseOpts({ retryCount: 1 }), () => {
      calls++;
      throw new Error('listener bug');
    });
    await hc.checkOnce();
    b.status = 200;
    await hc.checkOnce();
    expect(calls).toBe(2);
  });

  test('stop() clears the timer and aborts probes in flight', async () => {
    const b = await make();
    b.hang = true;
    const events: boolean[] = [];
    const hc = checker([{ id: 's', host: '127.0.0.1', port: b.port }], baseOpts({ intervalMs: 10, retryCount: 1, timeoutMs: 5000 }), (_id, up) =>
      events.push(up),
    );
    hc.start();
    await waitFor(() => b.requests.length === 1 && b.openSockets === 1);
    hc.stop();
    await waitFor(() => b.openSockets === 0); // the hung probe was aborted
    const seen = b.requests.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(b.requests.length).toBe(seen);
    expect(events).toEqual([]); // an aborted probe is not a failure
    // Counting the process's active timers is flaky beside other suites; the checker's own handle is not.
    expect((hc as unknown as { timer: unknown }).timer).toBeUndefined();
  });

  describe('HTTPS', () => {
    let dir: string;
    let cert: Buffer;
    let key: Buffer;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'ase-hc-'));
      execFileSync(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
          '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
          '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = readFileSync(path.join(dir, 'cert.pem'));
      key = readFileSync(path.join(dir, 'key.pem'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('probes over TLS with the configured CA, and fail verification without it', async () => {
      const b = await backend(https.createServer({ cert, key }));
      backends.push(b);
      const withCa: boolean[] = [];
      const hc = checker([{ id: 's', host: '127.0.0.1', port: b.port }], baseOpts({ ssl: true, ca: cert, retryCount: 1 }), (_id, up) =>
        withCa.push(up),
      );
      await hc.checkOnce();
      expect(withCa).toEqual([]);
      expect(b.requests).toHaveLength(1);

      const noCa: boolean[] = [];
      const hc2 = checker([{ id: 's', host: '127.0.0.1', port: b.port }], baseOpts({ ssl: true, retryCount: 1 }), (_id, up) => noCa.push(up));
      await hc2.checkOnce();
      expect(noCa).toEqual([false]);
      expect(b.requests).toHaveLength(1);
    });
  });
});
