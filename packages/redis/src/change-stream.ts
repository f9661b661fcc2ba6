import { Cluster } from 'ioredis';
import type { KeySpace } from './keys';
import type { RedisClient } from './scripts';

/**
 * Where a reader stands: the last stream id it saw, that change's sequence number, and the epoch of
 * the Redis data it read (a random id set once; a Redis that lost its data has none, or a new one).
 */
export interface StreamPosition {
  id: string;
  seq: number;
  epoch: string | null;
}

export interface ChangeStreamOptions<C> {
  client: RedisClient;
  key: string;
  /** The counter the writing script increments for every change; each entry carries its number. */
  seqKey: string;
  /** Holds the data's epoch (see {@link StreamPosition}). */
  epochKey: string;
  /** This handle's origin: changes it wrote itself are not handed to its listeners. */
  origin: string;
  /** The reader connection's name (CLIENT LIST), so an operator can tell what a blocked client is. */
  name: string;
  parse(json: string): C;
  /**
   * Reads the whole state again and hands it to the listeners as changes, when the stream no longer
   * holds every change since the last one seen (trimmed past it, or Redis lost its data). Returns
   * the position the state is as of.
   */
  resync(emit: (change: C) => void): Promise<StreamPosition>;
  /**
   * Redis lost its data (its epoch changed): writes this handle's state back, so that nothing
   * acknowledged is lost, and makes the other readers read the state again.
   */
  reseed(): Promise<void>;
  /**
   * The handle started without Redis (`failure.start: 'open'`) and has not read the cluster's state
   * yet: called once Redis answers, before the whole state is read and handed to the listeners.
   */
  attach?(): Promise<void>;
  /** The detached handle has read the cluster's state (see `detached`). */
  onAttached?(): void;
  onResync(): void;
  onError(err: unknown): void;
  /** How long one XREAD waits before it is sent again. */
  blockMs?: number;
}

/**
 * The reader side of a store's change stream: XREAD BLOCK on its own connection (a blocked
 * connection can carry nothing else), from the last id seen. ioredis sends a read that was in
 * flight again after a reconnect, so changes made meanwhile are replayed from that id. Every
 * change carries a sequence number: a jump means changes were trimmed before this reader saw them
 * (or another handle re-seeded Redis), and the reader resyncs. A changed epoch means Redis lost its
 * data: the reader first writes its own state back (re-seeds), then resyncs, so several handles
 * re-seeding one emptied Redis end with the union of what they held.
 */
export class ChangeStream<C> {
  position: StreamPosition = { id: '0-0', seq: 0, epoch: null };
  /**
   * True while the handle serves a state that did not come from Redis (it was unreachable at
   * start): its position means nothing, so the reader neither re-seeds nor trusts the stream, it
   * reads the whole state once Redis answers (Redis wins).
   */
  detached = false;
  private readonly listeners = new Set<(change: C) => void>();
  private reader: RedisClient | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private reconnected = false;
  /** Rejects when the reader stops: a read pending on a connection between reconnects is never failed by ioredis. */
  private stopped: Promise<never> = new Promise<never>(() => {});
  private stopReader: ((err: Error) => void) | undefined;

  constructor(private readonly opts: ChangeStreamOptions<C>) {}

