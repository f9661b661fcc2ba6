import type { LimitResult, RateLimiter } from '../flow/rate-limit';
import { MemoryQuotaStore } from '../stores/memory-quota-store';
import type { QuotaStore, SlotLease } from '../stores/types';
import { isPromise } from '../stores/maybe-async';

/**
 * Per-API server selection with flow control (ase-behaviour "Flow control" and "Backends"):
 *
 * 1. Only usable servers (`isUsable`: healthy and not passively down), never `exclude`.
 * 2. `preferred` (the sticky server) first, if usable and neither at quota nor over its spike rate.
 * 3. Otherwise weighted round-robin: when every server of the API has a quota > 0 the weights are
 *    the quotas (smooth weighted round-robin, as nginx does: quotas 1 and 2 give 1/3 and 2/3 of the
 *    picks); otherwise plain round-robin.
 * 4. A server at its quota (in-flight === quota) is skipped; a server whose spike limiter rejects is
 *    skipped (the slot it was given back). Spike points are only taken from a server that has a free
 *    slot, so a request never spends a server's rate without being sent there.
 * 5. No usable server: `no_backend`. All usable servers full: with queueing and at least one server
 *    full because of its quota, the request waits in a FIFO queue (at most `queueMaxSize` waiters,
 *    else `queue_full`; at most `queueMaxWaitMs`, else `queue_timeout`) and takes the next slot a
 *    release frees, going through the same selection (so sticky and weights still apply as far as
 *    the free slots allow). Without queueing, or when only spike rates are exhausted (waiting for a
 *    slot would not help): `server_busy`, `retryAfterMs` from the spike limiter when only spike
 *    rates were the cause, else 1000.
 *
 * In-flight counts are held by the {@link QuotaStore} under `<apiId>|<host:port>`, not by the
 * scheduler: they are as shared as the store is, and outlive an edit of the API. Over a shared
 * store, waiters also try again every {@link SHARED_QUEUE_POLL_MS} (a slot freed elsewhere). Spike rates are as
 * shared as the limiter's store. A store that answers synchronously costs no extra Promise.
 */

export interface SchedulerServer {
  /** `host:port` (the pool's `Upstream.id`). */
  id: string;
  /** `server_connection_quota`: concurrent requests / open WebSockets; 0 = unlimited. */
  quota: number;
  /** `server_spike_threshold` limiter, consumed with the server id as key. */
  spike?: RateLimiter | undefined;
}

export type Acquired =
  | {
      ok: true;
      id: string;
      /** Frees the slot (when the exchange or the WebSocket is over). Idempotent. */
      release(): void;
    }
  | { ok: false; reason: 'no_backend' | 'server_busy' | 'queue_full' | 'queue_timeout'; retryAfterMs: number };

export interface AcquireOptions {
  /** Server id the session is pinned to. */
  preferred?: string | undefined;
  /** Server id not to use (the one that just failed). */
  exclude?: string | undefined;
}

export interface SchedulerOptions {
  /** `server_connection_queueing` of the API. */
  queueing: boolean;
  /** `queue_max_size` of ase.conf. */
  queueMaxSize: number;
  /** `queue_max_wait` of ase.conf, ms. */
  queueMaxWaitMs: number;
  /** Healthy and not passively down. Exceptions count as "not usable". */
  isUsable(server: SchedulerServer): boolean;
  /** Where the slots are held; a private in-memory store when absent. */
  slots?: QuotaStore | undefined;
  /** Prefix of every slot key: `<apiId>|`. */
  slotPrefix?: string | undefined;
}

/**
 * How long a shared store keeps a slot of a process that stopped renewing it (died); a live
 * process's leases are renewed by the store while held.
 */
export const SLOT_LEASE_MS = 60_000;

/**
 * How often waiters look for a free slot again when the slots are shared: a slot another process
 * frees wakes no one here, so the queue polls the store while it is not empty.
 */
export const SHARED_QUEUE_POLL_MS = 50;

/** Retry-After given when no spike limiter tells better. */
export const DEFAULT_RETRY_MS = 1000;

interface State {
  server: SchedulerServer;
  /** Slot key in the store: `<apiId>|<host:port>`. */
  key: string;
  /** Current weight of smooth weighted round-robin. */
  cw: number;
}

interface Waiter {
  opts: AcquireOptions;
  resolve: (a: Acquired) => void;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
}

type Attempt =
  | { kind: 'granted'; acquired: Extract<Acquired, { ok: true }> }
  | { kind: 'none' }
  | { kind: 'full'; quotaFull: boolean; retryAfterMs: number };

const ALLOWED: LimitResult = { ok: true, remaining: 0, resetMs: 0 };
/** The lease of a server without a quota when the store is remote: nothing to count there. */
const UNCOUNTED: SlotLease = { release() {} };

