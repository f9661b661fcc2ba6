import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ApiJsonInput, type Enforcer, MemoryStickyStore, createEnforcer, silentLogger } from '@ase/core';
import { MAX_PENDING_DETECTIONS } from '../../packages/core/src/lists/list-journal';
import { HARNESSES } from '../conformance/harness';
import type { RunningApp } from '../conformance/harness';

/**
 * Every table a client can grow has a bound (docs/security.md): floods of distinct clients, through
 * a real app on each framework, keep each table at or under its bound, read through
 * `enforcer.stats()` after every request, and the documented eviction happens (the oldest client is
 * forgotten, the newest is kept). Sizes are counted, not the heap: they are deterministic.
 */

const BOUND = 50;
const FLOOD = 4 * BOUND;

const pattern = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: ['GET'],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
};

function apis(backendPort: number): Record<string, ApiJsonInput> {
  return {
    // Rate-limit windows: two requests a minute per client.
    limited: { api_metadata: { url: '/limited', hostname: '*', flow_control: { client_spike_threshold: '2/minute' } } },
    // Violations under throwaway tokens: the rotation table.
    shop: { api_metadata: { url: '/shop', hostname: '*', enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern } },
    // Sticky pins of client cookies, 4 kB of them (about thirty).
    pinned: {
      api_metadata: {
        url: '/pinned',
        hostname: '*',
        cookie: 'sid',
        cookie_persistence_enabled: true,
        api_memory_size: '4kb',
        servers: [{ host: '127.0.0.1', port: backendPort }],
      },
    },
  };
}

