import { listFull } from '../errors';
import { ipv6Prefix } from '../request/ip-address';
import { DENY_TAGS, type DenyTag, type EntryType, type ListEntry } from './entries';
import { type ListBudget, type ListShare, shareOf } from './list-budget';
import {
  DIGESTED,
  KIND_TYPES,
  type Slot,
  type StoredEntry,
  needsDigest,
  parseSlotKey,
  sha256Hex,
  slotCost,
  slotEntry,
  slotKey,
  slotOf,
  typeIndex,
} from './list-slots';
import { PresenceFilter, keyHash } from './presence-filter';

export { DEFAULT_LIST_SHARES, LIST_SHARES, ListBudget, type ListShare, shareOf } from './list-budget';
export { entryCost, type StoredEntry, typeIndex } from './list-slots';

const TAG_INDEX = new Map<DenyTag, number>(DENY_TAGS.map((t, i) => [t, i]));

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
 *
 * Values longer than DIGEST_OVER characters live in maps of their own, keyed by SHA-256: their cost
 * is fixed, and only a request carrying such a value pays for the hash. IPv6 network entries
 * (`2001:db8:1:2::/64`) are IP entries; an IPv6 lookup also tries the networks of the prefix
 * lengths the list holds (usually none or one).
 */
export class ClientList {
  /** Slot kind → name ('' when the type has none) → value → tag index. */
  private readonly byKind: (Map<string, Map<string, number>> | undefined)[] = [];
  /** Slot kinds in the order they were first used: lists show entries type by type in that order. */
  private readonly kinds: number[] = [];
  /** Eviction queues, oldest first: automatic identifiers, automatic IPs, decoy IPs. */
  private readonly autoIds = new Set<string>();
  private readonly autoIps = new Set<string>();
  private readonly decoys = new Set<string>();
  private count = 0;
  private readonly perType = new Map<EntryType, number>();
  /** Entries per identifier type and tag: `typeIndex * DENY_TAGS.length + tag index`. */
  private readonly perTypeTag = new Int32Array(KIND_TYPES.length * DENY_TAGS.length);
  /** Entries per IPv6 prefix length (index 1–127); `v6Lengths` are those with any. */
  private readonly v6Prefix = new Int32Array(129);
  private v6Lengths: number[] = [];
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
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes in use in the budget this list shares (`attack_list_memory`): both lists together. */
  get memoryUsed(): number {
    return this.budget.used;
  }

  /** Entries per type (the metrics read it when scraped). */
  get sizeByType(): ReadonlyMap<EntryType, number> {
    return this.perType;
  }

  /** Entries of one identifier type and tag (the metrics read it when scraped). */
  sizeOf(type: EntryType, tag: DenyTag): number {
    return this.perTypeTag[typeIndex(type) * DENY_TAGS.length + TAG_INDEX.get(tag)!] ?? 0;
  }

  hasType(type: EntryType): boolean {
    return (this.perType.get(type) ?? 0) > 0;
  }

  /** Whether a request's identifier is listed (IPv6 addresses also by their listed networks). */
  has(type: EntryType, value: string, name?: string): boolean {
    return this.lookup(type, value, name) >= 0;
  }

  /** A request's identifier's entry (IPv6 addresses also by their listed networks). */
  get(type: EntryType, value: string, name?: string): StoredEntry | undefined {
    const kind = typeIndex(type);
    const nameKey = name ?? '';
    if (needsDigest(value)) {
      const digest = sha256Hex(value);
      const tagIdx = this.tagIndex(kind + DIGESTED, nameKey, digest);
      return tagIdx < 0 ? undefined : slotEntry({ kind: kind + DIGESTED, name: nameKey, value: digest }, tagIdx);
    }
    let tagIdx = this.tagIndex(kind, nameKey, value);
    if (tagIdx >= 0) return name === undefined ? { type, value, tag: DENY_TAGS[tagIdx]! } : { type, name, value, tag: DENY_TAGS[tagIdx]! };
    if (kind !== 0 || this.v6Lengths.length === 0 || value.indexOf(':') < 0) return undefined;
    for (const len of this.v6Lengths) {
      const net = ipv6Prefix(value, len);
      if (net && (tagIdx = this.tagIndex(0, '', net)) >= 0) return { type, value: net, tag: DENY_TAGS[tagIdx]! };
    }
    return undefined;
  }

