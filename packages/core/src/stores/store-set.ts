import * as path from 'node:path';
import { FileApiStore } from '../persistence/file-api-store';
import { FileListStore } from '../persistence/file-list-store';
import type { Logger } from '../types';
import { LocalApiStore, LocalListStore } from './local-stores';
import type { ApiChange, ApiStore, EnforcerStores, ListChange, ListReplica, ListStore, LoadedApis } from './types';

/**
 * The list and API stores of one enforcer: those given in code, else the files of its config
 * directory, else memory. Loaded at once when both can (files, memory), so that createEnforcer
 * stays synchronous; listened to for other writers' changes; closed with the enforcer.
 */
export class StoreSet {
  readonly lists: ListStore;
  readonly apis: ApiStore;
  private unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(
    given: EnforcerStores | undefined,
    configDir: string | undefined,
    options: { skipInvalidApis: boolean; logger: Logger },
  ) {
    this.apis = given?.apis ?? (configDir ? new FileApiStore(configDir, options) : new LocalApiStore());
    this.lists = given?.lists ?? (configDir ? new FileListStore(path.join(configDir, 'data'), options.logger) : new LocalListStore());
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

  /** Changes other writers make, from now on until close. */
  listen(onList: (change: ListChange) => void, onApi: (change: ApiChange) => void): void {
    if (this.closed) return; // closed while loading
    this.unsubscribe.push(this.lists.subscribe(onList), this.apis.subscribe(onApi));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    await this.lists.close();
    await this.apis.close();
  }
}