/** One keep-alive agent: the flood reuses connections like a real client would. */
function client(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
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

const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const from = (addr: string, more: Record<string, string> = {}) => ({ 'x-forwarded-for': addr, ...more });

/** A backend that answers every request 200 and sets no cookie: ASE pins the client's own cookie. */
async function startBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('backend'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s: a flood of distinct clients', (_name, harness) => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let enforcer: Enforcer;
  let sticky: MemoryStickyStore;
  let app: RunningApp;
  let c: ReturnType<typeof client>;
  /** The largest size each table reached during the test. */
  let peak: { counters: number; rotation: number; stickyBytes: number; stickySize: number };

  beforeEach(async () => {
    backend = await startBackend();
    sticky = new MemoryStickyStore();
    enforcer = createEnforcer({
      conf: { enable_xff: true, enable_ase_detected_attack: true, tracked_clients_max: BOUND },
      apis: apis(backend.port),
      stores: { sticky },
      logger: silentLogger,
    });
    app = await harness.start(enforcer);
    c = client(app.port);
    peak = { counters: 0, rotation: 0, stickyBytes: 0, stickySize: 0 };
  });

  afterEach(async () => {
    c.close();
    await app.close();
    await enforcer.close();
    await sticky.close();
    await backend.close();
  });

  /** Sends one request and records every table's size right after it was answered. */
  async function send(method: string, path: string, headers: Record<string, string>): Promise<number> {
    const status = await c.send(method, path, headers);
    const s = enforcer.stats();
    peak.counters = Math.max(peak.counters, s.counters!.size);
    peak.rotation = Math.max(peak.rotation, s.rotation.size);
    peak.stickyBytes = Math.max(peak.stickyBytes, s.apis['pinned']!.sticky?.bytes ?? 0);
    peak.stickySize = Math.max(peak.stickySize, s.apis['pinned']!.sticky?.size ?? 0);
    return status;
  }

  /** `n` requests, 16 at a time, request `i` built by `make(i)`; each must be answered `expected`. */
  async function flood(n: number, expected: number, make: (i: number) => [string, string, Record<string, string>]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const status = await send(...make(i));
        if (status !== expected) throw new Error(`request ${i} answered ${status}, not ${expected}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  }

  test(`rate-limit windows: at most tracked_clients_max (${BOUND}); the window started longest ago is forgotten, the newest kept`, async () => {
    expect(enforcer.stats().counters).toEqual({ size: 0, max: BOUND });
    const first = '192.0.2.1';
    expect(await send('GET', '/limited/x', from(first))).toBe(200);
    expect(await send('GET', '/limited/x', from(first))).toBe(200);
    expect(await send('GET', '/limited/x', from(first))).toBe(429);

    await flood(FLOOD, 200, (i) => ['GET', '/limited/x', from(ip(i))]);
    expect(peak.counters).toBe(BOUND);
    expect(enforcer.stats().counters!.size).toBe(BOUND);

    // The first client's window was forgotten: its count starts over. The last client's was kept.
    expect(await send('GET', '/limited/x', from(first))).toBe(200);
    const last = ip(FLOOD - 1);
    expect(await send('GET', '/limited/x', from(last))).toBe(200);
    expect(await send('GET', '/limited/x', from(last))).toBe(429);
    expect(peak.counters).toBe(BOUND);
  }, 30_000);

  test(`the ip_rotation_threshold table: at most tracked_clients_max addresses; the least recently seen is forgotten, the newest kept`, async () => {
    const violate = (addr: string, token: string) => send('DELETE', '/shop/x', from(addr, { authorization: `Bearer ${token}` }));
    const get = (addr: string) => send('GET', '/shop/x', from(addr, { authorization: 'Bearer fresh' }));
    const first = '192.0.2.1';
    expect(await violate(first, 'a1')).toBe(401);
    expect(await violate(first, 'a2')).toBe(401);

    await flood(FLOOD, 401, (i) => ['DELETE', '/shop/x', from(ip(i), { authorization: `Bearer throwaway-${i}` })]);
    expect(peak.rotation).toBe(BOUND);

    // Forgotten: its third token is its first again, so the address is not listed.
    expect(await violate(first, 'a3')).toBe(401);
    expect(enforcer.denyList.has('ip', first)).toBe(false);
    expect(await get(first)).toBe(200);
    // Kept: the last flooded address reaches three tokens and is listed.
    const last = ip(FLOOD - 1);
    expect(await violate(last, 'z2')).toBe(401);
    expect(await violate(last, 'z3')).toBe(401);
    expect(enforcer.denyList.has('ip', last)).toBe(true);
    expect(await get(last)).toBe(401);
    expect(peak.rotation).toBe(BOUND);
  }, 30_000);

  test('sticky pins of distinct cookies: never past api_memory_size; the least recently used pin goes, the newest stays', async () => {
    await flood(FLOOD, 200, (i) => ['GET', '/pinned/x', from(ip(i), { cookie: `sid=session-${String(i).padStart(4, '0')}` })]);
    const s = enforcer.stats().apis['pinned']!.sticky!;
    expect(s.maxBytes).toBe(4096);
    expect(peak.stickyBytes).toBeLessThanOrEqual(4096);
    expect(s.bytes).toBeGreaterThan(4096 - 200); // full: one more pin would not fit
    expect(peak.stickySize).toBeLessThan(FLOOD / 4);
    expect(sticky.get('pinned', 'session-0000')).toBeUndefined();
    expect(sticky.get('pinned', `session-${String(FLOOD - 1).padStart(4, '0')}`)).toBe(`127.0.0.1:${backend.port}`);
  }, 30_000);
});

describe('detections waiting for the disk (data/lists.journal)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bounded-'));
    fs.mkdirSync(path.join(dir, 'api'));
    fs.writeFileSync(path.join(dir, 'ase.conf'), 'enable_ase_detected_attack=true\nenable_access_log=false\n');
    fs.writeFileSync(path.join(dir, 'api', 'shop.json'), JSON.stringify(apis(1)['shop']));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test(`a burst of detections queues at most ${MAX_PENDING_DETECTIONS} lines; the rest reach the disk in one snapshot, nothing is lost`, async () => {
    const e = createEnforcer({ configDir: dir, logger: silentLogger });
    // Decided in one turn of the event loop: what a flood does while one write is on its way to a slow disk.
    const n = MAX_PENDING_DETECTIONS + 5000;
    let peakQueued = 0;
    for (let i = 0; i < n; i++) {
      const d = e.decide({ method: 'DELETE', url: '/shop/x', headers: { host: 'shop.example', authorization: `Bearer burst-${i}` }, remoteAddress: ip(i), encrypted: false });
      expect((d as { action: string }).action).toBe('respond');
      peakQueued = Math.max(peakQueued, e.stats().lists.queued!);
    }
    expect(peakQueued).toBe(MAX_PENDING_DETECTIONS);
    expect(e.stats().lists.deny).toBe(n);
    await e.close();

    const again = createEnforcer({ configDir: dir, logger: silentLogger });
    try {
      expect(again.stats().lists.deny).toBe(n);
      expect(again.denyList.has('token', 'burst-0')).toBe(true);
      expect(again.denyList.has('token', `burst-${n - 1}`)).toBe(true);
    } finally {
      await again.close();
    }
  }, 60_000);
});
