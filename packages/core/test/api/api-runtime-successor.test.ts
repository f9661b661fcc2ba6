import { ApiRuntime, type ApiRuntimeDeps } from '../../src/api/api-runtime';
import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import { normaliseAseConf } from '../../src/config/ase-conf';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { MemoryQuotaStore } from '../../src/stores/memory-quota-store';
import { MemoryStickyStore } from '../../src/stores/memory-sticky-store';
import { HealthChecker } from '../../src/upstream/health-check';

// No health checks and no servers contacted: these runtimes only hold state (fresh stores per test).
const newDeps = (): ApiRuntimeDeps => ({
  conf: normaliseAseConf({}),
  ca: undefined,
  onServerDown: () => undefined,
  onHealthChange: () => undefined,
  writeResponse: () => undefined,
  stores: { counters: new MemoryCounterStore(), quotas: new MemoryQuotaStore(), sticky: new MemoryStickyStore() },
});
let deps = newDeps();

function runtime(meta: Record<string, unknown>, prev?: ApiRuntime): ApiRuntime {
  const { api } = validateApiJson({ api_metadata: { protocol: 'http', url: '/a', hostname: '*', ...meta } }, 'a.json');
  return new ApiRuntime(compileApi('a', api), deps, prev);
}

const s1 = { host: '127.0.0.1', port: 8001 };
const s2 = { host: '127.0.0.1', port: 8002 };

describe('ApiRuntime built as the successor of an edited API', () => {
  const made: ApiRuntime[] = [];
  const track = (rt: ApiRuntime): ApiRuntime => (made.push(rt), rt);
  afterEach(() => {
    for (const rt of made.splice(0)) rt.close();
    deps = newDeps();
  });

  test('keeps the passive-down time of a server that is still there, not of a new one', () => {
    const old = track(runtime({ servers: [s1] }));
    old.pool.markDown(old.pool.find('127.0.0.1:8001')!);
    const next = track(runtime({ servers: [s1, s2] }, old));
    expect(next.pool.isUsable(next.pool.find('127.0.0.1:8001')!)).toBe(false);
    expect(next.pool.isUsable(next.pool.find('127.0.0.1:8002')!)).toBe(true);
  });

  test('keeps a spike window while the threshold is unchanged and starts a fresh one when it changes', async () => {
    const spike = { ...s1, server_connection_quota: 0, server_spike_threshold: '1/minute' };
    const old = track(runtime({ servers: [spike] }));
    expect((await old.scheduler!.acquire()).ok).toBe(true);
    const same = track(runtime({ servers: [spike] }, old));
    expect(await same.scheduler!.acquire()).toMatchObject({ ok: false, reason: 'server_busy' });
    const changed = track(runtime({ servers: [{ ...spike, server_spike_threshold: '2/minute' }] }, same));
    expect((await changed.scheduler!.acquire()).ok).toBe(true);
  });

  test('a removed server that comes back still counts the exchanges it had: the store holds them until released', async () => {
    const quota = { ...s1, server_connection_quota: 1 };
    const old = track(runtime({ servers: [quota, s2].map((s) => ({ ...s, server_connection_quota: 1 })) }));
    const a = await old.scheduler!.acquire({ preferred: '127.0.0.1:8001' });
    expect(a).toMatchObject({ ok: true, id: '127.0.0.1:8001' });
    const without = track(runtime({ servers: [{ ...s2, server_connection_quota: 1 }] }, old));
    const back = track(runtime({ servers: [quota] }, without));
    expect(back.scheduler!.inFlight('127.0.0.1:8001')).toBe(1);
    if (a.ok) a.release();
    expect(back.scheduler!.inFlight('127.0.0.1:8001')).toBe(0);
  });

  test('client windows go on while client_spike_threshold is unchanged and start afresh when it changes', () => {
    const old = track(runtime({ servers: [s1], flow_control: { client_spike_threshold: '1/minute' } }));
    expect(old.clientLimiter!.consumeSync!('10.0.0.1').ok).toBe(true);
    const same = track(runtime({ servers: [s1, s2], flow_control: { client_spike_threshold: '1/minute' } }, old));
    expect(same.clientLimiter!.consumeSync!('10.0.0.1').ok).toBe(false);
    const changed = track(runtime({ servers: [s1], flow_control: { client_spike_threshold: '2/minute' } }, same));
    expect(changed.clientLimiter!.consumeSync!('10.0.0.1')).toMatchObject({ ok: true, remaining: 1 });
  });

  test('sticky pins stay through an edit that keeps the cookie; pins to a removed server go', () => {
    const sticky = { cookie_persistence_enabled: true, cookie: 'sid' };
    const old = track(runtime({ servers: [s1, s2], ...sticky }));
    old.sticky!.set('c1', '127.0.0.1:8001');
    old.sticky!.set('c2', '127.0.0.1:8002');
    const next = track(runtime({ servers: [s1], ...sticky }, old));
    expect(next.sticky!.get('c1')).toBe('127.0.0.1:8001');
    expect(next.sticky!.get('c2')).toBeUndefined();
    const renamed = track(runtime({ servers: [s1], ...sticky, cookie: 'other' }, next));
    expect(renamed.sticky!.get('c1')).toBeUndefined();
  });
});

describe('HealthChecker started from its predecessor', () => {
  test('a server the old checker had down starts down, with its failures counted', () => {
    const opts = { intervalMs: 1000, retryCount: 2, path: '/', headers: {}, ssl: false };
    const target = { id: '127.0.0.1:8001', host: '127.0.0.1', port: 8001 };
    const next = new HealthChecker([target], { ...opts, initial: (id) => (id === target.id ? { healthy: false, failures: 2 } : undefined) }, () => undefined);
    expect(next.isHealthy(target.id)).toBe(false);
    expect(next.state(target.id)).toEqual({ healthy: false, failures: 2 });
  });
});
