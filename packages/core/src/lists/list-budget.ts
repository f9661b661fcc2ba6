import type { DenyTag } from './entries';

/**
 * The three parts of `attack_list_memory`. Each has its own share, so one kind of entry can never
 * crowd out another: `manual` holds what an operator decided (manual and abs_generated deny
 * entries, the whole allow list) and is never evicted; `decoy` holds IPs caught by a decoy, which a
 * client cannot get into without touching a trap; `automatic` holds every other detection
 * (violations, missing tokens), the part an attacker can fill at will with throwaway identifiers.
 */
export type ListShare = 'manual' | 'decoy' | 'automatic';
export const LIST_SHARES: readonly ListShare[] = ['manual', 'decoy', 'automatic'];
/** Percent of attack_list_memory per share (`attack_list_shares`). */
export const DEFAULT_LIST_SHARES: Readonly<Record<ListShare, number>> = Object.freeze({ manual: 50, decoy: 20, automatic: 30 });

/** The share a deny-list tag's entries count against (allow-list entries are all `manual`). */
export function shareOf(tag: DenyTag): ListShare {
  return tag === 'manual' || tag === 'abs_generated' ? 'manual' : tag === 'decoy' || tag === 'honeytoken' ? 'decoy' : 'automatic';
}

/**
 * Memory budget of the deny and allow lists together (`attack_list_memory`), split into
 * {@link ListShare}s. When a share is full, an automatic or decoy entry evicts the oldest entry of
 * its own share (throwaway identifiers before IPs); a manual entry is refused with
 * ERR_ASE_LIST_FULL rather than silently dropping another.
 */
export class ListBudget {
  used = 0;
  private readonly limits: Record<ListShare, number>;
  private readonly usedBy: Record<ListShare, number> = { manual: 0, decoy: 0, automatic: 0 };

  constructor(
    readonly limit: number,
    percents: Readonly<Record<ListShare, number>> = DEFAULT_LIST_SHARES,
  ) {
    this.limits = {
      manual: Math.floor((limit * percents.manual) / 100),
      decoy: Math.floor((limit * percents.decoy) / 100),
      automatic: Math.floor((limit * percents.automatic) / 100),
    };
  }

  /** Bytes a share may hold. */
  shareLimit(share: ListShare): number {
    return this.limits[share];
  }

  /** Bytes a share holds. */
  shareUsed(share: ListShare): number {
    return this.usedBy[share];
  }

  /**
   * Whether `cost` more bytes fit in `share` and in the whole budget. `borrow`: a manual entry may
   * use room the other shares leave free (entries restored from disk: nothing the operator had is
   * dropped because the shares came after it).
   */
  fits(share: ListShare, cost: number, borrow = false): boolean {
    if (this.used + cost > this.limit) return false;
    return this.usedBy[share] + cost <= this.limits[share] || (borrow && share === 'manual');
  }

  take(share: ListShare, cost: number): void {
    this.usedBy[share] += cost;
    this.used += cost;
  }
}
