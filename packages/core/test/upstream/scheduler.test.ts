import { parseRate } from '../../src/config/units';
import { type LimitResult, type RateLimiter, createRateLimiter } from '../../src/flow/rate-limit';
import { type Acquired, type SchedulerOptions, type SchedulerServer, ServerScheduler } from '../../src/upstream/scheduler';

const opts = (o: Partial<SchedulerOptions> = {}): SchedulerOptions => ({
  queueing: false,
  queueMaxSize: 100,
  queueMaxWaitMs: 1000,
  isUsable: () => true,
  ...o,
});

/** A spike limiter under the test's control. */
function fakeSpike(answer: () => LimitResult): RateLimiter & { calls: number } {
  const l = {
    limit: 1,
    windowSeconds: 1,
    calls: 0,
    consume: async () => {
      l.calls++;
      return answer();
    },
    // The scheduler never peeks (only explain's client flow control does): counted apart.
    peek: () => answer(),
  };
  return l;
}
const REJECT = (retryAfterMs: number): LimitResult => ({ ok: false, remaining: 0, retryAfterMs, resetMs: retryAfterMs });
const ALLOW: LimitResult = { ok: true, remaining: 1, resetMs: 1 };

function granted(a: Acquired): Extract<Acquired, { ok: true }> {
  if (!a.ok) throw new Error(`expected a slot, got ${a.reason}`);
  return a;
}

