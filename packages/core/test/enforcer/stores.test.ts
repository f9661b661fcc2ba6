/**
 * The enforcer reads and writes lists and APIs only through its stores: it starts at once on
 * stores that load synchronously, waits for those that do not (`ready`, `startEnforcer`), applies
 * other writers' changes without storing them again, and closes its stores.
 */
import { Enforcer, createEnforcer, startEnforcer } from '../../src/enforcer';
import type { ApiJson } from '../../src/config/types';
import { validateApiJson } from '../../src/config/api-schema';
import type { StoredEntry } from '../../src/lists/client-list';
import type { ApiChange, ApiStore, ListChange, ListReplica, ListStore, LoadedApis, RuntimeSwitches } from '../../src/stores/types';
import { type Decision, type RawRequest, silentLogger } from '../../src/types';

const api = (url: string): ApiJson => validateApiJson({ api_metadata: { protocol: 'http', url, hostname: '*', enable_blocking: true } }, 'test').api;
const raw = (url: string, ip = '10.0.0.1'): RawRequest => ({ method: 'GET', url, headers: {}, remoteAddress: ip, encrypted: false });
const denied: StoredEntry = { type: 'ip', value: '10.0.0.1', tag: 'manual' } as StoredEntry;

/** A store that loads only asynchronously, when the test says so, and records what it is given. */
class AsyncListStore implements ListStore {
  readonly shared = true;
  readonly applied: ListChange[] = [];
  closed = false;
  private listener: ((c: ListChange) => void) | undefined;
  private release!: () => void;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  constructor(private readonly entries: StoredEntry[] = [], private readonly failWith?: Error) {}
  async load(replica: ListReplica): Promise<string[]> {
    await this.gate;
    if (this.failWith) throw this.failWith;
    for (const e of this.entries) replica.blacklist.add(e, e.tag, { restore: true });
    return [];
  }
  finishLoading(): void {
    this.release();
  }
  async apply(change: ListChange): Promise<void> {
    this.applied.push(change);
  }
  subscribe(listener: (c: ListChange) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  /** A change another writer made. */
  fromOtherWriter(change: ListChange): void {
    this.listener?.(change);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class AsyncApiStore implements ApiStore {
  readonly shared = true;
  readonly puts: string[] = [];
  closed = false;
  private listener: ((c: ApiChange) => void) | undefined;
  constructor(private readonly apis: Map<string, ApiJson>, private readonly switches: RuntimeSwitches = {}) {}
  async load(): Promise<LoadedApis> {
    return { apis: new Map(this.apis), switches: this.switches, warnings: [] };
  }
  async put(id: string): Promise<void> {
    this.puts.push(id);
  }
  async delete(id: string): Promise<void> {
    this.puts.push(`-${id}`);
  }
  async putSwitches(): Promise<void> {
    this.puts.push('switches');
  }
  subscribe(listener: (c: ApiChange) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  fromOtherWriter(change: ApiChange): void {
    this.listener?.(change);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const reason = (d: Decision): string => (d.action === 'respond' ? d.reason : d.action);

describe('the stores of an enforcer', () => {
  let enforcer: Enforcer | undefined;
  afterEach(async () => {
    await enforcer?.close();
    enforcer = undefined;
  });

  it('without asynchronous stores it is ready at once and decides synchronously', async () => {
    enforcer = createEnforcer({ logger: silentLogger, apis: { shop: api('/shop') } });
    await enforcer.ready;
    const d = enforcer.decide(raw('/shop/x'));
    expect(d).not.toBeInstanceOf(Promise);
    expect(reason(d as Decision)).toBe('pass');
  });

  it('a decision asked for before an asynchronous store has loaded waits for it', async () => {
    const lists = new AsyncListStore([denied]);
    enforcer = createEnforcer({ logger: silentLogger, apis: { shop: api('/shop') }, stores: { lists } });
    const early = enforcer.decide(raw('/shop/x'));
    expect(early).toBeInstanceOf(Promise);
    lists.finishLoading();
    await enforcer.ready;
    expect(reason(await early)).toBe('deny_list');
    expect(reason(enforcer.decide(raw('/shop/x', '10.0.0.2')) as Decision)).toBe('pass');
  });

  it('startEnforcer resolves once the stores have loaded, with the APIs and switches of the store', async () => {
    const lists = new AsyncListStore();
    lists.finishLoading();
    const apis = new AsyncApiStore(new Map([['shop', api('/shop')]]), { enable_firewall: false });
    enforcer = await startEnforcer({ logger: silentLogger, mode: 'gateway', stores: { lists, apis } });
    expect(enforcer.listApis().map((a) => a.id)).toEqual(['shop']);
    expect(enforcer.firewallEnabled).toBe(false);
    expect(reason(enforcer.decide(raw('/other')) as Decision)).toBe('unknown_api');
  });

  it('startEnforcer rejects when a store cannot load, and closes the stores', async () => {
    const lists = new AsyncListStore([], new Error('store unreachable'));
    lists.finishLoading();
    await expect(startEnforcer({ logger: silentLogger, stores: { lists } })).rejects.toThrow('store unreachable');
    expect(lists.closed).toBe(true);
  });

  it('changes of other writers reach the lists and APIs without being stored again', async () => {
    const lists = new AsyncListStore();
    lists.finishLoading();
    const apis = new AsyncApiStore(new Map());
    enforcer = await startEnforcer({ logger: silentLogger, mode: 'gateway', stores: { lists, apis } });

    lists.fromOtherWriter({ list: 'blacklist', op: 'add', entry: denied });
    expect(enforcer.denyList.has('ip', '10.0.0.1')).toBe(true);
    apis.fromOtherWriter({ op: 'put', id: 'shop', json: api('/shop') });
    expect(reason(enforcer.decide(raw('/shop/x')) as Decision)).toBe('deny_list');
    lists.fromOtherWriter({ list: 'blacklist', op: 'remove', entry: denied });
    expect(enforcer.denyList.has('ip', '10.0.0.1')).toBe(false);
    apis.fromOtherWriter({ op: 'switches', switches: { enable_firewall: false } });
    expect(enforcer.firewallEnabled).toBe(false);
    apis.fromOtherWriter({ op: 'delete', id: 'shop' });
    expect(enforcer.listApis()).toEqual([]);
    expect(lists.applied).toEqual([]);
    expect(apis.puts).toEqual([]);

    // This enforcer's own changes go to the stores.
    await enforcer.addDeny({ type: 'ip', value: '10.0.0.9' });
    await enforcer.createApi('cart', { api_metadata: { protocol: 'http', url: '/cart', hostname: '*' } });
    expect(lists.applied).toEqual([{ list: 'blacklist', op: 'add', entry: expect.objectContaining({ type: 'ip', value: '10.0.0.9', tag: 'manual' }) }]);
    expect(apis.puts).toEqual(['cart']);
  });

  it('close() closes the stores', async () => {
    const lists = new AsyncListStore();
    lists.finishLoading();
    const apis = new AsyncApiStore(new Map());
    const e = await startEnforcer({ logger: silentLogger, stores: { lists, apis } });
    await e.close();
    expect([lists.closed, apis.closed]).toEqual([true, true]);
  });
});
