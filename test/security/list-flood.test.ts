import * as fs from 'node:fs';
import * as http from 'node:http';
import { HARNESSES } from '../conformance/harness';
import type { RunningApp } from '../conformance/harness';
import { MOUNTS, type Served, call, serveAdmin } from '../admin/harness';

/**
 * The lists cannot be washed or flooded (docs/security.md): a flood of violations under throwaway
 * identifiers, through a real app on each framework, evicts neither decoy-made nor manual entries,
 * and the operator can still add and remove manual entries, in code and over the management API.
 */

const pattern = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: ['GET'],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
};
const SHOP = {
  api_metadata: {
    protocol: 'http',
    url: '/shop',
    hostname: '*',
    enable_blocking: true,
    oauth2_access_token: true,
    api_pattern_enforcement: pattern,
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
  },
};

/** One keep-alive agent per test: the flood reuses connections like a real client would. */
function client(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const send = (method: string, path: string, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/** `n` violations, each from its own address under its own throwaway token, 32 at a time. */
async function flood(send: ReturnType<typeof client>['send'], n: number, from = 0): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + n) {
      const i = next++;
      const status = await send('DELETE', '/shop/x', { 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, authorization: `Bearer throwaway-${i}` });
      if (status !== 401) throw new Error(`violation ${i} answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

const xff = (ip: string) => ({ 'x-forwarded-for': ip });

describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s: a violation flood', (_name, harness) => {
  let served: Served;
  let app: RunningApp;
  let c: ReturnType<typeof client>;

  async function start(conf: string): Promise<void> {
    served = await serveAdmin(MOUNTS[0]!, { conf, apis: { shop: SHOP } });
    app = await harness.start(served.enforcer);
    c = client(app.port);
  }

  afterEach(async () => {
    c?.close();
    await app?.close();
    await served?.close();
    if (served) fs.rmSync(served.dir, { recursive: true, force: true });
  });

  test('10,000 violations with distinct throwaway tokens evict neither the decoy-made nor the manual entry; manual entries can still be added and removed, in code and over the management API', async () => {
    await start('enable_xff=true\nenable_ase_detected_attack=true\nattack_list_memory=256kb\n');
    const e = served.enforcer;
    await e.addDeny({ type: 'ip', value: '192.0.2.1' });
    expect(await c.send('GET', '/shop/admin', xff('192.0.2.66'))).toBe(200); // the decoy
    expect(e.denyList.has('ip', '192.0.2.66')).toBe(true);

    await flood(c.send, 10_000);
    expect(e.denyList.has('token', 'throwaway-9999')).toBe(true);
    expect(e.denyList.has('token', 'throwaway-0')).toBe(false); // the automatic share evicted the oldest

    expect(await c.send('GET', '/shop/x', xff('192.0.2.66'))).toBe(401);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.1'))).toBe(401);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.2'))).toBe(200);

    expect(await e.addDeny({ type: 'ip', value: '192.0.2.2' })).toBe(true);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.2'))).toBe(401);
    expect(await e.removeDeny({ type: 'ip', value: '192.0.2.2' })).toBe(true);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.2'))).toBe(200);

    const added = await call(served.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '192.0.2.3' } });
    expect(added.status).toBe(200);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.3'))).toBe(401);
    const removed = await call(served.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '192.0.2.3' } });
    expect(removed.status).toBe(200);
    expect(await c.send('GET', '/shop/x', xff('192.0.2.3'))).toBe(200);
  }, 60_000);

  test('a manual add answers 507 over the management API only when the manual share itself is full', async () => {
    // 4 kB: the manual share (50%) holds about twenty IPv4 entries.
    await start('enable_xff=true\nenable_ase_detected_attack=true\nattack_list_memory=4kb\n');
    await flood(c.send, 200); // the automatic share is full many times over
    const statuses: number[] = [];
    let full: { status: number; json: unknown } | undefined;
    for (let i = 1; i < 100 && !full; i++) {
      const r = await call(served.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: `192.0.2.${i}` } });
      if (r.status === 507) full = r;
      else statuses.push(r.status);
    }
    expect(statuses.length).toBeGreaterThanOrEqual(15);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(full?.json).toMatchObject({ status: 'fail', status_message: expect.stringMatching(/manual share of attack_list_memory is full/) });
    expect(served.enforcer.denyList.list('manual')).toHaveLength(statuses.length);
  }, 30_000);

  test('a 12 kB token is listed by its digest: it costs what a 64-character token costs, and it is still blocked', async () => {
    await start('enable_xff=true\nenable_ase_detected_attack=true\n');
    const e = served.enforcer;
    const long = 'L'.repeat(12 * 1024);
    expect(await c.send('DELETE', '/shop/x', { ...xff('203.0.113.1'), authorization: `Bearer ${long}` })).toBe(401);
    const longCost = e.attackListMemory.used;
    expect(await c.send('DELETE', '/shop/x', { ...xff('203.0.113.2'), authorization: `Bearer ${'s'.repeat(64)}` })).toBe(401);
    expect(e.attackListMemory.used - longCost).toBe(longCost);
    expect(await c.send('GET', '/shop/x', { ...xff('203.0.113.3'), authorization: `Bearer ${long}` })).toBe(401);
    expect(await c.send('GET', '/shop/x', { ...xff('203.0.113.3'), authorization: `Bearer ${long.slice(1)}` })).toBe(200);
  });
});
