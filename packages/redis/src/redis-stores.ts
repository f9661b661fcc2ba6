import { randomUUID } from 'node:crypto';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { RedisApiStore } from './api-store';
import { RedisCounterStore } from './counter-store';
import { FailoverCounterStore, FailoverQuotaStore, FailoverStickyStore } from './failover-stores';
import { RedisHealth, type FailureMode, type RedisStatus } from './health';
import { KeySpace } from './keys';
import { RedisListStore } from './list-store';
import { ClusterMembership } from './membership';
import { RedisQuotaStore } from './quota-store';
import type { RedisClient } from './scripts';
import { RedisStickyStore } from './sticky-store';
import { RedisHoneytokenStore } from './honeytoken-store';
import { StartGate, type StartMode } from './start-gate';
import { invalidConfig, type EnforcerStores, type ListReplica, type LoadedApis } from '@ase/core';

export interface RedisStoresOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://`); a connection is opened and closed by `close()`. */
  url?: string;
  /**
   * ioredis options for the connection opened from `url`. By default a command waits through two
   * reconnection attempts and then fails, so that a Redis outage surfaces as rejected operations
   * within about a second instead of piling up.
   */
  redis?: RedisOptions;
  /** A connection (or Cluster) you own: used as is, never closed here. Wins over `url`. */
  client?: Redis | Cluster;
  /** Separates clusters sharing one Redis (default `ase`). Letters, digits, `_`, `.`, `-`. */
  clusterId?: string;
  /** What every key starts with, before `{<clusterId>}:` (default `ase:`). */
  keyPrefix?: string;
  /** About how many changes each change stream keeps for handles that were away (default 10000). */
  streamMaxLen?: number;
  /** A sticky pin not used for this long is forgotten (default 200 minutes, as `cookie_idle_timeout`). */
  stickyIdleMs?: number;
  /**
   * Counter windows kept in this process while Redis is unreachable (`failure.counters: 'open'`),
   * at most; the window started longest ago is forgotten beyond (default 100 000, as `tracked_clients_max`).
   */
  trackedClients?: number;
  /** How often a joined node renews its heartbeat (default 5 s); it turns inactive after three missed. */
  heartbeatMs?: number;
  /**
   * A node whose heartbeat expired this long ago (it stopped without leaving) is removed from the
   * cluster's nodes by the next heartbeat of a live one (default 1 hour).
   */
  forgetAfterMs?: number;
  /**
   * The lists or the API definitions were read again in full, because the changes missed while
   * away were no longer all in Redis (trimmed from the stream, or Redis lost its data). The
   * subscribers received the whole state as changes.
   */
  onResync?(store: 'lists' | 'apis'): void;
  /** Errors no caller waits for: a lost reader connection, a failed heartbeat or lease renewal. */
  onError?(err: unknown): void;
  /**
   * While Redis is unreachable: `open` (default) counts (spike thresholds) and holds connection
   * slots in this process's memory, so each instance enforces the limits alone; `closed` refuses
   * (the enforcer answers 503).
   *
   * `start`: when Redis does not answer as the lists and API definitions load. `closed` (default):
   * `load` rejects (`enforcer.ready` rejects with "redis unreachable at start (…)"). `open`: they
   * load `startState` instead (default: nothing), changes are refused, counters and slots follow
   * `counters` and `quotas`; once Redis answers, the cluster's state replaces the start state
   * (handed to the subscribers as changes) and the node joins (`membership`).
   */
  failure?: { counters?: FailureMode; quotas?: FailureMode; start?: StartMode };
  /**
   * With `failure.start: 'open'`, what the lists and API definitions are while Redis has not answered
   * since the start. A cluster that holds no API definitions when Redis answers gets these.
   */
  startState?: { apis?(): LoadedApis; lists?(replica: ListReplica): string[] };
  /**
   * Where the line for each outage and recovery goes (default `console`); `info`, when given, gets
   * the line saying that stores started without Redis have joined the cluster.
   */
  logger?: { warn(line: string): void; info?(line: string): void };
  /** Called at each change of `status`. */
  onStatus?(status: RedisStatus): void;
}

