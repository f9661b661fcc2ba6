import type { StoredEntry } from '@ase/core';
import { ChangeStream, newestId, type StreamPosition } from './change-stream';
import type { KeySpace } from './keys';
import { script, type RedisClient, type Script } from './scripts';
import type { ListChange, ListName, ListReplica, ListStore } from '@ase/core';

const LISTS: readonly ListName[] = ['blacklist', 'whitelist'];

// The hash change and its stream entry in one script: a reader can never see one without the other.
const APPLY = `
local op = ARGV[1]
if op == 'add' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
elseif op == 'remove' then
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

/** The field of an entry in its list's hash: the core's lookup key (type, name, value). */
export function entryField(e: StoredEntry): string {
  return `${e.type}\u0000${e.name ?? ''}\u0000${e.value}`;
}

function storedEntry(e: StoredEntry): StoredEntry {
  return { type: e.type, value: e.value, ...(e.name === undefined ? {} : { name: e.name }), ...(e.digest ? { digest: true as const } : {}), tag: e.tag };
}

function parseChange(json: string): ListChange {
  const c = JSON.parse(json) as ListChange;
  if (!c || !LISTS.includes(c.list) || !['add', 'remove', 'clear'].includes(c.op)) throw new TypeError(`not a list change: ${json.slice(0, 80)}`);
  return c;
}

/**
 * The deny and allow lists in two hashes (field: the entry's lookup key; value: the entry as JSON),
 * every change also appended to one stream that the other handles read.
 */
export class RedisListStore implements ListStore {
  readonly shared = true;
  private readonly applyScript: Script;
  private readonly stream: ChangeStream<ListChange>;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: { origin: string; readerName: string; streamMaxLen: number; onResync(): void; onError(err: unknown): void },
  ) {
    this.applyScript = script(client, 'aseListApply1', 3, APPLY);
    this.stream = new ChangeStream<ListChange>({
      client,
      key: this.streamKey,
      seqKey: this.seqKey,
      origin: opts.origin,
      name: opts.readerName,
      parse: parseChange,
      resync: (emit) => this.resync(emit),
      onResync: opts.onResync,
      onError: opts.onError,
    });
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
    const res = await this.client.multi().xrevrange(this.streamKey, '+', '-', 'COUNT', 1).hgetall(this.hashKey('blacklist')).hgetall(this.hashKey('whitelist')).get(this.seqKey).exec();
    if (!res) throw new Error('the Redis transaction reading the lists was aborted');
    for (const [err] of res) if (err) throw err;
    return { position: { id: newestId(res[0]![1]), seq: Number(res[3]![1] ?? 0) }, lists: { blacklist: res[1]![1] as Record<string, string>, whitelist: res[2]![1] as Record<string, string> } };
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
    const { position, lists } = await this.read();
    const warnings: string[] = [];
    for (const list of LISTS) {
      for (const e of RedisListStore.entries(lists[list], warnings, list)) {
        try {
          replica[list].add(e, e.tag, { restore: true });
        } catch (err) {
          warnings.push(`${list}: skipped ${e.type} entry: ${(err as Error).message}`);
        }
      }
    }
    this.stream.position = position;
    return warnings;
  }

  /** The whole state as changes: each list cleared, then every entry added. */
  private async resync(emit: (change: ListChange) => void): Promise<StreamPosition> {
    const { position, lists } = await this.read();
    const warnings: string[] = [];
    for (const list of LISTS) {
      const entries = RedisListStore.entries(lists[list], warnings, list);
      emit({ list, op: 'clear' });
      for (const entry of entries) emit({ list, op: 'add', entry });
    }
    for (const w of warnings) this.opts.onError(new Error(w));
    return position;
  }

  async apply(change: ListChange): Promise<void> {
    const field = change.op === 'clear' ? '' : entryField(change.entry);
    const value = change.op === 'add' ? JSON.stringify(storedEntry(change.entry)) : '';
    const tags = change.op === 'clear' ? (change.tags ?? []) : [];
    // An empty tag list clears nothing; the script reads "no tags" as "everything".
    if (change.op === 'clear' && change.tags && change.tags.length === 0) return;
    await this.applyScript([this.hashKey(change.list), this.streamKey, this.seqKey], [change.op, field, value, this.opts.streamMaxLen, this.opts.origin, JSON.stringify(change), ...tags]);
  }

  subscribe(listener: (change: ListChange) => void): () => void {
    return this.stream.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.stream.stop();
  }
}
