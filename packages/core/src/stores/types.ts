import type { ApiJson } from '../config/types';
import type { ClientList, StoredEntry } from '../lists/client-list';
import type { DenyTag } from '../lists/entries';
import type { Honeytoken, HoneytokenTable } from '../honeytokens/honeytoken-table';

/**
 * Where the state of an enforcer lives. The request path reads lists and API definitions from a
 * local replica, synchronously; a store is where the truth is kept (files for one process, Redis
 * for a cluster) and how changes made elsewhere arrive. Counters, connection slots and sticky pins
 * are read through their store; the in-process stores answer synchronously, so the request path
 * only pays for a Promise when a store is remote.
 *
 * Every store here has an in-memory implementation (`stores/memory-*.ts`) that is the default and
 * passes the shared contract suite (`test/stores/`), which any other store must pass too.
 */

export type ListName = 'blacklist' | 'whitelist';

/** One change of a list, as data (not a predicate), so that it can be journaled and sent to other nodes. */
export type ListChange =
  | { list: ListName; op: 'add'; entry: StoredEntry }
  /** `expired`: the sweep removing an entry whose expiry came; it removes only that entry (same `expiresAt`), not one added again since. */
  | { list: ListName; op: 'remove'; entry: StoredEntry; expired?: true }
  | { list: ListName; op: 'clear'; tags?: DenyTag[] };

/** Hits of one entry: counted here and not yet sent, or the stored total. */
export interface ListHits {
  entry: StoredEntry;
  hits: number;
  lastHit: number;
}

/** The two lists the request path reads: match, has, list by tag, clear by tag (`ClientList`). */
export interface ListReplica {
  readonly blacklist: ClientList;
  readonly whitelist: ClientList;
}

/**
 * Deny and allow lists. The enforcer changes its replica first and then `apply`s the change; a
 * manual change is acknowledged only once `apply` resolves (and is taken back when it rejects).
 * Changes other writers made arrive through `subscribe`, and are applied to the replica.
 */
export interface ListStore {
  /** True when other writers share this store (other processes, or other handles over one in-process backing): their changes arrive through `subscribe`. */
  readonly shared: boolean;
  /**
   * Fills `replica` with the stored entries. The store may keep `replica` and read it later (a
   * file store folds it into its snapshot). Returns warnings (entries skipped, a torn tail dropped).
   */
  load(replica: ListReplica): Promise<string[]>;
  /** The same, at once, for stores that can (files, memory): the enforcer then starts ready. */
  loadSync?(replica: ListReplica): string[];
  /** Makes one change durable and visible to the other writers; resolves when acknowledged. */
  apply(change: ListChange): Promise<void>;
  /**
   * A detection, stored in the background with nobody waiting for it: a store that has this keeps
   * no Promise per change, so a flood of detections on a slow disk queues a bounded amount.
   */
  record?(change: ListChange): void;
  /**
   * Adds the hits counted here since the last call to the stored counts and answers each entry's
   * total (every writer's hits) and last hit; entries no longer stored are left out. Shared stores
   * only: hits are sent in batches, never one round trip per blocked request.
   */
  addHits?(list: ListName, hits: readonly ListHits[]): Promise<ListHits[]>;
  /** Every stored entry's hit count and last hit (with `addHits`): read when a list page is shown. */
  hitTotals?(list: ListName): Promise<ListHits[]>;
  /** Changes made by other writers of the same store, never those of this handle. Returns unsubscribe. */
  subscribe(listener: (change: ListChange) => void): () => void;
  close(): Promise<void>;
}

/**
 * The honeytokens decoys planted (docs/honeytokens.md), kept so that a restart, or another node of
 * a cluster, still catches whoever presents one. The request path reads the table it loaded into.
 */
export interface HoneytokenStore {
  /** As {@link ListStore.shared}. */
  readonly shared: boolean;
  /** Fills `table` with the stored tokens (the store may keep it, to compact from); returns warnings. */
  load(table: HoneytokenTable): Promise<string[]>;
  loadSync?(table: HoneytokenTable): string[];
  /** A token just planted, stored in the background (nobody waits for it; failures are logged). */
  record(token: Honeytoken): void;
  /** Tokens other writers planted. Returns unsubscribe. */
  subscribe(listener: (token: Honeytoken) => void): () => void;
  close(): Promise<void>;
}

/** Switches changed at run time (REST API, CLI) that override `ase.conf`. */
export interface RuntimeSwitches {
  enable_firewall?: boolean;
  enable_ase_detected_attack?: boolean;
}

