import { randomUUID } from 'node:crypto';
import { ASE_DETECTED_TAGS, canonicalEntry, metaOf, storeUnavailable, type StoredEntry } from '@ase/core';
import { ChangeStream, stateStream, newestId, type StreamPosition } from './change-stream';
import type { RedisHealth } from './health';
import type { StartGate } from './start-gate';
import type { KeySpace } from './keys';
import { RESEED_BATCH, RESEED_DONE, RESEED_FIELDS, script, type RedisClient, type Script } from './scripts';
import type { ListChange, ListHits, ListName, ListReplica, ListStore } from '@ase/core';

const LISTS: readonly ListName[] = ['blacklist', 'whitelist'];

// The hash change and its stream entry in one script: a reader can never see one without the other.
// An expiry (ARGV[7] on a remove: the deadline) removes the entry only while it still has that
// deadline: every node sweeps, the first one removes it, and an entry added again since stays.
const APPLY = `
local op = ARGV[1]
if op == 'add' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
elseif op == 'remove' then
  if ARGV[7] then
    local cur = redis.call('HGET', KEYS[1], ARGV[2])
    if not cur then return 0 end
    local ok, e = pcall(cjson.decode, cur)
    if ok and e.expiresAt ~= tonumber(ARGV[7]) then return 0 end
  end
  redis.call('HDEL', KEYS[1], ARGV[2])
elseif #ARGV < 7 then
  redis.call('DEL', KEYS[1])
else
  local tags = {}
  for i = 7, #ARGV do tags[ARGV[i]] = true end
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local ok, e = pcall(cjson.decode, all[i + 1])
    if not ok or tags[e.tag] then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
local n = redis.call('INCR', KEYS[3])
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'o', ARGV[5], 'n', n, 'c', ARGV[6])
`;

// Hits counted by one node since its last batch, added to the entries' stored counts; answers each
// entry's total and last hit (-1 when the entry is no longer stored). No stream entry: the other
// nodes take the totals with their own next batch.
const ADD_HITS = `
local out = {}
for i = 1, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local ok, e = false, nil
  if cur then ok, e = pcall(cjson.decode, cur) end
  if ok and type(e) == 'table' then
    e.hits = (tonumber(e.hits) or 0) + tonumber(ARGV[i + 1])
    local last = tonumber(ARGV[i + 2])
    if last > (tonumber(e.lastHit) or 0) then e.lastHit = last end
    redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(e))
    out[#out + 1] = tostring(e.hits)
    out[#out + 1] = tostring(e.lastHit)
  else
    out[#out + 1] = '-1'
    out[#out + 1] = '0'
  end
end
return out
`;

/** The field of an entry in its list's hash: the core's lookup key (type, name, value). */
export function entryField(e: StoredEntry): string {
  return `${e.type}\u0000${e.name ?? ''}\u0000${e.value}`;
}

/** An entry as Redis keeps it: identifier, tag, expiry and history (whatever else it carried is dropped). */
function storedEntry(e: StoredEntry): StoredEntry {
  return { type: e.type, value: e.value, ...(e.name === undefined ? {} : { name: e.name }), ...(e.digest ? { digest: true as const } : {}), tag: e.tag, ...metaOf(e) };
}

function parseChange(json: string): ListChange {
  const c = JSON.parse(json) as ListChange;
  if (!c || !LISTS.includes(c.list) || !['add', 'remove', 'clear'].includes(c.op)) throw new TypeError(`not a list change: ${json.slice(0, 80)}`);
  return c;
}

/**
 * How many detections wait for Redis at most, and how many detection writes are under way at most
 * while it answers slowly; the oldest waiting are dropped beyond.
 */
export const DETECTION_QUEUE_MAX = 10_000;

/** An automatic deny entry (or its expiry): applied locally at once, so it may wait for Redis. */
function isDetection(change: ListChange): boolean {
  return change.op !== 'clear' && ASE_DETECTED_TAGS.has(change.entry.tag);
}

export interface RedisListStoreOptions {
  origin: string;
  readerName: string;
  streamMaxLen: number;
  onResync(): void;
  onError(err: unknown): void;
  /** Whether Redis answers; without it every failure is the caller's. */
  health?: RedisHealth;
  log?(line: string): void;
  /** Whether a start without Redis goes on (see `redisStores`' `failure.start`); without it, `load` rejects. */
  start?: StartGate;
  /** The lists served when the start goes on without Redis (default none). */
  startState?(replica: ListReplica): string[];
}

/**
 * The deny and allow lists in two hashes (field: the entry's lookup key; value: the entry as JSON),
 * every change also appended to one stream that the other handles read. While Redis is
 * unreachable, manual changes are refused (ERR_ASE_STORE_UNAVAILABLE) and detections are queued
 * (at most {@link DETECTION_QUEUE_MAX}) and written once it is back.
 */
