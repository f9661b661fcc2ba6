import type { CompiledApi } from '../api/compiled-api';
import type { ListBudget } from '../lists/client-list';

/*
 * Warnings about a configuration that loaded but does not do what it seems to: reported once, at
 * start, in `enforcer.warnings` and through the logger.
 */

/** The manual entries loaded from `source` take more than their share of `attack_list_memory`. */
export function manualShareWarning(budget: ListBudget, source: string): string | undefined {
  if (budget.shareUsed('manual') <= budget.shareLimit('manual')) return undefined;
  return (
    `${source}: the manual entries and the allow list take ${budget.shareUsed('manual')} bytes, more than their share of ` +
    `attack_list_memory (${budget.shareLimit('manual')}); all were loaded, but new manual entries are refused (507) until ` +
    'some are removed or attack_list_memory / attack_list_shares give the manual share more room'
  );
}

/** The reference keeps decoy detection off by default: a decoy then answers but lists nobody, which looks like protection. */
export function idleDecoysWarning(apis: readonly CompiledApi[], aseDetected: boolean): string | undefined {
  if (aseDetected) return undefined;
  const ids = apis.filter((api) => api.decoy.enabled).map((api) => api.id).sort();
  if (ids.length === 0) return undefined;
  return (
    `decoys are configured (api ${ids.join(', ')}) but enable_ase_detected_attack is false: a decoy hit answers and lists nobody. ` +
    'Set enable_ase_detected_attack=true in ase.conf (conf: { enable_ase_detected_attack: true } in code) for decoy hits to deny-list the client.'
  );
}
