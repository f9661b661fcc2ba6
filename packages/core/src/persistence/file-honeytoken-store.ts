import { promises as fsp, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Honeytoken, type HoneytokenTable, honeytokenOf } from '../honeytokens/honeytoken-table';
import type { HoneytokenStore } from '../stores/types';
import type { Logger } from '../types';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-file';

/**
 * The honeytokens of one process, in `<configDir>/data/honeytokens.jsonl`: one JSON line per
 * planted token, appended in the background. The file is rewritten from the table (the tokens
 * still remembered) when it reaches twice the table's bound, so it stays bounded too. Tokens are
 * credentials of a sort: the file is made readable by its owner only.
 */
export class FileHoneytokenStore implements HoneytokenStore {
  readonly shared = false;
  readonly file: string;
  private table: HoneytokenTable | undefined;
  private lines = 0;
  /** Lines waiting for the disk: at most the table's bound (older ones are forgotten by the table anyway). */
  private pending: string[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logger?: Logger,
  ) {
    this.file = path.join(dataDir, 'honeytokens.jsonl');
  }

  load(table: HoneytokenTable): Promise<string[]> {
    try {
      return Promise.resolve(this.loadSync(table));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  loadSync(table: HoneytokenTable): string[] {
    this.table = table;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.lines++;
      let t: Honeytoken | undefined;
      try {
        t = honeytokenOf(JSON.parse(line));
      } catch {
        t = undefined;
      }
      if (t) table.add(t);
      else skipped++;
    }
    if (this.lines > table.max) this.compactSync();
    return skipped > 0 ? [`${this.file}: ${skipped} line(s) that are not honeytokens were skipped (a torn last write, or an edit)`] : [];
  }

  record(token: Honeytoken): void {
    this.pending.push(JSON.stringify(token));
    if (this.pending.length > (this.table?.max ?? Infinity)) this.pending.shift();
    this.writing ??= this.drain();
  }

  subscribe(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.writing;
  }

  /** Appends what is pending, one write at a time; compacts when the file has grown to twice the bound. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        if (this.table && this.lines + batch.length > 2 * this.table.max) {
          await writeFileAtomic(this.file, this.snapshot());
          this.lines = this.table.size;
          continue;
        }
        await fsp.mkdir(this.dataDir, { recursive: true });
        await fsp.appendFile(this.file, batch.map((l) => `${l}\n`).join(''), { mode: 0o600 });
        this.lines += batch.length;
      }
    } catch (err) {
      this.logger?.error(`could not persist honeytokens to ${this.file}: ${(err as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }

  private compactSync(): void {
    mkdirSync(this.dataDir, { recursive: true });
    writeFileAtomicSync(this.file, this.snapshot());
    this.lines = this.table?.size ?? 0;
  }

  private snapshot(): string {
    let out = '';
    for (const t of this.table?.values() ?? []) out += `${JSON.stringify(t)}\n`;
    return out;
  }
}
