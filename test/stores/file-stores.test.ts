import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileApiStore } from '../../packages/core/src/persistence/file-api-store';
import { FileListStore } from '../../packages/core/src/persistence/file-list-store';
import type { ApiStore, ListStore } from '../../packages/core/src/stores/types';
import { configDir } from '../helpers/config';
import { apiJson, apiStoreContract, listStoreContract, newReplica } from './contract';

/**
 * The stores an enforcer with a config directory uses. One process owns the directory, so each
 * runs the contract with one writer; reopening is a new store on the same directory.
 */
function inConfigDir<S extends { close(): Promise<void> }>(make: (dir: string) => S): { a: S; reopen(): Promise<S>; cleanup(): Promise<void> } {
  const dir = configDir();
  const opened: S[] = [];
  const open = (): S => {
    const store = make(dir);
    opened.push(store);
    return store;
  };
  return {
    a: open(),
    reopen: async () => open(),
    cleanup: async () => {
      // A failed test may leave a store open with changes queued: they finish before the files go.
      for (const store of opened) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

listStoreContract('FileListStore in a config directory', async () => inConfigDir<ListStore>((dir) => new FileListStore(path.join(dir, 'data'))), { oneWriter: true });

apiStoreContract('FileApiStore in a config directory', async () => inConfigDir<ApiStore>((dir) => new FileApiStore(dir)), { oneWriter: true });

describe('the file stores on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = configDir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an acknowledged API put is the file api/<id>.json a new store loads; a delete removes it', async () => {
    const store = new FileApiStore(dir);
    await store.put('shop', apiJson('/shop'));
    const file = path.join(dir, 'api', 'shop.json');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(apiJson('/shop'));
    expect((await new FileApiStore(dir).load()).apis.get('shop')).toEqual(apiJson('/shop'));
    await store.delete('shop');
    expect(fs.existsSync(file)).toBe(false);
    expect((await new FileApiStore(dir).load()).apis.size).toBe(0);
    await store.close();
  });

  test('an acknowledged list change is found by a new store before the first one closes (a process that died)', async () => {
    const dataDir = path.join(dir, 'data');
    const store = new FileListStore(dataDir);
    const replica = newReplica();
    await store.load(replica);
    for (let i = 0; i < 3; i++) {
      const entry = { type: 'ip' as const, value: `192.0.2.${i}`, tag: 'manual' as const };
      replica.blacklist.add(entry, 'manual');
      await store.apply({ list: 'blacklist', op: 'add', entry });
    }
    const after = newReplica();
    await new FileListStore(dataDir).load(after);
    expect(after.blacklist.list().map((e) => e.value).sort()).toEqual(['192.0.2.0', '192.0.2.1', '192.0.2.2']);
    await store.close();
  });
});
