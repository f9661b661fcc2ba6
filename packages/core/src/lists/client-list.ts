import { createHash } from 'node:crypto';
import { listFull } from '../errors';
import { ipv6Prefix } from '../request/client-ip';
import { DENY_TAGS, DIGEST_OVER, DIGEST_PREFIX, type DenyTag, type EntryType, type ListEntry } from './entries';
import { PresenceFilter, keyHash } from './presence-filter';

export interface StoredEntry extends ListEntry {
  tag: DenyTag;
}

/** Characters a digested value occupies in the maps (hex SHA-256). */
const DIGEST_CHARS = 64;

/**
 * Rough bytes one entry costs in memory (value string, name, map slot); used to honour
 * attack_list_memory. A long value is kept as its digest, so it costs what the digest costs.
 */
export function entryCost(e: ListEntry): number {
  const chars = e.digest || e.value.length > DIGEST_OVER ? DIGEST_CHARS : e.value.length;
  return 64 + 2 * (chars + (e.name?.length ?? 0));
}

/**
 * The three parts of `attack_list_memory`. Each has its own share, so one kind of entry can never
 * crowd out another: `manual` holds what an operator decided (manual and abs_generated deny
 * entries, the whole allow list) and is never evicted; `decoy` holds IPs caught by a decoy, which a
 * client cannot get into without touching a trap; `automatic` holds every other detection
 * (violations, missing tokens), the part an attacker can fill at will with throwaway identifiers.
 */
export type ListShare = 'manual' | 'decoy' | 'automatic';
export const LIST_SHARES: readonly ListShare[] = ['manual', 'decoy', 'automatic'];
/** Percent of attack_list_memory per share (`attack_list_shares`). */
export const DEFAULT_LIST_SHARES: Readonly<Record<ListShare, number>> = Object.freeze({ manual: 50, decoy: 20, automatic: 30 });

/** The share a deny-list tag's entries count against (allow-list entries are all `manual`). */
export function shareOf(tag: DenyTag): ListShare {
  return tag === 'manual' || tag === 'abs_generated' ? 'manual' : tag === 'decoy' ? 'decoy' : 'automatic';
}

/**
 * Memory budget of the deny and allow lists together (`attack_list_memory`), split into
 * {@link ListShare}s. When a share is full, an automatic or decoy entry evicts the oldest entry of
 * its own share (throwaway identifiers before IPs); a manual entry is refused with
 * ERR_ASE_LIST_FULL rather than silently dropping another.
 */
export class ListBudget {
  used = 0;
  private readonly limits: Record<ListShare, number>;
  private readonly usedBy: Record<ListShare, number> = { manual: 0, decoy: 0, automatic: 0 };

  constructor(
    readonly limit: number,
    percents: Readonly<Record<ListShare, number>> = DEFAULT_LIST_SHARES,
  ) {
    this.limits = {
      manual: Math.floor((limit * percents.manual) / 100),
      decoy: Math.floor((limit * percents.decoy) / 100),
      automatic: Math.floor((limit * percents.automatic) / 100),
    };
  }

  /** Bytes a share may hold. */
  shareLimit(share: ListShare): number {
    return this.limits[share];
  }

  /** Bytes a share holds. */
  shareUsed(share: ListShare): number {
    return this.usedBy[share];
  }

  /**
   * Whether `cost` more bytes fit in `share` and in the whole budget. `borrow`: a manual entry may
   * use room the other shares leave free (entries restored from disk: nothing the operator had is
   * dropped because the shares came after it).
   */
  fits(share: ListShare, cost: number, borrow = false): boolean {
    if (this.used + cost > this.limit) return false;
    return this.usedBy[share] + cost <= this.limits[share] || (borrow && share === 'manual');
  }

  take(share: ListShare, cost: number): void {
    this.usedBy[share] += cost;
    this.used += cost;
  }
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

/** Slot kinds at and above this hold digested values (kind = typeIndex + DIGESTED). */
const DIGESTED = 5;
const KIND_TYPES: readonly EntryType[] = ['ip', 'token', 'username', 'cookie', 'api_key'];

/** What a request's value must look like to be hashed: long, or shaped like a digest reference. */
function needsDigest(value: string): boolean {
  return value.length > DIGEST_OVER || (value.length === DIGEST_PREFIX.length + DIGEST_CHARS && value.startsWith(DIGEST_PREFIX));
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Where an entry lives: slot kind, name key and the stored value. A raw value that looks like a
 * digest reference is itself digested, so it can never be read back (from lists.json, or the
 * management API) as the digest of something else.
 */
interface Slot {
  kind: number;
  name: string;
  value: string;
}

function slotOf(e: ListEntry): Slot {
  const kind = typeIndex(e.type);
  const name = e.name ?? '';
  if (e.digest) return { kind: kind + DIGESTED, name, value: e.value };
  if (needsDigest(e.value)) return { kind: kind + DIGESTED, name, value: sha256Hex(e.value) };
  return { kind, name, value: e.value };
}

/** Eviction-queue key of a slot; the name's length first, since a value may hold any character. */
function slotKey(s: Slot): string {
  return `${String.fromCharCode(0x30 + s.kind)}${s.name.length}:${s.name}${s.value}`;
}

function parseSlotKey(key: string): Slot {
  const colon = key.indexOf(':');
  const nameLen = Number(key.slice(1, colon));
  return { kind: key.charCodeAt(0) - 0x30, name: key.slice(colon + 1, colon + 1 + nameLen), value: key.slice(colon + 1 + nameLen) };
}

function slotEntry(s: Slot, tagIdx: number): StoredEntry {
  const digested = s.kind >= DIGESTED;
  const type = KIND_TYPES[digested ? s.kind - DIGESTED : s.kind]!;
  const value = digested ? `${DIGEST_PREFIX}${s.value}` : s.value;
  const tag = DENY_TAGS[tagIdx]!;
  return s.name === '' ? { type, value, tag } : { type, name: s.name, value, tag };
}

function slotCost(s: Slot): number {
  return 64 + 2 * (s.value.length + s.name.length);
}

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
