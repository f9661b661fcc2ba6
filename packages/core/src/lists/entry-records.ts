import { DENY_TAGS, type DenyTag } from './entries';

/**
 * What a list knows about an entry beyond its identifier: when it expires and its history. All
 * times are milliseconds since the epoch; an absent `expiresAt` never expires.
 */
export interface EntryMeta {
  expiresAt?: number;
  addedAt?: number;
  /** How it came in: an operator (REST API, CLI, files) or a detection. */
  via?: EntryVia;
  /** The API whose request was detected (detections only). */
  api?: string;
  /** The detected request's `X-Request-Id`, as the client or a proxy in front sent it (detections only). */
  requestId?: string;
  /** Requests this entry blocked, and when it last did. */
  hits?: number;
  lastHit?: number;
}

export const ENTRY_VIAS = ['management', 'detection'] as const;
export type EntryVia = (typeof ENTRY_VIAS)[number];

/** Longest API id or request id kept in an entry's history: a client sends the request id. */
export const MAX_HISTORY_TEXT = 128;

/** Bytes one record costs beyond its strings: the fixed-width columns below. */
export const RECORD_BYTES = 48;

const MAX_TIME = 8.64e15; // the largest time a Date can hold

const time = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_TIME ? Math.floor(v) : undefined);
// eslint-disable-next-line no-control-regex
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= MAX_HISTORY_TEXT && !/[\x00-\x1f\x7f]/.test(v) ? v : undefined);

/**
 * The history and expiry fields of a stored entry as read from a file, Redis or another node:
 * anything malformed is dropped (an old file without them loads as before).
 */
export function metaOf(raw: unknown): EntryMeta {
  if (!raw || typeof raw !== 'object') return {};
  const r = raw as Record<string, unknown>;
  const out: EntryMeta = {};
  const expiresAt = time(r['expiresAt']);
  if (expiresAt !== undefined) out.expiresAt = expiresAt;
  const addedAt = time(r['addedAt']);
  if (addedAt !== undefined) out.addedAt = addedAt;
  if ((ENTRY_VIAS as readonly unknown[]).includes(r['via'])) out.via = r['via'] as EntryVia;
  const api = text(r['api']);
  if (api !== undefined) out.api = api;
  const requestId = text(r['requestId']);
  if (requestId !== undefined) out.requestId = requestId;
  const hits = r['hits'];
  if (typeof hits === 'number' && Number.isSafeInteger(hits) && hits > 0) out.hits = hits;
  const lastHit = time(r['lastHit']);
  if (lastHit !== undefined) out.lastHit = lastHit;
  return out;
}

/**
 * Entries' tags, expiry and history in columns indexed by a record number, which is what a list's
 * maps hold: a small integer per entry, so a lookup stays an integer-valued map probe, and a
 * million entries cost RECORD_BYTES each rather than an object each. Freed numbers are reused.
 */
export class EntryRecords {
  tag = new Uint8Array(16);
  expiresAt = new Float64Array(16);
  addedAt = new Float64Array(16);
  hits = new Float64Array(16);
  lastHit = new Float64Array(16);
  /** Hits not yet sent to a shared store (see ClientList.takeHits). */
  unsent = new Float64Array(16);
  via = new Uint8Array(16);
  cost = new Float64Array(16);
  api: (string | undefined)[] = [];
  requestId: (string | undefined)[] = [];
  private next = 0;
  private readonly free: number[] = [];

  alloc(tag: DenyTag, meta: EntryMeta, now: number): number {
    const r = this.free.pop() ?? this.next++;
    if (r >= this.tag.length) this.grow();
    this.tag[r] = DENY_TAGS.indexOf(tag);
    this.expiresAt[r] = meta.expiresAt ?? 0;
    this.addedAt[r] = meta.addedAt ?? now;
    this.hits[r] = meta.hits ?? 0;
    this.lastHit[r] = meta.lastHit ?? 0;
    this.unsent[r] = 0;
    this.via[r] = ENTRY_VIAS.indexOf(meta.via ?? 'management');
    this.api[r] = meta.api;
    this.requestId[r] = meta.requestId;
    return r;
  }

  release(r: number): void {
    this.api[r] = undefined;
    this.requestId[r] = undefined;
    this.free.push(r);
  }

  /** Bytes of a record's strings (its fixed columns are RECORD_BYTES). */
  textBytes(meta: EntryMeta): number {
    return 2 * ((meta.api?.length ?? 0) + (meta.requestId?.length ?? 0));
  }

  meta(r: number): EntryMeta {
    const out: EntryMeta = {};
    if (this.expiresAt[r]) out.expiresAt = this.expiresAt[r]!;
    out.addedAt = this.addedAt[r]!;
    out.via = ENTRY_VIAS[this.via[r]!]!;
    if (this.api[r] !== undefined) out.api = this.api[r]!;
    if (this.requestId[r] !== undefined) out.requestId = this.requestId[r]!;
    out.hits = this.hits[r]!;
    if (this.lastHit[r]) out.lastHit = this.lastHit[r]!;
    return out;
  }

  private grow(): void {
    const n = this.tag.length * 2;
    const more = <T extends Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.tag = more(this.tag);
    this.expiresAt = more(this.expiresAt);
    this.addedAt = more(this.addedAt);
    this.hits = more(this.hits);
    this.lastHit = more(this.lastHit);
    this.unsent = more(this.unsent);
    this.via = more(this.via);
    this.cost = more(this.cost);
  }
}
