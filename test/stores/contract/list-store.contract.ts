import { ClientList, ListBudget, type StoredEntry } from '../../../packages/core/src/lists/client-list';
import { canonicalEntry, type DenyTag } from '../../../packages/core/src/lists/entries';
import type { ListChange, ListReplica, ListStore } from '../../../packages/core/src/stores/types';
import { eventually } from './support';

/** Two handles on one store, and how to open it again. */
export interface ListStoreHandles {
  a: ListStore;
  /** A second writer of the same stored lists (another enforcer, another process). */
  b: ListStore;
  /** A fresh handle on what was stored, opened the way the first ones were; the contract closes `a` and `b` first. */
  reopen(): Promise<ListStore>;
  /** Removes whatever the store left (files, keys); called after every test, even a failed one. */
  cleanup(): Promise<void>;
}

export function newReplica(): ListReplica {
  const budget = new ListBudget(64 * 1024 * 1024);
  return { blacklist: new ClientList('blacklist', budget), whitelist: new ClientList('whitelist', budget) };
}

/** An entry in the form the enforcer hands to `apply`: what the replica gives back for it. */
function stored(raw: { type: string; value: string; name?: string }, tag: DenyTag): StoredEntry {
  const r = newReplica().blacklist;
  r.add(canonicalEntry(raw), tag);
  return r.list()[0]!;
}

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const IP = stored({ type: 'ip', value: '203.0.113.7' }, 'manual');
const NET = stored({ type: 'ip', value: '2001:db8:1:2::/64' }, 'decoy');
const COOKIE = stored({ type: 'cookie', name: 'sid', value: 'c00kie' }, 'decoy');
const KEY = stored({ type: 'api_key', name: 'x-api-key', value: 'k-123' }, 'invalid_method');
const TOKEN = stored({ type: 'token', value: DIGEST }, 'abs_generated');
const LONG = stored({ type: 'username', value: 'u'.repeat(2000) }, 'manual');

const add = (list: 'blacklist' | 'whitelist', entry: StoredEntry): ListChange => ({ list, op: 'add', entry });