  /** An entry exactly as given (no network match), e.g. one an operator names to remove. */
  entry(e: ListEntry): StoredEntry | undefined {
    const s = slotOf(e);
    const tagIdx = this.byKind[s.kind]?.get(s.name)?.get(s.value);
    return tagIdx === undefined ? undefined : slotEntry(s, tagIdx);
  }

  private lookup(type: EntryType, value: string, name: string | undefined): number {
    if (needsDigest(value) || (type === 'ip' && this.v6Lengths.length > 0)) {
      const e = this.get(type, value, name);
      return e ? DENY_TAGS.indexOf(e.tag) : -1;
    }
    return this.tagIndex(typeIndex(type), name ?? '', value);
  }

  /** The entry's tag index, or -1 when it is not listed: the recent hits, then the filter, then the map. */
  private tagIndex(kind: number, nameKey: string, value: string): number {
    const h = keyHash(kind, nameKey, value);
    const slot = h >>> (32 - RECENT_BITS); // the filter indexes its blocks with the low bits
    if (this.recentHash[slot] === h && this.recentValue[slot] === value && this.recentKind[slot] === kind && this.recentName[slot] === nameKey) {
      return this.recentTag[slot]!;
    }
    if (!this.filter.mayContain(h)) return -1;
    const tagIdx = this.byKind[kind]?.get(nameKey)?.get(value);
    if (tagIdx === undefined) return -1;
    this.recentHash[slot] = h;
    this.recentKind[slot] = kind;
    this.recentTag[slot] = tagIdx;
    this.recentName[slot] = nameKey;
    this.recentValue[slot] = value;
    return tagIdx;
  }

  /** Empties the recent-hit slot of an entry that is being removed. */
  private forgetRecent(s: Slot): void {
    const slot = keyHash(s.kind, s.name, s.value) >>> (32 - RECENT_BITS);
    if (this.recentValue[slot] === s.value && this.recentKind[slot] === s.kind && this.recentName[slot] === s.name) this.recentValue[slot] = undefined;
  }

  /** The share an entry with this tag counts against in this list. */
  private shareFor(tag: DenyTag): ListShare {
    return this.name === 'whitelist' ? 'manual' : shareOf(tag);
  }

  /**
   * Adds an entry; returns false when it was already there. When its share is full, a decoy or
   * automatic entry evicts the oldest of its own share (automatic: identifiers before IPs); a
   * manual one throws ERR_ASE_LIST_FULL. `restore` (loading `lists.json`): a manual entry may go
   * past its share into room the whole budget still has, evicting detections if it must.
   */
  add(entry: ListEntry, tag: DenyTag, opts: { restore?: boolean } = {}): boolean {
    const s = slotOf(entry);
    if (this.byKind[s.kind]?.get(s.name)?.has(s.value)) return false;
    const cost = slotCost(s);
    const share = this.shareFor(tag);
    const borrow = opts.restore === true;
    while (!this.budget.fits(share, cost, borrow)) {
      // Restoring what the operator had: detections make room for it, never the other way round.
      const evicted = share !== 'manual' ? this.evictOldest(share) : borrow && (this.evictOldest('automatic') || this.evictOldest('decoy'));
      if (!evicted) throw listFull(this.name, share, this.budget.shareUsed(share), this.budget.shareLimit(share));
    }
    let byName = this.byKind[s.kind];
    if (!byName) {
      this.byKind[s.kind] = byName = new Map();
      this.kinds.push(s.kind);
    }
    let values = byName.get(s.name);
    if (!values) byName.set(s.name, (values = new Map()));
    values.set(s.value, TAG_INDEX.get(tag)!);
    if (this.filter.added >= this.filter.capacity) this.rebuildFilter(this.count + 1);
    else this.filter.add(keyHash(s.kind, s.name, s.value));
    if (share === 'decoy') this.decoys.add(slotKey(s));
    else if (share === 'automatic') (s.kind === 0 ? this.autoIps : this.autoIds).add(slotKey(s));
    this.budget.take(share, cost);
    this.count++;
    this.perType.set(entry.type, (this.perType.get(entry.type) ?? 0) + 1);
    this.perTypeTag[(s.kind % DIGESTED) * DENY_TAGS.length + TAG_INDEX.get(tag)!]! += 1;
    if (s.kind === 0) this.countPrefix(s.value, 1);
    return true;
  }

