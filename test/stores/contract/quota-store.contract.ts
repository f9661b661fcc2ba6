import type { QuotaStore, SlotLease } from '../../../packages/core/src/stores/types';
import { uniqueKey } from './support';

export interface QuotaStoreHandle {
  store: QuotaStore;
  cleanup(): Promise<void>;
}

const LEASE_MS = 10_000;

/** What every QuotaStore must do: at most `quota` slots held per key; a release frees exactly one, once. */
export function quotaStoreContract(name: string, open: () => Promise<QuotaStoreHandle>): void {
  describe(`QuotaStore contract: ${name}`, () => {
    let h: QuotaStoreHandle;
    const held: SlotLease[] = [];
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      for (const l of held.splice(0)) l.release();
      await h.cleanup();
    });

    async function take(key: string, quota: number): Promise<SlotLease | undefined> {
      const lease = await h.store.tryAcquire(key, quota, LEASE_MS);
      if (lease) held.push(lease);
      return lease;
    }

    test('the quota holds: the (quota+1)th acquire fails', async () => {
      const k = uniqueKey('quota');
      for (let i = 0; i < 3; i++) expect(await take(k, 3)).toBeDefined();
      expect(await take(k, 3)).toBeUndefined();
      expect(await h.store.inFlight(k)).toBe(3);
    });

    test('a release frees exactly one slot, and releasing twice frees no more', async () => {
      const k = uniqueKey('release');
      const leases = [await take(k, 2), await take(k, 2)];
      leases[0]!.release();
      leases[0]!.release();
      expect(await h.store.inFlight(k)).toBe(1);
      expect(await take(k, 2)).toBeDefined();
      expect(await take(k, 2)).toBeUndefined();
      for (const l of leases) l!.release();
      expect(await h.store.inFlight(k)).toBe(1);
    });

    test('keys are independent', async () => {
      const a = uniqueKey('a');
      const b = uniqueKey('b');
      expect(await take(a, 1)).toBeDefined();
      expect(await take(a, 1)).toBeUndefined();
      expect(await take(b, 1)).toBeDefined();
      expect(await h.store.inFlight(b)).toBe(1);
      expect(await h.store.inFlight(uniqueKey('never'))).toBe(0);
    });

    test('a quota of 0 gives no slot; a larger quota on the same key lets more in', async () => {
      const k = uniqueKey('zero');
      expect(await take(k, 0)).toBeUndefined();
      expect(await take(k, 1)).toBeDefined();
      expect(await take(k, 1)).toBeUndefined();
      expect(await take(k, 2)).toBeDefined();
      expect(await h.store.inFlight(k)).toBe(2);
    });

    test('every slot released: nothing in flight', async () => {
      const k = uniqueKey('all');
      const leases = await Promise.all([take(k, 5), take(k, 5), take(k, 5)]);
      for (const l of leases) l!.release();
      expect(await h.store.inFlight(k)).toBe(0);
    });
  });
}
