import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASE_CONF_DEFAULTS } from '../config/defaults';
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
      else if (err instanceof AseError) problems.push(problemIn(err.message, dir));
      else throw err;
      return undefined;
    }
  };
  const conf = collect(() => loadConfFile(dir));
  warnings.push(...(conf?.warnings ?? []));
  const apis = collect(() => loadApiDir(dir));
  warnings.push(...(apis?.warnings ?? []));
  let listEntries = 0;
  // With a bad ase.conf the lists are still read, under the default memory budget.
  const settings = conf?.conf ?? ASE_CONF_DEFAULTS;
  if (fs.existsSync(dir)) {
    const budget = new ListBudget(settings.attack_list_memory, settings.attack_list_shares);
    const replica = { blacklist: new ClientList('blacklist', budget), whitelist: new ClientList('whitelist', budget) };
    const dataDir = path.join(dir, 'data');
    const skipped = collect(() => readListFiles(dataDir, replica));
    // An entry skipped at start is a listed client silently no longer listed: a problem here.
    for (const w of skipped ?? []) problems.push(problemIn(w, path.join(dataDir, 'lists.json')));
    listEntries = replica.blacklist.size + replica.whitelist.size;
  }
  return { problems, warnings, apis: apis?.apis.size ?? 0, listEntries };
}

/** `FILE: message` (how the list files word their problems) as a problem of FILE; else one of `file`. */
function problemIn(text: string, file: string): ConfigProblem {
  const at = text.indexOf(': ');
  return at > 0 && path.isAbsolute(text.slice(0, at)) ? { file: text.slice(0, at), path: '', message: text.slice(at + 2) } : { file, path: '', message: text };
}
