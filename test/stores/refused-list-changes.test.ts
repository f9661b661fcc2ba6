import * as fs from 'node:fs';
import * as path from 'node:path';
import { ListOperations } from '../../packages/core/src/management/list-operations';
import { FileListStore } from '../../packages/core/src/persistence/file-list-store';
import { silentLogger } from '../../packages/core/src/types';
import { configDir } from '../helpers/config';
import { newReplica } from './contract/list-store.contract';

/**
 * A list change the file store refuses is taken back, and stays out of every file written after
 * it. The refusal here: `lists.journal` is a directory, so the journal cannot be opened, while the
 * snapshot `lists.json` beside it can still be replaced (the next change after a refusal writes
 * one).
 */
describe('list changes the file store refuses', () => {
  let dir: string;
  beforeEach(() => {
    dir = configDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function refusingStore() {
    const dataDir = path.join(dir, 'data');
    const replica = newReplica();
    const store = new FileListStore(dataDir);
    await store.load(replica);
    const ops = new ListOperations(replica.blacklist, replica.whitelist, store, silentLogger);
    await ops.addDeny({ type: 'ip', value: '192.0.2.1' }); // the first change writes the snapshot
    fs.mkdirSync(path.join(dataDir, 'lists.journal'));
    return { dataDir, replica, store, ops };
  }

  async function reloaded(dataDir: string): Promise<string[]> {
    const replica = newReplica();
    await new FileListStore(dataDir).load(replica);
    return replica.blacklist.list().map((e) => e.value).sort();
  }

  test('a change queued behind a refused one is written without it: the snapshot is taken after the refused change was taken back', async () => {
    const { dataDir, replica, store, ops } = await refusingStore();
    const refused = ops.addDeny({ type: 'ip', value: '192.0.2.66' });
    const queued = ops.addDeny({ type: 'ip', value: '192.0.2.2' });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_ASE_PERSIST' });
    await expect(queued).resolves.toBe(true);
    expect(replica.blacklist.list().map((e) => e.value).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
    fs.rmdirSync(path.join(dataDir, 'lists.journal'));
    expect(await reloaded(dataDir)).toEqual(['192.0.2.1', '192.0.2.2']);
    await store.close();
  });

  test('a clear that is refused puts every entry back', async () => {
    const { dataDir, replica, store, ops } = await refusingStore();
    // The change after the refusal above made the snapshot; this one needs the journal again.
    await expect(ops.addDeny({ type: 'ip', value: '192.0.2.3' })).rejects.toMatchObject({ code: 'ERR_ASE_PERSIST' });
    await ops.addDeny({ type: 'token', value: 'stolen' });
    await expect(ops.clearDeny()).rejects.toMatchObject({ code: 'ERR_ASE_PERSIST' });
    expect(replica.blacklist.list().map((e) => e.value).sort()).toEqual(['192.0.2.1', 'stolen']);
    fs.rmdirSync(path.join(dataDir, 'lists.journal'));
    expect(await reloaded(dataDir)).toEqual(['192.0.2.1', 'stolen']);
    await store.close();
    expect(await reloaded(dataDir)).toEqual(['192.0.2.1', 'stolen']);
  });
});
