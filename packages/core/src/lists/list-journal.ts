import { promises as fsp, constants as fsc, existsSync, readFileSync, openSync, closeSync, ftruncateSync, fsyncSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { ClientList, StoredEntry } from './client-list';
import { canonicalEntry } from './entries';
import { type JournalLine, type ListOp, journalLine, parseLine, putEntry } from './journal-format';
import { snapshotText, truncateToEmpty, writeAt, writeSnapshotInChunks } from './journal-files';
import { readSnapshot } from './snapshot-reader';
import { syncDir, tempFileFor, writeFileAtomic } from '../persistence/atomic-file';

/** The journal may grow to the snapshot's size (at least this much) before it is folded into it. */
const MIN_COMPACT_BYTES = 1 << 20;
/** Detections waiting for the disk at most; past them the next write is a snapshot, which holds them all. */
export const MAX_PENDING_DETECTIONS = 10_000;

export { journalLine, type ListOp } from './journal-format';

interface Pending {
  seq: number;
  line: string;
  done?: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * O_DSYNC: each write returns once its bytes (and the size needed to read them) are on disk, one
 * call where write + fdatasync took two trips through libuv's thread pool. Where the platform has
 * no O_DSYNC each write is followed by an fdatasync. Not O_APPEND: lines are written at their
 * offset inside the zeros written ahead (Linux ignores the offset of an O_APPEND file).
 */
const JOURNAL_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | (fsc.O_DSYNC ?? 0);

/**
 * The journal file runs this far ahead of its last line in zeros, written and made durable before
 * any line goes there: a line then changes neither the file's size nor its block map, so making it
 * durable costs no filesystem-journal commit, which on ext4 waits for every other file's pending
 * data (a snapshot being written, other processes' writes). A zero tail is no line: load stops at it.
 */
const WRITE_AHEAD = 256 * 1024;
const ZEROS = Buffer.alloc(WRITE_AHEAD);

/** A snapshot written in the background, waiting for the drain to put it in place. */
interface Folded {
  tmp: string;
  seq: number;
  bytes: number;
}

/**
 * The lists on disk: the snapshot `lists.json` (the format it always had) plus `lists.journal`,
 * one checksummed line per change since the snapshot. A change costs one appended line, made
 * durable by one write shared by every change that arrived meanwhile, whatever the size of the
 * lists. The journal's file stays open between changes.
 *
 * When the journal outgrows the snapshot it is folded into a new one in the background: the lists
 * are copied as they are at sequence number S, written in chunks to a temporary file and fsync'd
 * while changes keep being appended to the journal; then, between two appends, the temporary file
 * is renamed over `lists.json` and the journal loses the lines up to S. At close, with no
 * snapshot yet, or after a failed append, the snapshot is written before the next append instead.
 *
 * Crash points: a torn last line is dropped at start (it was never acknowledged: its write had not
 * returned). A crash while a background snapshot is written leaves `lists.json` and the journal as
 * they were (the temporary file is removed at the next start). The new snapshot carries S; a crash
 * after its rename and before the journal is cut leaves journal lines the snapshot already has,
 * which replay skips by their sequence number. The journal is cut by truncating it when every line
 * is covered, or else by atomically replacing it with its lines after S.
 */
export class ListJournal {
  readonly snapshotFile: string;
  readonly journalFile: string;
  private seq = 0;
  /** The sequence number the snapshot on disk holds. */
  private snapshotSeq = 0;
  private snapshotBytes = 0;
  /** The end of the last line in the journal file. */
  private journalBytes = 0;
  /** The journal file's size: its lines, then zeros written ahead. */
  private allocated = 0;
  private extending: Promise<void> | undefined;
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;
  private mustCompact = false;
  /** Detections were not queued (too many waited): the next write must be a snapshot. */
  private overflowed = false;
  /** The journal starts from a snapshot: the first change after a start without one writes it. */
  private haveSnapshot = false;
  private fh: FileHandle | undefined;
  /** The background snapshot being written, if any, and the journal offset its sequence number covers. */
  private folding: { seq: number; coveredEnd: number; done: Promise<void> } | undefined;
  private folded: Folded | undefined;

  constructor(
    dataDir: string,
    private readonly deny: ClientList,
    private readonly allow: ClientList,
    private readonly onError?: (err: unknown) => void,
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
      // The allow list first: all of it is the operator's, and should the whole budget be full, a
      // manual deny entry restored after it can still make room by evicting detections.
      const now = Date.now();
      const snapshot = readSnapshot(this.snapshotFile, (name, raw, i) => {
        const list = name === 'whitelist' ? this.allow : this.deny;
        try {
          putEntry(list, raw, now);
        } catch (err) {
          warnings.push(`${this.snapshotFile}: ${list.name}[${i}] skipped: ${(err as Error).message}`);
        }
      });
      this.snapshotBytes = snapshot.bytes;
      this.haveSnapshot = true;
      snapSeq = snapshot.seq;
    }
    this.seq = snapSeq;
    this.snapshotSeq = snapSeq;
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
    this.allocated = buf.length;
    let dirty = buf.length;
    while (dirty > this.journalBytes && buf[dirty - 1] === 0) dirty--;
    // Only zeros after the last line: the space written ahead, not a torn write.
    if (bad && dirty === bad.start) bad = undefined;
    if (bad) {
      this.allocated = bad.start;
      warnings.push(`${this.journalFile}: dropped ${dirty - bad.start} bytes from line ${bad.no} on, an unfinished write cut short by a crash`);
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

  /** Journals a change already applied in memory; resolves once it is on disk. */
  write(op: ListOp): Promise<void> {
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      this.pending.push({ seq, line: journalLine({ ...op, seq }), done: { resolve, reject } });
      this.kick().catch(() => undefined); // the failure reaches this caller through reject
    });
  }

  /**
   * Journals a detection in the background: the request does not wait for the disk, and a flood
   * on a disk that falls behind queues at most MAX_PENDING_DETECTIONS lines (a failure reaches onError).
   */
  record(op: ListOp): void {
    const seq = ++this.seq;
    if (this.pending.length < MAX_PENDING_DETECTIONS) this.pending.push({ seq, line: journalLine({ ...op, seq }) });
    else this.overflowed = true; // already applied in memory: the snapshot will hold it
    if (!this.draining) this.kick().catch((err: unknown) => this.onError?.(err));
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

  /** One durable append for every change queued meanwhile; background failures reject only kick(). */
  private async drain(): Promise<void> {
    let failure: unknown;
    while (this.pending.length > 0 || this.folded || this.overflowed) {
      if (this.folded) {
        // Between two appends: nothing is half-written to the journal while it is cut.
        const folded = this.folded;
        this.folded = undefined;
        try {
          await this.putFolded(folded);
        } catch (err) {
          failure = err;
        }
        continue;
      }
      const batch = this.pending;
      this.pending = [];
      try {
        if (this.mustCompact || this.overflowed || !this.haveSnapshot) {
          this.overflowed = false;
          await this.compactNow();
        } else {
          await this.append(batch);
          if (!this.folding && this.journalBytes >= Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)) this.foldInBackground();
        }
        for (const p of batch) p.done?.resolve();
      } catch (err) {
        // What reached the file is unknown: the next write starts from a fresh snapshot instead.
        this.mustCompact = true;
        await this.closeJournal();
        failure = err;
        for (const p of batch) p.done?.reject(err);
        // Writers take a refused change back in their rejection handlers; the snapshot the next
        // batch writes must be taken after that, or it would store a change that was refused.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (failure) throw failure;
  }

  private async append(batch: Pending[]): Promise<void> {
    const data = Buffer.from(batch.length === 1 ? batch[0]!.line : batch.map((p) => p.line).join(''), 'utf8');
    while (this.journalBytes + data.length > this.allocated) await this.writeAhead(data.length);
    const fh = await this.openJournal();
    await writeAt(fh, data, this.journalBytes);
    const folding = this.folding;
    if (folding) {
      // Lines up to the snapshot's sequence number may still arrive after it was taken (they were
      // queued): the journal is cut after the last of them.
      let end = this.journalBytes;
      for (const p of batch) {
        end += Buffer.byteLength(p.line);
        if (p.seq <= folding.seq) folding.coveredEnd = end;
      }
    }
    this.journalBytes += data.length;
    // Ahead of time, so that the appends after this one find their room ready.
    if (this.allocated - this.journalBytes < WRITE_AHEAD / 2) this.writeAhead(0).catch(() => undefined); // the next append that needs the room retries and reports
  }

  private async openJournal(): Promise<FileHandle> {
    this.fh ??= await fsp.open(this.journalFile, JOURNAL_FLAGS, 0o600);
    return this.fh;
  }

  /** Extends the file by zeros (at least `need` bytes), durable before any line is written there. */
  private writeAhead(need: number): Promise<void> {
    this.extending ??= (async () => {
      const fh = await this.openJournal();
      const zeros = need <= WRITE_AHEAD ? ZEROS : Buffer.alloc(need);
      await writeAt(fh, zeros, this.allocated);
      this.allocated += zeros.length;
    })().finally(() => (this.extending = undefined));
    return this.extending;
  }

  private async closeJournal(): Promise<void> {
    await this.extending?.catch(() => undefined);
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /**
   * Takes the lists as they are (sequence number S: every change issued so far is applied in
   * memory) and writes them as a snapshot beside `lists.json`; the drain puts it in place. The copy
   * is taken on the next turn of the event loop, after the change that crossed the threshold was
   * acknowledged: copying a million entries blocks for a few hundred milliseconds.
   */
  private foldInBackground(): void {
    // Until the copy is taken, every line appended has a sequence number it will hold.
    const folding = { seq: Infinity, coveredEnd: this.journalBytes, done: Promise.resolve() };
    const tmp = tempFileFor(this.snapshotFile);
    folding.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        folding.seq = this.seq;
        // Between chunks the snapshot waits for an append under way: the changes go first.
        return writeSnapshotInChunks(tmp, folding.seq, this.deny.list(undefined, true), this.allow.list(undefined, true), () => this.draining?.catch(() => undefined));
      })
      .then(
        (bytes) => {
          this.folded = { tmp, seq: folding.seq, bytes };
          this.kick().catch(() => undefined); // a failure to put it in place leaves the journal whole: the next change retries
        },
        async () => {
          // The journal still has every change: the next append past the threshold folds again.
          if (this.folding === folding) this.folding = undefined;
          await fsp.rm(tmp, { force: true }).catch(() => undefined);
        },
      );
    this.folding = folding;
  }

  /** Renames a background snapshot over `lists.json`, then cuts the journal lines it holds. */
  private async putFolded(folded: Folded): Promise<void> {
    const folding = this.folding;
    this.folding = undefined;
    if (!folding || folding.seq !== folded.seq || this.snapshotSeq >= folded.seq || this.mustCompact) {
      // A newer snapshot was written meanwhile (or must be): this one must not replace it.
      await fsp.rm(folded.tmp, { force: true });
      return;
    }
    try {
      await fsp.rename(folded.tmp, this.snapshotFile);
    } catch (err) {
      await fsp.rm(folded.tmp, { force: true });
      throw err;
    }
    await syncDir(path.dirname(this.snapshotFile));
    this.snapshotSeq = folded.seq;
    this.snapshotBytes = folded.bytes;
    const keep = this.journalBytes - folding.coveredEnd;
    if (keep === 0) {
      await this.truncateJournal();
      return;
    }
    const tail = Buffer.alloc(keep);
    let read = 0;
    const fh = await fsp.open(this.journalFile, 'r');
    try {
      for (let n = -1; read < keep && n !== 0; read += n) n = (await fh.read(tail, read, keep - read, folding.coveredEnd + read)).bytesRead;
    } finally {
      await fh.close();
    }
    if (read < keep) {
      // Something else cut the file: only a snapshot of what is in memory still holds every change.
      this.mustCompact = true;
      return;
    }
    await this.closeJournal(); // its file is replaced
    await writeFileAtomic(this.journalFile, tail.toString('utf8'));
    this.journalBytes = keep;
    this.allocated = keep;
  }

  private async truncateJournal(): Promise<void> {
    await this.extending?.catch(() => undefined);
    if (this.journalBytes > 0 || existsSync(this.journalFile)) await truncateToEmpty(this.journalFile);
    this.journalBytes = 0;
    this.allocated = 0;
  }

  /**
   * Writes every change made so far as the snapshot, then empties the journal. Each seq issued is
   * applied in memory already, so the snapshot carries them all.
   */
  private async compactNow(): Promise<void> {
    const seq = this.seq;
    const text = snapshotText(seq, this.deny.list(undefined, true), this.allow.list(undefined, true));
    await writeFileAtomic(this.snapshotFile, text);
    this.snapshotSeq = seq;
    this.snapshotBytes = Buffer.byteLength(text);
    this.haveSnapshot = true;
    await this.truncateJournal();
    this.mustCompact = false;
  }

  /** Waits for queued changes and folds the journal into the snapshot (clean close). */
  async close(): Promise<void> {
    for (;;) {
      if (this.draining) await this.draining.catch(() => undefined);
      else if (this.folding) await this.folding.done;
      else break;
    }
    await this.closeJournal();
    if (this.journalBytes > 0 || this.mustCompact) {
      this.pending = [];
      // A failed fold is no loss: the journal still holds every change the snapshot lacks.
      this.draining = this.compactNow().finally(() => (this.draining = undefined));
      await this.draining.catch(() => undefined);
    } else if (this.allocated > 0) {
      await this.truncateJournal().catch(() => undefined); // only zeros written ahead: a clean stop leaves an empty journal
    }
  }

  /** Bytes of lines in the journal now, without the zeros written ahead (for tests and the bench). */
  get size(): number {
    return this.journalBytes;
  }

  /** Changes waiting for the disk. */
  get queued(): number {
    return this.pending.length;
  }
}
