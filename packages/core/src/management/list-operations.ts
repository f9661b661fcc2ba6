import { persistFailed } from '../errors';
import type { EnforcerEventSink } from '../events';
import type { ClientList, StoredEntry } from '../lists/client-list';
import { ASE_DETECTED_TAGS, type DenyTag, type ListEntry, canonicalEntry } from '../lists/entries';
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
export class ListOperations {
  constructor(
    private readonly denyList: ClientList,
    private readonly allowList: ClientList,
    private readonly store: ListStore,
    private readonly logger: Logger,
    private readonly events?: EnforcerEventSink,
  ) {}

  /** Tells listeners of a change made here, once it is stored: a change taken back is not reported. */
  private report(op: 'listed' | 'unlisted', name: ListName, entries: readonly StoredEntry[]): void {
    if (!this.events || this.events.listenerCount(op) === 0) return;
    const list = name === 'blacklist' ? 'deny' : 'allow';
    for (const e of entries) this.events.emit(op, listEvent(op, list, 'management', e));
  }

  /** Adds a deny-list entry (tag `manual` unless given); resolves once persisted. */
  addDeny(input: ListEntry, tag: DenyTag = 'manual'): Promise<boolean> {
    return this.add('blacklist', input, tag);
  }

  removeDeny(input: ListEntry): Promise<boolean> {
    return this.remove('blacklist', input);
  }

  /** Clears the deny list, or only entries with the given tag. */
  clearDeny(tag?: DenyTag): Promise<number> {
    return this.clear('blacklist', tag ? [tag] : undefined);
  }

  addAllow(input: ListEntry): Promise<boolean> {
    return this.add('whitelist', input, 'manual');
  }

  removeAllow(input: ListEntry): Promise<boolean> {
    return this.remove('whitelist', input);
  }

  private listOf(name: ListName): ClientList {
    return name === 'blacklist' ? this.denyList : this.allowList;
  }

  private async add(name: ListName, input: ListEntry, tag: DenyTag): Promise<boolean> {
    const list = this.listOf(name);
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const added = list.add(entry, tag);
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
      await this.persistOrUndo({ list: name, op: 'remove', entry: was }, () => list.add(entry, was.tag));
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
    const doomed = list.list().filter((e) => !which || which(e.tag));
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
      if (change.op === 'add') list.add(canonicalEntry(change.entry), change.entry.tag, { restore: true });
      else if (change.op === 'remove') list.remove(canonicalEntry(change.entry));
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
