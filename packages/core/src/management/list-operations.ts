import { MAX_ENTRY_TTL_S } from '../config/ase-conf-keys';
import { listEntryInvalid, persistFailed } from '../errors';
import type { EnforcerEventSink } from '../events';
import type { ClientList, StoredEntry } from '../lists/client-list';
import { ASE_DETECTED_TAGS, type DenyTag, type ListEntry, canonicalEntry } from '../lists/entries';
import type { EntryMeta } from '../lists/entry-records';
import { putEntry } from '../lists/journal-format';
import { listEvent } from '../security-event';
import type { ListChange, ListName, ListStore } from '../stores/types';
import type { Logger } from '../types';

/**
 * The deny and allow lists' changes: each one is made in the replica the request path reads, then
 * made durable through the list store. A manual change resolves once acknowledged and is taken
 * back when it cannot be, so what is live always matches what is stored; a detection is stored in
 * the background.
 */
/** How often expired entries are removed and, with a shared store, hits are sent to it. */
export const LIST_SWEEP_MS = 1000;

/** Options of a manual add: `ttl`, the entry's lifetime in seconds (none: it never expires). */
export interface AddOptions {
  ttl?: number;
}

/** A `ttl` as given to the REST API, the CLI or code: whole seconds from 1 to ten years. */
export function checkTtl(ttl: unknown): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_ENTRY_TTL_S) {
    throw listEntryInvalid(`ttl must be a whole number of seconds from 1 to ${MAX_ENTRY_TTL_S} (10 years)`);
  }
  return ttl;
}

export class ListOperations {
  private timer: NodeJS.Timeout | undefined;
  private flushingHits: Promise<void> | undefined;

  constructor(
    private readonly denyList: ClientList,
    private readonly allowList: ClientList,
    private readonly store: ListStore,
    private readonly logger: Logger,
    private readonly events?: EnforcerEventSink,
  ) {}

