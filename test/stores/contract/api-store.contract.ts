import { validateApiJson } from '../../../packages/core/src/config/api-schema';
import type { ApiJson } from '../../../packages/core/src/config/types';
import type { ApiChange, ApiStore } from '../../../packages/core/src/stores/types';
import { eventually } from './support';

export interface ApiStoreHandles {
  a: ApiStore;
  /**
   * A second writer of the same stored definitions. Required of a shared store; absent when one
   * process owns the store (`oneWriter`).
   */
  b?: ApiStore;
  /** A fresh handle on what was stored, opened the way the first ones were; the contract closes `a` and `b` first. */
  reopen(): Promise<ApiStore>;
  cleanup(): Promise<void>;
}

/** A complete definition, as the enforcer hands it to `put` (validated, defaults filled in). */
export function apiJson(url: string, over: Record<string, unknown> = {}): ApiJson {
  return validateApiJson({ api_metadata: { protocol: 'http', url, hostname: '*', servers: [{ host: '127.0.0.1', port: 8080 }], ...over } }, 'contract').api;
}

export interface ApiStoreContractOptions {
  /**
   * One process owns the store (a config directory): there is no `b`, and the tests of what other
   * writers are told are not declared. A shared store cannot be declared so.
   */
  oneWriter?: boolean;
}

/**
 * What every ApiStore must do: definitions put and deleted, and switches, are loaded again by a
 * fresh handle; the other writers hear of each change with the same data, the writer does not.
 * Each handle is loaded before its first change, as the enforcer does at start.
 */
export function apiStoreContract(name: string, open: () => Promise<ApiStoreHandles>, options: ApiStoreContractOptions = {}): void {
  const oneWriter = options.oneWriter === true;
  describe(`ApiStore contract: ${name}`, () => {
    let h: ApiStoreHandles;
    beforeEach(async () => {
      h = await open();
      await h.a.load();
      await h.b?.load();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function reopened(): Promise<ApiStore> {
      await h.a.close();
      await h.b?.close();
      return h.reopen();
    }

    if (oneWriter) {
      test('a store one process owns is not shared and has no second writer', () => {
        expect(h.a.shared).toBe(false);
        expect(h.b).toBeUndefined();
      });
    } else {
      test('a second writer is given', () => {
        expect(h.b).toBeDefined();
        expect(h.b!.shared).toBe(h.a.shared);
      });
    }

    test('definitions put are loaded again; deleted ones are not; a put replaces', async () => {
      const shop = apiJson('/shop');
      const blog = apiJson('/blog', { enable_blocking: false });
      await h.a.put('shop', shop);
      await h.a.put('blog', blog);
      await h.a.put('old', apiJson('/old'));
      // The other writer changes what a put, when there is one.
      const other = h.b ?? h.a;
      await other.delete('old');
      const shop2 = apiJson('/shop', { servers: [{ host: '127.0.0.1', port: 8081 }] });
      await other.put('shop', shop2);
      const store = await reopened();
      const loaded = await store.load();
      expect([...loaded.apis.keys()].sort()).toEqual(['blog', 'shop']);
      expect(loaded.apis.get('shop')).toEqual(shop2);
      expect(loaded.apis.get('blog')).toEqual(blog);
      expect(loaded.warnings).toEqual([]);
      await store.close();
    });
    test('switches are loaded again', async () => {
      await h.a.putSwitches({ enable_firewall: false, enable_ase_detected_attack: true });
      let store = await reopened();
      expect((await store.load()).switches).toEqual({ enable_firewall: false, enable_ase_detected_attack: true });
      await store.putSwitches({ enable_firewall: true, enable_ase_detected_attack: false });
      await store.close();
      store = await h.reopen();
      expect((await store.load()).switches).toEqual({ enable_firewall: true, enable_ase_detected_attack: false });
      await store.close();
    });

    test('what loadSync finds is what load finds', async () => {
      await h.a.put('shop', apiJson('/shop'));
      await h.a.putSwitches({ enable_firewall: false, enable_ase_detected_attack: false });
      const store = await reopened();
      const viaLoad = await store.load();
      if (store.loadSync) expect(store.loadSync()).toEqual(viaLoad);
      expect(viaLoad.apis.get('shop')).toEqual(apiJson('/shop'));
      await store.close();
    });

    test('a definition handed to put and changed afterwards is stored as it was', async () => {
      const json = apiJson('/shop');
      await h.a.put('shop', json);
      json.api_metadata.url = '/changed';
      const store = await reopened();
      expect((await store.load()).apis.get('shop')!.api_metadata.url).toBe('/shop');
      await store.close();
    });

    if (!oneWriter) otherWriters();

    /** What the other writers of a shared store are told; a store one process owns has no other writer to tell. */
    function otherWriters(): void {
      describe('other writers', () => {
        let b: ApiStore;
        beforeEach(() => {
          b = h.b!;
        });

        test('another handle is told of every change, with the same data; the writer is not', async () => {
          const atA: ApiChange[] = [];
          const atB: ApiChange[] = [];
          h.a.subscribe((c) => atA.push(c));
          b.subscribe((c) => atB.push(c));
          const shop = apiJson('/shop');
          await h.a.put('shop', shop);
          await h.a.putSwitches({ enable_firewall: false, enable_ase_detected_attack: true });
          await h.a.delete('shop');
          const expected: ApiChange[] = [
            { op: 'put', id: 'shop', json: shop },
            { op: 'switches', switches: { enable_firewall: false, enable_ase_detected_attack: true } },
            { op: 'delete', id: 'shop' },
          ];
          await eventually('b heard every change of a', () => atB.length >= expected.length);
          await b.put('blog', apiJson('/blog'));
          await eventually('a heard the change of b', () => atA.length >= 1);
          expect(atB).toEqual(expected);
          expect(atA).toEqual([{ op: 'put', id: 'blog', json: apiJson('/blog') }]);
        });

        test('after unsubscribe or close a listener hears nothing more', async () => {
          const gone: ApiChange[] = [];
          const kept: ApiChange[] = [];
          const off = b.subscribe((c) => gone.push(c));
          b.subscribe((c) => kept.push(c));
          off();
          await h.a.put('shop', apiJson('/shop'));
          await eventually('b heard the change', () => kept.length === 1);
          expect(gone).toEqual([]);
          await b.close();
          await h.a.delete('shop');
          const store = await reopened();
          expect((await store.load()).apis.size).toBe(0);
          expect(kept).toHaveLength(1);
          await store.close();
        });
      });
    }
  });
}
