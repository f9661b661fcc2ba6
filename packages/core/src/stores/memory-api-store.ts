import { MemoryBacking, MemoryHandle } from './memory-handle';
import type { ApiJson } from '../config/types';
import type { ApiChange, ApiStore, LoadedApis, RuntimeSwitches } from './types';

/** The API definitions and switches shared by several {@link MemoryApiStore} handles in one process. */
export class MemoryApiBacking extends MemoryBacking<ApiChange> {
  readonly apis = new Map<string, ApiJson>();
  switches: RuntimeSwitches = {};

  protected record(change: ApiChange): void {
    if (change.op === 'put') this.apis.set(change.id, structuredClone(change.json));
    else if (change.op === 'delete') this.apis.delete(change.id);
    else this.switches = { ...this.switches, ...change.switches };
  }

  protected override copy(change: ApiChange): ApiChange {
    return structuredClone(change);
  }
}

/**
 * API definitions and run-time switches kept in this process. Without a backing (an enforcer's own
 * default) nothing is kept besides the enforcer's installed APIs and `load` finds nothing; with a
 * {@link MemoryApiBacking} shared by several handles, a change is kept (a later `load` sees it) and
 * told to the other handles, never to its writer. `putSwitches` sets the switches it names and
 * keeps the others.
 */
export class MemoryApiStore extends MemoryHandle<ApiChange> implements ApiStore {
  constructor(protected override readonly backing?: MemoryApiBacking) {
    super(backing);
  }

  loadSync(): LoadedApis {
    const apis = new Map<string, ApiJson>();
    if (this.backing) for (const [id, json] of this.backing.apis) apis.set(id, structuredClone(json));
    return { apis, switches: { ...this.backing?.switches }, warnings: [] };
  }

  async load(): Promise<LoadedApis> {
    return this.loadSync();
  }

  async put(id: string, json: ApiJson): Promise<void> {
    this.write({ op: 'put', id, json });
  }

  async delete(id: string): Promise<void> {
    this.write({ op: 'delete', id });
  }

  async putSwitches(switches: RuntimeSwitches): Promise<void> {
    this.write({ op: 'switches', switches: { ...switches } });
  }
}
