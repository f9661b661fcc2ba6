import type { LiveApis } from '../api/live-apis';
import type { ClientList, ListBudget } from '../lists/client-list';
import { idleDecoysWarning, manualShareWarning } from './load-checks';
import type { ListOperations } from '../management/list-operations';
import type { ManagementService } from '../management/management-service';
import type { StoreSet } from './store-set';
import type { LoadedApis } from '../stores/types';
import type { HoneytokenTable } from '../honeytokens/honeytoken-table';

/** The parts of an enforcer its stores fill at start. */
export interface LoadTargets {
  stores: StoreSet;
  apis: LiveApis;
  lists: ListOperations;
  management: ManagementService;
  denyList: ClientList;
  allowList: ClientList;
  budget: ListBudget;
  honeytokens: HoneytokenTable;
  switches: { readonly aseDetected: boolean };
  warn(message: string): void;
}

/**
 * Fills the lists from the list store and applies the stored switches, then listens to other
 * writers. `storedApis` are the APIs already loaded at once (and installed); without them the API
 * store is awaited first, its APIs installed unless code gave the same id. Done synchronously when
 * both stores can (undefined is returned), else the Promise of it.
 */
export function loadStores(t: LoadTargets, storedApis: LoadedApis | undefined): Promise<LoadedApis> | undefined {
  const replica = { blacklist: t.denyList, whitelist: t.allowList };
  const listWarnings = storedApis && t.stores.loadListsSync(replica);
  const tokenWarnings = listWarnings && honeytokensSync(t);
  if (storedApis && listWarnings && tokenWarnings) {
    loaded(t, storedApis, [...listWarnings, ...tokenWarnings]);
    return undefined;
  }
  return (async () => {
    let apis = storedApis;
    if (!apis) {
      apis = await t.stores.apis.load();
      for (const w of apis.warnings) t.warn(w);
      for (const [id, json] of apis.apis) if (!t.apis.has(id)) t.apis.install(id, json);
      t.apis.rebuildMatcher();
    }
    const lists = listWarnings ?? (await t.stores.lists.load(replica));
    loaded(t, apis, [...lists, ...(tokenWarnings ?? (await honeytokens(t)))]);
    return apis;
  })();
}

function loaded(t: LoadTargets, apis: LoadedApis, listWarnings: string[]): void {
  for (const w of [...listWarnings, manualShareWarning(t.budget, t.stores.listsSource)]) if (w) t.warn(w);
  // Switches changed at run time survive a restart.
  t.management.loadSwitches(apis.switches, t.stores.switchesSource);
  t.stores.listen(
    (change) => t.lists.applyRemote(change),
    (change) => t.management.applyRemote(change),
    (token) => void t.honeytokens.add(token),
  );
  const idle = idleDecoysWarning(t.apis.list(), t.switches.aseDetected);
  if (idle) t.warn(idle);
}

/**
 * The stored honeytokens, at once when the store can. One that cannot be read costs the tokens it
 * held, not the start: the lists still hold everyone they caught.
 */
function honeytokensSync(t: LoadTargets): string[] | undefined {
  try {
    return t.stores.loadHoneytokensSync(t.honeytokens);
  } catch (err) {
    return [`honeytokens could not be read, those planted before this start are not caught: ${(err as Error).message}`];
  }
}

async function honeytokens(t: LoadTargets): Promise<string[]> {
  try {
    return (await t.stores.honeytokens?.load(t.honeytokens)) ?? [];
  } catch (err) {
    return [`honeytokens could not be read, those planted before this start are not caught: ${(err as Error).message}`];
  }
}
