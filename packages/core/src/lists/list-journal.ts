import { promises as fsp, existsSync, readFileSync, openSync, closeSync, ftruncateSync, fsyncSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { type DenyTag, DENY_TAGS, canonicalEntry } from './entries';
import type { ClientList, StoredEntry } from './client-list';
import { writeFileAtomic } from '../persistence/atomic-file';

/**
 * One list change as the journal records it. Entries are stored as `list()` shows them (secrets
 * digested), so the journal holds nothing `lists.json` would not.
 */
export type ListOp =
  | { list: 'blacklist' | 'whitelist'; op: 'add'; entry: StoredEntry }
  | { list: 'blacklist' | 'whitelist'; op: 'remove'; entry: StoredEntry }
  | { list: 'blacklist' | 'whitelist'; op: 'clear'; tags?: DenyTag[] };

type JournalLine = ListOp & { seq: number };

/** On-disk shape of `data/lists.json`; `seq` is the last journal line it already contains. */
interface ListsFile {
  version: 1;
  seq?: number;
  blacklist: StoredEntry[];
  whitelist: StoredEntry[];
}

/** The journal may grow to the snapshot's size (at least this much) before it is folded into it. */
const MIN_COMPACT_BYTES = 1 << 20;

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);

/** `<16 hex sha-256 of the JSON> <JSON>\n`: a line a crash cut short, or filled with zeros, fails the check. */
export function journalLine(line: JournalLine): string {
  const json = JSON.stringify(line);
  return `${checksum(json)} ${json}\n`;
}

function parseLine(text: string): JournalLine | undefined {
  const sp = text.indexOf(' ');
  if (sp !== 16) return undefined;
  const json = text.slice(17);
  if (checksum(json) !== text.slice(0, 16)) return undefined;
  try {
    const v = JSON.parse(json) as JournalLine;
    return typeof v.seq === 'number' && (v.list === 'blacklist' || v.list === 'whitelist') ? v : undefined;
  } catch {
    return undefined;
  }
}

function putEntry(list: ClientList, raw: unknown): void {
  const r = raw as Record<string, unknown>;
  const tag = (DENY_TAGS as readonly string[]).includes(String(r['tag'])) ? (r['tag'] as DenyTag) : 'manual';
  list.add(canonicalEntry(raw), tag, { restore: true });
}

interface Pending {
  line: string;
  done?: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * The lists on disk: the snapshot `lists.json` (the format it always had) plus `lists.journal`,
 * one checksummed line per change since the snapshot. A change costs one appended line and one
 * fsync shared by every change that arrived meanwhile, whatever the size of the lists. The journal
 * is folded into a new snapshot when it outgrows it and at close.
 *
 * Crash points: a torn last line is dropped at start (it was never acknowledged: its fsync had not
 * returned). Compaction writes the snapshot atomically with the last sequence number it contains,
 * then empties the journal; a crash between the two leaves journal lines the snapshot already has,
 * which replay skips by their sequence number.
 */
export class ListJournal {
  readonly snapshotFile: string;
  readonly journalFile: string;
  private seq = 0;
  private snapshotBytes = 0;
  private journalBytes = 0;
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;
  private mustCompact = false;
  /** The journal starts from a snapshot: the first change after a start without one writes it. */
  private haveSnapshot = false;

  constructor(
    dataDir: string,
    private readonly deny: ClientList,
    private readonly allow: ClientList,
  ) {
    this.snapshotFile = path.join(dataDir, 'lists.json');
    this.journalFile = path.join(dataDir, 'lists.journal');
  }

