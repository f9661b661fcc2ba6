import type { StickyStore } from '../../../packages/core/src/stores/types';
import { uniqueKey } from './support';

export interface StickyStoreHandle {
  store: StickyStore;
  cleanup(): Promise<void>;
}

/** What every StickyStore must do: pins per API and cookie value, deleted one by one or by server. */
export function stickyStoreContract(name: string, open: () => Promise<StickyStoreHandle>): void {
  describe(`StickyStore contract: ${name}`, () => {
    let h: StickyStoreHandle;
    let api: string;
    let other: string;
    beforeEach(async () => {
      h = await open();
      api = uniqueKey('api');
      other = uniqueKey('other');
      for (const id of [api, other]) h.store.configure?.(id, { maxBytes: 1024 * 1024, idleMs: 60_000 });
    });
    afterEach(async () => {
      await h.cleanup();
    });

    test('set, get, replace and delete a pin', async () => {
      expect(await h.store.get(api, 'c1')).toBeUndefined();
      await h.store.set(api, 'c1', '10.0.0.1:80');
      expect(await h.store.get(api, 'c1')).toBe('10.0.0.1:80');
      await h.store.set(api, 'c1', '10.0.0.2:80');
      expect(await h.store.get(api, 'c1')).toBe('10.0.0.2:80');
      await h.store.delete(api, 'c1');
      expect(await h.store.get(api, 'c1')).toBeUndefined();
      await h.store.delete(api, 'never-set');
    });

    test('a cookie value of any characters is a value, not a pattern', async () => {
      const odd = 'a:b*{x}|\u00e9 %2F';
      await h.store.set(api, odd, '10.0.0.1:80');
      await h.store.set(api, 'a:b', '10.0.0.2:80');
      expect(await h.store.get(api, odd)).toBe('10.0.0.1:80');
      expect(await h.store.get(api, 'a:b*')).toBeUndefined();
      await h.store.dropServer(api, '10.0.0.2:80');
      expect(await h.store.get(api, odd)).toBe('10.0.0.1:80');
    });

    test('dropServer forgets the pins to that server only', async () => {
      await h.store.set(api, 'c1', '10.0.0.1:80');
      await h.store.set(api, 'c2', '10.0.0.1:80');
      await h.store.set(api, 'c3', '10.0.0.2:80');
      await h.store.dropServer(api, '10.0.0.1:80');
      expect(await h.store.get(api, 'c1')).toBeUndefined();
      expect(await h.store.get(api, 'c2')).toBeUndefined();
      expect(await h.store.get(api, 'c3')).toBe('10.0.0.2:80');
    });

    test('APIs are independent', async () => {
      await h.store.set(api, 'c1', '10.0.0.1:80');
      await h.store.set(other, 'c1', '10.0.0.9:80');
      expect(await h.store.get(api, 'c1')).toBe('10.0.0.1:80');
      expect(await h.store.get(other, 'c1')).toBe('10.0.0.9:80');
      await h.store.dropServer(api, '10.0.0.9:80');
      await h.store.delete(api, 'c1');
      expect(await h.store.get(other, 'c1')).toBe('10.0.0.9:80');
      await h.store.dropServer(other, '10.0.0.1:80');
      await h.store.set(api, 'c1', '10.0.0.1:80');
      expect(await h.store.get(api, 'c1')).toBe('10.0.0.1:80');
    });
  });
}