function sorted(entries: StoredEntry[]): StoredEntry[] {
  return [...entries].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

/**
 * What every ListStore must do, whatever keeps the lists: changes acknowledged by `apply` are
 * loaded again by a fresh handle, entries keep their tag, name and digest form, and the other
 * writers hear of each change, in order, with the same data, while the writer does not.
 */
export function listStoreContract(name: string, open: () => Promise<ListStoreHandles>): void {
  describe(`ListStore contract: ${name}`, () => {
    let h: ListStoreHandles;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function reload(): Promise<{ replica: ListReplica; warnings: string[]; store: ListStore }> {
      await h.a.close();
      await h.b.close();
      const store = await h.reopen();
      const replica = newReplica();
      const warnings = await store.load(replica);
      return { replica, warnings, store };
    }

    test('added entries are loaded again, with their tag, name and digest form', async () => {
      for (const e of [IP, NET, COOKIE, KEY, TOKEN, LONG]) await h.a.apply(add('blacklist', e));
      await h.a.apply(add('whitelist', { ...IP, value: '198.51.100.1' }));
      expect(TOKEN.value).toBe(DIGEST);
      expect(LONG.value).toMatch(/^sha256:[0-9a-f]{64}$/);

      const { replica, warnings, store } = await reload();
      expect(warnings).toEqual([]);
      expect(sorted(replica.blacklist.list())).toEqual(sorted([IP, NET, COOKIE, KEY, TOKEN, LONG]));
      expect(replica.whitelist.list()).toEqual([{ type: 'ip', value: '198.51.100.1', tag: 'manual' }]);
      // Loaded entries are found by the request path as the written ones were.
      expect(replica.blacklist.has('cookie', 'c00kie', 'sid')).toBe(true);
      expect(replica.blacklist.has('username', 'u'.repeat(2000))).toBe(true);
      expect(replica.blacklist.has('ip', '2001:db8:1:2:aaaa::1')).toBe(true);
      await store.close();
    });

    test('removed entries stay removed', async () => {
      for (const e of [IP, COOKIE, TOKEN]) await h.a.apply(add('blacklist', e));
      await h.a.apply({ list: 'blacklist', op: 'remove', entry: COOKIE });
      await h.b.apply({ list: 'blacklist', op: 'remove', entry: TOKEN });
      const { replica, store } = await reload();
      expect(replica.blacklist.list()).toEqual([IP]);
      await store.close();
    });

    test('clear by tag removes only those tags, and only from its list', async () => {
      for (const e of [IP, NET, COOKIE, KEY, TOKEN]) await h.a.apply(add('blacklist', e));
      await h.a.apply(add('whitelist', { ...IP, value: '198.51.100.1' }));
      await h.a.apply({ list: 'blacklist', op: 'clear', tags: ['decoy', 'invalid_method'] });
      const first = await reload();
      expect(sorted(first.replica.blacklist.list())).toEqual(sorted([IP, TOKEN]));
      expect(first.replica.whitelist.size).toBe(1);

      await first.store.apply({ list: 'whitelist', op: 'clear' });
      await first.store.close();
      const second = await h.reopen();
      const replica = newReplica();
      await second.load(replica);
      expect(replica.whitelist.size).toBe(0);
      expect(sorted(replica.blacklist.list())).toEqual(sorted([IP, TOKEN]));
      await second.close();
    });

    test('what loadSync finds is what load finds', async () => {
      for (const e of [IP, COOKIE, TOKEN]) await h.a.apply(add('blacklist', e));
      await h.a.close();
      await h.b.close();
      const store = await h.reopen();
      if (store.loadSync) {
        const viaSync = newReplica();
        store.loadSync(viaSync);
        expect(sorted(viaSync.blacklist.list())).toEqual(sorted([IP, COOKIE, TOKEN]));
      }
      const viaLoad = newReplica();
      await store.load(viaLoad);
      expect(sorted(viaLoad.blacklist.list())).toEqual(sorted([IP, COOKIE, TOKEN]));
      await store.close();
    });

    test('another handle is told of every change, with the same data; the writer is not', async () => {
      const atA: ListChange[] = [];
      const atB: ListChange[] = [];
      h.a.subscribe((c) => atA.push(c));
      h.b.subscribe((c) => atB.push(c));
      const changes: ListChange[] = [
        add('blacklist', IP),
        add('blacklist', TOKEN),
        add('whitelist', COOKIE),
        { list: 'blacklist', op: 'remove', entry: IP },
        { list: 'blacklist', op: 'clear', tags: ['abs_generated'] },
        { list: 'whitelist', op: 'clear' },
      ];
      for (const c of changes) await h.a.apply(c);
      await eventually('b heard every change of a', () => atB.length >= changes.length);
      // b's own change reaching a means a has been told everything it will be told of the above.
      const marker = add('blacklist', KEY);
      await h.b.apply(marker);
      await eventually('a heard the change of b', () => atA.length >= 1);
      expect(atB).toEqual(changes);
      expect(atA).toEqual([marker]);
    });

    test('a burst of changes arrives in the order it was applied', async () => {
      const atB: ListChange[] = [];
      h.b.subscribe((c) => atB.push(c));
      const burst: ListChange[] = [];
      for (let i = 0; i < 200; i++) {
        const e = stored({ type: 'ip', value: `10.0.${i >> 8}.${i & 255}` }, 'abs_generated');
        burst.push(add('blacklist', e));
        if (i % 3 === 0) burst.push({ list: 'blacklist', op: 'remove', entry: e });
      }
      await Promise.all(burst.map((c) => h.a.apply(c)));
      await eventually('b heard the whole burst', () => atB.length >= burst.length);
      expect(atB).toEqual(burst);
      const { replica, store } = await reload();
      expect(replica.blacklist.size).toBe(200 - Math.ceil(200 / 3));
      await store.close();
    });

    test('after unsubscribe a listener hears nothing more; other listeners still do', async () => {
      const gone: ListChange[] = [];
      const kept: ListChange[] = [];
      const off = h.b.subscribe((c) => gone.push(c));
      h.b.subscribe((c) => kept.push(c));
      await h.a.apply(add('blacklist', IP));
      await eventually('b heard the first change', () => gone.length === 1 && kept.length === 1);
      off();
      await h.a.apply(add('blacklist', COOKIE));
      await eventually('b heard the second change', () => kept.length === 2);
      expect(gone).toHaveLength(1);
    });

    test('a closed handle hears nothing more; the other one goes on and its changes are kept', async () => {
      const atB: ListChange[] = [];
      h.b.subscribe((c) => atB.push(c));
      await h.b.close();
      await h.a.apply(add('blacklist', IP));
      const atA: ListChange[] = [];
      h.a.subscribe((c) => atA.push(c));
      const { replica, store } = await reload();
      expect(atB).toEqual([]);
      expect(atA).toEqual([]);
      expect(replica.blacklist.list()).toEqual([IP]);
      await store.close();
    });
  });
}
