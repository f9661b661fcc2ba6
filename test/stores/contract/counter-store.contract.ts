import type { CounterStore } from '../../../packages/core/src/stores/types';
import { sleep, uniqueKey } from './support';

export interface CounterStoreHandle {
  store: CounterStore;
  cleanup(): Promise<void>;
}

/**
 * What every CounterStore must do: a fixed window per key that starts with its first point and
 * lasts `windowMs` (real time: short windows, no fake timers, so a remote store is tested as it runs).
 */
export function counterStoreContract(name: string, open: () => Promise<CounterStoreHandle>): void {
  describe(`CounterStore contract: ${name}`, () => {
    let h: CounterStoreHandle;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    test('consume counts the points of a window and tells when it ends', async () => {
      const k = uniqueKey('count');
      const first = await h.store.consume(k, 1, 1000);
      expect(first.consumed).toBe(1);
      expect(first.resetMs).toBeGreaterThan(800);
      expect(first.resetMs).toBeLessThanOrEqual(1000);
      expect((await h.store.consume(k, 1, 1000)).consumed).toBe(2);
      expect((await h.store.consume(k, 5, 1000)).consumed).toBe(7);
      const now = await h.store.get(k);
      expect(now?.consumed).toBe(7);
      expect(now!.resetMs).toBeGreaterThan(0);
      expect(now!.resetMs).toBeLessThanOrEqual(1000);
    });

    test('keys are counted apart', async () => {
      const a = uniqueKey('a');
      const b = uniqueKey('b');
      await h.store.consume(a, 3, 1000);
      expect((await h.store.consume(b, 1, 1000)).consumed).toBe(1);
      expect((await h.store.get(a))?.consumed).toBe(3);
      expect(await h.store.get(uniqueKey('never'))).toBeUndefined();
    });

    test('the window is fixed: it ends windowMs after its first point, and the next one starts at zero', async () => {
      const k = uniqueKey('window');
      await h.store.consume(k, 1, 200);
      await sleep(100);
      const later = await h.store.consume(k, 1, 200);
      expect(later.consumed).toBe(2);
      expect(later.resetMs).toBeLessThanOrEqual(110);
      await sleep(later.resetMs + 60);
      expect(await h.store.get(k)).toBeUndefined();
      const next = await h.store.consume(k, 1, 200);
      expect(next.consumed).toBe(1);
      expect(next.resetMs).toBeGreaterThan(100);
    });

    test('reset starts the key afresh and leaves other keys alone', async () => {
      const k = uniqueKey('reset');
      const other = uniqueKey('other');
      await h.store.consume(k, 4, 1000);
      await h.store.consume(other, 2, 1000);
      await h.store.reset(k);
      expect(await h.store.get(k)).toBeUndefined();
      expect((await h.store.consume(k, 1, 1000)).consumed).toBe(1);
      expect((await h.store.get(other))?.consumed).toBe(2);
    });
  });
}
