import { createHash } from 'node:crypto';
import { type DenyTag, DENY_TAGS, canonicalEntry } from './entries';
import type { ClientList, StoredEntry } from './client-list';
import { metaOf } from './entry-records';

// The list journal's formats: one checksummed line per change, and the snapshot `lists.json`.

/**
 * One list change as the journal records it. Entries are stored as `list()` shows them (secrets
 * digested, with expiry and history), so the journal holds nothing `lists.json` would not.
 */
export type ListOp =
  | { list: 'blacklist' | 'whitelist'; op: 'add'; entry: StoredEntry }
  | { list: 'blacklist' | 'whitelist'; op: 'remove'; entry: StoredEntry; expired?: true }
  | { list: 'blacklist' | 'whitelist'; op: 'clear'; tags?: DenyTag[] };

export type JournalLine = ListOp & { seq: number };

/** On-disk shape of `data/lists.json`; `seq` is the last journal line it already contains. */
export interface ListsFile {
  version: 1;
  seq?: number;
  blacklist: StoredEntry[];
  whitelist: StoredEntry[];
}

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);

/** `<16 hex sha-256 of the JSON> <JSON>\n`: a line a crash cut short, or filled with zeros, fails the check. */
export function journalLine(line: JournalLine): string {
  const json = JSON.stringify(line);
  return `${checksum(json)} ${json}\n`;
}

export function parseLine(text: string): JournalLine | undefined {
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

/**
 * Puts a stored entry (file, journal, store) back in a list with its expiry and history; files
 * written before entries had them load as entries added now that never expire. An entry whose
 * expiry passed while nothing was running is left out. `now`: the time, when many are put at once.
 */
export function putEntry(list: ClientList, raw: unknown, now?: number): void {
  const r = raw as Record<string, unknown>;
  const tag = (DENY_TAGS as readonly string[]).includes(String(r['tag'])) ? (r['tag'] as DenyTag) : 'manual';
  list.add(canonicalEntry(raw), tag, { restore: true, meta: metaOf(raw), now });
}