  /**
   * Starts the sweep: every LIST_SWEEP_MS, entries whose expiry came are removed from memory and
   * storage (they stopped matching at their deadline already), and hits go to a shared store.
   * The timer does not keep the process alive; `close` stops it.
   */
  startSweeps(interval = LIST_SWEEP_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  /** Removes expired entries (stored in the background, like detections) and sends hits to a shared store. */
  async sweep(now = Date.now()): Promise<void> {
    for (const name of ['blacklist', 'whitelist'] as const) {
      const list = this.listOf(name);
      const gone = list.takeExpired(now);
      for (const entry of gone) this.record({ list: name, op: 'remove', entry, expired: true });
      this.report('unlisted', name, gone, 'expiry');
    }
    await this.flushHits();
  }

  /** Sends the hits counted since the last batch to a shared store, and takes its totals. */
  flushHits(): Promise<void> {
    if (!this.store.addHits) return Promise.resolve();
    if (this.flushingHits) return this.flushingHits;
    const addHits = this.store.addHits.bind(this.store);
    const run = async (): Promise<void> => {
      for (const name of ['blacklist', 'whitelist'] as const) {
        const list = this.listOf(name);
        const batch = list.takeHits();
        if (batch.length === 0) continue;
        try {
          for (const t of await addHits(name, batch)) list.setHits(t.entry, t.hits, t.lastHit);
        } catch (err) {
          // Lost with the batch: the counts are approximate (docs/lists.md).
          this.logger.error(`could not store list hits: ${(err as Error).message}`);
        }
      }
    };
    this.flushingHits = run().finally(() => (this.flushingHits = undefined));
    return this.flushingHits;
  }

  /**
   * Hit counts as a shared store has them (every node's batches), for a list page: this node's
   * hits are sent first. Without a shared store, the counts in memory are already complete.
   */
  async refreshHits(): Promise<void> {
    await this.flushHits();
    if (!this.store.hitTotals) return;
    for (const name of ['blacklist', 'whitelist'] as const) {
      const list = this.listOf(name);
      try {
        for (const t of await this.store.hitTotals(name)) list.setHits(t.entry, t.hits, t.lastHit);
      } catch (err) {
        this.logger.error(`could not read list hits: ${(err as Error).message}`);
      }
    }
  }

  /** Stops the sweep. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Tells listeners of a change made here, once it is stored: a change taken back is not reported. */
  private report(op: 'listed' | 'unlisted', name: ListName, entries: readonly StoredEntry[], source: 'management' | 'expiry' = 'management'): void {
    if (!this.events || this.events.listenerCount(op) === 0) return;
    const list = name === 'blacklist' ? 'deny' : 'allow';
    for (const e of entries) this.events.emit(op, listEvent(op, list, source, e));
  }

  /** Adds a deny-list entry (tag `manual` unless given); resolves once persisted. */
  addDeny(input: ListEntry, tag: DenyTag = 'manual', opts: AddOptions = {}): Promise<boolean> {
    return this.add('blacklist', input, tag, opts);
  }

  removeDeny(input: ListEntry): Promise<boolean> {
    return this.remove('blacklist', input);
  }

  /** Clears the deny list, or only entries with the given tag. */
  clearDeny(tag?: DenyTag): Promise<number> {
    return this.clear('blacklist', tag ? [tag] : undefined);
  }

  addAllow(input: ListEntry, opts: AddOptions = {}): Promise<boolean> {
    return this.add('whitelist', input, 'manual', opts);
  }

  removeAllow(input: ListEntry): Promise<boolean> {
    return this.remove('whitelist', input);
  }

  private listOf(name: ListName): ClientList {
    return name === 'blacklist' ? this.denyList : this.allowList;
  }

  private async add(name: ListName, input: ListEntry, tag: DenyTag, opts: AddOptions): Promise<boolean> {
    const list = this.listOf(name);
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const now = Date.now();
    const meta: EntryMeta = { addedAt: now, via: 'management' };
    if (opts.ttl !== undefined) meta.expiresAt = now + checkTtl(opts.ttl) * 1000;
    const added = list.add(entry, tag, { meta });
    if (added) {
      const stored = list.entry(entry)!;
      await this.persistOrUndo({ list: name, op: 'add', entry: stored }, () => list.remove(entry));
      this.report('listed', name, [stored]);
    }
    return added;
  }

  private async remove(name: ListName, input: ListEntry): Promise<boolean> {
    const list = this.listOf(name);
    const entry = canonicalEntry(input);
    const was = list.entry(entry);
    const removed = list.remove(entry);
    if (removed && was) {
      await this.persistOrUndo({ list: name, op: 'remove', entry: was }, () => putEntry(list, was));
      this.report('unlisted', name, [was]);
    }
    return removed;
  }

  clearAllow(): Promise<number> {
    return this.clear('whitelist');
  }

  /** Removes every ASE-detected deny-list entry (detection switched off), persisted. */
  async clearDetections(): Promise<void> {
    await this.clear('blacklist', [...ASE_DETECTED_TAGS], true);
  }

  /** Clears a list (or its entries with one of `tags`); a clear that cannot be persisted puts the entries back. */
  private async clear(name: ListName, tags?: DenyTag[], onlyIfAny = false): Promise<number> {
    const list = this.listOf(name);
    const which = tags ? (t: DenyTag) => tags.includes(t) : undefined;
    const doomed = list.list(undefined, true).filter((e) => !which || which(e.tag));
    if (doomed.length === 0 && onlyIfAny) return 0;
    const n = list.clear(which);
    await this.persistOrUndo({ list: name, op: 'clear', ...(tags ? { tags } : {}) }, () => {
      for (const e of doomed) putEntry(list, e);
    });
    this.report('unlisted', name, doomed);
    return n;
  }

  /** A detection's change, stored in the background: the request does not wait for the store. */
  record(change: ListChange): void {
    if (this.store.record) this.store.record(change);
    else this.store.apply(change).catch((err: unknown) => this.logger.error(`could not persist lists: ${(err as Error).message}`));
  }

  /** A change another writer of a shared store made: applied to the replica, not stored again. */
  applyRemote(change: ListChange): void {
    const list = this.listOf(change.list);
    try {
      if (change.op === 'add') putEntry(list, change.entry);
      else if (change.op === 'remove') {
        const entry = canonicalEntry(change.entry);
        // An expiry removes that entry only: not one added again since with another deadline.
        if (change.expired && list.entry(entry)?.expiresAt !== change.entry.expiresAt) return;
        list.remove(entry);
      }
      else list.clear(change.tags ? (t) => change.tags!.includes(t) : undefined);
    } catch (err) {
      this.logger.error(`could not apply a list change from the store: ${(err as Error).message}`);
    }
  }

  /** A change that cannot be persisted is taken back, so what is live always matches what is stored. */
  private async persistOrUndo(change: ListChange, undo: () => unknown): Promise<void> {
    try {
      await this.persistOrThrow(change);
    } catch (err) {
      undo();
      throw err;
    }
  }

  private async persistOrThrow(change: ListChange): Promise<void> {
    try {
      await this.store.apply(change);
    } catch (err) {
      throw persistFailed('lists', err);
    }
  }
}
