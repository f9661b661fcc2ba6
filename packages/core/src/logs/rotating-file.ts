import { type WriteStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface RotatingFileOptions {
  /** Size at which the file is rotated (`file` → `file.1` → … → `file.<keep>`, the oldest deleted). */
  maxBytes?: number;
  /** Rotated files kept besides the current one. */
  keep?: number;
  /**
   * Bytes waiting for the disk beyond which new lines are dropped (and counted) instead of queued:
   * a flood of logged events on a slow disk must not grow the process's memory.
   */
  maxBufferedBytes?: number;
  onError?: (err: Error) => void;
}

export const ROTATING_FILE_DEFAULTS = { maxBytes: 64 * 1024 * 1024, keep: 5, maxBufferedBytes: 1024 * 1024 } as const;

/**
 * An append-only log file that an attacker cannot use to fill the disk or the heap: it is rotated
 * by size with a fixed number of old files, and lines are dropped, not buffered, while the disk is
 * behind. The request path never waits on it: writes go to a buffered stream.
 */
export class RotatingFile {
  private stream: WriteStream;
  private size: number;
  private dropped = 0;
  private closed = false;
  /** Lines written while a rotation is under way (the old file flushing, the renames). */
  private pending: string[] | undefined;
  private pendingBytes = 0;
  private onClosed: (() => void) | undefined;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly maxBuffered: number;

  constructor(
    readonly file: string,
    private readonly opts: RotatingFileOptions = {},
  ) {
    this.maxBytes = Math.max(1, opts.maxBytes ?? ROTATING_FILE_DEFAULTS.maxBytes);
    this.keep = Math.max(0, Math.floor(opts.keep ?? ROTATING_FILE_DEFAULTS.keep));
    this.maxBuffered = Math.max(1, opts.maxBufferedBytes ?? ROTATING_FILE_DEFAULTS.maxBufferedBytes);
    mkdirSync(path.dirname(file), { recursive: true });
    this.size = sizeOf(file);
    this.stream = this.open();
  }

  /** Appends one line (a newline is added). Returns false when it was dropped. */
  write(line: string): boolean {
    if (this.closed) return false;
    if (this.bufferedBytes >= this.maxBuffered) {
      this.dropped++;
      return false;
    }
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      this.append(`[${new Date().toISOString()}] [type:log] [dropped:${n}] lines were dropped while the disk was behind\n`);
    }
    this.append(`${line}\n`);
    return true;
  }

  /** Lines dropped since the last one written. */
  get droppedLines(): number {
    return this.dropped;
  }

  /** Bytes written but not yet handed to the disk (what `maxBufferedBytes` bounds). */
  get bufferedBytes(): number {
    return this.pending ? this.pendingBytes : this.stream.writableLength;
  }

  /** Resolves once every line written is on disk. */
  close(): Promise<void> {
    this.closed = true;
    if (this.pending) return new Promise((resolve) => (this.onClosed = resolve));
    return new Promise((resolve) => this.stream.end(resolve));
  }

  private append(text: string): void {
    if (this.pending) {
      this.pending.push(text);
      this.pendingBytes += text.length;
    } else {
      this.stream.write(text);
    }
    this.size += Buffer.byteLength(text);
    if (!this.pending && this.size >= this.maxBytes) this.rotate();
  }

  private open(): WriteStream {
    const s = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    s.on('error', (err) => this.opts.onError?.(err));
    return s;
  }

  /**
   * The renames happen once the old stream has flushed and closed, so no line lands in the wrong
   * file; lines written meanwhile wait in `pending` (bounded like the stream) for the new file.
   */
  private rotate(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.end(() => {
      try {
        shiftFiles(this.file, this.keep);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
      this.stream = this.open();
      const lines = this.pending ?? [];
      this.pending = undefined;
      this.size = 0;
      // Replayed through append: a burst larger than maxBytes rotates again at the right line.
      for (const text of lines) this.append(text);
      if (this.onClosed && !this.pending) this.stream.end(this.onClosed);
    });
  }
}

/** `file.<keep-1>` → `file.<keep>` … `file` → `file.1`; the oldest beyond `keep` is removed. */
function shiftFiles(file: string, keep: number): void {
  if (keep === 0) {
    rmSync(file, { force: true });
    return;
  }
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) renameIfExists(`${file}.${i}`, `${file}.${i + 1}`);
  renameIfExists(file, `${file}.1`);
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
