import type { ApiJson } from '../config/types';
import type { ApiStore, ListChange, ListReplica, ListStore, LoadedApis, RuntimeSwitches } from './types';

/*
 * The stores of an enforcer without a config directory: nothing is persisted, so the lists live
 * in the replica alone and the APIs in what the enforcer installed. Stand-ins for the in-memory
 * stores of stores/memory-*.ts.
 */

export class LocalListStore implements ListStore {
  readonly shared = false;
  load(): Promise<string[]> {
    return Promise.resolve([]);
  }
  loadSync(_replica: ListReplica): string[] {
    return [];
  }
  apply(_change: ListChange): Promise<void> {
    return Promise.resolve();
  }
  subscribe(): () => void {
    return () => undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class LocalApiStore implements ApiStore {
  readonly shared = false;
  private readonly apis = new Map<string, ApiJson>();
  private switches: RuntimeSwitches = {};
  load(): Promise<LoadedApis> {
    return Promise.resolve(this.loadSync());
  }
  loadSync(): LoadedApis {
    return { apis: new Map(this.apis), switches: { ...this.switches }, warnings: [] };
  }
  put(id: string, json: ApiJson): Promise<void> {
    this.apis.set(id, json);
    return Promise.resolve();
  }
  delete(id: string): Promise<void> {
    this.apis.delete(id);
    return Promise.resolve();
  }
  putSwitches(switches: RuntimeSwitches): Promise<void> {
    this.switches = { ...switches };
    return Promise.resolve();
  }
  subscribe(): () => void {
    return () => undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
