import type { QuotaStore, SlotLease } from './types';

/**
 * Connection slots of this process: a count per key, answered synchronously. Leases never expire
 * here (a process that dies takes its counts with it); `leaseMs` matters only to shared stores.
 * A key whose count drops to zero is forgotten, so memory follows the slots held, not the keys seen.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly localKeys = true;
  private readonly held = new Map<string, number>();

  tryAcquire(key: string, quota: number, _leaseMs: number): SlotLease | undefined {
    const n = this.held.get(key) ?? 0;
    if (n >= quota) return undefined;
    this.held.set(key, n + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.held.get(key) ?? 1) - 1;
        if (left > 0) this.held.set(key, left);
        else this.held.delete(key);
      },
    };
  }

  inFlight(key: string): number {
    return this.held.get(key) ?? 0;
  }
}
