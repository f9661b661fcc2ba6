/** What a planted credential looks like to the client that received it. */
export type HoneytokenKind = 'api_key' | 'bearer_token' | 'cookie';

/**
 * A credential a decoy handed out. Nobody legitimate ever received it, so whoever presents it
 * later read it off the decoy (or got it from whoever did).
 */
export interface Honeytoken {
  value: string;
  kind: HoneytokenKind;
  /** The API whose decoy planted it. */
  api: string;
  /** The client key (IP, or IPv6 network) the decoy answered. */
  plantedTo: string;
  /** Milliseconds since the epoch. */
  plantedAt: number;
}

/** How many honeytokens an enforcer remembers by default (`honeytokens_max`); the oldest is forgotten beyond (docs/security.md). */
export const HONEYTOKENS_MAX = 10_000;

/**
 * The honeytokens an enforcer remembers: value → token for the request path's O(1) lookups, and
 * per client and API the tokens its decoy hits received, so that a client hitting a decoy again
 * gets the same credentials back (one client cannot push out the tokens planted for others by
 * hitting the decoy in a loop). Bounded: beyond `max` the oldest token is forgotten.
 */
export class HoneytokenTable {
  private readonly byValue = new Map<string, Honeytoken>();
  private readonly byClient = new Map<string, Honeytoken[]>();
  /** The shortest and longest value remembered: lookups skip every other length without hashing. */
  minLength = Infinity;
  maxLength = 0;

  constructor(readonly max: number = HONEYTOKENS_MAX) {}

  get size(): number {
    return this.byValue.size;
  }

  get(value: string): Honeytoken | undefined {
    return this.byValue.get(value);
  }

  /** The tokens planted for `clientKey` by `api`'s decoy, when remembered. */
  plantedFor(api: string, clientKey: string): readonly Honeytoken[] | undefined {
    return this.byClient.get(clientSlot(api, clientKey));
  }

  /** Remembers a token (again: a copy arriving from the store is a no-op); false when it was known. */
  add(t: Honeytoken): boolean {
    if (this.byValue.has(t.value)) return false;
    this.byValue.set(t.value, t);
    const slot = clientSlot(t.api, t.plantedTo);
    const list = this.byClient.get(slot);
    if (list) list.push(t);
    else this.byClient.set(slot, [t]);
    if (t.value.length < this.minLength) this.minLength = t.value.length;
    if (t.value.length > this.maxLength) this.maxLength = t.value.length;
    while (this.byValue.size > this.max) this.forgetOldest();
    return true;
  }

  /** Every remembered token, oldest first. */
  values(): IterableIterator<Honeytoken> {
    return this.byValue.values();
  }

  private forgetOldest(): void {
    const oldest = this.byValue.values().next().value as Honeytoken;
    this.byValue.delete(oldest.value);
    const slot = clientSlot(oldest.api, oldest.plantedTo);
    const rest = this.byClient.get(slot)?.filter((t) => t !== oldest);
    if (rest && rest.length > 0) this.byClient.set(slot, rest);
    else this.byClient.delete(slot);
  }
}

function clientSlot(api: string, clientKey: string): string {
  return `${api}\u0000${clientKey}`;
}

/** A stored token, checked: undefined when `v` is not one (a damaged file line, a foreign message). */
export function honeytokenOf(v: unknown): Honeytoken | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const t = v as Record<string, unknown>;
  const { value, kind, api, plantedTo, plantedAt } = t;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{16,128}$/.test(value)) return undefined;
  if (kind !== 'api_key' && kind !== 'bearer_token' && kind !== 'cookie') return undefined;
  if (typeof api !== 'string' || typeof plantedTo !== 'string' || typeof plantedAt !== 'number') return undefined;
  return { value, kind, api, plantedTo, plantedAt };
}
