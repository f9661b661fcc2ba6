import { listFull } from '../errors';
import { DENY_TAGS, DIGEST_PREFIX, type DenyTag, type EntryType, type ListEntry } from './entries';
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
import { type EntryMeta, EntryRecords, RECORD_BYTES } from './entry-records';
import { NetworkIndex } from './network-index';
import { PresenceFilter, keyHash, keyHashAndTop16, scanned } from './presence-filter';

export { DEFAULT_LIST_SHARES, LIST_SHARES, ListBudget, type ListShare, shareOf } from './list-budget';
export { entryCost, type StoredEntry, typeIndex } from './list-slots';

const TAG_INDEX = new Map<DenyTag, number>(DENY_TAGS.map((t, i) => [t, i]));

/** What an IPv4 network entry costs beyond its slot: its key in the network index of its length. */
const V4_NET_BYTES = 48;
/** What an expiring entry costs beyond its slot: its place in the expiry index. */
const EXPIRY_BYTES = 64;

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
 * is fixed, and only a request carrying such a value pays for the hash.
 *
 * Network entries (`203.0.113.0/24`, `2001:db8::/48`) are IP entries; an IP lookup also asks the
 * {@link NetworkIndex}, which costs O(prefix lengths in use) however many networks are listed.
 *
 * The maps hold a record number per entry ({@link EntryRecords}): tag, expiry and history. An
 * expired entry stops matching at once (the lookup reads its deadline) and is removed by
 * {@link ClientList.takeExpired}.
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
  private readonly records = new EntryRecords();
  private readonly networks = new NetworkIndex(
    (rec) => this.live(rec),
    (net) => this.recordOf(0, '', net),
  );
  /** Records with an expiry → their slot key, for the sweep. */
  private readonly expiring = new Map<number, string>();
  /** No entry expires before this (0: none expires): a sweep before it visits nothing. */
  private earliest = 0;
  /** Records with hits not yet sent to a shared store → their slot. */
  private readonly unsentHits = new Map<number, Slot>();
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
  private readonly recentRec = new Int32Array(RECENT);
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

  /** A request's identifier's entry (IP addresses also by their listed networks). */
  get(type: EntryType, value: string, name?: string): StoredEntry | undefined {
    const kind = typeIndex(type);
    const nameKey = name ?? '';
    if (needsDigest(value)) {
      const digest = sha256Hex(value);
      const rec = this.recordOf(kind + DIGESTED, nameKey, digest);
      return rec < 0 ? undefined : slotEntry({ kind: kind + DIGESTED, name: nameKey, value: digest }, this.records.tag[rec]!);
    }
    if (kind === 0 && name === undefined && !this.networks.empty) return this.ipEntry(value);
    const rec = this.recordOf(kind, nameKey, value);
    if (rec >= 0) {
      const tag = DENY_TAGS[this.records.tag[rec]!]!;
      return name === undefined ? { type, value, tag } : { type, name, value, tag };
    }
    if (kind !== 0 || this.networks.empty) return undefined;
    const net = this.networks.find(value);
    return net === undefined ? undefined : { type, value: net.value, tag: DENY_TAGS[this.records.tag[net.rec]!]! };
  }

  /** `get` of an IP address when networks are listed: its hash and its first 16 bits from one read of it. */
  private ipEntry(value: string): StoredEntry | undefined {
    const hash = keyHashAndTop16(0, value);
    const top = scanned.top;
    const rec = this.recordAt(hash, 0, '', value);
    if (rec >= 0) return { type: 'ip', value, tag: DENY_TAGS[this.records.tag[rec]!]! };
    if (!this.networks.mayHold(top)) return undefined;
    const net = this.networks.find(value, top);
    return net === undefined ? undefined : { type: 'ip', value: net.value, tag: DENY_TAGS[this.records.tag[net.rec]!]! };
  }

  /** Whether a record has not expired. */
  private live(rec: number): boolean {
    const at = this.records.expiresAt[rec]!;
    return at === 0 || at > Date.now();
  }

  /** An entry exactly as given (no network match), e.g. one an operator names to remove. */
  entry(e: ListEntry): StoredEntry | undefined {
    const s = slotOf(e);
    const rec = this.byKind[s.kind]?.get(s.name)?.get(s.value);
    return rec === undefined ? undefined : slotEntry(s, this.records.tag[rec]!, this.records.meta(rec));
  }

  /**
   * Counts a request the entry blocked (`e` as `get` returned it). A shared store learns the count
   * in batches: see {@link takeHits}.
   */
  hit(e: ListEntry, now = Date.now()): void {
    const s = shownSlot(e);
    const rec = this.byKind[s.kind]?.get(s.name)?.get(s.value);
    if (rec === undefined) return;
    this.records.hits[rec]!++;
    this.records.unsent[rec]!++;
    this.records.lastHit[rec] = now;
    this.unsentHits.set(rec, s);
  }

  /** Hits counted since the last call, per entry, for a shared store; they count as sent. */
  takeHits(): { entry: StoredEntry; hits: number; lastHit: number }[] {
    const out: { entry: StoredEntry; hits: number; lastHit: number }[] = [];
    for (const [rec, s] of this.unsentHits) {
      out.push({ entry: slotEntry(s, this.records.tag[rec]!, this.records.meta(rec)), hits: this.records.unsent[rec]!, lastHit: this.records.lastHit[rec]! });
      this.records.unsent[rec] = 0;
    }
    this.unsentHits.clear();
    return out;
  }

  /** The count a shared store holds for an entry (every node's hits): local hits not yet sent add to it. */
  setHits(e: ListEntry, hits: number, lastHit: number): void {
    const s = shownSlot(e);
    const rec = this.byKind[s.kind]?.get(s.name)?.get(s.value);
    if (rec === undefined) return;
    this.records.hits[rec] = hits + this.records.unsent[rec]!;
    if (lastHit > this.records.lastHit[rec]!) this.records.lastHit[rec] = lastHit;
  }

  /**
   * Removes the entries whose expiry has come (`now` or earlier) and returns them. Only entries
   * with an expiry are visited.
   */
  takeExpired(now = Date.now()): StoredEntry[] {
    const out: StoredEntry[] = [];
    if (this.earliest === 0 || this.earliest > now) return out;
    let earliest = 0;
    for (const [rec, key] of this.expiring) {
      const at = this.records.expiresAt[rec]!;
      if (at > now) {
        if (earliest === 0 || at < earliest) earliest = at;
        continue;
      }
      const s = parseSlotKey(key);
      out.push(slotEntry(s, this.records.tag[rec]!, this.records.meta(rec)));
    }
    this.earliest = earliest;
    for (const e of out) this.removeSlot(slotOf(e));
    return out;
  }

  /** The earliest expiry among the entries, or 0 when none expires. */
  get nextExpiry(): number {
    return this.expiring.size === 0 ? 0 : this.earliest;
  }

  private lookup(type: EntryType, value: string, name: string | undefined): number {
    if (needsDigest(value) || (type === 'ip' && !this.networks.empty)) {
      const e = this.get(type, value, name);
      return e ? DENY_TAGS.indexOf(e.tag) : -1;
    }
    return this.recordOf(typeIndex(type), name ?? '', value);
  }

  /**
   * The entry's record, or -1 when it is not listed or has expired: the recent hits, then the
   * filter, then the map.
   */
  private recordOf(kind: number, nameKey: string, value: string): number {
    return this.recordAt(keyHash(kind, nameKey, value), kind, nameKey, value);
  }

  /** {@link recordOf} with the key's hash already computed. */
  private recordAt(h: number, kind: number, nameKey: string, value: string): number {
    const slot = h >>> (32 - RECENT_BITS); // the filter indexes its blocks with the low bits
    if (this.recentHash[slot] === h && this.recentValue[slot] === value && this.recentKind[slot] === kind && this.recentName[slot] === nameKey) {
      const r = this.recentRec[slot]!;
      return this.records.expiresAt[r] === 0 || this.live(r) ? r : -1;
    }
    if (!this.filter.mayContain(h)) return -1;
    const rec = this.byKind[kind]?.get(nameKey)?.get(value);
    if (rec === undefined) return -1;
    if (this.records.expiresAt[rec] !== 0 && !this.live(rec)) return -1;
    this.recentHash[slot] = h;
    this.recentKind[slot] = kind;
    this.recentRec[slot] = rec;
    this.recentName[slot] = nameKey;
    this.recentValue[slot] = value;
    return rec;
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
   * Adds an entry; returns false when it was already there (or `meta` says it has already
   * expired). When its share is full, a decoy or automatic entry evicts the oldest of its own
   * share (automatic: identifiers before IPs); a manual one throws ERR_ASE_LIST_FULL. `restore`
   * (loading `lists.json`): a manual entry may go past its share into room the whole budget still
   * has, evicting detections if it must. `meta`: its expiry and history (an entry added now when absent).
   * `now`: the time, when the caller adds many entries at once (a clock read per entry was a tenth
   * of loading a million on a virtual machine).
   */
  add(entry: ListEntry, tag: DenyTag, opts: { restore?: boolean; meta?: EntryMeta; now?: number | undefined } = {}): boolean {
    const s = slotOf(entry);
    if (this.byKind[s.kind]?.get(s.name)?.has(s.value)) return false;
    const meta = opts.meta ?? {};
    const now = opts.now ?? Date.now();
    if (meta.expiresAt !== undefined && meta.expiresAt <= now) return false;
    const v4Net = s.kind === 0 && s.value.indexOf('/') > 0 && s.value.indexOf(':') < 0;
    const key = meta.expiresAt !== undefined ? slotKey(s) : undefined;
    const cost = slotCost(s) + RECORD_BYTES + this.records.textBytes(meta) + (v4Net ? V4_NET_BYTES : 0) + (key ? EXPIRY_BYTES + 2 * key.length : 0);
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
    const rec = this.records.alloc(tag, meta, now);
    this.records.cost[rec] = cost;
    values.set(s.value, rec);
    if (key) {
      this.expiring.set(rec, key);
      if (this.earliest === 0 || meta.expiresAt! < this.earliest) this.earliest = meta.expiresAt!;
    }
    if (this.filter.added >= this.filter.capacity) this.rebuildFilter(this.count + 1);
    else this.filter.add(keyHash(s.kind, s.name, s.value));
    if (share === 'decoy') this.decoys.add(slotKey(s));
    else if (share === 'automatic') (s.kind === 0 ? this.autoIps : this.autoIds).add(slotKey(s));
    this.budget.take(share, cost);
    this.count++;
    this.perType.set(entry.type, (this.perType.get(entry.type) ?? 0) + 1);
    this.perTypeTag[(s.kind % DIGESTED) * DENY_TAGS.length + TAG_INDEX.get(tag)!]! += 1;
    if (s.kind === 0) this.networks.count(s.value, rec, 1);
    return true;
  }

  remove(entry: ListEntry): boolean {
    return this.removeSlot(slotOf(entry));
  }

  private removeSlot(s: Slot): boolean {
    const values = this.byKind[s.kind]?.get(s.name);
    const rec = values?.get(s.value);
    if (!values || rec === undefined) return false;
    values.delete(s.value);
    this.forgetRecent(s);
    const share = this.shareFor(DENY_TAGS[this.records.tag[rec]!]!);
    if (share !== 'manual') {
      const key = slotKey(s);
      this.decoys.delete(key);
      this.autoIds.delete(key);
      this.autoIps.delete(key);
    }
    this.budget.take(share, -this.records.cost[rec]!);
    this.count--;
    const type = KIND_TYPES[s.kind % DIGESTED]!;
    this.perType.set(type, (this.perType.get(type) ?? 1) - 1);
    this.perTypeTag[(s.kind % DIGESTED) * DENY_TAGS.length + this.records.tag[rec]!]! -= 1;
    if (s.kind === 0) this.networks.count(s.value, rec, -1);
    this.expiring.delete(rec);
    this.unsentHits.delete(rec);
    this.records.release(rec);
    return true;
  }

  /** Removes every entry, or those whose tag satisfies `which`; returns how many. */
  clear(which?: (tag: DenyTag) => boolean): number {
    const doomed: Slot[] = [];
    this.forEachSlot((s, rec) => {
      if (!which || which(DENY_TAGS[this.records.tag[rec]!]!)) doomed.push(s);
    });
    for (const s of doomed) this.removeSlot(s);
    if (doomed.length > 0) this.rebuildFilter(this.count);
    return doomed.length;
  }

  private forEachSlot(fn: (s: Slot, rec: number) => void): void {
    for (const kind of this.kinds) {
      for (const [name, values] of this.byKind[kind]!) for (const [value, rec] of values) fn({ kind, name, value }, rec);
    }
  }

  /** A filter sized for twice `entries`, holding every key in the maps (amortised O(1) per add). */
  private rebuildFilter(entries: number): void {
    const filter = new PresenceFilter(entries * 2);
    this.forEachSlot((s) => filter.add(keyHash(s.kind, s.name, s.value)));
    this.filter = filter;
  }

  /**
   * Every entry (or those with `tag`), with its expiry and history when `withMeta` (what is
   * stored and shown to operators); digested ones show their value as `sha256:<hex>`. Expired
   * entries the sweep has not removed yet are left out.
   */
  list(tag?: DenyTag | 'all', withMeta = false): StoredEntry[] {
    const out: StoredEntry[] = [];
    const want = tag && tag !== 'all' ? TAG_INDEX.get(tag) : undefined;
    const now = Date.now();
    const r = this.records;
    this.forEachSlot((s, rec) => {
      if ((want === undefined || r.tag[rec] === want) && (r.expiresAt[rec] === 0 || r.expiresAt[rec]! > now)) out.push(slotEntry(s, r.tag[rec]!, withMeta ? r.meta(rec) : undefined));
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

/**
 * The slot of an entry as lists show it (what `get` and `list` return): a `sha256:<hex>` value
 * there is always a digested entry, never a raw value to digest again.
 */
function shownSlot(e: ListEntry): Slot {
  if (!e.digest && e.value.length === DIGEST_PREFIX.length + 64 && e.value.startsWith(DIGEST_PREFIX)) {
    return { kind: typeIndex(e.type) + DIGESTED, name: e.name ?? '', value: e.value.slice(DIGEST_PREFIX.length) };
  }
  return slotOf(e);
}