export class RedisListStore implements ListStore {
  readonly shared = true;
  private readonly applyScript: Script;
  private readonly hitsScript: Script;
  private readonly reseedScript: Script;
  private readonly reseedDoneScript: Script;
  private readonly stream: ChangeStream<ListChange>;
  /** The replica given to `load`: written back when Redis lost its data. */
  private replica: ListReplica | undefined;
  private readonly queued: ListChange[] = [];
  /** Detection writes sent and not yet answered. */
  private writing = 0;
  private flushing = false;
  private droppedWarned = false;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: RedisListStoreOptions,
  ) {
    this.applyScript = script(client, 'aseListApply2', 3, APPLY);
    this.hitsScript = script(client, 'aseListHits1', 1, ADD_HITS);
    this.reseedScript = script(client, 'aseReseedFields1', undefined, RESEED_FIELDS);
    this.reseedDoneScript = script(client, 'aseReseedDone1', 3, RESEED_DONE);
    opts.health?.onChange((status) => {
      if (status !== 'connected') return;
      // A handle that started without Redis reads the cluster's state now, not after its backoff.
      if (this.stream.detached) this.stream.retryNow();
      void this.flush();
    });
    const onAttached = (): void => {
      opts.start?.attached('lists');
      void this.flush();
    };
    this.stream = stateStream<ListChange>(client, keys, 'lists', { ...opts, onAttached }, { parse: parseChange, resync: (emit) => this.resync(emit), reseed: () => this.reseed() });
  }

  get streamKey(): string {
    return this.keys.key('lists', 'changes');
  }

  private get seqKey(): string {
    return this.keys.key('lists', 'seq');
  }

  hashKey(list: ListName): string {
    return this.keys.key('lists', list);
  }

  /** Both hashes and the stream id they are as of, read in one transaction. */
  private async read(): Promise<{ position: StreamPosition; lists: Record<ListName, Record<string, string>> }> {
    const epochKey = this.keys.key('lists', 'epoch');
    await this.client.set(epochKey, randomUUID(), 'NX');
    const res = await this.client.multi().xrevrange(this.streamKey, '+', '-', 'COUNT', 1).hgetall(this.hashKey('blacklist')).hgetall(this.hashKey('whitelist')).get(this.seqKey).get(epochKey).exec();
    if (!res) throw new Error('the Redis transaction reading the lists was aborted');
    for (const [err] of res) if (err) throw err;
    return { position: { id: newestId(res[0]![1]), seq: Number(res[3]![1] ?? 0), epoch: res[4]![1] as string | null }, lists: { blacklist: res[1]![1] as Record<string, string>, whitelist: res[2]![1] as Record<string, string> } };
  }

  private static entries(hash: Record<string, string>, warnings: string[], list: ListName): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (const json of Object.values(hash)) {
      try {
        out.push(storedEntry(JSON.parse(json) as StoredEntry));
      } catch {
        warnings.push(`${list}: skipped an entry that is not JSON`);
      }
    }
    return out;
  }

  async load(replica: ListReplica): Promise<string[]> {
    const state = this.opts.start ? await this.opts.start.read('lists', this.opts.health, () => this.read()) : await this.read();
    if (state === undefined) {
      this.replica = replica;
      this.stream.detached = true;
      return this.opts.startState?.(replica) ?? [];
    }
    const { position, lists } = state;
    const warnings: string[] = [];
    const now = Date.now();
    for (const list of LISTS) {
      for (const e of RedisListStore.entries(lists[list], warnings, list)) {
        try {
          // Expired while no node ran: not loaded, and removed from Redis in the background.
          if (e.expiresAt !== undefined && e.expiresAt <= now) this.record({ list, op: 'remove', entry: e, expired: true });
          else replica[list].add(canonicalEntry(e), e.tag, { restore: true, meta: metaOf(e) });
        } catch (err) {
          warnings.push(`${list}: skipped ${e.type} entry: ${(err as Error).message}`);
        }
      }
    }
    this.stream.position = position;
    this.replica = replica;
    return warnings;
  }

  /** Writes every entry of the replica back (Redis lost its data), then makes every reader resync. */
  private async reseed(): Promise<void> {
    const args: (string | number)[] = [];
    const keys = LISTS.map((l) => this.hashKey(l));
    const send = async (): Promise<void> => {
      if (args.length > 0) await this.reseedScript(keys, args.splice(0));
    };
    for (const [i, list] of LISTS.entries()) {
      for (const e of this.replica?.[list].list('all', true) ?? []) {
        args.push(i + 1, entryField(e), JSON.stringify(storedEntry(e)));
        if (args.length >= RESEED_BATCH * 3) await send();
      }
    }
    await send();
    await this.reseedDoneScript([this.keys.key('lists', 'epoch'), this.seqKey, this.streamKey], [randomUUID(), this.opts.streamMaxLen, this.opts.origin]);
  }

  /**
   * The whole state as changes: each list cleared, then every entry added, then the detections that
   * still wait to be written (they are this instance's, and Redis will have them once written).
   */
  private async resync(emit: (change: ListChange) => void): Promise<StreamPosition> {
    const { position, lists } = await this.read();
    const warnings: string[] = [];
    for (const list of LISTS) {
      const entries = RedisListStore.entries(lists[list], warnings, list);
      emit({ list, op: 'clear' });
      for (const entry of entries) emit({ list, op: 'add', entry });
    }
    for (const change of this.queued) emit(change);
    for (const w of warnings) this.opts.onError(new Error(w));
    return position;
  }

  async apply(change: ListChange): Promise<void> {
    const health = this.opts.health;
    // Started without Redis: a change written now would be lost in the state read when it answers.
    if (health?.status === 'unreachable' || this.stream.detached) return this.refuseOrQueue(change);
    try {
      await this.write(change);
    } catch (err) {
      if (!health?.isOutage(err)) throw err;
      return this.refuseOrQueue(change, err);
    }
  }

  /**
   * A detection, written in the background. A Redis that answers slowly would otherwise gather one
   * write and its Promise per detection: at most DETECTION_QUEUE_MAX are under way, later ones wait
   * in the queue (bounded the same way) and go, in order, once those have answered.
   */
  record(change: ListChange): void {
    if (this.writing >= DETECTION_QUEUE_MAX || this.queued.length > 0) {
      this.enqueue(change);
      return;
    }
    this.writing++;
    this.apply(change)
      .catch((err: unknown) => this.opts.onError(err))
      .finally(() => {
        if (--this.writing === 0 && this.queued.length > 0 && this.opts.health?.status !== 'unreachable') void this.flush();
      });
  }

  private refuseOrQueue(change: ListChange, cause?: unknown): void {
    if (!isDetection(change)) throw storeUnavailable('the deny and allow lists cannot be changed now', cause);
    this.enqueue(change);
  }

  private enqueue(change: ListChange): void {
    this.queued.push(change);
    if (this.queued.length > DETECTION_QUEUE_MAX) {
      this.queued.shift();
      if (!this.droppedWarned) this.opts.log?.(`[ase] more than ${DETECTION_QUEUE_MAX} detections wait for redis: the oldest are dropped (they stay in this instance's lists)`);
      this.droppedWarned = true;
    }
  }

  /** Writes the detections queued while Redis was unreachable, oldest first. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queued.length > 0 && this.opts.health?.status !== 'unreachable' && !this.stream.detached) {
        try {
          await this.write(this.queued[0]!);
          this.queued.shift();
        } catch (err) {
          if (this.opts.health?.isOutage(err)) break;
          this.queued.shift();
          this.opts.onError(err);
        }
      }
      if (this.queued.length === 0) this.droppedWarned = false;
    } finally {
      this.flushing = false;
    }
  }

  /** How many detections wait for Redis. */
  get pending(): number {
    return this.queued.length;
  }

  /** How many detection writes are under way. */
  get inFlight(): number {
    return this.writing;
  }

  private async write(change: ListChange): Promise<void> {
    const field = change.op === 'clear' ? '' : entryField(change.entry);
    const value = change.op === 'add' ? JSON.stringify(storedEntry(change.entry)) : '';
    const tags = change.op === 'clear' ? (change.tags ?? []) : [];
    // An empty tag list clears nothing; the script reads "no tags" as "everything".
    if (change.op === 'clear' && change.tags && change.tags.length === 0) return;
    const deadline = change.op === 'remove' && change.expired && change.entry.expiresAt !== undefined ? [change.entry.expiresAt] : [];
    await this.applyScript([this.hashKey(change.list), this.streamKey, this.seqKey], [change.op, field, value, this.opts.streamMaxLen, this.opts.origin, JSON.stringify(change), ...tags, ...deadline]);
  }

  /** Every entry's stored hits (entries never hit are left out): one HGETALL, for a list page. */
  async hitTotals(list: ListName): Promise<ListHits[]> {
    if (this.opts.health?.status === 'unreachable') return [];
    const out: ListHits[] = [];
    for (const e of RedisListStore.entries(await this.client.hgetall(this.hashKey(list)), [], list)) {
      if (e.hits) out.push({ entry: e, hits: e.hits, lastHit: e.lastHit ?? 0 });
    }
    return out;
  }

  /** One batch of hits (every LIST_SWEEP_MS at most, per node): one script call per list. */
  async addHits(list: ListName, hits: readonly ListHits[]): Promise<ListHits[]> {
    if (hits.length === 0 || this.opts.health?.status === 'unreachable') return [];
    const args: (string | number)[] = [];
    for (const h of hits) args.push(entryField(h.entry), h.hits, h.lastHit);
    const res = (await this.hitsScript([this.hashKey(list)], args)) as string[];
    const out: ListHits[] = [];
    hits.forEach((h, i) => {
      const total = Number(res[2 * i]);
      if (total >= 0) out.push({ entry: h.entry, hits: total, lastHit: Number(res[2 * i + 1]) });
    });
    return out;
  }

  subscribe(listener: (change: ListChange) => void): () => void {
    return this.stream.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.stream.stop();
  }
}
