import { listFull } from '../errors';
import { type DenyTag, type EntryType, type ListEntry, entryKey } from './entries';

export interface StoredEntry extends ListEntry {
  tag: DenyTag;
  /** Epoch ms. */
  added: number;
}

/** Rough bytes one entry costs in memory (key, object, map slot); used to honour attack_list_memory. */
export function entryCost(e: ListEntry): number {
  return 160 + 4 * (e.value.length + (e.name?.length ?? 0));
}

/**
 * Shared memory budget of the deny and allow lists (`attack_list_memory`). When it is full, an
 * automatic (ASE-detected) deny entry evicts the oldest automatic entry; a manual or
 * abs_generated entry is refused with ERR_ASE_LIST_FULL rather than silently dropping another.
 */
export class ListBudget {
  used = 0;
  constructor(readonly limit: number) {}
}

/** A deny or allow list: identifier → entry, with O(1) lookups for the request path. */
export class ClientList {
  private readonly entries = new Map<string, StoredEntry>();
  /** Count per type, so the request path can skip building keys for types nobody listed. */
  private readonly perType = new Map<EntryType, number>();

  constructor(
    readonly name: 'blacklist' | 'whitelist',
    private readonly budget: ListBudget,
    private readonly evictable: (tag: DenyTag) => boolean = () => false,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  hasType(type: EntryType): boolean {
    return (this.perType.get(type) ?? 0) > 0;
  }

  has(type: EntryType, value: string, name?: string): boolean {
    return this.entries.has(entryKey(type, value, name));
  }

  get(type: EntryType, value: string, name?: string): StoredEntry | undefined {
    return this.entries.get(entryKey(type, value, name));
  }

  /** Adds an entry; returns false when it was already there. Throws when the budget is exhausted. */
  add(entry: ListEntry, tag: DenyTag, added = Date.now()): boolean {
    const key = entryKey(entry.type, entry.value, entry.name);
    if (this.entries.has(key)) return false;
    const cost = entryCost(entry);
    while (this.budget.used + cost > this.budget.limit) {
      if (!this.evictable(tag) || !this.evictOldestEvictable()) throw listFull(this.name);
    }
    const stored: StoredEntry = { ...entry, tag, added };
    this.entries.set(key, stored);
    this.budget.used += cost;
    this.perType.set(entry.type, (this.perType.get(entry.type) ?? 0) + 1);
    return true;
  }

  remove(entry: ListEntry): boolean {
    const key = entryKey(entry.type, entry.value, entry.name);
    const found = this.entries.get(key);
    if (!found) return false;
    this.drop(key, found);
    return true;
  }

  /** Removes every entry, or those whose tag satisfies `which`; returns how many. */
  clear(which?: (tag: DenyTag) => boolean): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (!which || which(e.tag)) {
        this.drop(key, e);
        n++;
      }
    }
    return n;
  }

  list(tag?: DenyTag | 'all'): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (const e of this.entries.values()) if (!tag || tag === 'all' || e.tag === tag) out.push(e);
    return out;
  }

  private drop(key: string, e: StoredEntry): void {
    this.entries.delete(key);
    this.budget.used -= entryCost(e);
    this.perType.set(e.type, (this.perType.get(e.type) ?? 1) - 1);
  }

  private evictOldestEvictable(): boolean {
    // Map iteration is insertion order, so the first evictable entry is the oldest one.
    for (const [key, e] of this.entries) {
      if (this.evictable(e.tag)) {
        this.drop(key, e);
        return true;
      }
    }
    return false;
  }
}

