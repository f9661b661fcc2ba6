/**
 * Cookie persistence (`cookie_persistence_enabled`): which server a session cookie value is pinned
 * to, bounded by the API's `api_memory_size` and expired after `cookie_idle_timeout` without use.
 */

/** Estimated bytes of one entry besides its strings: Map slot, entry object, two numbers. */
export const ENTRY_OVERHEAD_BYTES = 96;
/** Longest cookie value pinned; longer ones (beyond what browsers store) are not tracked. */
export const MAX_STICKY_VALUE_LENGTH = 4096;
/** Expired entries removed from the LRU end per `get`/`set`, to keep each call O(1) amortised. */
const PRUNE_PER_CALL = 16;

interface Entry {
  serverId: string;
  lastUsed: number;
  bytes: number;
}

/**
 * Estimated memory of one entry: `96 + 2 × cookieValue.length + serverId.length` bytes (UTF-16
 * key string; server ids are shared strings, counted once per entry for the pointer and slack).
 */
export function stickyEntryBytes(cookieValue: string, serverId: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * cookieValue.length + serverId.length;
}

/**
 * Cookie value → server id, least-recently-used first (Map insertion order; a hit re-inserts).
 * When the estimated size passes `maxBytes`, the least recently used entries are dropped. An entry
 * idle for longer than `idleMs` is gone (`idleMs <= 0`: no idle expiry). No timers: expired entries
 * are removed when looked up, and a few at a time from the LRU end on every `get`/`set`
 * (call {@link StickyTable.sweep} to drop them all).
 */
export class StickyTable {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  private readonly maxBytes: number;
  private readonly idleMs: number;

  constructor(opts: { maxBytes: number; idleMs: number }) {
    this.maxBytes = Math.max(0, opts.maxBytes);
    this.idleMs = opts.idleMs;
  }

  /** The server pinned to this cookie value, refreshing its last use; undefined when none or idle too long. */
  get(cookieValue: string, now = Date.now()): string | undefined {
    this.prune(now);
    const e = this.entries.get(cookieValue);
    if (!e) return undefined;
    if (this.expired(e, now)) {
      this.remove(cookieValue, e);
      return undefined;
    }
    e.lastUsed = Math.max(e.lastUsed, now);
    this.entries.delete(cookieValue);
    this.entries.set(cookieValue, e);
    return e.serverId;
  }

  /** Pins `cookieValue` to `serverId` (replacing an earlier pin), then evicts LRU entries over the budget. */
  set(cookieValue: string, serverId: string, now = Date.now()): void {
    if (cookieValue.length === 0 || cookieValue.length > MAX_STICKY_VALUE_LENGTH) return;
    this.prune(now);
    const old = this.entries.get(cookieValue);
    if (old) this.remove(cookieValue, old);
    const e: Entry = { serverId, lastUsed: now, bytes: stickyEntryBytes(cookieValue, serverId) };
    this.entries.set(cookieValue, e);
    this.total += e.bytes;
    while (this.total > this.maxBytes && this.entries.size > 0) {
      const first = this.entries.entries().next();
      if (first.done) break;
      this.remove(first.value[0], first.value[1]);
    }
  }

  delete(cookieValue: string): boolean {
    const e = this.entries.get(cookieValue);
    if (!e) return false;
    this.remove(cookieValue, e);
    return true;
  }

  /** Forgets every pin to `serverId` (server deleted); returns how many. */
  dropServer(serverId: string): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.serverId === serverId) {
        this.remove(k, e);
        n++;
      }
    }
    return n;
  }

  /** Drops every idle-expired entry; returns how many. */
  sweep(now = Date.now()): number {
    return this.prune(now, Infinity);
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held (sum of {@link stickyEntryBytes}). */
  get bytes(): number {
    return this.total;
  }

  private expired(e: Entry, now: number): boolean {
    return this.idleMs > 0 && now - e.lastUsed > this.idleMs;
  }

  /** Removes expired entries from the LRU end (oldest use first), stopping at the first live one. */
  private prune(now: number, max = PRUNE_PER_CALL): number {
    let n = 0;
    if (this.idleMs <= 0) return 0;
    while (n < max) {
      const first = this.entries.entries().next();
      if (first.done || !this.expired(first.value[1], now)) break;
      this.remove(first.value[0], first.value[1]);
      n++;
    }
    return n;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.total -= e.bytes;
  }
}

/** Set-Cookie headers read from one response, and characters read of each. */
export const MAX_SET_COOKIE_HEADERS = 64;
export const MAX_SET_COOKIE_LENGTH = 8192;

export type SetCookieAction = { kind: 'set'; value: string } | { kind: 'delete' };

/**
 * What the backend did to cookie `name` in its `Set-Cookie` headers: set it (value as sent, double
 * quotes removed the way `parseCookies` removes them, attributes ignored), delete it (`Max-Age<=0`
 * or an `Expires` in the past, or an empty value), or nothing (undefined). The last header naming
 * the cookie wins, as in a browser. Names are case-sensitive; at most
 * {@link MAX_SET_COOKIE_HEADERS} headers of at most {@link MAX_SET_COOKIE_LENGTH} characters are read.
 */
export function readSetCookie(setCookie: string | string[] | undefined, name: string, now = Date.now()): SetCookieAction | undefined {
  if (setCookie === undefined || name.length === 0) return undefined;
  const list = Array.isArray(setCookie) ? setCookie : [setCookie];
  let action: SetCookieAction | undefined;
  const n = Math.min(list.length, MAX_SET_COOKIE_HEADERS);
  for (let i = 0; i < n; i++) {
    const raw = list[i];
    if (typeof raw !== 'string') continue;
    const a = parseOne(raw.length > MAX_SET_COOKIE_LENGTH ? raw.slice(0, MAX_SET_COOKIE_LENGTH) : raw, name, now);
    if (a) action = a;
  }
  return action;
}

/** The value the backend set for cookie `name`; undefined when absent or deleted. */
export function cookieFromSetCookie(setCookie: string | string[] | undefined, name: string, now = Date.now()): string | undefined {
  const a = readSetCookie(setCookie, name, now);
  return a?.kind === 'set' ? a.value : undefined;
}

function parseOne(header: string, name: string, now: number): SetCookieAction | undefined {
  const semi = header.indexOf(';');
  const pair = semi < 0 ? header : header.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined;
  if (pair.slice(0, eq).trim() !== name) return undefined;
  let value = pair.slice(eq + 1).trim();
  if (value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) value = value.slice(1, -1);
  if (value.length === 0) return { kind: 'delete' };

  let maxAge: number | undefined;
  let expires: number | undefined;
  if (semi >= 0) {
    for (const attr of header.slice(semi + 1).split(';')) {
      const aeq = attr.indexOf('=');
      const key = (aeq < 0 ? attr : attr.slice(0, aeq)).trim().toLowerCase();
      const val = aeq < 0 ? '' : attr.slice(aeq + 1).trim();
      if (key === 'max-age' && /^-?[0-9]{1,15}$/.test(val)) maxAge = Number(val);
      else if (key === 'expires') {
        const t = Date.parse(val);
        if (Number.isFinite(t)) expires = t;
      }
    }
  }
  // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
  if (maxAge !== undefined) return maxAge <= 0 ? { kind: 'delete' } : { kind: 'set', value };
  if (expires !== undefined && expires <= now) return { kind: 'delete' };
  return { kind: 'set', value };
}
