import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEnforcer } from '../../src/enforcer';
import { journalLine } from '../../src/lists/list-journal';
import type { Logger } from '../../src/types';

/**
 * The lists on disk are the snapshot `data/lists.json` plus `data/lists.journal`, one checksummed
 * line per change. "Crash" below means: copy the data directory while the enforcer is running
 * (what `kill -9` would leave), then start a new enforcer on the copy.
 */
describe('lists journal', () => {
  let dir: string;
  let crashed: string;
  const warnings: string[] = [];
  const logger: Logger = { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-journal-'));
    crashed = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-journal-crash-'));
    warnings.length = 0;
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(crashed, { recursive: true, force: true });
  });
  const data = (d: string, name = ''): string => path.join(d, 'data', name);
  const crash = (): void => fs.cpSync(dir, crashed, { recursive: true });
  /** The journal's lines, without the zeros written ahead of them. */
  const journal = (d: string): string => fs.readFileSync(data(d, 'lists.journal'), 'utf8').replace(/\0+$/, '');

  async function fill(): Promise<void> {
    const e = createEnforcer({ configDir: dir, logger });
    await e.addDeny({ type: 'ip', value: '10.0.0.1' });
    const snapshot = fs.readFileSync(data(dir, 'lists.json'), 'utf8');
    await e.addDeny({ type: 'token', value: 'stolen-token' });
    await e.addDeny({ type: 'ip', value: '10.0.0.2' });
    await e.addDeny({ type: 'ip', value: '10.0.0.3' }, 'invalid_method');
    await e.removeDeny({ type: 'ip', value: '10.0.0.2' });
    await e.addAllow({ type: 'ip', value: '10.9.9.9' });
    await e.addAllow({ type: 'ip', value: '10.9.9.8' });
    await e.removeAllow({ type: 'ip', value: '10.9.9.8' });
    await e.clearDeny('invalid_method');
    // Each acknowledged change was appended; the snapshot was not rewritten.
    expect(fs.readFileSync(data(dir, 'lists.json'), 'utf8')).toBe(snapshot);
    expect(journal(dir).split('\n')).toHaveLength(9); // 8 lines and the final newline
    crash();
    await e.close();
  }

  function expectFilled(e: ReturnType<typeof createEnforcer>): void {
    expect(e.denyList.list().map((x) => x.value).sort()).toEqual(['10.0.0.1', e.denyList.entry({ type: 'token', value: 'stolen-token' })!.value].sort());
    expect(e.denyList.has('token', 'stolen-token')).toBe(true);
    expect(e.allowList.list().map((x) => x.value)).toEqual(['10.9.9.9']);
  }

  test('replays every acknowledged change on top of the snapshot after a crash', async () => {
    await fill();
    const e = createEnforcer({ configDir: crashed, logger });
    try {
      expectFilled(e);
      expect(warnings).toEqual([]);
    } finally {
      await e.close();
    }
  });

  test('a clean close folds the journal into lists.json and leaves no other file', async () => {
    await fill();
    expect(fs.readdirSync(data(dir)).filter((n) => n !== 'runtime.json')).toEqual(['lists.journal', 'lists.json']);
    expect(fs.statSync(data(dir, 'lists.journal')).size).toBe(0);
    const e = createEnforcer({ configDir: dir, logger });
    try {
      expectFilled(e);
    } finally {
      await e.close();
    }
  });

  test('a torn last line is dropped with a warning, and later changes append after the good lines', async () => {
    await fill();
    const line = journalLine({ seq: 99, list: 'blacklist', op: 'add', entry: { type: 'ip', value: '10.0.0.77', tag: 'manual' } });
    // Where the next line would have gone: over the first of the zeros written ahead.
    const fd = fs.openSync(data(crashed, 'lists.journal'), 'r+');
    fs.writeSync(fd, line.slice(0, 30), Buffer.byteLength(journal(crashed)));
    fs.closeSync(fd);
    const e = createEnforcer({ configDir: crashed, logger });
    expectFilled(e);
    expect(warnings.filter((w) => /lists\.journal: dropped 30 bytes from line 9/.test(w))).toHaveLength(1);
    await e.addDeny({ type: 'ip', value: '10.0.0.4' });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(crashed, dir, { recursive: true }); // crash again
    await e.close();
    const again = createEnforcer({ configDir: dir, logger });
    try {
      expect(again.denyList.has('ip', '10.0.0.4')).toBe(true);
      expect(again.denyList.has('ip', '10.0.0.77')).toBe(false);
    } finally {
      await again.close();
    }
  });

  test('the zeros written ahead of the lines are no change: loaded silently, and the next lines go over them', async () => {
    await fill();
    const lines = journal(crashed);
    const file = fs.readFileSync(data(crashed, 'lists.journal'));
    expect(file.length).toBeGreaterThan(Buffer.byteLength(lines)); // a line lands in zeros already on disk
    expect(file.subarray(Buffer.byteLength(lines)).every((b) => b === 0)).toBe(true);
    const e = createEnforcer({ configDir: crashed, logger });
    try {
      expectFilled(e);
      expect(warnings).toEqual([]);
      await e.addDeny({ type: 'ip', value: '10.0.0.5' });
      expect(journal(crashed).startsWith(lines)).toBe(true);
      expect(journal(crashed).slice(lines.length).split('\n')).toHaveLength(2); // one line, right after the others
      fs.rmSync(dir, { recursive: true, force: true });
      fs.cpSync(crashed, dir, { recursive: true }); // crash again
    } finally {
      await e.close();
    }
    const again = createEnforcer({ configDir: dir, logger });
    try {
      expect(again.denyList.has('ip', '10.0.0.5')).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await again.close();
    }
  });

  test('a journal of nothing but zeros written ahead (a crash before the first line) loads silently and is emptied at close', async () => {
    fs.mkdirSync(data(dir), { recursive: true });
    fs.writeFileSync(data(dir, 'lists.json'), JSON.stringify({ version: 1, seq: 4, blacklist: [{ type: 'ip', value: '192.0.2.1', tag: 'manual' }], whitelist: [] }));
    fs.writeFileSync(data(dir, 'lists.journal'), Buffer.alloc(4096));
    const e = createEnforcer({ configDir: dir, logger });
    try {
      expect(e.denyList.has('ip', '192.0.2.1')).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await e.close();
    }
    expect(fs.statSync(data(dir, 'lists.journal')).size).toBe(0);
  });

  test('a damaged line with good lines after it refuses the start', async () => {
    await fill();
    const lines = journal(crashed).split('\n');
    lines[3] = lines[3]!.replace('10.0.0.', '10.0.1.'); // the checksum no longer matches
    fs.writeFileSync(data(crashed, 'lists.journal'), lines.join('\n'));
    expect(() => createEnforcer({ configDir: crashed, logger })).toThrow(/cannot be read.*lists\.journal: line 4 is damaged/);
  });

  test('journal lines the snapshot already holds are skipped (crash between writing the snapshot and emptying the journal)', async () => {
    await fill();
    const snap = JSON.parse(fs.readFileSync(data(dir, 'lists.json'), 'utf8')) as { seq: number };
    expect(snap.seq).toBe(9);
    // A line the snapshot already covers: replaying it would add an entry the snapshot does not have.
    const covered = journalLine({ seq: 9, list: 'blacklist', op: 'add', entry: { type: 'ip', value: '10.0.0.66', tag: 'manual' } });
    const fresh = journalLine({ seq: 10, list: 'blacklist', op: 'add', entry: { type: 'ip', value: '10.0.0.67', tag: 'manual' } });
    fs.writeFileSync(data(dir, 'lists.journal'), covered + fresh);
    const e = createEnforcer({ configDir: dir, logger });
    try {
      expect(e.denyList.has('ip', '10.0.0.66')).toBe(false);
      expect(e.denyList.has('ip', '10.0.0.67')).toBe(true);
      await e.addDeny({ type: 'ip', value: '10.0.0.68' });
      expect(fs.readFileSync(data(dir, 'lists.journal'), 'utf8')).toContain('"seq":11}');
    } finally {
      await e.close();
    }
  });

  test('lists.json is one entry per line, allow list first, and a restart restores every entry with its history', async () => {
    const e = createEnforcer({ configDir: dir, logger });
    try {
      await e.addDeny({ type: 'cookie', name: 'sid', value: 'ünïcödé "quoted" \\ value' });
      await e.addDeny({ type: 'ip', value: '192.0.2.0/24' }, 'invalid_method');
      await e.addAllow({ type: 'ip', value: '198.51.100.7' });
    } finally {
      await e.close();
    }
    const text = fs.readFileSync(data(dir, 'lists.json'), 'utf8');
    expect(text.split('\n')).toEqual([expect.stringMatching(/^\{"version":1,"seq":\d+,"whitelist":\[$/), expect.stringContaining('198.51.100.7'), '],"blacklist":[', expect.stringContaining('sid'), expect.stringContaining('192.0.2.0/24'), ']}', '']);
    const before = JSON.parse(text) as { blacklist: unknown[]; whitelist: unknown[] };
    const again = createEnforcer({ configDir: dir, logger });
    try {
      expect(again.denyList.list(undefined, true)).toEqual(before.blacklist);
      expect(again.allowList.list(undefined, true)).toEqual(before.whitelist);
    } finally {
      await again.close();
    }
    expect(warnings).toEqual([]);
  });

  test('a lists.json from before the journal loads unchanged', async () => {
    fs.mkdirSync(data(dir), { recursive: true });
    fs.writeFileSync(data(dir, 'lists.json'), JSON.stringify({ version: 1, blacklist: [{ type: 'ip', value: '192.0.2.1', tag: 'manual' }], whitelist: [] }, null, 1));
    const e = createEnforcer({ configDir: dir, logger });
    try {
      expect(e.denyList.has('ip', '192.0.2.1')).toBe(true);
      await e.addDeny({ type: 'ip', value: '192.0.2.2' });
      expect(JSON.parse(fs.readFileSync(data(dir, 'lists.json'), 'utf8'))).toEqual({ version: 1, blacklist: [{ type: 'ip', value: '192.0.2.1', tag: 'manual' }], whitelist: [] });
    } finally {
      await e.close();
    }
  });

  /** Waits (bounded) for the background snapshot to be put in place. */
  async function until(done: () => boolean, ms = 10_000): Promise<void> {
    for (const t0 = Date.now(); !done(); await new Promise((r) => setTimeout(r, 10))) {
      if (Date.now() - t0 > ms) throw new Error('the journal was not folded in time');
    }
  }

  /** lists.json holding `seq` and nothing else, and a journal past 1 MiB of lines it already holds (replay skips them). */
  function coveredJournal(seq: number): number {
    fs.mkdirSync(data(dir), { recursive: true });
    fs.writeFileSync(data(dir, 'lists.json'), JSON.stringify({ version: 1, seq, blacklist: [], whitelist: [] }));
    const lines: string[] = [];
    for (let i = 1, bytes = 0; bytes <= 1 << 20; i++) {
      bytes += lines[lines.push(journalLine({ seq: i, list: 'blacklist', op: 'add', entry: { type: 'ip', value: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, tag: 'manual' } })) - 1]!.length;
    }
    fs.writeFileSync(data(dir, 'lists.journal'), lines.join(''));
    return lines.join('').length;
  }

  test('a journal grown past its snapshot (and 1 MiB) is folded into lists.json in the background after the next change', async () => {
    fs.mkdirSync(data(dir), { recursive: true });
    fs.writeFileSync(data(dir, 'lists.json'), JSON.stringify({ version: 1, blacklist: [], whitelist: [] }));
    const lines: string[] = [];
    for (let i = 1, bytes = 0; bytes <= 1 << 20; i++) {
      bytes += lines[lines.push(journalLine({ seq: i, list: 'blacklist', op: 'add', entry: { type: 'ip', value: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, tag: 'manual' } })) - 1]!.length;
    }
    fs.writeFileSync(data(dir, 'lists.journal'), lines.join(''));
    const e = createEnforcer({ configDir: dir, conf: { attack_list_memory: '64mb' }, logger });
    try {
      expect(e.denyList.size).toBe(lines.length);
      await e.addDeny({ type: 'ip', value: '172.16.0.1' });
      // Acknowledged by its journal line, before the snapshot is written.
      expect(journal(dir)).toContain('"172.16.0.1"');
      await until(() => journal(dir) === '');
      const snap = JSON.parse(fs.readFileSync(data(dir, 'lists.json'), 'utf8')) as { seq: number; blacklist: unknown[] };
      expect([snap.seq, snap.blacklist.length]).toEqual([lines.length + 1, lines.length + 1]);
      expect(fs.readdirSync(data(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      await e.close();
    }
  });

  test('changes acknowledged while the snapshot is written in the background stay in the journal after it', async () => {
    const journalBytes = coveredJournal(1_000_000);
    const e = createEnforcer({ configDir: dir, logger });
    try {
      await e.addDeny({ type: 'ip', value: '172.16.0.1' }); // crosses the threshold: the fold starts
      const during = Array.from({ length: 30 }, (_, i) => `172.16.1.${i}`);
      for (const value of during) await e.addDeny({ type: 'ip', value });
      await until(() => journal(dir).length < journalBytes);
      const snapSeq = (JSON.parse(fs.readFileSync(data(dir, 'lists.json'), 'utf8')) as { seq: number }).seq;
      const left = journal(dir).split('\n').filter(Boolean);
      // Only lines the snapshot lacks are left, every one whole, each change exactly once.
      expect(left.map((l) => (JSON.parse(l.slice(17)) as { seq: number }).seq).filter((s) => s <= snapSeq)).toEqual([]);
      expect(left.length).toBeGreaterThan(0);
      expect(left.length + (snapSeq - 1_000_000)).toBe(31);
      crash();
      for (const value of ['172.16.2.1', '172.16.2.2']) await e.addDeny({ type: 'ip', value });
    } finally {
      await e.close();
    }
    const again = createEnforcer({ configDir: crashed, logger });
    try {
      expect(['172.16.0.1', ...Array.from({ length: 30 }, (_, i) => `172.16.1.${i}`)].filter((ip) => !again.denyList.has('ip', ip))).toEqual([]);
      expect(again.denyList.size).toBe(31);
      expect(warnings).toEqual([]);
    } finally {
      await again.close();
    }
    const closed = createEnforcer({ configDir: dir, logger });
    try {
      expect(closed.denyList.size).toBe(33);
    } finally {
      await closed.close();
    }
  });

  test('concurrent changes share one append', async () => {
    const e = createEnforcer({ configDir: dir, logger });
    try {
      await e.addDeny({ type: 'ip', value: '10.1.0.1' });
      const probe = await fs.promises.open(data(dir, 'lists.json'), 'r');
      const fileHandle = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
      await probe.close();
      const appends = jest.spyOn(fileHandle, 'write');
      await Promise.all(Array.from({ length: 20 }, (_, i) => e.addDeny({ type: 'ip', value: `10.1.1.${i}` })));
      // The first change alone, then the 19 that queued behind it; the zeros written ahead are written once.
      expect(appends.mock.calls.filter((c) => (c[0] as Buffer).some((b) => b !== 0))).toHaveLength(2);
      appends.mockRestore();
      expect(journal(dir).split('\n')).toHaveLength(21); // the first change wrote lists.json
    } finally {
      await e.close();
    }
  });
});
