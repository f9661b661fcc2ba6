/**
 * Who rotates throwaway identifiers. A client that earns a violation, drops the identifier it was
 * listed under and comes back with a fresh token would never be stopped by the identifier's entry
 * alone; its address is what stays. This table remembers, per client address (an IPv6 client by
 * its network, see `ipv6_client_prefix`), the distinct identifiers that drew violations recently,
 * and says when there are `threshold` of them within `windowMs`.
 *
 * Memory is bounded whatever the traffic: identifiers are kept as 32-bit hashes, at most
 * `threshold` per address, and at most `maxClients` addresses (the least recently seen goes first).
 */
export class RotationTracker {
  /** Address → [time, identifier hash, time, hash, …], oldest first. */
  private readonly seen = new Map<string, number[]>();

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    readonly maxClients = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * A violation by `client` under the identifier whose hash is `id`. True when this makes
   * `threshold` distinct identifiers within the window; the address then starts over.
   */
  note(client: string, id: number): boolean {
    if (this.threshold <= 0) return false;
    const t = this.now();
    const prev = this.seen.get(client);
    const kept: number[] = [];
    if (prev) {
      this.seen.delete(client); // re-inserted below: the Map's order is recency
      for (let i = 0; i < prev.length; i += 2) {
        if (t - prev[i]! < this.windowMs && prev[i + 1] !== id) kept.push(prev[i]!, prev[i + 1]!);
      }
    }
    kept.push(t, id);
    if (kept.length / 2 >= this.threshold) return true;
    if (this.seen.size >= this.maxClients) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(client, kept);
    return false;
  }

  clear(): void {
    this.seen.clear();
  }
}
