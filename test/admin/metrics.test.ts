/**
 * `GET /metrics` of the management API, through real listeners: every mount answers it in
 * Prometheus's text format, behind the admin keys unless `metrics_auth=false`; each enforcer has a
 * registry of its own, or registers in the host app's.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import express from 'express';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { createEnforcer, silentLogger } from '@ase/core';
import { adminExpress, startAdminServer } from '@ase/admin';
import { MOUNTS, type Served, call, serveAdmin } from './harness';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const open: Served[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.close();
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

async function served(...args: Parameters<typeof serveAdmin>): Promise<Served> {
  const s = await serveAdmin(...args);
  open.push(s);
  return s;
}

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe.each(MOUNTS)('%s', (mount) => {
  test('GET /metrics answers the enforcer registry in Prometheus text format, with the admin keys only', async () => {
    const s = await served(mount);
    const scraped = await call(s.port, 'GET', '/metrics');
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toBe(PROMETHEUS_TEXT);
    expect(scraped.text).toMatch(/^ase_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
    // No store reports health here (files): no store series.
    expect(scraped.text).not.toContain('ase_store_up');

    const anonymous = await call(s.port, 'GET', '/metrics', { auth: false });
    expect([anonymous.status, anonymous.json]).toEqual([403, { status: 'fail', status_message: 'x-ase-access-key header missing' }]);
    expect(anonymous.text).not.toContain('ase_info');
    const wrong = await call(s.port, 'GET', '/metrics', { secret: 'not-the-secret' });
    expect([wrong.status, wrong.json]).toEqual([403, { status: 'fail', status_message: 'authorization failure' }]);
    // Prometheus's basic_auth: the access key as user, the secret key as password.
    expect((await call(s.port, 'GET', '/metrics', { auth: false, headers: basic('admin', 'admin') })).status).toBe(200);
    expect((await call(s.port, 'GET', '/metrics', { auth: false, headers: basic('admin', 'wrong') })).status).toBe(403);
    // Basic is for scrapers only: the JSON endpoints still want the two headers.
    expect((await call(s.port, 'GET', '/v4/ase/status', { auth: false, headers: basic('admin', 'admin') })).status).toBe(403);

    // Audited like any other call, the Basic credentials never written.
    expect(s.audit.filter((l) => l.includes('GET /metrics'))).toHaveLength(5);
    expect(s.audit.join('\n')).not.toContain(Buffer.from('admin:admin').toString('base64'));
  });

  test('ase_management_requests_total counts each answered call by method and status; ase_management_auth_failures_total the refused keys', async () => {
    // Scrapes without keys, so that the lockout below does not lock the scraper out too.
    const s = await served(mount, { admin: { throttle: { maxFailures: 2 }, metricsAuth: false } });
    const read = async (): Promise<Map<string, number>> => {
      const text = (await call(s.port, 'GET', '/metrics', { auth: false })).text;
      return new Map([...text.matchAll(/^(ase_management_\w+\{[^}]*\}) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    };
    const before = await read();
    expect(before.get('ase_management_auth_failures_total{reason="wrong_key"}')).toBe(0);
    expect((await call(s.port, 'GET', '/v4/ase/status')).status).toBe(200);
    expect((await call(s.port, 'GET', '/v4/ase/nothing')).status).toBe(404);
    expect((await call(s.port, 'PUT', '/v4/ase/status')).status).toBe(405);
    expect((await call(s.port, 'GET', '/v4/ase/status', { auth: false })).status).toBe(403);
    expect((await call(s.port, 'GET', '/v4/ase/status', { secret: 'guess-1' })).status).toBe(403);
    expect((await call(s.port, 'GET', '/v4/ase/status', { secret: 'guess-2' })).status).toBe(403);
    expect((await call(s.port, 'GET', '/v4/ase/status')).status).toBe(429);
    const after = await read();
    const moved = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    // The first scrape itself is one more 200 GET.
    expect(moved('ase_management_requests_total{method="GET",status="200"}')).toBe(2);
    expect(moved('ase_management_requests_total{method="GET",status="404"}')).toBe(1);
    expect(moved('ase_management_requests_total{method="GET",status="403"}')).toBe(3);
    expect(moved('ase_management_requests_total{method="GET",status="429"}')).toBe(1);
    expect(moved('ase_management_requests_total{method="PUT",status="405"}')).toBe(1);
    expect(moved('ase_management_auth_failures_total{reason="missing_key"}')).toBe(1);
    expect(moved('ase_management_auth_failures_total{reason="wrong_key"}')).toBe(2);
    expect(moved('ase_management_auth_failures_total{reason="locked_out"}')).toBe(1);
  });

  test('metricsAuth: false lets a scraper in without the keys; the JSON endpoints still want them', async () => {
    const s = await served(mount, { admin: { metricsAuth: false } });
    const scraped = await call(s.port, 'GET', '/metrics', { auth: false });
    expect([scraped.status, scraped.headers['content-type']]).toEqual([200, PROMETHEUS_TEXT]);
    expect(scraped.text).toContain('ase_info{');
    expect((await call(s.port, 'GET', '/v4/ase/status', { auth: false })).status).toBe(403);
    expect((await call(s.port, 'POST', '/metrics', { auth: false })).status).toBe(405);
  });
});

test('metrics_auth=false in ase.conf opens /metrics of the standalone listener; its Host check still applies', async () => {
  const s = await served(MOUNTS[0]!, { conf: 'metrics_auth=false\n' });
  expect((await call(s.port, 'GET', '/metrics', { auth: false })).status).toBe(200);
  const rebound = await call(s.port, 'GET', '/metrics', { auth: false, headers: { host: 'attacker.example' } });
  expect(rebound.status).toBe(421);
  // The option wins over the file.
  const closed = await served(MOUNTS[0]!, { conf: 'metrics_auth=false\n', admin: { metricsAuth: true } });
  expect((await call(closed.port, 'GET', '/metrics', { auth: false })).status).toBe(403);
});

test('wrong keys on /metrics spend the same failed-login budget as the JSON endpoints', async () => {
  const s = await served(MOUNTS[0]!, { admin: { throttle: { maxFailures: 2 } } });
  expect((await call(s.port, 'GET', '/metrics', { secret: 'guess-1' })).status).toBe(403);
  expect((await call(s.port, 'GET', '/v4/ase/status', { secret: 'guess-2' })).status).toBe(403);
  const locked = await call(s.port, 'GET', '/metrics');
  expect(locked.status).toBe(429);
});

test('metricsPath moves the endpoint; false serves none, and the Express app keeps its own /metrics', async () => {
  const moved = await served(MOUNTS[0]!, { admin: { metricsPath: '/ase-metrics' } });
  expect((await call(moved.port, 'GET', '/ase-metrics')).text).toContain('ase_info{');
  expect((await call(moved.port, 'GET', '/metrics')).status).toBe(404);

  const enforcer = createEnforcer({ logger: silentLogger });
  const app = express();
  app.use(adminExpress(enforcer, { metricsPath: false }));
  app.get('/metrics', (_req, res) => void res.type('text/plain').send('app_metric 1\n'));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await call((server.address() as AddressInfo).port, 'GET', '/metrics');
    expect([r.status, r.text]).toEqual([200, 'app_metric 1\n']);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await enforcer.close();
  }
  expect(() => createEnforcerAdmin('metrics')).toThrow('metricsPath must be a plain path like /metrics, or false (got "metrics")');
});

function createEnforcerAdmin(metricsPath: string): void {
  const enforcer = createEnforcer({ logger: silentLogger });
  try {
    adminExpress(enforcer, { metricsPath });
  } finally {
    void enforcer.close();
  }
}

describe('registries', () => {
  test('two enforcers in one process each have their own registry, and each admin serves its own', async () => {
    const a = await served(MOUNTS[0]!);
    const b = await served(MOUNTS[0]!);
    expect(a.enforcer.metrics).not.toBe(b.enforcer.metrics);
    expect(a.enforcer.metrics).toBeInstanceOf(Registry);
    for (const s of [a, b]) expect((await call(s.port, 'GET', '/metrics')).text.match(/^ase_info\{/gm)).toHaveLength(1);
  });

  test("metrics: { registry } registers in the host app's registry, next to its own metrics, and closing takes them out", async () => {
    const appRegistry = new Registry();
    new Counter({ name: 'app_requests_total', help: 'app', registers: [appRegistry] });
    const enforcer = createEnforcer({ logger: silentLogger, metrics: { registry: appRegistry } });
    expect(enforcer.metrics).toBe(appRegistry);
    const admin = await startAdminServer(enforcer, { port: 0, host: '127.0.0.1' });
    try {
      const text = (await call(admin.port, 'GET', '/metrics')).text;
      expect(text).toContain('app_requests_total 0');
      expect(text).toContain('ase_info{');
      // One registry cannot hold two enforcers' metrics: the second is refused before it opens anything.
      expect(() => createEnforcer({ logger: silentLogger, metrics: { registry: appRegistry } })).toThrow(
        'metrics.registry already holds ase_info: give each enforcer its own registry (the default)',
      );
    } finally {
      await admin.close();
      await enforcer.close();
    }
    expect((await appRegistry.metrics()).includes('ase_')).toBe(false);
    const next = createEnforcer({ logger: silentLogger, metrics: { registry: appRegistry } });
    expect(await appRegistry.metrics()).toContain('ase_info{');
    await next.close();
  });

  test('an enforcer whose metrics are never read never loads prom-client (the built package, in a process of its own)', () => {
    const core = path.resolve(__dirname, '..', '..', 'packages', 'core', 'dist', 'index.js');
    const script = `
      const { createEnforcer, silentLogger } = require(${JSON.stringify(core)});
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('prom-client'));
      const e = createEnforcer({ logger: silentLogger });
      const before = loaded();
      e.metrics.metrics().then(async (text) => {
        console.log(JSON.stringify({ before, after: loaded(), info: text.includes('ase_info{') }));
        await e.close();
      });`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toEqual({ before: false, after: true, info: true });
  });

  test("Registry.merge serves the enforcer's metrics with the app's from one registry", async () => {
    const appRegistry = new Registry();
    new Gauge({ name: 'app_up', help: 'app', registers: [appRegistry] }).set(1);
    const enforcer = createEnforcer({ logger: silentLogger });
    try {
      const merged = Registry.merge([appRegistry, enforcer.metrics]);
      const text = await merged.metrics();
      expect(text).toContain('app_up 1');
      expect(text).toContain('ase_info{');
    } finally {
      await enforcer.close();
    }
  });
});
