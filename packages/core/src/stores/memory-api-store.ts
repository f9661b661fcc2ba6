import type { ApiJson } from '../config/types';
import type { ApiChange, ApiStore, LoadedApis, RuntimeSwitches } from './types';

type Listener = (change: ApiChange) => void;

/** The API definitions and switches shared by several {@link MemoryApiStore} handles in one process. */
export class MemoryApiBacking {
  readonly apis = new Map<string, ApiJson>();
  switches: RuntimeSwitches = {};
  private readonly handles = new Set<MemoryApiStore>();

  /** @internal */
  attach(h: MemoryApiStore): void {
    this.handles.add(h);
  }

  /** @internal */
  detach(h: MemoryApiStore): void {
    this.handles.delete(h);
  }

  /** @internal Records the change, then tells every handle but its writer. */
  apply(change: ApiChange, from: MemoryApiStore): void {
    if (change.op === 'put') this.apis.set(change.id, structuredClone(change.json));
    else if (change.op === 'delete') this.apis.delete(change.id);
    else this.switches = { ...this.switches, ...change.switches };
    for (const h of this.handles) if (h !== from) h.deliver(structuredClone(change));
  }
}

/**
 * API definitions and run-time switches kept in this process. Without a backing (an enforcer's own
 * default) nothing is kept besides the enforcer's installed APIs and `load` finds nothing; with a
 * {@link MemoryApiBacking} shared by several handles, a change is kept (a later `load` sees it) and
 * told to the other handles, never to its writer. `putSwitches` sets the switches it names and
 * keeps the others.
 */
export class MemoryApiStore implements ApiStore {
  readonly shared = false;
  private readonly listeners = new Set<Listener>();
  private closed = false;

  constructor(private readonly backing?: MemoryApiBacking) {
    backing?.attach(this);
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

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal A change another handle made. */
  deliver(change: ApiChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // one listener's failure must neither reach the writer nor stop the other listeners
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.backing?.detach(this);
  }

  private write(change: ApiChange): void {
    if (!this.closed) this.backing?.apply(change, this);
  }
}
