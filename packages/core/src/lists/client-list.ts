import { listFull } from '../errors';
import { DENY_TAGS, type DenyTag, type EntryType, type ListEntry, entryKey } from './entries';
import { PresenceFilter, keyHash } from './presence-filter';

export interface StoredEntry extends ListEntry {
  tag: DenyTag;
}

/** Rough bytes one entry costs in memory (value string, name, map slot); used to honour attack_list_memory. */
export function entryCost(e: ListEntry): number {
  return 64 + 2 * (e.value.length + (e.name?.length ?? 0));
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

const TAG_INDEX = new Map<DenyTag, number>(DENY_TAGS.map((t, i) => [t, i]));

/**
 * An entry type's position in ENTRY_TYPES, which goes into its filter hash. A switch rather than a
 * Map: the types are constants at every call site, and a Map lookup per probe cost more than the
 * probe itself.
 */
export function typeIndex(type: EntryType): number {
  switch (type) {
    case 'ip':
      return 0;
    case 'token':
      return 1;
    case 'username':
      return 2;
    case 'cookie':
      return 3;
    case 'api_key':
      return 4;
  }
}

/** A list's recent-hit cache has 2^RECENT_BITS slots, chosen by the top bits of an entry's hash. */
const RECENT_BITS = 10;
const RECENT = 1 << RECENT_BITS;

/**
 * A deny or allow list with O(1) lookups for the request path. Entries live in one map per type
 * (and per name for cookies and API keys) keyed by the raw value, so a lookup hashes the header
 * value itself and allocates nothing; the stored value is just the tag's index. This keeps a
 * million entries within the memory budget the benchmarks hold us to. A {@link PresenceFilter} in
 * front of the maps answers the usual case, "not listed", from one small block of bits, so a lookup
 * costs the same with a million entries as with a thousand (docs/performance.md).
 */
export class ClientList {
  /** type → name ('' when the type has none) → value → tag index. */
  private readonly maps = new Map<EntryType, Map<string, Map<string, number>>>();
  /** The same name maps by {@link typeIndex}: one array read instead of a Map lookup per probe. */
  private readonly byType: (Map<string, Map<string, number>> | undefined)[] = [];
  /** Automatic entries in insertion order, for eviction (manual entries never need it). */
  private readonly evictionOrder = new Set<string>();
  private count = 0;
  private readonly perType = new Map<EntryType, number>();
  /** Every key in the maps is in the filter (removed keys may linger there until a rebuild). */
  private filter = new PresenceFilter();
  /**
   * The last entries found, in a slot chosen by their hash. A blocked client comes back again and
   * again, and a hit in the Map of a large list reads several cache lines that a busy server has
   * evicted since the last one (with 100 000 entries, about a third of the decision for a blocked
   * request). A removal empties its entry's slot, so the cache never answers for an entry that is gone.
   */
  private readonly recentHash = new Int32Array(RECENT);
  private readonly recentKind = new Int8Array(RECENT);
  private readonly recentTag = new Uint8Array(RECENT);
  private readonly recentName: string[] = new Array<string>(RECENT).fill('');
  private readonly recentValue: (string | undefined)[] = new Array<string | undefined>(RECENT).fill(undefined);

  constructor(
    readonly name: 'blacklist' | 'whitelist',
    private readonly budget: ListBudget,
    private readonly evictable: (tag: DenyTag) => boolean = () => false,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes in use in the budget this list shares (`attack_list_memory`): both lists together. */
  get memoryUsed(): number {
    return this.budget.used;
  }

  hasType(type: EntryType): boolean {
    return (this.perType.get(type) ?? 0) > 0;
  }

  private values(type: EntryType, name: string | undefined): Map<string, number> | undefined {
    return this.byType[typeIndex(type)]?.get(name ?? '');
  }

  has(type: EntryType, value: string, name?: string): boolean {
    return this.tagIndex(type, value, name) >= 0;
  }

  get(type: EntryType, value: string, name?: string): StoredEntry | undefined {
    const tagIdx = this.tagIndex(type, value, name);
    if (tagIdx < 0) return undefined;
    const tag = DENY_TAGS[tagIdx]!;
    return name === undefined ? { type, value, tag } : { type, name, value, tag };
  }

  /** The entry's tag index, or -1 when it is not listed: the recent hits, then the filter, then the map. */
  private tagIndex(type: EntryType, value: string, name: string | undefined): number {
    const kind = typeIndex(type);
    const nameKey = name ?? '';
    const h = keyHash(kind, nameKey, value);
    const slot = h >>> (32 - RECENT_BITS); // the filter indexes its blocks with the low bits
    if (this.recentHash[slot] === h && this.recentValue[slot] === value && this.recentKind[slot] === kind && this.recentName[slot] === nameKey) {
      return this.recentTag[slot]!;
    }
    if (!this.filter.mayContain(h)) return -1;
    const tagIdx = this.byType[kind]?.get(nameKey)?.get(value);
    if (tagIdx === undefined) return -1;
    this.recentHash[slot] = h;
    this.recentKind[slot] = kind;
    this.recentTag[slot] = tagIdx;
    this.recentName[slot] = nameKey;
    this.recentValue[slot] = value;
    return tagIdx;
  }

  /** Empties the recent-hit slot of an entry that is being removed. */
  private forgetRecent(type: EntryType, value: string, name: string | undefined): void {
    const kind = typeIndex(type);
    const nameKey = name ?? '';
    const slot = keyHash(kind, nameKey, value) >>> (32 - RECENT_BITS);
    if (this.recentValue[slot] === value && this.recentKind[slot] === kind && this.recentName[slot] === nameKey) this.recentValue[slot] = undefined;
  }

  /** Adds an entry; returns false when it was already there. Throws when the budget is exhausted. */
  add(entry: ListEntry, tag: DenyTag): boolean {
    if (this.has(entry.type, entry.value, entry.name)) return false;
    const cost = entryCost(entry);
    while (this.budget.used + cost > this.budget.limit) {
      if (!this.evictable(tag) || !this.evictOldestEvictable()) throw listFull(this.name);
    }
    let byName = this.maps.get(entry.type);
    if (!byName) {
      this.maps.set(entry.type, (byName = new Map()));
      this.byType[typeIndex(entry.type)] = byName;
    }
    const nameKey = entry.name ?? '';
    let values = byName.get(nameKey);
    if (!values) byName.set(nameKey, (values = new Map()));
    values.set(entry.value, TAG_INDEX.get(tag)!);
    if (this.filter.added >= this.filter.capacity) this.rebuildFilter(this.count + 1);
    else this.filter.add(keyHash(typeIndex(entry.type), nameKey, entry.value));
    if (this.evictable(tag)) this.evictionOrder.add(entryKey(entry.type, entry.value, entry.name));
    this.budget.used += cost;
    this.count++;
    this.perType.set(entry.type, (this.perType.get(entry.type) ?? 0) + 1);
    return true;
  }

  remove(entry: ListEntry): boolean {
    const values = this.values(entry.type, entry.name);
    if (!values?.has(entry.value)) return false;
    values.delete(entry.value);
    this.forgetRecent(entry.type, entry.value, entry.name);
    this.evictionOrder.delete(entryKey(entry.type, entry.value, entry.name));
    this.budget.used -= entryCost(entry);
    this.count--;
    this.perType.set(entry.type, (this.perType.get(entry.type) ?? 1) - 1);
    return true;
  }

  /** Removes every entry, or those whose tag satisfies `which`; returns how many. */
  clear(which?: (tag: DenyTag) => boolean): number {
    let n = 0;
    for (const e of this.list()) {
      if (!which || which(e.tag)) {
        this.remove(e);
        n++;
      }
    }
    if (n > 0) this.rebuildFilter(this.count);
    return n;
  }

  /** A filter sized for twice `entries`, holding every key in the maps (amortised O(1) per add). */
  private rebuildFilter(entries: number): void {
    const filter = new PresenceFilter(entries * 2);
    for (const [type, byName] of this.maps) {
      const kind = typeIndex(type);
      for (const [name, values] of byName) for (const value of values.keys()) filter.add(keyHash(kind, name, value));
    }
    this.filter = filter;
  }

  list(tag?: DenyTag | 'all'): StoredEntry[] {
    const out: StoredEntry[] = [];
    const want = tag && tag !== 'all' ? TAG_INDEX.get(tag) : undefined;
    for (const [type, byName] of this.maps) {
      for (const [name, values] of byName) {
        for (const [value, tagIdx] of values) {
          if (want !== undefined && tagIdx !== want) continue;
          const t = DENY_TAGS[tagIdx]!;
          out.push(name === '' ? { type, value, tag: t } : { type, name, value, tag: t });
        }
      }
    }
    return out;
  }

  private evictOldestEvictable(): boolean {
    for (const key of this.evictionOrder) {
      this.evictionOrder.delete(key);
      const [type, name, value] = key.split('\u0000') as [EntryType, string, string];
      if (this.remove(name === '' ? { type, value } : { type, name, value })) return true;
    }
    return false;
  }
}