  remove(entry: ListEntry): boolean {
    return this.removeSlot(slotOf(entry));
  }

  private removeSlot(s: Slot): boolean {
    const values = this.byKind[s.kind]?.get(s.name);
    const tagIdx = values?.get(s.value);
    if (!values || tagIdx === undefined) return false;
    values.delete(s.value);
    this.forgetRecent(s);
    const share = this.shareFor(DENY_TAGS[tagIdx]!);
    if (share !== 'manual') {
      const key = slotKey(s);
      this.decoys.delete(key);
      this.autoIds.delete(key);
      this.autoIps.delete(key);
    }
    this.budget.take(share, -slotCost(s));
    this.count--;
    const type = KIND_TYPES[s.kind % DIGESTED]!;
    this.perType.set(type, (this.perType.get(type) ?? 1) - 1);
    this.perTypeTag[(s.kind % DIGESTED) * DENY_TAGS.length + tagIdx]! -= 1;
    if (s.kind === 0) this.countPrefix(s.value, -1);
    return true;
  }

  /** Keeps the IPv6 prefix lengths in use, for network lookups. */
  private countPrefix(value: string, delta: number): void {
    const slash = value.indexOf('/');
    if (slash < 0) return;
    const len = Number(value.slice(slash + 1));
    const before = this.v6Prefix[len]!;
    this.v6Prefix[len] = before + delta;
    if ((before === 0) !== (before + delta === 0)) {
      const lengths: number[] = [];
      for (let i = 128; i > 0; i--) if (this.v6Prefix[i]! > 0) lengths.push(i);
      this.v6Lengths = lengths; // longest first: the most specific entry answers
    }
  }

  /** Removes every entry, or those whose tag satisfies `which`; returns how many. */
  clear(which?: (tag: DenyTag) => boolean): number {
    const doomed: Slot[] = [];
    this.forEachSlot((s, tagIdx) => {
      if (!which || which(DENY_TAGS[tagIdx]!)) doomed.push(s);
    });
    for (const s of doomed) this.removeSlot(s);
    if (doomed.length > 0) this.rebuildFilter(this.count);
    return doomed.length;
  }

  private forEachSlot(fn: (s: Slot, tagIdx: number) => void): void {
    for (const kind of this.kinds) {
      for (const [name, values] of this.byKind[kind]!) for (const [value, tagIdx] of values) fn({ kind, name, value }, tagIdx);
    }
  }

  /** A filter sized for twice `entries`, holding every key in the maps (amortised O(1) per add). */
  private rebuildFilter(entries: number): void {
    const filter = new PresenceFilter(entries * 2);
    this.forEachSlot((s) => filter.add(keyHash(s.kind, s.name, s.value)));
    this.filter = filter;
  }

  /** Every entry (or those with `tag`); digested ones show their value as `sha256:<hex>`. */
  list(tag?: DenyTag | 'all'): StoredEntry[] {
    const out: StoredEntry[] = [];
    const want = tag && tag !== 'all' ? TAG_INDEX.get(tag) : undefined;
    this.forEachSlot((s, tagIdx) => {
      if (want === undefined || tagIdx === want) out.push(slotEntry(s, tagIdx));
    });
    return out;
  }

  /** Evicts the least valuable entry of a share: the oldest, throwaway identifiers before IPs. */
  private evictOldest(share: ListShare): boolean {
    const queues = share === 'decoy' ? [this.decoys] : [this.autoIds, this.autoIps];
    for (const q of queues) {
      for (const key of q) {
        q.delete(key);
        if (this.removeSlot(parseSlotKey(key))) return true;
      }
    }
    return false;
  }
}
