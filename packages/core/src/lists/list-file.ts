import { existsSync, readFileSync } from 'node:fs';
import { type DenyTag, DENY_TAGS, canonicalEntry } from './entries';
import type { ClientList, StoredEntry } from './client-list';

/** On-disk shape of `data/lists.json`. */
interface ListsFile {
  version: 1;
  blacklist: StoredEntry[];
  whitelist: StoredEntry[];
}

export function serializeLists(deny: ClientList, allow: ClientList): string {
  const file: ListsFile = { version: 1, blacklist: deny.list(), whitelist: allow.list() };
  return JSON.stringify(file, null, 1);
}

/**
 * Loads `data/lists.json` into the lists. A file that cannot be read is an error (the caller
 * refuses to start rather than run with empty lists); single bad entries are reported and skipped.
 */
export function loadListsFile(file: string, deny: ClientList, allow: ClientList): string[] {
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ListsFile>;
  const warnings: string[] = [];
  const put = (list: ClientList, raw: unknown, i: number): void => {
    try {
      const r = raw as Record<string, unknown>;
      const tag = (DENY_TAGS as readonly string[]).includes(String(r['tag'])) ? (r['tag'] as DenyTag) : 'manual';
      list.add(canonicalEntry(raw), tag, { restore: true });
    } catch (err) {
      warnings.push(`${file}: ${list.name}[${i}] skipped: ${(err as Error).message}`);
    }
  };
  // The allow list first: all of it is the operator's, and should the whole budget be full, a
  // manual deny entry restored after it can still make room by evicting detections.
  (parsed.whitelist ?? []).forEach((e, i) => put(allow, e, i));
  (parsed.blacklist ?? []).forEach((e, i) => put(deny, e, i));
  return warnings;
}
