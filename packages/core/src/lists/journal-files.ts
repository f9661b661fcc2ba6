import { promises as fsp, constants as fsc } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { StoredEntry } from './client-list';

// The list journal's file writes: a line at its offset, a snapshot in chunks.

/** Entries per chunk of a background snapshot: each chunk's JSON is built in under a millisecond, so a change queued meanwhile waits no longer. */
const SNAPSHOT_CHUNK = 1000;

/** A background snapshot is flushed every this many bytes: one flush of 60 MB would hold up the journal's own writes on the disk. */
const SNAPSHOT_FLUSH_BYTES = 4 << 20;

/** Empties `file` durably; a file that is not there is left alone. */
export async function truncateToEmpty(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.truncate(0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeAt(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let off = 0; off < data.length; ) off += (await fh.write(data, off, data.length - off, position + off)).bytesWritten;
  if (fsc.O_DSYNC === undefined) await fh.datasync();
}

/**
 * `lists.json`'s layout: one entry per line, the allow list first (start-up restores it first and
 * then reads the file in one pass, docs/performance.md). Any JSON reader reads it; files written
 * pretty-printed or deny list first by earlier versions still load.
 */
const HEAD = (seq: number): string => `{"version":1,"seq":${seq},"whitelist":[`;
const BETWEEN = '\n],"blacklist":[';
const TAIL = '\n]}\n';
const entriesText = (entries: StoredEntry[], first: boolean): string => (entries.length === 0 ? '' : `${first ? '\n' : ',\n'}${entries.map((e) => JSON.stringify(e)).join(',\n')}`);

/** `lists.json`'s content at once (a snapshot taken while nothing else may run). */
export function snapshotText(seq: number, blacklist: StoredEntry[], whitelist: StoredEntry[]): string {
  return `${HEAD(seq)}${entriesText(whitelist, true)}${BETWEEN}${entriesText(blacklist, true)}${TAIL}`;
}

/**
 * Writes `lists.json`'s content to `tmp` and fsyncs it, a chunk of entries at a time: the event
 * loop (and the journal's appends) runs between chunks. Returns the bytes written.
 */
export async function writeSnapshotInChunks(
  tmp: string,
  seq: number,
  blacklist: StoredEntry[],
  whitelist: StoredEntry[],
  between: () => Promise<unknown> | undefined,
): Promise<number> {
  const fh = await fsp.open(tmp, 'w', 0o600);
  let bytes = 0;
  let flushed = 0;
  const put = async (text: string): Promise<void> => {
    await between();
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    bytes += data.length;
    if (bytes - flushed >= SNAPSHOT_FLUSH_BYTES) {
      await fh.datasync();
      flushed = bytes;
    }
  };
  const putList = async (entries: StoredEntry[]): Promise<void> => {
    for (let i = 0; i < entries.length; i += SNAPSHOT_CHUNK) await put(entriesText(entries.slice(i, i + SNAPSHOT_CHUNK), i === 0));
  };
  try {
    await put(HEAD(seq));
    await putList(whitelist);
    await put(BETWEEN);
    await putList(blacklist);
    await put(TAIL);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return bytes;
}