export type RedisStores = Required<EnforcerStores> & {
  lists: RedisListStore;
  apis: RedisApiStore;
  counters: FailoverCounterStore;
  quotas: FailoverQuotaStore;
  sticky: FailoverStickyStore;
  honeytokens: RedisHoneytokenStore;
  /** `connected`, or `unreachable` while Redis does not answer (see `onStatus`). */
  readonly status: RedisStatus;
  /** The same status for the enforcer's metrics (`ase_store_up{store="redis"}`), with the count of outages. */
  readonly health: { readonly name: 'redis'; readonly status: RedisStatus; readonly outages: number };
  /** True while the stores serve their start state: Redis has not answered since the start (`failure.start: 'open'`). */
  readonly detached: boolean;
  membership: ClusterMembership;
  /** The connection the stores use (yours when given as `client`). */
  client: RedisClient;
  /** Stops the readers, heartbeat and lease renewals, releases held leases, closes the connections opened here. */
  close(): Promise<void>;
};

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Every store of an enforcer over one Redis, plus the cluster's membership. */
export function redisStores(options: RedisStoresOptions = {}): RedisStores {
  const keys = new KeySpace(options.clusterId ?? 'ase', options.keyPrefix ?? 'ase:');
  // Checked before a connection is opened, which a throw would leave behind.
  const forgetAfterMs = options.forgetAfterMs ?? 3_600_000;
  if (!Number.isFinite(forgetAfterMs) || forgetAfterMs < 0) {
    throw invalidConfig([{ file: '<code>', path: 'redisStores.forgetAfterMs', value: forgetAfterMs, message: 'forgetAfterMs must be a number of milliseconds, 0 or more' }]);
  }
  const owned = options.client === undefined;
  // disconnectTimeout: ioredis waits this long for a socket that already died to close before it
  // lets go (its timer holds the process), so a close while Redis is away would linger 2 s.
  // failoverDetector (Sentinel only): move to a new master when the sentinels announce it; else the
  // connection stays on the old master, whose writes are lost, until that one drops its clients.
  const client: RedisClient = options.client ?? new Redis(options.url ?? DEFAULT_URL, { maxRetriesPerRequest: 2, connectTimeout: 5000, disconnectTimeout: 200, failoverDetector: true, ...options.redis });
  // Without a listener an 'error' event would throw; failed commands reject for their callers.
  const quiet = (): void => {};
  if (owned) client.on('error', quiet);
  const onError = options.onError ?? quiet;
  const logger = options.logger ?? console;
  const log = (line: string): void => logger.warn(line);
  const info = (line: string): void => (logger.info ? logger.info(line) : logger.warn(line));
  const counterMode = options.failure?.counters ?? 'open';
  const quotaMode = options.failure?.quotas ?? 'open';
  const startMode = options.failure?.start ?? 'closed';
  // Started without Redis, the start's own line says so; the lost and back lines would repeat it.
  const health = new RedisHealth(client, { counters: counterMode, log, onError, quietUntilReady: startMode === 'open' });
  const start = new StartGate(startMode, { counters: counterMode, quotas: quotaMode, log, info, onError });
  if (options.onStatus) health.onChange(options.onStatus);
  const origin = randomUUID();
  const streamMaxLen = options.streamMaxLen ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const readerName = (store: string): string => `${keys.base}${store}:reader:${origin.slice(0, 8)}`;
  const startLists = options.startState?.lists;
  const startApis = options.startState?.apis;
  const lists = new RedisListStore(client, keys, { origin, readerName: readerName('lists'), streamMaxLen, onError, health, log, start, ...(startLists ? { startState: startLists } : {}), onResync: () => options.onResync?.('lists') });
  const apis = new RedisApiStore(client, keys, { origin, readerName: readerName('apis'), streamMaxLen, onError, health, start, ...(startApis ? { startState: startApis } : {}), onResync: () => options.onResync?.('apis') });
  const honeytokens = new RedisHoneytokenStore(client, keys, { origin, onError });
  const quotas = new FailoverQuotaStore(new RedisQuotaStore(client, keys, onError), health, quotaMode);
  const membership = new ClusterMembership(client, keys, { heartbeatMs, expiryMs: heartbeatMs * 3, forgetAfterMs, onError, held: () => start.detached });
  // Joined only once the cluster's state is loaded: a heartbeat at once rather than at the next tick.
  start.onJoined(() => void membership.renew().catch(onError));
  let closing: Promise<void> | undefined;
  return {
    lists,
    apis,
    counters: new FailoverCounterStore(new RedisCounterStore(client, keys), health, counterMode, options.trackedClients),
    quotas,
    sticky: new FailoverStickyStore(new RedisStickyStore(client, keys, options.stickyIdleMs ?? 200 * 60_000, onError), health),
    honeytokens,
    membership,
    client,
    get status() {
      return health.status;
    },
    health: {
      name: 'redis',
      get status() {
        return health.status;
      },
      get outages() {
        return health.outages;
      },
    },
    get detached() {
      return start.detached;
    },
    close() {
      closing ??= (async () => {
        health.close();
        await Promise.all([lists.close(), apis.close(), honeytokens.close()]);
        await Promise.allSettled([quotas.close(), membership.leave()]);
        // QUIT lets replies in flight arrive; a connection that is not up has none and would queue it.
        if (owned) await (client.status === 'ready' ? client.quit().then(() => undefined, () => client.disconnect()) : client.disconnect());
        // QUIT leaves the failover detector's sentinel subscriptions open (ioredis #1362); disconnect closes them.
        if (owned && (client as Redis).options.sentinels) client.disconnect();
      })();
      return closing;
    },
  };
}
