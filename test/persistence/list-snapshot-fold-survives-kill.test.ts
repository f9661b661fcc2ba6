import * as fs from 'node:fs';
import * as path from 'node:path';
import { configDir } from '../helpers/config';
import { runNode } from '../helpers/cli';
import { createEnforcer } from '../../packages/core/src/enforcer';
import { journalLine } from '../../packages/core/src/lists/list-journal';
import type { Logger } from '../../packages/core/src/types';

const WRITER = path.resolve(__dirname, '..', 'fixtures', 'journal', 'list-writer.js');

/**
 * When the journal outgrows lists.json, a new snapshot is written in the background while changes
 * keep being acknowledged. `kill -9` in the middle of that write must lose none of them: they are
 * in the journal, and the half-written snapshot is only a temporary file.
 */
describe('kill -9 while lists.json is rewritten in the background', () => {
  test('every acknowledged change is there after a restart, and the temporary snapshot is gone', async () => {
    const dir = configDir({ conf: 'attack_list_memory=256mb\nenable_access_log=false\n' });
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    // 200 000 entries, and a journal as large whose lines the snapshot already holds: the first
    // change folds it, and writing 200 000 entries takes long enough to be killed in the middle.
    const loaded = 200_000;
    const covered = 10_000_000;
    const entries = Array.from({ length: loaded }, (_, i) => JSON.stringify({ type: 'ip', value: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, tag: 'manual' }));
    const snapshot = `{"version":1,"seq":${covered},"blacklist":[\n${entries.join(',\n')}\n],"whitelist":[]}\n`;
    fs.writeFileSync(path.join(data, 'lists.json'), snapshot);
    const lines: string[] = [];
    for (let seq = 1, bytes = 0; bytes < snapshot.length; seq++) {
      const line = journalLine({ seq, list: 'blacklist', op: 'add', entry: { type: 'ip', value: `10.${seq >> 16}.${(seq >> 8) & 255}.${seq & 255}`, tag: 'manual' } });
      lines.push(line);
      bytes += line.length;
    }
    fs.writeFileSync(path.join(data, 'lists.journal'), lines.join(''));

    const writer = runNode(WRITER, [dir]);
    try {
      await writer.waitFor(/folding\n(ack \S+\n){3}/, 60_000);
      writer.child.kill('SIGKILL');
      await writer.exited;
    } finally {
      if (writer.child.exitCode === null && writer.child.signalCode === null) {
        writer.child.kill('SIGKILL');
        await writer.exited;
      }
    }
    // Killed in the middle of the snapshot: it never replaced lists.json.
    expect(fs.readdirSync(data).filter((n) => n.startsWith('.lists.json.'))).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(data, 'lists.json'), 'utf8')).seq).toBe(covered);
    const acked = [...writer.stdout().matchAll(/^ack (\S+)$/gm)].map((m) => m[1]!);
    expect(acked.length).toBeGreaterThan(3);

    const warnings: string[] = [];
    const logger: Logger = { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const e = createEnforcer({ configDir: dir, logger });
    try {
      expect(acked.filter((ip) => !e.denyList.has('ip', ip))).toEqual([]);
      expect(e.denyList.size).toBeGreaterThanOrEqual(loaded + acked.length);
      expect(fs.readdirSync(data).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(warnings.filter((w) => !/dropped \d+ bytes/.test(w))).toEqual([]); // at most the line the kill cut short
    } finally {
      await e.close();
    }
  });
});