  /**
   * Loads the snapshot and replays the journal on top. An unreadable snapshot or a bad line with
   * good lines after it is an error (the caller refuses to start rather than run with lists that
   * lost entries); a bad tail is what a crash mid-append leaves, and is dropped with a warning.
   */
  load(): string[] {
    const warnings: string[] = [];
    let snapSeq = 0;
    if (existsSync(this.snapshotFile)) {
      const text = readFileSync(this.snapshotFile, 'utf8');
      this.snapshotBytes = Buffer.byteLength(text);
      this.haveSnapshot = true;
      const parsed = JSON.parse(text) as Partial<ListsFile>;
      snapSeq = typeof parsed.seq === 'number' ? parsed.seq : 0;
      const put = (list: ClientList, raw: unknown, i: number): void => {
        try {
          putEntry(list, raw);
        } catch (err) {
          warnings.push(`${this.snapshotFile}: ${list.name}[${i}] skipped: ${(err as Error).message}`);
        }
      };
      // The allow list first: all of it is the operator's, and should the whole budget be full, a
      // manual deny entry restored after it can still make room by evicting detections.
      (parsed.whitelist ?? []).forEach((e, i) => put(this.allow, e, i));
      (parsed.blacklist ?? []).forEach((e, i) => put(this.deny, e, i));
    }
    this.seq = snapSeq;
    if (!existsSync(this.journalFile)) return warnings;
    const buf = readFileSync(this.journalFile);
    const lines: { line: JournalLine; end: number }[] = [];
    let bad: { no: number; start: number } | undefined;
    let start = 0;
    let no = 0;
    while (start < buf.length) {
      no++;
      const nl = buf.indexOf(10, start);
      const end = nl < 0 ? buf.length : nl + 1;
      const line = nl < 0 ? undefined : parseLine(buf.toString('utf8', start, nl));
      if (!line) bad ??= { no, start };
      else if (bad) throw new Error(`${this.journalFile}: line ${bad.no} is damaged and later lines are not: it was not cut short by a crash`);
      else lines.push({ line, end });
      start = end;
    }
    for (const { line } of lines) {
      if (line.seq <= snapSeq) continue; // already in the snapshot: a crash came between its write and emptying the journal
      this.apply(line, warnings);
      this.seq = Math.max(this.seq, line.seq);
    }
    this.journalBytes = bad ? bad.start : buf.length;
    if (bad) {
      warnings.push(`${this.journalFile}: dropped ${buf.length - bad.start} bytes from line ${bad.no} on, an unfinished write cut short by a crash`);
      // New lines must not follow the torn ones, or the next start would see damage in the middle.
      const fd = openSync(this.journalFile, 'r+');
      try {
        ftruncateSync(fd, bad.start);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return warnings;
  }

  private apply(line: JournalLine, warnings: string[]): void {
    const list = line.list === 'blacklist' ? this.deny : this.allow;
    try {
      if (line.op === 'add') putEntry(list, line.entry);
      else if (line.op === 'remove') list.remove(canonicalEntry(line.entry));
      else {
        const tags = line.tags;
        list.clear(tags ? (t) => tags.includes(t) : undefined);
      }
    } catch (err) {
      warnings.push(`${this.journalFile}: change ${line.seq} skipped: ${(err as Error).message}`);
    }
  }

  /** Journals a change already applied in memory; resolves once it is on disk (fsync). */
  write(op: ListOp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line: journalLine({ ...op, seq: ++this.seq }), done: { resolve, reject } });
      this.kick().catch(() => undefined); // the failure reaches this caller through reject
    });
  }

  /** Journals a change in the background (detections: the request does not wait for the disk). */
  record(op: ListOp): Promise<void> {
    this.pending.push({ line: journalLine({ ...op, seq: ++this.seq }) });
    return this.kick();
  }

  private kick(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // A change queued after the drain found the queue empty, and before this ran, was handed
      // the finished drain: without a new one it would never be written nor acknowledged.
      if (this.pending.length > 0) this.kick().catch(() => undefined); // its writer hears of a failure through its own reject
    });
    return this.draining;
  }

  /** One append and one fsync for every change queued meanwhile; background failures reject only kick(). */
  private async drain(): Promise<void> {
    let failure: unknown;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (this.mustCompact || !this.haveSnapshot || this.journalBytes >= Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)) {
          await this.compactNow();
        } else {
          const data = batch.map((p) => p.line).join('');
          const fh = await fsp.open(this.journalFile, 'a', 0o600);
          try {
            await fh.appendFile(data, 'utf8');
            await fh.sync();
          } finally {
            await fh.close();
          }
          this.journalBytes += Buffer.byteLength(data);
        }
        for (const p of batch) p.done?.resolve();
      } catch (err) {
        // What reached the file is unknown: the next write starts from a fresh snapshot instead.
        this.mustCompact = true;
        failure = err;
        for (const p of batch) p.done?.reject(err);
      }
    }
    if (failure) throw failure;
  }

  /**
   * Writes every change made so far as the snapshot, then empties the journal. Each seq issued is
   * applied in memory already, so the snapshot carries them all.
   */
  private async compactNow(): Promise<void> {
    const file: ListsFile = { version: 1, seq: this.seq, blacklist: this.deny.list(), whitelist: this.allow.list() };
    const text = JSON.stringify(file, null, 1);
    await writeFileAtomic(this.snapshotFile, text);
    this.snapshotBytes = Buffer.byteLength(text);
    this.haveSnapshot = true;
    if (this.journalBytes > 0 || existsSync(this.journalFile)) {
      const fh = await fsp.open(this.journalFile, 'r+').catch(() => undefined);
      if (fh) {
        try {
          await fh.truncate(0);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    }
    this.journalBytes = 0;
    this.mustCompact = false;
  }

  /** Waits for queued changes and folds the journal into the snapshot (clean close). */
  async close(): Promise<void> {
    while (this.draining) await this.draining.catch(() => undefined);
    if (this.journalBytes > 0 || this.mustCompact) {
      this.pending = [];
      // A failed fold is no loss: the journal still holds every change the snapshot lacks.
      this.draining = this.compactNow().finally(() => (this.draining = undefined));
      await this.draining.catch(() => undefined);
    }
  }

  /** Bytes in the journal now (for tests and the bench). */
  get size(): number {
    return existsSync(this.journalFile) ? statSync(this.journalFile).size : 0;
  }
}
