import { ClientList, ListBudget, type StoredEntry } from '../../../packages/core/src/lists/client-list';
import { canonicalEntry, type DenyTag } from '../../../packages/core/src/lists/entries';
import { metaOf } from '../../../packages/core/src/lists/entry-records';
import type { ListChange, ListReplica, ListStore } from '../../../packages/core/src/stores/types';
import { eventually } from './support';

/** One or two handles on one store, and how to open it again. */
export interface ListStoreHandles {
  a: ListStore;
  /**
   * A second writer of the same stored lists (another enforcer, another process). Required of a
   * shared store; absent when one process owns the store (`oneWriter`).
   */
  b?: ListStore;
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

/** What the enforcer does to its replica for a change, its own or another writer's. */
function change(replica: ListReplica, c: ListChange): void {
  const list = replica[c.list];
  if (c.op === 'add') list.add(canonicalEntry(c.entry), c.entry.tag, { restore: true, meta: metaOf(c.entry) });
  else if (c.op === 'remove') list.remove(canonicalEntry(c.entry));
  else list.clear(c.tags ? (t) => c.tags!.includes(t) : undefined);
}

function sorted(entries: StoredEntry[]): StoredEntry[] {
  return [...entries].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

export interface ListStoreContractOptions {
  /**
   * One process owns the store (a file store's config directory): there is no `b`, and the tests
   * of what other writers are told are not declared. A shared store cannot be declared so.
   */
  oneWriter?: boolean;
}

/**
 * What every ListStore must do, whatever keeps the lists: changes acknowledged by `apply` are
 * loaded again by a fresh handle, entries keep their tag, name and digest form, and the other
 * writers hear of each change, in order, with the same data, while the writer does not.
 *
 * Each handle is used as the enforcer uses it: loaded into a replica before its first change, the
 * replica changed before `apply` is called, and changes of other writers applied to it (a file
 * store folds that replica into its snapshot).
 */
export function listStoreContract(name: string, open: () => Promise<ListStoreHandles>, options: ListStoreContractOptions = {}): void {
  const oneWriter = options.oneWriter === true;
  describe(`ListStore contract: ${name}`, () => {
    let h: ListStoreHandles;
    const replicas = new Map<ListStore, ListReplica>();
    beforeEach(async () => {
      h = await open();
      for (const store of [h.a, h.b]) if (store) await loaded(store);
    });
    afterEach(async () => {
      replicas.clear();
      await h.cleanup();
    });

    /** Loads the store into a fresh replica that follows the changes of other writers. */
    async function loaded(store: ListStore): Promise<{ replica: ListReplica; warnings: string[] }> {
      const replica = newReplica();
      const warnings = await store.load(replica);
      replicas.set(store, replica);
      store.subscribe((c) => change(replica, c));
      return { replica, warnings };
    }

    /** A change as the enforcer makes it: its replica first, then the store. */
    function write(store: ListStore, c: ListChange): Promise<void> {
      change(replicas.get(store)!, c);
      return store.apply(c);
    }

    async function reload(): Promise<{ replica: ListReplica; warnings: string[]; store: ListStore }> {
      await h.a.close();
      await h.b?.close();
      const store = await h.reopen();
      return { ...(await loaded(store)), store };
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

    test('a network entry, its expiry and its history are loaded again', async () => {
      const at = Date.now();
      const history = { expiresAt: at + 3_600_000, addedAt: at - 1000, via: 'detection' as const, api: 'shop', requestId: 'req-7', hits: 3, lastHit: at - 10 };
      const net: StoredEntry = { type: 'ip', value: '203.0.113.0/24', tag: 'invalid_method', ...history };
      await write(h.a, add('blacklist', net));
      const { replica } = await reload();
      expect(replica.blacklist.list(undefined, true)).toEqual([net]);
      expect(replica.blacklist.has('ip', '203.0.113.200')).toBe(true);
    });

    test('added entries are loaded again, with their tag, name and digest form', async () => {
      for (const e of [IP, NET, COOKIE, KEY, TOKEN, LONG]) await write(h.a, add('blacklist', e));
      await write(h.a, add('whitelist', { ...IP, value: '198.51.100.1' }));
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
      for (const e of [IP, COOKIE, TOKEN]) await write(h.a, add('blacklist', e));
      await write(h.a, { list: 'blacklist', op: 'remove', entry: COOKIE });
      // The other writer removes what a added, when there is one.
      await write(h.b ?? h.a, { list: 'blacklist', op: 'remove', entry: TOKEN });
      const { replica, store } = await reload();
      expect(replica.blacklist.list()).toEqual([IP]);
      await store.close();
    });

    test('clear by tag removes only those tags, and only from its list', async () => {
      for (const e of [IP, NET, COOKIE, KEY, TOKEN]) await write(h.a, add('blacklist', e));
      await write(h.a, add('whitelist', { ...IP, value: '198.51.100.1' }));
      await write(h.a, { list: 'blacklist', op: 'clear', tags: ['decoy', 'invalid_method'] });
      const first = await reload();
      expect(sorted(first.replica.blacklist.list())).toEqual(sorted([IP, TOKEN]));
      expect(first.replica.whitelist.size).toBe(1);

      await write(first.store, { list: 'whitelist', op: 'clear' });
      await first.store.close();
      const second = await h.reopen();
      const replica = newReplica();
      await second.load(replica);
      expect(replica.whitelist.size).toBe(0);
      expect(sorted(replica.blacklist.list())).toEqual(sorted([IP, TOKEN]));
      await second.close();
    });

    test('what loadSync finds is what load finds', async () => {
      for (const e of [IP, COOKIE, TOKEN]) await write(h.a, add('blacklist', e));
      await h.a.close();
      await h.b?.close();
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

    test('a burst of changes applied at once is loaded again as the last change left it', async () => {
      const kept: StoredEntry[] = [];
      const burst: Promise<void>[] = [];
      for (let i = 0; i < 200; i++) {
        const e = stored({ type: 'ip', value: `10.1.${i >> 8}.${i & 255}` }, 'abs_generated');
        burst.push(write(h.a, add('blacklist', e)));
        if (i % 3 === 0) burst.push(write(h.a, { list: 'blacklist', op: 'remove', entry: e }));
        else kept.push(e);
      }
      await Promise.all(burst);
      const { replica, store } = await reload();
      expect(sorted(replica.blacklist.list())).toEqual(sorted(kept));
      await store.close();
    });

    if (!oneWriter) otherWriters();

    /** What the other writers of a shared store are told; a store one process owns has no other writer to tell. */
    function otherWriters(): void {
      describe('other writers', () => {
        let b: ListStore;
        beforeEach(() => {
          b = h.b!;
        });

        test('another handle is told of every change, with the same data; the writer is not', async () => {
          const atA: ListChange[] = [];
          const atB: ListChange[] = [];
          h.a.subscribe((c) => atA.push(c));
          b.subscribe((c) => atB.push(c));
          const changes: ListChange[] = [
            add('blacklist', IP),
            add('blacklist', TOKEN),
            add('whitelist', COOKIE),
            { list: 'blacklist', op: 'remove', entry: IP },
            { list: 'blacklist', op: 'clear', tags: ['abs_generated'] },
            { list: 'whitelist', op: 'clear' },
          ];
          for (const c of changes) await write(h.a, c);
          await eventually('b heard every change of a', () => atB.length >= changes.length);
          // b's own change reaching a means a has been told everything it will be told of the above.
          const marker = add('blacklist', KEY);
          await write(b, marker);
          await eventually('a heard the change of b', () => atA.length >= 1);
          expect(atB).toEqual(changes);
          expect(atA).toEqual([marker]);
        });

        test('a burst of changes arrives in the order it was applied', async () => {
          const atB: ListChange[] = [];
          b.subscribe((c) => atB.push(c));
          const burst: ListChange[] = [];
          for (let i = 0; i < 200; i++) {
            const e = stored({ type: 'ip', value: `10.0.${i >> 8}.${i & 255}` }, 'abs_generated');
            burst.push(add('blacklist', e));
            if (i % 3 === 0) burst.push({ list: 'blacklist', op: 'remove', entry: e });
          }
          await Promise.all(burst.map((c) => write(h.a, c)));
          await eventually('b heard the whole burst', () => atB.length >= burst.length);
          expect(atB).toEqual(burst);
          const { replica, store } = await reload();
          expect(replica.blacklist.size).toBe(200 - Math.ceil(200 / 3));
          await store.close();
        });

        test('after unsubscribe a listener hears nothing more; other listeners still do', async () => {
          const gone: ListChange[] = [];
          const kept: ListChange[] = [];
          const off = b.subscribe((c) => gone.push(c));
          b.subscribe((c) => kept.push(c));
          await write(h.a, add('blacklist', IP));
          await eventually('b heard the first change', () => gone.length === 1 && kept.length === 1);
          off();
          await write(h.a, add('blacklist', COOKIE));
          await eventually('b heard the second change', () => kept.length === 2);
          expect(gone).toHaveLength(1);
        });

        test('a closed handle hears nothing more; the other one goes on and its changes are kept', async () => {
          const atB: ListChange[] = [];
          b.subscribe((c) => atB.push(c));
          await b.close();
          await write(h.a, add('blacklist', IP));
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
  });
}