export type ApiChange = { op: 'put'; id: string; json: ApiJson } | { op: 'delete'; id: string } | { op: 'switches'; switches: RuntimeSwitches };

export interface LoadedApis {
  apis: Map<string, ApiJson>;
  switches: RuntimeSwitches;
  warnings: string[];
}

/**
 * API definitions and run-time switches. A change is persisted (`put`, `delete`, `putSwitches`)
 * before it goes live; definitions other writers changed arrive through `subscribe`.
 */
export interface ApiStore {
  /** As {@link ListStore.shared}. */
  readonly shared: boolean;
  load(): Promise<LoadedApis>;
  loadSync?(): LoadedApis;
  put(id: string, json: ApiJson): Promise<void>;
  delete(id: string): Promise<void>;
  putSwitches(switches: RuntimeSwitches): Promise<void>;
  subscribe(listener: (change: ApiChange) => void): () => void;
  close(): Promise<void>;
}

/** A key's fixed window: points consumed in it and milliseconds until it ends. */
export interface WindowCount {
  consumed: number;
  resetMs: number;
}

/**
 * Counters in fixed windows (client and server spike thresholds). A window starts with the key's
 * first point and lasts `windowMs`. `localKeys` is true when the counts are this process's only;
 * such a store answers at once (never a Promise), so the request path can ask it synchronously.
 */
export interface CounterStore {
  readonly localKeys: boolean;
  /** Adds `points` to `key`'s window and returns the window after it. */
  consume(key: string, points: number, windowMs: number): WindowCount | Promise<WindowCount>;
  /** The key's current window; undefined when none is open. */
  get(key: string): WindowCount | undefined | Promise<WindowCount | undefined>;
  reset(key: string): void | Promise<void>;
  close?(): Promise<void>;
}

/** A held connection slot. Releasing is idempotent. */
export interface SlotLease {
  release(): void;
}

/**
 * Connection slots (`server_connection_quota`): at most `quota` held at once per key, across every
 * process sharing the store. A lease held longer than `leaseMs` by a process that died is freed
 * by a shared store; a local store frees only on `release`.
 */
export interface QuotaStore {
  readonly localKeys: boolean;
  tryAcquire(key: string, quota: number, leaseMs: number): SlotLease | undefined | Promise<SlotLease | undefined>;
  inFlight(key: string): number | Promise<number>;
  close?(): Promise<void>;
}

/** How much one API may pin: its `api_memory_size` in bytes and `cookie_idle_timeout` in ms (0: no idle expiry). */
export interface StickyBudget {
  maxBytes: number;
  idleMs: number;
}

/** Sticky sessions: cookie value → server id, per API, forgotten after `idleMs` without use. */
export interface StickyStore {
  readonly localKeys: boolean;
  /**
   * The API's budget, given when the API is installed or edited; undefined when the API is removed
   * or stops pinning (its pins may be forgotten). A store without it applies a budget of its own.
   */
  configure?(api: string, budget: StickyBudget | undefined): void;
  get(api: string, cookie: string): string | undefined | Promise<string | undefined>;
  set(api: string, cookie: string, serverId: string): void | Promise<void>;
  delete(api: string, cookie: string): void | Promise<void>;
  /** Forgets every pin of an API to `serverId` (server removed). */
  dropServer(api: string, serverId: string): void | Promise<void>;
  close?(): Promise<void>;
}

/** Whether a store that lives elsewhere (a server) answers now. */
export type StoreStatus = 'connected' | 'unreachable';

/**
 * What a remote store says of its own health. Read when metrics are scraped, never on the request
 * path; in-process stores (memory, files) cannot lose their backing and report none.
 */
export interface StoreHealth {
  /** Names the store in metric labels (`redis`): a fixed word of the store's code, never configuration. */
  readonly name: string;
  readonly status: StoreStatus;
  /** Times the store turned unreachable since it was made. */
  readonly outages?: number;
}

/** Every store an enforcer uses; those not given are the in-memory (or, with a configDir, file) ones. */
export interface EnforcerStores {
  lists?: ListStore;
  apis?: ApiStore;
  counters?: CounterStore;
  quotas?: QuotaStore;
  sticky?: StickyStore;
  /** Planted honeytokens; by default `data/honeytokens.jsonl` with a config directory, else memory only. */
  honeytokens?: HoneytokenStore;
  /** Reported by stores that can be unreachable (Redis); shown in the enforcer's metrics. */
  health?: StoreHealth;
}
