import { StickyTable } from '../upstream/sticky-sessions';
import type { StickyBudget, StickyStore } from './types';

/** Budget of an API that was never configured: the `api_memory_size` and idle time defaults. */
const DEFAULT_BUDGET: StickyBudget = { maxBytes: 128 * 1024 * 1024, idleMs: 0 };

/**
 * Sticky pins of this process, answered synchronously: one {@link StickyTable} per API, bounded by
 * that API's `api_memory_size` and expired after its `cookie_idle_timeout` (given by `configure`).
 * A changed budget starts the API's table afresh, as a changed cookie setting always has.
 */
export class MemoryStickyStore implements StickyStore {
  readonly localKeys = true;
  private readonly tables = new Map<string, { table: StickyTable; budget: StickyBudget }>();

  configure(api: string, budget: StickyBudget | undefined): void {
    if (budget === undefined) {
      this.tables.delete(api);
      return;
    }
    const t = this.tables.get(api);
    if (t && t.budget.maxBytes === budget.maxBytes && t.budget.idleMs === budget.idleMs) return;
    this.tables.set(api, { table: new StickyTable(budget), budget: { ...budget } });
  }

  get(api: string, cookie: string): string | undefined {
    return this.tables.get(api)?.table.get(cookie);
  }

  set(api: string, cookie: string, serverId: string): void {
    let t = this.tables.get(api);
    if (!t) {
      this.configure(api, DEFAULT_BUDGET);
      t = this.tables.get(api)!;
    }
    t.table.set(cookie, serverId);
  }

  delete(api: string, cookie: string): void {
    this.tables.get(api)?.table.delete(cookie);
  }

  dropServer(api: string, serverId: string): void {
    this.tables.get(api)?.table.dropServer(serverId);
  }

  /** One API's pins: how many, their estimated bytes, and the budget (`api_memory_size`). */
  stats(api: string): { size: number; bytes: number; maxBytes: number } | undefined {
    const t = this.tables.get(api);
    return t && { size: t.table.size, bytes: t.table.bytes, maxBytes: t.budget.maxBytes };
  }

  async close(): Promise<void> {
    this.tables.clear();
  }
}
