import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { AseConfigError, type AseConf, type Logger, invalidConfig, loadApiDir, loadConfigDir, readListFiles } from '@ase/core';
import type { ClusterInfo } from '@ase/admin';
import { type RedisStores, type RedisStoresOptions, redisStores } from '@ase/redis';

/** One `ase start` process as a member of a cluster sharing state through Redis. */
export interface ClusterNode {
  readonly stores: RedisStores;
  /** This process's id in the cluster, new at every start. */
  readonly uuid: string;
  /** Announces this node (the address and data port it serves on) and keeps its heartbeat going. */
  join(bind: string, port: number): Promise<void>;
  /** What `GET /v4/ase/cluster` answers. */
  info(): Promise<ClusterInfo>;
  /** The error `ase start` prints when Redis does not answer at start. */
  unreachable(cause: unknown): Error;
  /** Leaves the cluster and closes the connections. */
  close(): Promise<void>;
}

/** The same pattern @ase/redis applies: the id is a Redis Cluster hash tag, so no "/" or "}". */
const REDIS_CLUSTER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** An errors-only view of a Redis URL: the password never reaches a log line. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The address other nodes and operators reach this one at: the bound address, or this machine's first external IPv4 when bound to all. */
export function advertisedHost(bind: string): string {
  if (bind !== '*' && bind !== '0.0.0.0' && bind !== '::') return bind;
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4');
  return external?.address ?? '127.0.0.1';
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: unknown[] };
  return e?.message || e?.code || String(err);
}

/**
 * Opens the Redis stores of `ase.conf`'s cluster, and seeds the cluster's API definitions from
 * `api/*.json` when Redis holds none yet (the first node of a new cluster); otherwise Redis wins
 * and the files are not read. When Redis cannot be reached: with `cluster_start_on_failure=closed`
 * rejects with one clear line; with `open` the node starts from `api/*.json` and the lists of
 * `data/`, and takes the cluster's state (or seeds it) once Redis answers.
 */
export async function openCluster(configDir: string, conf: AseConf, opts: { skipInvalidApis: boolean; logger: Logger }): Promise<ClusterNode> {
  const confFile = path.join(configDir, 'ase.conf');
  if (conf.redis_url === '') {
    throw invalidConfig([{ file: confFile, path: 'redis_url', value: '', message: 'enable_cluster=true needs redis_url, the Redis the nodes share (like "redis://10.0.0.5:6379")' }]);
  }
  if (!REDIS_CLUSTER_ID.test(conf.cluster_id)) {
    throw invalidConfig([{ file: confFile, path: 'cluster_id', value: conf.cluster_id, message: 'with enable_cluster=true, cluster_id must be 1 to 64 letters, digits, "_", "." or "-"' }]);
  }
  const where = safeRedisUrl(conf.redis_url);
  // A lost Redis repeats the same error on every retry; one line per distinct error a minute is enough.
  const reported = new Map<string, number>();
  let stores: RedisStores | undefined;
  const startOpen = conf.cluster_start_on_failure === 'open';
  // A node that may start without Redis says so in the stores' own line, at start.
  let started = startOpen;
  const onError = (err: unknown): void => {
    // While Redis is lost, the one line of that transition has said so: its retries stay quiet.
    if (stores?.status === 'unreachable') return;
    const text = describe(err);
    const last = reported.get(text);
    if (last !== undefined && Date.now() - last < 60_000) return;
    if (reported.size > 100) reported.clear();
    reported.set(text, Date.now());
    opts.logger.warn(`redis at ${where}: ${text}`);
  };
  const options: RedisStoresOptions = {
    url: conf.redis_url,
    clusterId: conf.cluster_id,
    heartbeatMs: conf.cluster_heartbeat,
    forgetAfterMs: conf.cluster_forget_after,
    trackedClients: conf.tracked_clients_max,
    failure: { counters: conf.cluster_counters_on_failure, quotas: conf.cluster_quotas_on_failure, start: conf.cluster_start_on_failure },
    // What a single node reads from its directory: the API files and the lists of data/.
    startState: {
      apis: () => ({ ...loadApiDir(configDir, { skipInvalidApis: opts.skipInvalidApis }), switches: {} }),
      lists: (replica) => readListFiles(path.join(configDir, 'data'), replica),
    },
    onError,
    // Redis lost or back while running: one line each. At start an unreachable Redis is the one
    // line `ase: cannot start: ...` (closed), or the stores' line that it started without (open).
    logger: {
      warn: (line: string) => void (started && opts.logger.warn(line.replace(/^\[ase\] /, ''))),
      info: (line: string) => void (started && opts.logger.info(line.replace(/^\[ase\] /, ''))),
    },
  };
  stores = redisStores(options);
  let lastConnectError: unknown;
  stores.client.on('error', (err: unknown) => (lastConnectError = err));
  try {
    await seedApis(stores, configDir, opts);
  } catch (err) {
    await stores.close().catch(() => undefined);
    if (err instanceof AseConfigError) throw err;
    throw unreachable(where, lastConnectError ?? err);
  }
  started = true;
  return clusterNode(stores, conf.cluster_id, where, () => lastConnectError);
}

function unreachable(where: string, cause: unknown): Error {
  return new Error(`redis unreachable at ${where} (${describe(cause)})`, { cause });
}

async function seedApis(stores: RedisStores, configDir: string, opts: { skipInvalidApis: boolean; logger: Logger }): Promise<void> {
  const held = await stores.apis.load();
  // Started without Redis: the stores seed the cluster themselves once it answers.
  if (held.apis.size > 0 || stores.detached) return;
  const { apis, warnings } = loadConfigDir(configDir, { skipInvalidApis: opts.skipInvalidApis });
  for (const w of warnings) opts.logger.warn(w);
  // Two first nodes seeding at once write the same definitions: putting one twice is harmless.
  for (const [id, json] of apis) await stores.apis.put(id, json);
  if (apis.size > 0) opts.logger.info(`the cluster had no APIs yet: ${apis.size} API${apis.size === 1 ? '' : 's'} copied from ${path.join(configDir, 'api')}`);
}

function clusterNode(stores: RedisStores, clusterId: string, where: string, lastConnectError: () => unknown): ClusterNode {
  const uuid = randomUUID();
  let known: ClusterInfo['node'] = [];
  return {
    stores,
    uuid,
    // Started without Redis, the heartbeat is held until the cluster's state is loaded.
    join: (bind, port) => stores.membership.join({ host: advertisedHost(bind), port, uuid }),
    async info() {
      // The store's own flag when it has one; else whether this very read reached Redis.
      const status = (stores as { status?: unknown }).status;
      const flag = status === 'connected' || status === 'unreachable' ? status : undefined;
      // Known lost: a read would wait out the client's retries (seconds) only to fail.
      if (flag === 'unreachable') return { cluster_id: clusterId, node: known, redis: 'unreachable' };
      try {
        known = await stores.membership.nodes();
        return { cluster_id: clusterId, node: known, redis: flag ?? 'connected' };
      } catch {
        // Redis is away: the nodes seen last, rather than no answer.
        return { cluster_id: clusterId, node: known, redis: 'unreachable' };
      }
    },
    unreachable: (cause) => unreachable(where, lastConnectError() ?? cause),
    close: () => stores.close(),
  };
}
