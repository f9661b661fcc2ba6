import type { FailureMode, RedisHealth } from './health';

/** What the stores do when Redis does not answer as they load: refuse (`closed`), or start without it (`open`). */
export type StartMode = FailureMode;

/**
 * Whether the lists and API stores started without Redis (`failure.start: 'open'`), and when
 * they have all read the cluster's state since. One log line when a store starts without Redis,
 * one when the last of them has joined, whatever the number of stores.
 */
export class StartGate {
  private readonly waiting = new Set<string>();
  private startedWithout = false;
  private readonly joinedListeners = new Set<() => void>();

  constructor(
    readonly mode: StartMode,
    private readonly opts: { counters: FailureMode; quotas: FailureMode; log(line: string): void; info(line: string): void; onError(err: unknown): void },
  ) {}

  /** True while a store serves its start state, waiting for Redis. */
  get detached(): boolean {
    return this.waiting.size > 0;
  }

  /**
   * A store could not load from Redis: with `closed`, the error to reject with; with `open`, the
   * store goes on from its start state and joins when Redis answers (undefined).
   */
  loadFailed(store: 'lists' | 'apis', cause: unknown): Error | undefined {
    if (this.mode === 'closed') return redisUnreachableAtStart(cause);
    this.waiting.add(store);
    if (!this.startedWithout) {
      this.startedWithout = true;
      this.opts.log(
        `[ase] redis unreachable at start (${describe(cause)}): started without it, lists and API definitions from this instance's start state, counters ${this.opts.counters}, connection slots ${this.opts.quotas}, changes refused; joins the cluster when redis answers`,
      );
    }
    return undefined;
  }

  /**
   * A store's first read of the cluster's state: the state, or `undefined` when Redis does not
   * answer and the start is `open` (the store then serves its start state). Rejects when the
   * start is `closed`, or with an error that is not an outage.
   */
  async read<T>(store: 'lists' | 'apis', health: RedisHealth | undefined, read: () => Promise<T>): Promise<T | undefined> {
    try {
      // Known to be away while a start goes on without it: no need to wait for its retries again.
      if (this.mode === 'open' && health?.status === 'unreachable') throw health.lastError ?? new Error('redis unreachable');
      return await read();
    } catch (err) {
      if (!health?.isOutage(err)) throw err;
      const refused = this.loadFailed(store, health.lastError ?? err);
      if (refused) throw refused;
      return undefined;
    }
  }

  /** The store has read the cluster's state and handed it to its listeners. */
  attached(store: 'lists' | 'apis'): void {
    if (!this.waiting.delete(store) || this.waiting.size > 0) return;
    this.opts.info('[ase] redis answered: joined the cluster, its lists and API definitions replace the start state');
    for (const l of [...this.joinedListeners]) {
      try {
        l();
      } catch (err) {
        this.opts.onError(err);
      }
    }
  }

  /** Called when every store that started without Redis has joined. */
  onJoined(listener: () => void): void {
    this.joinedListeners.add(listener);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.message || e?.code || String(err);
}

/** What a store's `load` rejects with when Redis does not answer and the start is `closed`. */
export function redisUnreachableAtStart(cause: unknown): Error {
  return new Error(`redis unreachable at start (${describe(cause)})`, { cause });
}
