import * as path from 'node:path';
import { FileApiStore } from '../persistence/file-api-store';
import { FileListStore } from '../persistence/file-list-store';
import type { Logger } from '../types';
import type { RuntimeStores } from '../api/api-runtime';
import { MemoryApiStore } from '../stores/memory-api-store';
import { MemoryCounterStore } from '../stores/memory-counter-store';
import { MemoryListStore } from '../stores/memory-list-store';
import { MemoryQuotaStore } from '../stores/memory-quota-store';
import { MemoryStickyStore } from '../stores/memory-sticky-store';
import type { ApiChange, ApiStore, EnforcerStores, HoneytokenStore, ListChange, ListReplica, ListStore, LoadedApis } from '../stores/types';
import { FileHoneytokenStore } from '../persistence/file-honeytoken-store';
import type { Honeytoken, HoneytokenTable } from '../honeytokens/honeytoken-table';

/**
 * The stores of one enforcer: those given in code, else the files of its config directory (lists,
 * APIs), else memory. Lists and APIs are loaded at once when both can (files, memory), so that
 * createEnforcer stays synchronous, and listened to for other writers' changes.
 *
 * Closed with the enforcer: the list and API stores always (a handle subscribes for one enforcer),
 * the counter, slot and sticky stores only when the enforcer made them — several enforcers may
 * share those, so stores given in code are their owner's to close.
 */
export class StoreSet {
  readonly lists: ListStore;
  readonly apis: ApiStore;
  /** Planted honeytokens: given, else `data/honeytokens.jsonl` with a config directory, else none (memory only). */
  readonly honeytokens: HoneytokenStore | undefined;
  /** Counters, connection slots and sticky pins, as the API runtimes use them. */
  readonly runtime: RuntimeStores;
  /** Those of `runtime` this enforcer made, and closes. */
  private readonly ownRuntime: Partial<RuntimeStores>;
  private unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(
    given: EnforcerStores | undefined,
    configDir: string | undefined,
    options: { skipInvalidApis: boolean; logger: Logger; trackedClients?: number },
  ) {
    this.apis = given?.apis ?? (configDir ? new FileApiStore(configDir, options) : new MemoryApiStore());
    this.lists = given?.lists ?? (configDir ? new FileListStore(path.join(configDir, 'data'), options.logger) : new MemoryListStore());
    this.honeytokens = given?.honeytokens ?? (configDir ? new FileHoneytokenStore(path.join(configDir, 'data'), options.logger) : undefined);
    const own: Partial<RuntimeStores> = (this.ownRuntime = {});
    this.runtime = {
      counters: given?.counters ?? (own.counters = new MemoryCounterStore({ maxKeys: options.trackedClients })),
      quotas: given?.quotas ?? (own.quotas = new MemoryQuotaStore()),
      sticky: given?.sticky ?? (own.sticky = new MemoryStickyStore()),
    };
  }

  /** Where problems with the lists are reported against. */
  get listsSource(): string {
    return this.lists instanceof FileListStore ? this.lists.file : 'the list store';
  }

  /** Where the run-time switches were read. */
  get switchesSource(): string {
    return this.apis instanceof FileApiStore ? this.apis.runtimeFile : 'the API store';
  }

  /** The APIs at once, when the store can; undefined when they must be awaited. */
  loadApisSync(): LoadedApis | undefined {
    return this.apis.loadSync?.();
  }

  /** The lists' warnings at once, when the store can; undefined when they must be awaited. */
  loadListsSync(replica: ListReplica): string[] | undefined {
    return this.lists.loadSync?.(replica);
  }

  /** The honeytokens' warnings at once, when the store can; undefined when they must be awaited. */
  loadHoneytokensSync(table: HoneytokenTable): string[] | undefined {
    return this.honeytokens ? this.honeytokens.loadSync?.(table) : [];
  }

  /** Changes other writers make, from now on until close. */
  listen(onList: (change: ListChange) => void, onApi: (change: ApiChange) => void, onHoneytoken: (token: Honeytoken) => void): void {
    if (this.closed) return; // closed while loading
    this.unsubscribe.push(this.lists.subscribe(onList), this.apis.subscribe(onApi));
    if (this.honeytokens) this.unsubscribe.push(this.honeytokens.subscribe(onHoneytoken));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    await this.lists.close();
    await this.apis.close();
    await this.honeytokens?.close();
    const { counters, quotas, sticky } = this.ownRuntime;
    await Promise.all([counters?.close?.(), quotas?.close?.(), sticky?.close?.()]);
  }
}