function failure(reason: Extract<Acquired, { ok: false }>['reason'], retryAfterMs = DEFAULT_RETRY_MS): Acquired {
  return { ok: false, reason, retryAfterMs };
}

export class ServerScheduler {
  private states: State[] = [];
  private byId = new Map<string, State>();
  private cursor = 0;
  private readonly queue: Waiter[] = [];
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private opts: SchedulerOptions;
  private readonly slots: QuotaStore;
  private readonly slotPrefix: string;
  private poll: NodeJS.Timeout | undefined;

  constructor(servers: readonly SchedulerServer[], opts: SchedulerOptions) {
    this.opts = { ...opts };
    this.slots = opts.slots ?? new MemoryQuotaStore();
    this.slotPrefix = opts.slotPrefix ?? '';
    this.update(servers);
  }

  /** A slot on a server, or why there is none. Never rejects. */
  async acquire(opts: AcquireOptions = {}): Promise<Acquired> {
    if (this.closed) return failure('no_backend');
    if (this.opts.queueing && this.queue.length > 0) {
      // Others are already waiting: queue behind them rather than overtake.
      if (this.candidates(opts).length === 0) return failure('no_backend');
      return this.enqueue(opts);
    }
    const r = await this.attempt(opts);
    if (r.kind === 'granted') return r.acquired;
    if (r.kind === 'none') return failure('no_backend');
    if (this.opts.queueing && r.quotaFull && !this.closed) return this.enqueue(opts);
    return failure('server_busy', r.retryAfterMs);
  }

  /**
   * New server list and settings, applied at once (management API changes): quotas and spike
   * limiters of known ids are replaced, in-flight counts kept; removed servers get no new requests
   * (their outstanding slots are still released harmlessly). Waiters are re-examined.
   */
  update(servers: readonly SchedulerServer[], opts?: Partial<SchedulerOptions>): void {
    if (opts) this.opts = { ...this.opts, ...opts };
    const next: State[] = [];
    const byId = new Map<string, State>();
    for (const server of servers) {
      if (byId.has(server.id)) continue;
      const old = this.byId.get(server.id);
      const s: State = old ? Object.assign(old, { server }) : { server, key: this.slotPrefix + server.id, cw: 0 };
      next.push(s);
      byId.set(server.id, s);
    }
    this.states = next;
    this.byId = byId;
    if (this.cursor >= next.length) this.cursor = 0;
    this.schedulePump();
  }

  /** Call when a server may have become usable again (health check up), so waiters get it. */
  recheck(): void {
    this.schedulePump();
  }

  inFlight(id: string): number | Promise<number> {
    return this.slots.inFlight(this.slotPrefix + id);
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Settles every waiter as `queue_timeout` and clears their timers; later acquires get `no_backend`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    for (const w of [...this.queue]) this.settle(w, failure('queue_timeout'));
    this.queue.length = 0;
  }

  // ---------------------------------------------------------------- selection

  private usable(s: State): boolean {
    try {
      return this.opts.isUsable(s.server);
    } catch {
      return false;
    }
  }

  /** Known to be at quota; a store that counts remotely is asked by trying to acquire instead. */
  private atQuota(s: State): boolean {
    if (s.server.quota <= 0) return false;
    const n = this.slots.inFlight(s.key);
    return typeof n === 'number' && n >= s.server.quota;
  }

  private candidates(opts: AcquireOptions): State[] {
    return this.states.filter((s) => s.server.id !== opts.exclude && this.usable(s));
  }

  private get weighted(): boolean {
    return this.states.length > 0 && this.states.every((s) => s.server.quota > 0);
  }

