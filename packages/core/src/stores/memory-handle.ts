/**
 * What the in-memory list and API stores have in common: several handles (e.g. two enforcers of
 * one process) over one backing, each change told to every handle but its writer, synchronously
 * and in the order the changes were made.
 */

/** The state several handles share, and the handles to tell of a change. */
export abstract class MemoryBacking<C> {
  private readonly handles = new Set<MemoryHandle<C>>();

  /** @internal */
  attach(h: MemoryHandle<C>): void {
    this.handles.add(h);
  }

  /** @internal */
  detach(h: MemoryHandle<C>): void {
    this.handles.delete(h);
  }

  /** @internal Records the change, then tells every handle but its writer. */
  apply(change: C, from: MemoryHandle<C>): void {
    this.record(change);
    for (const h of this.handles) if (h !== from) h.deliver(this.copy(change));
  }

  protected abstract record(change: C): void;

  /** What a handle is given: a copy where a listener could otherwise change the writer's data. */
  protected copy(change: C): C {
    return change;
  }
}

/** One handle: its listeners, and the backing it writes to (none: it keeps and tells nothing). */
export abstract class MemoryHandle<C> {
  /** True over a backing: other handles write too, and their changes arrive through `subscribe`. */
  readonly shared: boolean;
  private readonly listeners = new Set<(change: C) => void>();
  private closed = false;

  constructor(protected readonly backing?: MemoryBacking<C>) {
    this.shared = backing !== undefined;
    backing?.attach(this);
  }

  subscribe(listener: (change: C) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * @internal A change another handle made. A listener that throws neither reaches the writer nor
   * stops the listeners after it: the change is already acknowledged, and the others must hear of it.
   */
  deliver(change: C): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // see above
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.backing?.detach(this);
  }

  protected write(change: C): void {
    if (!this.closed) this.backing?.apply(change, this);
  }
}
