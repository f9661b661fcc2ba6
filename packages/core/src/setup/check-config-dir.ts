import * as path from 'node:path';
import { AseConfigError, AseError, type ConfigProblem } from '../errors';
import { loadApiDir, loadConfFile } from '../config/load';
import { ClientList } from '../lists/client-list';
import { ListBudget } from '../lists/list-budget';
import { readListFiles } from '../persistence/file-list-store';

/** What `ase check` found in a configuration directory. */
export interface ConfigDirCheck {
  /** Everything that would stop a start, or that a start would drop (an API file, a list entry). */
  problems: ConfigProblem[];
  /** What a start would only warn about (reference-only keys, ...). */
  warnings: string[];
  /** API files that load. */
  apis: number;
  /** Entries of data/lists.json and its journal that load (deny and allow lists together). */
  listEntries: number;
}

/**
 * Checks `dir` as a start would read it, starting nothing and writing nothing: `ase.conf`, every
 * `api/*.json` (every bad file reported, not only the first), and the lists kept in `data/`.
 */
export function checkConfigDir(dir: string): ConfigDirCheck {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const collect = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (err instanceof AseConfigError) problems.push(...err.problems);
      else if (err instanceof AseError) problems.push({ file: dir, path: '', message: err.message });
      else throw err;
      return undefined;
    }
  };
  const conf = collect(() => loadConfFile(dir));
  warnings.push(...(conf?.warnings ?? []));
  const apis = collect(() => loadApiDir(dir));
  warnings.push(...(apis?.warnings ?? []));
  let listEntries = 0;
  if (conf) {
    const budget = new ListBudget(conf.conf.attack_list_memory, conf.conf.attack_list_shares);
    const replica = { blacklist: new ClientList('blacklist', budget), whitelist: new ClientList('whitelist', budget) };
    const dataDir = path.join(dir, 'data');
    const skipped = collect(() => readListFiles(dataDir, replica));
    // An entry skipped at start is a listed client silently no longer listed: a problem here.
    for (const w of skipped ?? []) {
      const at = w.indexOf(': ');
      problems.push(at > 0 ? { file: w.slice(0, at), path: '', message: w.slice(at + 2) } : { file: path.join(dataDir, 'lists.json'), path: '', message: w });
    }
    listEntries = replica.blacklist.size + replica.whitelist.size;
  }
  return { problems, warnings, apis: apis?.apis.size ?? 0, listEntries };
}
