import type { ApiRuntime } from '../api/api-runtime';
import type { ClientList } from '../lists/client-list';
import type { RotationTracker } from '../lists/rotation-tracker';
import { FileListStore } from '../persistence/file-list-store';
import { MemoryCounterStore } from '../stores/memory-counter-store';
import { MemoryStickyStore } from '../stores/memory-sticky-store';
import type { CounterStore, ListStore } from '../stores/types';
import type { HoneytokenTable } from '../honeytokens/honeytoken-table';

/** A table's entries now, and the most it keeps. */
export interface TableSize {
  readonly size: number;
  readonly max: number;
}

/** One API's client tables in this process. */
export interface ApiStats {
  /** Sticky pins and their estimated bytes, bounded by `api_memory_size`; absent when off or kept in a shared store. */
  readonly sticky?: { readonly size: number; readonly bytes: number; readonly maxBytes: number };
  /** Clients metered by `bytes_in_threshold` / `bytes_out_threshold` (`tracked_clients_max` each). */
  readonly bytesIn?: TableSize;
  readonly bytesOut?: TableSize;
  /** Tokens `jwt_verification` verified and remembers. */
  readonly jwtCache?: TableSize;
  /** Open WebSocket tunnels (one entry per open connection). */
  readonly webSockets: number;
  /** Requests waiting for a server slot (`queue_max_size`). */
  readonly queued: number;
}

/**
 * What `enforcer.stats()` answers: the size of every table a client can grow, beside its bound,
 * so an operator (and the tests) can see a flood stay inside it. Reading it costs a walk over the
 * APIs, never over a table.
 */
export interface EnforcerStats {
  /** Rate-limit windows of every API together; absent when the counters are in a shared store. */
  readonly counters?: TableSize;
  /** Client addresses the `ip_rotation_threshold` table remembers. */
  readonly rotation: TableSize;
  /**
   * Entries of the deny and allow lists, the bytes of `attack_list_memory` they use, and (lists in
   * the config directory) the changes waiting for the disk.
   */
  readonly lists: { readonly deny: number; readonly allow: number; readonly bytes: number; readonly maxBytes: number; readonly queued?: number };
  /** Honeytokens decoys planted and this process remembers (docs/honeytokens.md). */
  readonly honeytokens: TableSize;
  readonly apis: Readonly<Record<string, ApiStats>>;
}

export interface StatsParts {
  counters: CounterStore;
  rotation: RotationTracker;
  denyList: ClientList;
  allowList: ClientList;
  attackListMemory: number;
  listStore: ListStore;
  honeytokens: HoneytokenTable;
  runtimes: Iterable<ApiRuntime>;
}

export function enforcerStats(p: StatsParts): EnforcerStats {
  const apis: Record<string, ApiStats> = {};
  for (const rt of p.runtimes) apis[rt.api.id] = apiStats(rt);
  return {
    ...(p.counters instanceof MemoryCounterStore ? { counters: { size: p.counters.size, max: p.counters.maxKeys } } : {}),
    rotation: { size: p.rotation.size, max: p.rotation.maxClients },
    lists: {
      deny: p.denyList.size,
      allow: p.allowList.size,
      bytes: p.denyList.memoryUsed,
      maxBytes: p.attackListMemory,
      ...(p.listStore instanceof FileListStore ? { queued: p.listStore.queued } : {}),
    },
    honeytokens: { size: p.honeytokens.size, max: p.honeytokens.max },
    apis,
  };
}

function apiStats(rt: ApiRuntime): ApiStats {
  const sticky = rt.sticky && rt.stickyStore instanceof MemoryStickyStore ? rt.stickyStore.stats(rt.api.id) : undefined;
  const meter = (m: ApiRuntime['bytesIn']): TableSize | undefined => m && { size: m.size, max: m.maxKeys };
  const bytesIn = meter(rt.bytesIn);
  const bytesOut = meter(rt.bytesOut);
  const jwtCache = rt.api.jwtVerifier?.cached;
  return {
    ...(sticky ? { sticky } : {}),
    ...(bytesIn ? { bytesIn } : {}),
    ...(bytesOut ? { bytesOut } : {}),
    ...(jwtCache ? { jwtCache } : {}),
    webSockets: rt.tunnels.size,
    queued: rt.scheduler?.queued ?? 0,
  };
}