/** Lets pending promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

async function pickIds(s: ServerScheduler, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = granted(await s.acquire());
    out.push(a.id);
    a.release();
  }
  return out;
}

const count = (ids: string[]) => ids.reduce<Record<string, number>>((m, id) => ({ ...m, [id]: (m[id] ?? 0) + 1 }), {});

describe('ServerScheduler selection', () => {
  test('quotas 1 and 2 share traffic 1/3 and 2/3 (smooth weighted round-robin)', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 1 },
        { id: 'b', quota: 2 },
      ],
      opts(),
    );
    const ids = await pickIds(s, 30);
    expect(count(ids)).toEqual({ a: 10, b: 20 });
    // smooth: never three b in a row
    expect(ids.join('')).not.toContain('bbb');
  });

  test('plain round-robin when a server has no quota', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0 },
        { id: 'b', quota: 5 },
        { id: 'c', quota: 0 },
      ],
      opts(),
    );
    expect(await pickIds(s, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('unusable servers are skipped; none usable is no_backend', async () => {
    const down = new Set(['a']);
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0 },
        { id: 'b', quota: 0 },
      ],
      opts({ isUsable: (srv) => !down.has(srv.id) }),
    );
    expect(await pickIds(s, 3)).toEqual(['b', 'b', 'b']);
    down.add('b');
    expect(await s.acquire()).toEqual({ ok: false, reason: 'no_backend', retryAfterMs: 1000 });
    down.clear();
    expect(granted(await s.acquire({ exclude: 'a' })).id).toBe('b');
  });

  test('an isUsable that throws counts as unusable', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0 },
        { id: 'b', quota: 0 },
      ],
      opts({
        isUsable: (srv) => {
          if (srv.id === 'a') throw new Error('bug');
          return true;
        },
      }),
    );
    expect(await pickIds(s, 2)).toEqual(['b', 'b']);
  });

  test('exclude leaves no_backend when it was the only server', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 0 }], opts());
    expect(await s.acquire({ exclude: 'a' })).toMatchObject({ ok: false, reason: 'no_backend' });
  });

  test('the preferred (sticky) server is used while usable and not full', async () => {
    let usable = true;
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 2 },
        { id: 'b', quota: 2 },
      ],
      opts({ isUsable: (srv) => srv.id !== 'b' || usable }),
    );
    const first = granted(await s.acquire({ preferred: 'b' }));
    const second = granted(await s.acquire({ preferred: 'b' }));
    expect([first.id, second.id]).toEqual(['b', 'b']);
    // b is at its quota now: the request goes elsewhere
    const third = granted(await s.acquire({ preferred: 'b' }));
    expect(third.id).toBe('a');
    first.release();
    second.release();
    third.release();
    usable = false;
    const fourth = granted(await s.acquire({ preferred: 'b' }));
    expect(fourth.id).toBe('a');
    fourth.release();
    expect(granted(await s.acquire({ preferred: 'nope' })).id).toBe('a');
  });

  test('release is idempotent', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts());
    const a = granted(await s.acquire());
    expect(s.inFlight('a')).toBe(1);
    a.release();
    a.release();
    expect(s.inFlight('a')).toBe(0);
    const b = granted(await s.acquire());
    a.release();
    expect(s.inFlight('a')).toBe(1);
    b.release();
  });
});

describe('ServerScheduler quotas and queueing', () => {
  test('quota 2 with 5 concurrent requests: 2 run, 3 wait and complete in order as slots free', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 2 }], opts({ queueing: true, queueMaxSize: 10, queueMaxWaitMs: 2000 }));
    const order: number[] = [];
    const pending = [0, 1, 2, 3, 4].map((i) =>
      s.acquire().then((a) => {
        order.push(i);
        return granted(a);
      }),
    );
    await flush();
    expect(order).toEqual([0, 1]);
    expect(s.inFlight('a')).toBe(2);
    expect(s.queued).toBe(3);

    const a0 = await pending[0]!;
    a0.release();
    await flush();
    expect(order).toEqual([0, 1, 2]);
    expect(s.inFlight('a')).toBe(2);

    (await pending[1]!).release();
    (await pending[2]!).release();
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(s.queued).toBe(0);
    (await pending[3]!).release();
    (await pending[4]!).release();
    expect(s.inFlight('a')).toBe(0);
  });

  test('a freed slot goes to the server that freed it, so queued traffic follows the quotas', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 1 },
        { id: 'b', quota: 2 },
      ],
      opts({ queueing: true }),
    );
    const held = [granted(await s.acquire()), granted(await s.acquire()), granted(await s.acquire())];
    expect(held.map((h) => h.id).sort()).toEqual(['a', 'b', 'b']);
    const waiting = s.acquire();
    await flush();
    expect(s.queued).toBe(1);
    held.find((h) => h.id === 'a')!.release();
    expect(granted(await waiting).id).toBe('a');
  });

  test('without queueing, all servers at quota is server_busy with Retry-After 1 s', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts());
    granted(await s.acquire());
    expect(await s.acquire()).toEqual({ ok: false, reason: 'server_busy', retryAfterMs: 1000 });
    expect(s.queued).toBe(0);
  });

  test('the queue is bounded', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts({ queueing: true, queueMaxSize: 1 }));
    const held = granted(await s.acquire());
    const waiting = s.acquire();
    expect(await s.acquire()).toEqual({ ok: false, reason: 'queue_full', retryAfterMs: 1000 });
    held.release();
    expect(granted(await waiting).id).toBe('a');
  });

  test('a queued request gives up after queueMaxWait', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts({ queueing: true, queueMaxWaitMs: 30 }));
    const held = granted(await s.acquire());
    const t0 = Date.now();
    expect(await s.acquire()).toEqual({ ok: false, reason: 'queue_timeout', retryAfterMs: 1000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(s.queued).toBe(0);
    held.release();
    expect(s.inFlight('a')).toBe(0);
  });

  test('close() settles waiters as queue_timeout and refuses new requests', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts({ queueing: true, queueMaxWaitMs: 60_000 }));
    granted(await s.acquire());
    const w1 = s.acquire();
    const w2 = s.acquire();
    await flush();
    s.close();
    expect(await w1).toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(await w2).toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(await s.acquire()).toMatchObject({ ok: false, reason: 'no_backend' });
  });

  test('waiters get no_backend when every server became unusable', async () => {
    let usable = true;
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts({ queueing: true, isUsable: () => usable }));
    const held = granted(await s.acquire());
    const waiting = s.acquire();
    await flush();
    usable = false;
    held.release();
    expect(await waiting).toMatchObject({ ok: false, reason: 'no_backend' });
  });
});

describe('ServerScheduler spike thresholds', () => {
  test('a server over its spike rate is skipped in favour of another', async () => {
    const spikeA = fakeSpike(() => REJECT(700));
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0, spike: spikeA },
        { id: 'b', quota: 0 },
      ],
      opts(),
    );
    expect(await pickIds(s, 3)).toEqual(['b', 'b', 'b']);
    expect(spikeA.calls).toBeGreaterThan(0);
    expect(s.inFlight('a')).toBe(0); // the slot reserved for the check was given back
  });

  test('all servers over their spike rate: server_busy with the shortest retry, even with queueing', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0, spike: fakeSpike(() => REJECT(700)) },
        { id: 'b', quota: 0, spike: fakeSpike(() => REJECT(300)) },
      ],
      opts({ queueing: true }),
    );
    expect(await s.acquire()).toEqual({ ok: false, reason: 'server_busy', retryAfterMs: 300 });
    expect(s.queued).toBe(0);
  });

  test('with a real limiter: 2/second per server, then the other server, then busy', async () => {
    const r = parseRate('2/second')!;
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0, spike: createRateLimiter(r, 'spike:t1') },
        { id: 'b', quota: 0, spike: createRateLimiter(r, 'spike:t1b') },
      ],
      opts(),
    );
    const ids = await pickIds(s, 4);
    expect(count(ids)).toEqual({ a: 2, b: 2 });
    const busy = await s.acquire();
    expect(busy).toMatchObject({ ok: false, reason: 'server_busy' });
    if (!busy.ok) {
      expect(busy.retryAfterMs).toBeGreaterThan(0);
      expect(busy.retryAfterMs).toBeLessThanOrEqual(1000);
    }
  });

  test('spike points are not taken from a server that is at its quota', async () => {
    const spike = fakeSpike(() => ALLOW);
    const s = new ServerScheduler([{ id: 'a', quota: 1, spike }], opts());
    granted(await s.acquire());
    expect(spike.calls).toBe(1);
    expect(await s.acquire()).toMatchObject({ ok: false, reason: 'server_busy' });
    expect(spike.calls).toBe(1);
  });

  test('a sticky server over its spike rate falls back to round-robin', async () => {
    const s = new ServerScheduler(
      [
        { id: 'a', quota: 0 },
        { id: 'b', quota: 0, spike: fakeSpike(() => REJECT(100)) },
      ],
      opts(),
    );
    expect(granted(await s.acquire({ preferred: 'b' })).id).toBe('a');
  });
});

describe('ServerScheduler.update', () => {
  test('a raised quota serves waiters at once', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts({ queueing: true }));
    granted(await s.acquire());
    const waiting = s.acquire();
    await flush();
    expect(s.queued).toBe(1);
    s.update([{ id: 'a', quota: 2 }]);
    expect(granted(await waiting).id).toBe('a');
    expect(s.inFlight('a')).toBe(2);
  });

  test('new weights, new spike limiters and removed servers apply to the next request', async () => {
    const servers: SchedulerServer[] = [
      { id: 'a', quota: 1 },
      { id: 'b', quota: 1 },
    ];
    const s = new ServerScheduler(servers, opts());
    expect(count(await pickIds(s, 10))).toEqual({ a: 5, b: 5 });
    s.update([
      { id: 'a', quota: 1 },
      { id: 'b', quota: 4 },
    ]);
    expect(count(await pickIds(s, 50))).toEqual({ a: 10, b: 40 });
    s.update([
      { id: 'a', quota: 1, spike: fakeSpike(() => REJECT(50)) },
      { id: 'b', quota: 4 },
    ]);
    expect(count(await pickIds(s, 5))).toEqual({ b: 5 });
    s.update([{ id: 'a', quota: 1 }]);
    expect(await pickIds(s, 2)).toEqual(['a', 'a']);
    s.update([]);
    expect(await s.acquire()).toMatchObject({ ok: false, reason: 'no_backend' });
  });

  test('in-flight counts survive an update; slots of removed servers release harmlessly', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts());
    const held = granted(await s.acquire());
    s.update([{ id: 'a', quota: 1 }]);
    expect(s.inFlight('a')).toBe(1);
    expect(await s.acquire()).toMatchObject({ ok: false, reason: 'server_busy' });
    s.update([{ id: 'z', quota: 1 }]);
    held.release();
    expect(s.inFlight('a')).toBe(0);
    expect(granted(await s.acquire()).id).toBe('z');
  });

  test('queueing can be switched on live', async () => {
    const s = new ServerScheduler([{ id: 'a', quota: 1 }], opts());
    const held = granted(await s.acquire());
    expect(await s.acquire()).toMatchObject({ ok: false, reason: 'server_busy' });
    s.update([{ id: 'a', quota: 1 }], { queueing: true });
    const waiting = s.acquire();
    held.release();
    expect(granted(await waiting).id).toBe('a');
  });
});
