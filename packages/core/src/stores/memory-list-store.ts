import { putEntry } from '../lists/journal-format';
import { MemoryBacking, MemoryHandle } from './memory-handle';
import type { StoredEntry } from '../lists/client-list';
import type { ListChange, ListName, ListReplica, ListStore } from './types';

/** Identity of an entry in a list: type, name and value, as the replica tells entries apart. */
function entryKey(e: StoredEntry): string {
  return `${e.type}\u0000${e.name ?? ''}\u0000${e.value}`;
}

/**
 * The lists shared by several {@link MemoryListStore} handles in one process (e.g. two enforcers):
 * every acknowledged entry, and the handles to tell of a change.
 */
export class MemoryListBacking extends MemoryBacking<ListChange> {
  private readonly lists: Record<ListName, Map<string, StoredEntry>> = { blacklist: new Map(), whitelist: new Map() };

  /** @internal */
  entries(list: ListName): IterableIterator<StoredEntry> {
    return this.lists[list].values();
  }

  protected record(change: ListChange): void {
    const list = this.lists[change.list];
    if (change.op === 'add') list.set(entryKey(change.entry), { ...change.entry });
    else if (change.op === 'remove') list.delete(entryKey(change.entry));
    else if (change.tags === undefined) list.clear();
    else {
      const tags = new Set(change.tags);
      for (const [k, e] of list) if (tags.has(e.tag)) list.delete(k);
    }
  }
}

/**
 * Deny and allow lists kept in this process. Without a backing (what an enforcer makes for itself
 * when nothing is shared or persisted) the store holds nothing: the enforcer's replica is the only
 * copy of its lists, so a million entries are not kept twice, and `load` finds nothing. With a
 * {@link MemoryListBacking} shared by several handles, the backing keeps every acknowledged entry
 * (a later `load` sees them) and each change is told to the other handles, synchronously and in
 * the order they were applied; never to the handle that made it.
 */
export class MemoryListStore extends MemoryHandle<ListChange> implements ListStore {
  constructor(protected override readonly backing?: MemoryListBacking) {
    super(backing);
  }

  loadSync(replica: ListReplica): string[] {
    const warnings: string[] = [];
    if (!this.backing) return warnings;
    for (const list of ['blacklist', 'whitelist'] as const) {
      for (const e of this.backing.entries(list)) {
        try {
          putEntry(replica[list], e);
        } catch (err) {
          warnings.push(`${list}: entry ${e.type} skipped: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return warnings;
  }

  async load(replica: ListReplica): Promise<string[]> {
    return this.loadSync(replica);
  }

  async apply(change: ListChange): Promise<void> {
    this.write(change);
  }
}
