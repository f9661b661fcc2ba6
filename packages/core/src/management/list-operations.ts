import { persistFailed } from '../errors';
import type { ClientList } from '../lists/client-list';
import { ASE_DETECTED_TAGS, type DenyTag, type ListEntry, canonicalEntry } from '../lists/entries';
import type { ListChange, ListStore } from '../stores/types';
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
  ) {}

  /** Adds a deny-list entry (tag `manual` unless given); resolves once persisted. */
  async addDeny(input: ListEntry, tag: DenyTag = 'manual'): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const added = this.denyList.add(entry, tag);
    if (added) await this.persistOrUndo({ list: 'blacklist', op: 'add', entry: this.denyList.entry(entry)! }, () => this.denyList.remove(entry));
    return added;
  }

  async removeDeny(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const was = this.denyList.entry(entry);
    const removed = this.denyList.remove(entry);
    if (removed && was) await this.persistOrUndo({ list: 'blacklist', op: 'remove', entry: was }, () => this.denyList.add(entry, was.tag));
    return removed;
  }

  /** Clears the deny list, or only entries with the given tag. */
  async clearDeny(tag?: DenyTag): Promise<number> {
    const n = this.denyList.clear(tag ? (t) => t === tag : undefined);
    await this.persistOrThrow({ list: 'blacklist', op: 'clear', ...(tag ? { tags: [tag] } : {}) });
    return n;
  }

  async addAllow(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const added = this.allowList.add(entry, 'manual');
    if (added) await this.persistOrUndo({ list: 'whitelist', op: 'add', entry: this.allowList.entry(entry)! }, () => this.allowList.remove(entry));
    return added;
  }

  async removeAllow(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const was = this.allowList.entry(entry);
    const removed = this.allowList.remove(entry);
    if (removed && was) await this.persistOrUndo({ list: 'whitelist', op: 'remove', entry: was }, () => this.allowList.add(entry, 'manual'));
    return removed;
  }

  async clearAllow(): Promise<number> {
    const n = this.allowList.clear();
    await this.persistOrThrow({ list: 'whitelist', op: 'clear' });
    return n;
  }

  /** Removes every ASE-detected deny-list entry (detection switched off), persisted. */
  async clearDetections(): Promise<void> {
    if (this.denyList.clear((t) => ASE_DETECTED_TAGS.has(t)) > 0) await this.persistOrThrow({ list: 'blacklist', op: 'clear', tags: [...ASE_DETECTED_TAGS] });
  }

  /** A detection's change, stored in the background: the request does not wait for the store. */
  record(change: ListChange): void {
    this.store.apply(change).catch((err: unknown) => this.logger.error(`could not persist lists: ${(err as Error).message}`));
  }

  /** A change another writer of a shared store made: applied to the replica, not stored again. */
  applyRemote(change: ListChange): void {
    const list = change.list === 'blacklist' ? this.denyList : this.allowList;
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
