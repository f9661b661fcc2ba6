import { randomUUID } from 'node:crypto';
import { storeUnavailable, type ApiJson } from '@ase/core';
import { ChangeStream, stateStream, newestId, type StreamPosition } from './change-stream';
import type { RedisHealth } from './health';
import type { StartGate } from './start-gate';
import type { KeySpace } from './keys';
import { RESEED_BATCH, RESEED_DONE, RESEED_FIELDS, script, type RedisClient, type Script } from './scripts';
import type { ApiChange, ApiStore, LoadedApis, RuntimeSwitches } from '@ase/core';

// The definition (or switches) and its stream entry in one script, as for the lists.
const APPLY = `
local op = ARGV[1]
if op == 'put' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
elseif op == 'delete' then
  redis.call('HDEL', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[2], ARGV[3])
end
local n = redis.call('INCR', KEYS[4])
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'o', ARGV[5], 'n', n, 'c', ARGV[6])
`;

function parseChange(json: string): ApiChange {
  const c = JSON.parse(json) as ApiChange;
  if (!c || !['put', 'delete', 'switches'].includes(c.op)) throw new TypeError(`not an API change: ${json.slice(0, 80)}`);
  return c;
}

/**
 * API definitions in one hash (field: the API id), the run-time switches in one key, changes in a
 * stream. While Redis is unreachable every change is refused (ERR_ASE_STORE_UNAVAILABLE).
 */