  subscribe(listener: (change: C) => void): () => void {
    this.listeners.add(listener);
    if (!this.running) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stop();
    };
  }

  private start(): void {
    this.running = true;
    const readerOptions = { maxRetriesPerRequest: 1, connectionName: this.opts.name };
    const client = this.opts.client;
    this.reader = client instanceof Cluster ? client.duplicate(undefined, { redisOptions: readerOptions }) : client.duplicate(readerOptions);
    this.reader.on('error', () => {
      // Connection errors surface as rejected reads in the loop; the event only needs a listener.
    });
    // ioredis sends a blocked read again after a reconnect without failing it, so a restarted
    // (emptied) Redis would go unnoticed until a change arrives: look again after each reconnect.
    let connects = 0;
    this.reader.on('ready', () => {
      if (connects++ > 0) this.reconnected = true;
    });
    this.stopped = new Promise<never>((_, reject) => (this.stopReader = reject));
    this.stopped.catch(() => undefined);
    this.loop = this.run(this.reader);
  }

  private pending<T>(command: Promise<T>): Promise<T> {
    return Promise.race([command, this.stopped]);
  }

  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    if (this.retry) clearTimeout(this.retry);
    this.wake?.();
    this.stopReader?.(new Error('reader stopped'));
    // Rejects the blocked read at once ("Connection is closed"), which ends the loop.
    this.reader?.disconnect();
    await this.loop;
    this.reader = undefined;
    this.loop = undefined;
  }

  /** Ends the wait before the next attempt after an error (Redis answers again). */
  retryNow(): void {
    this.wake?.();
  }

  private emit(change: C): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.opts.onError(err);
      }
    }
  }

  private async resync(): Promise<void> {
    this.position = await this.opts.resync((c) => this.emit(c));
    this.opts.onResync();
  }

  /**
   * True when the changes after this reader's position are not all in the stream: the counter is
   * behind it (Redis lost its data), or the next change was trimmed. Asked when the reader starts
   * and after errors, when no new change may come along to reveal the gap.
   */
  private async missedChanges(reader: RedisClient): Promise<'none' | 'gap' | 'lost'> {
    const [epoch, rawSeq] = await this.pending(reader.mget(this.opts.epochKey, this.opts.seqKey));
    if (epoch !== this.position.epoch) return 'lost';
    const seq = Number(rawSeq ?? 0);
    if (seq <= this.position.seq) return seq < this.position.seq ? 'gap' : 'none';
    const next = (await this.pending(reader.xrange(this.opts.key, `(${this.position.id}`, '+', 'COUNT', 1))) as [string, string[]][];
    return next[0] === undefined || Number(field(next[0][1], 'n')) !== this.position.seq + 1 ? 'gap' : 'none';
  }

  private async run(reader: RedisClient): Promise<void> {
    let check = true;
    let backoff = 50;
    while (this.running) {
      try {
        if (this.detached) {
          await this.pending(this.opts.attach?.() ?? Promise.resolve());
          await this.pending(this.resync());
          this.detached = false;
          check = false;
          this.opts.onAttached?.();
        }
        if (check || this.reconnected) {
          this.reconnected = false;
          const missed = await this.missedChanges(reader);
          if (missed === 'lost') await this.pending(this.opts.reseed());
          if (missed !== 'none') await this.pending(this.resync());
          check = false;
        }
        const res = (await this.pending(reader.xread('COUNT', 500, 'BLOCK', this.opts.blockMs ?? 1000, 'STREAMS', this.opts.key, this.position.id))) as [string, [string, string[]][]][] | null;
        backoff = 50;
        if (!res || !this.running) continue;
        for (const [id, fields] of res[0]?.[1] ?? []) {
          const seq = Number(field(fields, 'n'));
          if (seq !== this.position.seq + 1) {
            // Trimmed, re-seeded, or Redis restarted empty: the epoch tells which.
            check = true;
            break;
          }
          this.position = { id, seq, epoch: this.position.epoch };
          const json = field(fields, 'c');
          if (field(fields, 'o') === this.opts.origin || json === undefined) continue;
          let change: C;
          try {
            change = this.opts.parse(json);
          } catch (err) {
            this.opts.onError(err);
            continue;
          }
          this.emit(change);
        }
      } catch (err) {
        if (!this.running) break;
        this.opts.onError(err);
        check = true;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.retry = setTimeout(resolve, backoff);
          this.retry.unref();
        });
        this.wake = undefined;
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The newest id of a stream from an XREVRANGE … COUNT 1 reply ('0-0' when it is empty). */
export function newestId(reply: unknown): string {
  const first = Array.isArray(reply) ? (reply[0] as unknown[] | undefined) : undefined;
  return typeof first?.[0] === 'string' ? first[0] : '0-0';
}

/** The change stream of one kind of shared state, its keys under `<kind>:`, read with a store's handlers. */
export function stateStream<C>(
  client: RedisClient,
  keys: KeySpace,
  kind: 'lists' | 'apis',
  opts: { origin: string; readerName: string; onResync(): void; onError(err: unknown): void; onAttached?(): void },
  handlers: Pick<ChangeStreamOptions<C>, 'parse' | 'resync' | 'reseed' | 'attach'>,
): ChangeStream<C> {
  return new ChangeStream<C>({
    client,
    key: keys.key(kind, 'changes'),
    seqKey: keys.key(kind, 'seq'),
    epochKey: keys.key(kind, 'epoch'),
    origin: opts.origin,
    name: opts.readerName,
    onResync: opts.onResync,
    onError: opts.onError,
    ...(opts.onAttached ? { onAttached: opts.onAttached } : {}),
    ...handlers,
  });
}