  /** Next server by (weighted) round-robin among `eligible`; undefined when it is empty. */
  private pick(eligible: readonly State[]): State | undefined {
    if (eligible.length === 0) return undefined;
    if (this.weighted) {
      let total = 0;
      let best: State | undefined;
      for (const s of eligible) {
        s.cw += s.server.quota;
        total += s.server.quota;
        if (!best || s.cw > best.cw) best = s;
      }
      best!.cw -= total;
      return best;
    }
    const n = this.states.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.cursor + i) % n;
      const s = this.states[idx]!;
      if (eligible.includes(s)) {
        this.cursor = (idx + 1) % n;
        return s;
      }
    }
    return undefined;
  }

  /** One pass of the rules over the current servers. Reserves the slot before awaiting the spike limiter. */
  private async attempt(opts: AcquireOptions, fromPump = false): Promise<Attempt> {
    const candidates = this.candidates(opts);
    if (candidates.length === 0) return { kind: 'none' };
    const tried = new Set<State>();
    let quotaFull = false;
    let spikeRetry: number | undefined;
    const preferred = opts.preferred !== undefined ? candidates.find((s) => s.server.id === opts.preferred) : undefined;
    let next: State | undefined = preferred && !this.atQuota(preferred) ? preferred : undefined;

    for (;;) {
      if (this.closed) break;
      next ??= this.pick(candidates.filter((s) => !tried.has(s) && !this.atQuota(s)));
      if (!next) break;
      const s = next;
      next = undefined;
      tried.add(s);
      const taken = this.take(s);
      const lease = isPromise(taken) ? await taken : taken;
      if (!lease) {
        quotaFull = true;
        continue;
      }
      const limiter = s.server.spike;
      if (limiter) {
        let res: LimitResult;
        try {
          res = await limiter.consume(s.server.id);
        } catch {
          res = ALLOWED; // RateLimiter never rejects; if one does, fail open like a store failure
        }
        if (!res.ok) {
          lease.release();
          spikeRetry = spikeRetry === undefined ? res.retryAfterMs : Math.min(spikeRetry, res.retryAfterMs);
          // The pump may have found this briefly reserved slot taken and stopped; wake it (unless
          // this is the pump's own attempt, which would loop on a server that keeps rejecting).
          if (!fromPump) this.schedulePump();
          continue;
        }
      }
      if (this.closed) {
        lease.release();
        break;
      }
      return { kind: 'granted', acquired: this.grant(s, lease) };
    }
    quotaFull ||= candidates.some((s) => this.atQuota(s));
    return { kind: 'full', quotaFull, retryAfterMs: quotaFull || spikeRetry === undefined ? DEFAULT_RETRY_MS : spikeRetry };
  }

  /**
   * A slot on `s` from the store; undefined when it is at quota. An in-process store counts the
   * exchanges of servers without a quota too (at no cost); a remote one is not asked for them. A
   * store that fails gives no slot.
   */
  private take(s: State): SlotLease | undefined | Promise<SlotLease | undefined> {
    const quota = s.server.quota > 0 ? s.server.quota : Number.MAX_SAFE_INTEGER;
    if (s.server.quota <= 0 && !this.slots.localKeys) return UNCOUNTED;
    try {
      const lease = this.slots.tryAcquire(s.key, quota, SLOT_LEASE_MS);
      return isPromise(lease) ? lease.catch(() => undefined) : lease;
    } catch {
      return undefined;
    }
  }

  private grant(s: State, lease: SlotLease): Extract<Acquired, { ok: true }> {
    let released = false;
    return {
      ok: true,
      id: s.server.id,
      release: () => {
        if (released) return;
        released = true;
        lease.release();
        this.schedulePump();
      },
    };
  }

  // ---------------------------------------------------------------- queue

  private enqueue(opts: AcquireOptions): Promise<Acquired> {
    if (this.queue.length >= this.opts.queueMaxSize) return Promise.resolve(failure('queue_full'));
    return new Promise<Acquired>((resolve) => {
      const w: Waiter = { opts, resolve, timer: undefined, settled: false };
      w.timer = setTimeout(() => this.settle(w, failure('queue_timeout')), Math.max(0, this.opts.queueMaxWaitMs));
      w.timer.unref();
      this.queue.push(w);
      // A slot may have been freed while this request was being turned away.
      this.schedulePump();
      if (!this.slots.localKeys && !this.poll) {
        this.poll = setInterval(() => (this.queue.length === 0 || this.closed ? this.stopPolling() : this.schedulePump()), SHARED_QUEUE_POLL_MS);
        this.poll.unref();
      }
    });
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  private settle(w: Waiter, a: Acquired): boolean {
    if (w.settled) return false;
    w.settled = true;
    if (w.timer) clearTimeout(w.timer);
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    w.resolve(a);
    return true;
  }

  private schedulePump(): void {
    if (this.queue.length === 0 || this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  /** Serves waiters in order while slots are free. Only one pump runs at a time. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.queue.length > 0 && !this.closed) {
          const w = this.queue[0]!;
          if (w.settled) {
            this.queue.shift();
            continue;
          }
          const r = await this.attempt(w.opts, true);
          if (r.kind === 'granted') {
            // The waiter may have timed out while the spike limiter answered.
            if (!this.settle(w, r.acquired)) r.acquired.release();
            continue;
          }
          if (r.kind === 'none') {
            this.settle(w, failure('no_backend'));
            continue;
          }
          if (!r.quotaFull) {
            // Only spike rates are exhausted now: a freed slot would not help this waiter.
            this.settle(w, failure('server_busy', r.retryAfterMs));
            continue;
          }
          break;
        }
      } while (this.pumpAgain && this.queue.length > 0 && !this.closed);
    } catch {
      // attempt() does not throw; never let a pump failure become an unhandled rejection
    } finally {
      this.pumping = false;
    }
  }
}
