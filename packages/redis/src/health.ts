import type { RedisClient } from './scripts';

export type RedisStatus = 'connected' | 'unreachable';

/** What the stores do with counters and connection slots while Redis is unreachable. */
export type FailureMode = 'open' | 'closed';

// ioredis's words for a command that could not reach the server (as opposed to one Redis refused).
const OUTAGE = /Connection is closed|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Stream isn't writeable|connect ETIMEDOUT|Reached the max retries/i;

/**
 * Whether Redis answers, from the connection's own events: one log line and one call of the
 * listeners per transition, however many commands fail meanwhile.
 */
export class RedisHealth {
  status: RedisStatus = 'connected';
  /** Transitions to `unreachable` so far (`ase_store_unreachable_total`). */
  outages = 0;
  private readonly listeners = new Set<(status: RedisStatus) => void>();
  private closed = false;
  /** The connection's last error: what a refused start names as its cause. */
  lastError: unknown;
  /** Until the connection has been ready once, a start that goes on without Redis says so itself. */
  private everReady = false;
  private readonly off: () => void;

  constructor(
    client: RedisClient,
    private readonly opts: { counters: FailureMode; log(line: string): void; onError(err: unknown): void; quietUntilReady?: boolean },
  ) {
    const lost = (err: unknown): void => {
      this.lastError = err;
      this.lost(err);
    };
    const closed = (): void => this.lost(new Error('connection closed'));
    const ready = (): void => {
      this.back();
      this.everReady = true;
    };
    client.on('error', lost);
    client.on('close', closed);
    client.on('ready', ready);
    this.off = () => {
      client.off('error', lost);
      client.off('close', closed);
      client.off('ready', ready);
    };
  }

  /** True when `err` says the server could not be reached (or it is known to be unreachable). */
  isOutage(err: unknown): boolean {
    if (this.status === 'unreachable') return true;
    if (!OUTAGE.test(err instanceof Error ? `${err.name} ${err.message}` : String(err))) return false;
    this.lost(err);
    return true;
  }

  lost(err: unknown): void {
    if (this.closed || this.status === 'unreachable') return;
    this.status = 'unreachable';
    this.outages++;
    if (this.quiet) return this.emit();
    const why = err instanceof Error ? err.message : String(err);
    this.opts.log(`[ase] redis unreachable (${why}): lists from the local replica, counters ${this.opts.counters}`);
    this.emit();
  }

  back(): void {
    if (this.closed || this.status === 'connected') return;
    this.status = 'connected';
    if (!this.quiet) this.opts.log('[ase] redis back: shared state again');
    this.emit();
  }

  private get quiet(): boolean {
    return this.opts.quietUntilReady === true && !this.everReady;
  }

  onChange(listener: (status: RedisStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const l of [...this.listeners]) {
      try {
        l(this.status);
      } catch (err) {
        this.opts.onError(err);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.off();
    this.listeners.clear();
  }
}