export class RedisApiStore implements ApiStore {
  readonly shared = true;
  private readonly applyScript: Script;
  private readonly reseedScript: Script;
  private readonly reseedDoneScript: Script;
  private readonly stream: ChangeStream<ApiChange>;
  /**
   * The definitions the listeners know of, so that a resync can tell them which ones are gone, and
   * a Redis that lost its data can be given them back.
   */
  private readonly known = new Map<string, ApiJson>();
  private switches: RuntimeSwitches | undefined;
  /** The start state's definitions, while started without Redis: the cluster's first ones if it has none. */
  private seeds: Map<string, ApiJson> | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: {
      origin: string;
      readerName: string;
      streamMaxLen: number;
      onResync(): void;
      onError(err: unknown): void;
      health?: RedisHealth;
      /** Whether a start without Redis goes on (see `redisStores`' `failure.start`); without it, `load` rejects. */
      start?: StartGate;
      /** The definitions served when the start goes on without Redis (default none); seeded into a cluster that has none. */
      startState?(): LoadedApis;
    },
  ) {
    this.applyScript = script(client, 'aseApiApply1', 4, APPLY);
    this.reseedScript = script(client, 'aseReseedFields1', undefined, RESEED_FIELDS);
    this.reseedDoneScript = script(client, 'aseReseedDone1', 3, RESEED_DONE);
    const onAttached = (): void => opts.start?.attached('apis');
    // A handle that started without Redis reads the cluster's state as soon as it answers, not after its backoff.
    opts.health?.onChange((status) => {
      if (status === 'connected' && this.stream.detached) this.stream.retryNow();
    });
    this.stream = stateStream<ApiChange>(client, keys, 'apis', { ...opts, onAttached }, { parse: parseChange, resync: (emit) => this.resync(emit), reseed: () => this.reseed(), attach: () => this.seedEmptyCluster() });
  }

  get streamKey(): string {
    return this.keys.key('apis', 'changes');
  }

  private get hashKey(): string {
    return this.keys.key('apis');
  }

  private get seqKey(): string {
    return this.keys.key('apis', 'seq');
  }

  private get switchesKey(): string {
    return this.keys.key('switches');
  }

  private get epochKey(): string {
    return this.keys.key('apis', 'epoch');
  }

  private async read(): Promise<Omit<LoadedApis, 'switches'> & { switches: RuntimeSwitches | undefined; position: StreamPosition }> {
    await this.client.set(this.epochKey, randomUUID(), 'NX');
    const res = await this.client.multi().xrevrange(this.streamKey, '+', '-', 'COUNT', 1).hgetall(this.hashKey).get(this.switchesKey).get(this.seqKey).get(this.epochKey).exec();
    if (!res) throw new Error('the Redis transaction reading the API definitions was aborted');
    for (const [err] of res) if (err) throw err;
    const warnings: string[] = [];
    const apis = new Map<string, ApiJson>();
    for (const [id, json] of Object.entries(res[1]![1] as Record<string, string>)) {
      try {
        apis.set(id, JSON.parse(json) as ApiJson);
      } catch {
        warnings.push(`api ${id}: skipped a definition that is not JSON`);
      }
    }
    let switches: RuntimeSwitches = {};
    const raw = res[2]![1] as string | null;
    if (raw !== null) {
      try {
        switches = JSON.parse(raw) as RuntimeSwitches;
      } catch {
        warnings.push('switches: ignored a value that is not JSON');
      }
    }
    return { position: { id: newestId(res[0]![1]), seq: Number(res[3]![1] ?? 0), epoch: res[4]![1] as string | null }, apis, switches: raw === null ? undefined : switches, warnings };
  }

  private remember(apis: Map<string, ApiJson>, switches: RuntimeSwitches | undefined): void {
    this.known.clear();
    for (const [k, json] of apis) this.known.set(k, json);
    this.switches = switches;
  }

  private track(change: ApiChange): void {
    if (change.op === 'put') this.known.set(change.id, change.json);
    else if (change.op === 'delete') this.known.delete(change.id);
    else this.switches = change.switches;
  }

  async load(): Promise<LoadedApis> {
    const state = this.opts.start ? await this.opts.start.read('apis', this.opts.health, () => this.read()) : await this.read();
    if (state === undefined) {
      const loaded = this.opts.startState?.() ?? { apis: new Map<string, ApiJson>(), switches: {}, warnings: [] };
      this.remember(loaded.apis, undefined);
      this.seeds = loaded.apis;
      this.stream.detached = true;
      return loaded;
    }
    const { position, apis, switches, warnings } = state;
    this.stream.position = position;
    this.remember(apis, switches);
    return { apis, switches: switches ?? {}, warnings };
  }

  private async resync(emit: (change: ApiChange) => void): Promise<StreamPosition> {
    const { position, apis, switches, warnings } = await this.read();
    for (const gone of [...this.known.keys()].filter((k) => !apis.has(k))) emit({ op: 'delete', id: gone });
    for (const [apiId, json] of apis) emit({ op: 'put', id: apiId, json });
    emit({ op: 'switches', switches: switches ?? {} });
    this.remember(apis, switches);
    for (const w of warnings) this.opts.onError(new Error(w));
    return position;
  }

  /** Redis answers after a start without it: a cluster with no definitions yet gets the start state's, as a first node gives its files. */
  private async seedEmptyCluster(): Promise<void> {
    const seeds = this.seeds;
    if (!seeds || seeds.size === 0 || (await this.client.hlen(this.hashKey)) > 0) return;
    // Two first nodes seeding at once write the same definitions: putting one twice is harmless.
    for (const [id, json] of seeds) await this.write({ op: 'put', id, json });
    this.seeds = undefined;
  }

  /** Writes the known definitions and switches back (Redis lost its data), then makes every reader resync. */
  private async reseed(): Promise<void> {
    const args: (string | number)[] = [];
    const send = async (): Promise<void> => {
      if (args.length > 0) await this.reseedScript([this.hashKey], args.splice(0));
    };
    for (const [id, json] of this.known) {
      args.push(1, id, JSON.stringify(json));
      if (args.length >= RESEED_BATCH * 3) await send();
    }
    await send();
    if (this.switches) await this.client.set(this.switchesKey, JSON.stringify(this.switches), 'NX');
    await this.reseedDoneScript([this.epochKey, this.seqKey, this.streamKey], [randomUUID(), this.opts.streamMaxLen, this.opts.origin]);
  }

  private async write(change: ApiChange): Promise<void> {
    const id = change.op === 'switches' ? '' : change.id;
    const value = change.op === 'put' ? JSON.stringify(change.json) : change.op === 'switches' ? JSON.stringify(change.switches) : '';
    await this.applyScript([this.hashKey, this.switchesKey, this.streamKey, this.seqKey], [change.op, id, value, this.opts.streamMaxLen, this.opts.origin, JSON.stringify(change)]);
  }

  private async apply(change: ApiChange): Promise<void> {
    const health = this.opts.health;
    const refused = (cause?: unknown): Error => storeUnavailable('API definitions and switches cannot be changed now', cause);
    // Started without Redis: a change written now would be lost in the state read when it answers.
    if (health?.status === 'unreachable' || this.stream.detached) throw refused();
    try {
      await this.write(change);
    } catch (err) {
      throw health?.isOutage(err) ? refused(err) : err;
    }
    this.track(change);
  }

  put(id: string, json: ApiJson): Promise<void> {
    return this.apply({ op: 'put', id, json });
  }

  delete(id: string): Promise<void> {
    return this.apply({ op: 'delete', id });
  }

  putSwitches(switches: RuntimeSwitches): Promise<void> {
    return this.apply({ op: 'switches', switches });
  }

  subscribe(listener: (change: ApiChange) => void): () => void {
    return this.stream.subscribe((change) => {
      this.track(change);
      listener(change);
    });
  }

  async close(): Promise<void> {
    await this.stream.stop();
  }
}
