import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeStaleTempFiles, writeFileAtomic } from '../../src/persistence/atomic-file';

describe('removeStaleTempFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-stale-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const touch = (name: string): void => fs.writeFileSync(path.join(dir, name), 'x');

  test('removes a dead process`s and this process`s own leftovers, keeps a live writer`s and other files', () => {
    const dead = 2 ** 22 + 12345; // above Linux's pid_max default of 4194304: no process has it
    touch(`.lists.json.${dead}.0123abcd.tmp`);
    touch(`.lists.json.${process.pid}.89abcdef.tmp`);
    touch(`.lists.json.${process.ppid}.00000000.tmp`); // the parent is alive: maybe writing now
    touch('lists.json');
    touch('.lists.json.tmp');
    touch('backup.tmp');
    expect(removeStaleTempFiles(dir).sort()).toEqual([`.lists.json.${dead}.0123abcd.tmp`, `.lists.json.${process.pid}.89abcdef.tmp`].sort());
    expect(fs.readdirSync(dir).sort()).toEqual(['.lists.json.tmp', `.lists.json.${process.ppid}.00000000.tmp`, 'backup.tmp', 'lists.json'].sort());
  });

  test('recognises the names writeFileAtomic uses', async () => {
    const file = path.join(dir, 'lists.json');
    // Stop a write after its temporary file exists, as a crash would.
    const spy = jest.spyOn(fs.promises, 'rename').mockRejectedValueOnce(new Error('crash'));
    const rm = jest.spyOn(fs.promises, 'rm').mockResolvedValueOnce(undefined);
    await expect(writeFileAtomic(file, '{}')).rejects.toThrow('crash');
    spy.mockRestore();
    rm.mockRestore();
    const left = fs.readdirSync(dir);
    expect(left).toHaveLength(1);
    expect(removeStaleTempFiles(dir)).toEqual(left);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a missing directory is nothing to clean', () => {
    expect(removeStaleTempFiles(path.join(dir, 'absent'))).toEqual([]);
  });
});
