import { Cluster } from 'ioredis';
import { type Honeytoken, type HoneytokenStore, type HoneytokenTable, HONEYTOKENS_MAX, honeytokenOf } from '@ase/core';
import type { KeySpace } from './keys';
import { script, type RedisClient, type Script } from './scripts';

// A token once (HSETNX), its age in the sorted set, the oldest beyond the bound forgotten, and the
// other nodes told. KEYS: hash, order; ARGV: value, json, plantedAt, max, channel, message.
const RECORD = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`;

/**
 * The cluster's honeytokens: `honeytokens` (value → token JSON) and `honeytokens:order` (values by
 * when they were planted, for the bound), both in the cluster's slot. A planted token is
 * published on the cluster's `honeytokens` channel, so every node remembers it at once: a token a
 * decoy of node A planted is caught on node B. A node that lost its subscription (Redis away) reads
 * the whole set again when it is back, so nothing planted meanwhile is missed.
 */
export class RedisHoneytokenStore implements HoneytokenStore {
  readonly shared = true;
  private readonly recordScript: Script;
  private readonly hash: string;
  private readonly order: string;
  private readonly channel: string;
  private readonly listeners = new Set<(t: Honeytoken) => void>();
  private subscriber: RedisClient | undefined;
  private table: HoneytokenTable | undefined;
  /** The load failed (Redis unreachable at start): the subscriber reads everything once it connects. */
  private unread = false;
  /** The subscription, confirmed: `load` waits for it. */
  private subscribed: Promise<unknown> | undefined;
  /** Tokens heard before anyone listened (between `load` and `subscribe`), handed to the first listener. */
  private early: Honeytoken[] = [];

  constructor(
    private readonly client: RedisClient,
    keys: KeySpace,
    /** `max`: the bound kept in Redis; by default the bound of the table loaded (the enforcer's `honeytokens_max`). */
    private readonly opts: { origin: string; onError(err: unknown): void; max?: number },
  ) {
    this.recordScript = script(client, 'aseHoneytokenRecord1', 2, RECORD);
    this.hash = keys.key('honeytokens');
    this.order = keys.key('honeytokens', 'order');
    this.channel = keys.key('honeytokens', 'planted');
  }

  async load(table: HoneytokenTable): Promise<string[]> {
    this.table = table;
    try {
      // Subscribed before the read: a token planted while this node starts is in the read or in a
      // message, never in neither (a node that says it is ready must catch it).
      if (!this.subscriber) this.start();
      await this.subscribed;
      return await this.readAll(table);
    } catch (err) {
      this.unread = true;
      throw err;
    }
  }

  record(token: Honeytoken): void {
    const json = JSON.stringify(token);
    const message = JSON.stringify({ o: this.opts.origin, t: token });
    this.recordScript([this.hash, this.order], [token.value, json, token.plantedAt, this.opts.max ?? this.table?.max ?? HONEYTOKENS_MAX, this.channel, message]).catch((err: unknown) => this.opts.onError(err));
  }

  subscribe(listener: (t: Honeytoken) => void): () => void {
    this.listeners.add(listener);
    if (!this.subscriber) this.start();
    for (const t of this.early.splice(0)) listener(t);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.early = [];
    this.stop();
  }

  private start(): void {
    const options = { maxRetriesPerRequest: 1, connectionName: `${this.channel}:subscriber` };
    const sub = (this.subscriber = this.client instanceof Cluster ? this.client.duplicate(undefined, { redisOptions: options }) : this.client.duplicate(options));
    sub.on('error', () => {
      // A lost connection reconnects by itself; the read after 'ready' catches up.
    });
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    let connects = 0;
    sub.on('ready', () => {
      // Tokens planted while this node was not subscribed are only in the hash.
      if ((connects++ > 0 || this.unread) && this.table) {
        this.readAll(this.table).then(
          () => void (this.unread = false),
          (err: unknown) => this.opts.onError(err),
        );
      }
    });
    this.subscribed = sub.subscribe(this.channel);
    this.subscribed.catch((err: unknown) => this.opts.onError(err));
  }

  private stop(): void {
    const sub = this.subscriber;
    this.subscriber = undefined;
    sub?.disconnect();
  }

  private receive(message: string): void {
    let parsed: { o?: unknown; t?: unknown };
    try {
      parsed = JSON.parse(message) as { o?: unknown; t?: unknown };
    } catch {
      return;
    }
    if (parsed.o === this.opts.origin) return;
    const t = honeytokenOf(parsed.t);
    if (!t) return;
    if (this.listeners.size === 0) {
      if (this.early.length < (this.table?.max ?? HONEYTOKENS_MAX)) this.early.push(t);
      return;
    }
    for (const l of this.listeners) l(t);
  }

  private async readAll(table: HoneytokenTable): Promise<string[]> {
    const [all, order] = await Promise.all([this.client.hgetall(this.hash), this.client.zrange(this.order, '0', '-1')]);
    let skipped = 0;
    for (const value of order) {
      const json = all[value];
      let t: Honeytoken | undefined;
      try {
        t = json === undefined ? undefined : honeytokenOf(JSON.parse(json));
      } catch {
        t = undefined;
      }
      if (t) table.add(t);
      else skipped++;
    }
    return skipped > 0 ? [`${skipped} stored honeytoken(s) in Redis were not readable and were skipped`] : [];
  }
}
