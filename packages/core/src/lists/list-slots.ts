import { createHash } from 'node:crypto';
import { DENY_TAGS, DIGEST_OVER, DIGEST_PREFIX, type DenyTag, type EntryType, type ListEntry } from './entries';
import { type EntryMeta, RECORD_BYTES } from './entry-records';

/**
 * How a list entry is stored: its slot (type index, name key, value, digested when long) and what
 * it costs in memory.
 */

/** An entry as a list holds it: its tag, and (when read from a list) its expiry and history. */
export interface StoredEntry extends ListEntry, EntryMeta {
  tag: DenyTag;
}

/** Characters a digested value occupies in the maps (hex SHA-256). */
export const DIGEST_CHARS = 64;

/**
 * Rough bytes one entry without expiry or history text costs in memory (value string, name, map
 * slot, record); used to honour
 * attack_list_memory. A long value is kept as its digest, so it costs what the digest costs.
 */
export function entryCost(e: ListEntry): number {
  const chars = e.digest || e.value.length > DIGEST_OVER ? DIGEST_CHARS : e.value.length;
  return 64 + 2 * (chars + (e.name?.length ?? 0)) + RECORD_BYTES;
}

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

/** Slot kinds at and above this hold digested values (kind = typeIndex + DIGESTED). */
export const DIGESTED = 5;
export const KIND_TYPES: readonly EntryType[] = ['ip', 'token', 'username', 'cookie', 'api_key'];

/** What a request's value must look like to be hashed: long, or shaped like a digest reference. */
export function needsDigest(value: string): boolean {
  return value.length > DIGEST_OVER || (value.length === DIGEST_PREFIX.length + DIGEST_CHARS && value.startsWith(DIGEST_PREFIX));
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Where an entry lives: slot kind, name key and the stored value. A raw value that looks like a
 * digest reference is itself digested, so it can never be read back (from lists.json, or the
 * management API) as the digest of something else.
 */
export interface Slot {
  kind: number;
  name: string;
  value: string;
}

export function slotOf(e: ListEntry): Slot {
  const kind = typeIndex(e.type);
  const name = e.name ?? '';
  if (e.digest) return { kind: kind + DIGESTED, name, value: e.value };
  if (needsDigest(e.value)) return { kind: kind + DIGESTED, name, value: sha256Hex(e.value) };
  return { kind, name, value: e.value };
}

/** Eviction-queue key of a slot; the name's length first, since a value may hold any character. */
export function slotKey(s: Slot): string {
  return `${String.fromCharCode(0x30 + s.kind)}${s.name.length}:${s.name}${s.value}`;
}

export function parseSlotKey(key: string): Slot {
  const colon = key.indexOf(':');
  const nameLen = Number(key.slice(1, colon));
  return { kind: key.charCodeAt(0) - 0x30, name: key.slice(colon + 1, colon + 1 + nameLen), value: key.slice(colon + 1 + nameLen) };
}

export function slotEntry(s: Slot, tagIdx: number, meta?: EntryMeta): StoredEntry {
  const digested = s.kind >= DIGESTED;
  const type = KIND_TYPES[digested ? s.kind - DIGESTED : s.kind]!;
  const value = digested ? `${DIGEST_PREFIX}${s.value}` : s.value;
  const tag = DENY_TAGS[tagIdx]!;
  const e: StoredEntry = s.name === '' ? { type, value, tag } : { type, name: s.name, value, tag };
  return meta ? Object.assign(e, meta) : e;
}

export function slotCost(s: Slot): number {
  return 64 + 2 * (s.value.length + s.name.length);
}
