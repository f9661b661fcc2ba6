import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { CompiledApi } from './api/compiled-api';
import { LiveApis } from './api/live-apis';
import { ASE_CONF_DEFAULTS } from './config/defaults';
import { fromObjects, loadConfFile, readServerCa } from './config/load';
import { normaliseAseConf } from './config/ase-conf';
import type { ApiJsonInput, AseConf, FlowControlJson, ServerJson } from './config/types';
import { DefaultLogger } from './setup/default-logger';
import type { EnforcerOptions } from './setup/enforcer-options';
import type { EnforcerEvents } from './events';
import { AccessLog } from './logs/access-log';
import { ClientList, ListBudget } from './lists/client-list';
import { type Honeytoken, HoneytokenTable } from './honeytokens/honeytoken-table';
import type { DenyTag, ListEntry } from './lists/entries';
import type { AdminCredentials } from './management/credentials';
import { type AddOptions, ListOperations } from './management/list-operations';
import { ManagementMounts } from './management/management-mounts';
import { ManagementService } from './management/management-service';
import { DecisionCounts } from './metrics/decision-counts';
import { EnforcerMetrics } from './metrics/enforcer-metrics';
import type { EnforcerState } from './metrics/state-metrics';
import { UpstreamTimes } from './metrics/upstream-times';
import { FlowCounts } from './metrics/flow-counts';
import { ManagementCounts } from './metrics/management-counts';
import { type DecisionContext, clientKey, createDecisionContext, trustedPeer } from './pipeline/context';
import { decide } from './pipeline/decide';
import { type Explanation, explain } from './pipeline/explain';
import { parseExplainRequest } from './request/explain-request';
import { TrustedProxies } from './request/client-ip';
import { type EnforcerStats, enforcerStats } from './setup/enforcer-stats';
import { StoreSet } from './setup/store-set';
import { loadStores } from './setup/store-loading';
import type { Decision, Logger, RawRequest } from './types';
import { BackendAgents } from './upstream/agents';
import { forwardDecision } from './upstream/forward';
import type { ServerPool } from './upstream/server-pool';
import { type TunnelContext, endTunnels, handleUpgrade } from './upstream/tunnel';

export type { AttackEvent, BlockedEvent, EnforcerEvents, FlowControlEvent, SecurityEvent, SecurityEventType } from './events';
export type { EnforcerOptions } from './setup/enforcer-options';
export type { ApiStats, EnforcerStats, TableSize } from './setup/enforcer-stats';

/**
 * The engine: holds the configuration, the lists and the backend pools, and decides what happens
 * to each request. Framework adapters only translate requests in and decisions out. The parts it
 * wires: the decision pipeline (pipeline/), the management operations (management/), the stores
 * lists and APIs are kept in, and the upstream side (forwarding, WebSocket tunnels).
 */
export class Enforcer extends EventEmitter<EnforcerEvents> {
  readonly conf: AseConf;
  readonly mode: 'middleware' | 'gateway';
  readonly configDir: string | undefined;
  readonly logger: Logger;
  /** Problems found while loading (skipped API files, ignored keys). */
  readonly warnings: string[] = [];
  readonly denyList: ClientList;
  readonly allowList: ClientList;
  /** Resolves once the stores have loaded (at once when every store loads synchronously). */
  readonly ready: Promise<void>;
  /**
   * Management APIs mounted in the app (@ase/admin's framework mounts add themselves): the
   * middleware adapters hand their requests over before deciding, so no list entry locks the
   * operator out of the API that removes it.
   */
  readonly managementMounts = new ManagementMounts();
  /** What @ase/admin counts of the management calls it answers (`ase_management_*` metrics). */
  readonly managementCalls = new ManagementCounts();

  private readonly ctx: DecisionContext;
  private readonly apis: LiveApis;
  private readonly lists: ListOperations;
  private readonly management: ManagementService;
  private readonly tunnels: TunnelContext;
  private readonly stores: StoreSet;
  /** Keep-alive connections to backends, shared by all APIs (docs/performance.md). */
  private readonly agents: BackendAgents;
  private readonly metricSet: EnforcerMetrics;
  private readonly decisions = new DecisionCounts();
  private readonly upstreamTimes = new UpstreamTimes();
  private readonly flow = new FlowCounts();
  private metricState: EnforcerState | undefined;
  private accessLog: AccessLog | undefined;
  private loading = true;
  private closed = false;

  constructor(options: EnforcerOptions = {}) {
    super();
    this.logger = options.logger ?? new DefaultLogger();
    this.mode = options.mode ?? 'middleware';
    const configDir = (this.configDir = options.configDir ? path.resolve(options.configDir) : undefined);
    // First: a registry that cannot take the metrics fails the start before any store is opened.
    this.metricSet = new EnforcerMetrics(options.metrics, { storeHealth: options.stores?.health, decisions: this.decisions, upstreamTimes: this.upstreamTimes, flow: this.flow, management: this.managementCalls, state: () => this.metricState });

    const fromDir = configDir ? loadConfFile(configDir) : undefined;
    const conf = options.conf
      ? normaliseAseConf({ ...(fromDir?.conf ?? ASE_CONF_DEFAULTS), ...options.conf }, '<options.conf>')
      : { ...(fromDir?.conf ?? ASE_CONF_DEFAULTS) };
    this.conf = conf;
    this.stores = new StoreSet(options.stores, configDir, { skipInvalidApis: options.skipInvalidApis === true, logger: this.logger, trackedClients: conf.tracked_clients_max });
    const storedApis = this.stores.loadApisSync();
    const fromCode = fromObjects({ apis: (options.apis ?? {}) as Record<string, ApiJsonInput> });
    const trusted = new TrustedProxies(conf.xff_trusted_proxies);
    const caSource = options.conf?.server_ca_cert_path !== undefined || !configDir ? '<options.conf>' : path.join(configDir, 'ase.conf');
    const ca = readServerCa(conf.server_ca_cert_path, caSource);
    this.agents = new BackendAgents(ca, conf.backend_timeout);

    const budget = new ListBudget(conf.attack_list_memory, conf.attack_list_shares);
    this.denyList = new ClientList('blacklist', budget);
    this.allowList = new ClientList('whitelist', budget);
    this.lists = new ListOperations(this.denyList, this.allowList, this.stores.lists, this.logger, this);
    this.lists.startSweeps();
    this.apis = new LiveApis({ conf, configDir, ca, agents: this.agents, events: this, trustedPeer: (peer) => trustedPeer(this.ctx, peer), stores: this.stores.runtime, onRemove: (id) => this.forgetMetrics(id), onUpstreamTiming: (id, s) => this.upstreamTimes.observe(id, s) });
    const { mode, logger, denyList, allowList, apis, lists } = this;
    this.on('flow_control', this.flow.count);
    this.metricState = { denyList, allowList, budget, runtimes: () => apis.runtimes.values(), stats: () => this.stats() };
    const warn = (m: string): void => this.warn(m);
    const honeytokens = new HoneytokenTable(conf.honeytokens_max);
    const honeytokenStore = this.stores.honeytokens;
    const recordHoneytoken = (t: Honeytoken): void => honeytokenStore?.record(t);
    const ctx = (this.ctx = createDecisionContext({ conf, mode, apis, denyList, allowList, trusted, events: this, logger, warn, recordListChange: (c) => lists.record(c), honeytokens, recordHoneytoken }));
    this.management = new ManagementService({ apis, store: this.stores.apis, lists, switches: ctx, configDir, logger, warn });
    this.tunnels = {
      conf,
      ca,
      apis,
      events: this,
      decide: (raw) => this.decide(raw),
      recount: (was, now) => this.decisions.recount(was, now),
      trustedPeer: (peer) => trustedPeer(ctx, peer),
      clientKey: (ip) => clientKey(ctx, ip),
    };

    for (const w of [...(fromDir?.warnings ?? []), ...(storedApis?.warnings ?? []), ...fromCode.warnings]) this.warn(w);
    for (const [id, json] of [...(storedApis?.apis ?? []), ...fromCode.apis]) this.apis.install(id, json);
    this.apis.rebuildMatcher();

    const loading = loadStores({ stores: this.stores, apis, lists, management: this.management, denyList, allowList, budget, honeytokens, switches: ctx, warn }, storedApis);
    this.ready = loading ? loading.then(() => this.started()) : Promise.resolve(this.started());
    this.ready.catch(() => undefined); // a failed start is reported to whoever awaits ready
  }

  /**
   * The registry holding this enforcer's Prometheus metrics (docs/metrics.md): its own unless
   * `createEnforcer({ metrics: { registry } })` gave the host app's. @ase/admin serves it at `/metrics`.
   */
  get metrics(): Registry {
    return this.metricSet.registry;
  }

  /** A deleted API's series go with it. */
  private forgetMetrics(apiId: string): void {
    this.decisions.forget(apiId);
    this.upstreamTimes.forget(apiId);
    this.flow.forget(apiId);
  }

  /** The stores have loaded: decisions may go ahead. */
  private started(): void {
    if (this.closed) return;
    if (this.configDir && this.conf.enable_access_log) this.accessLog = new AccessLog(this, path.join(this.configDir, 'logs', 'access.log'));
    this.loading = false;
  }

  /**
   * Decides what happens to one request (pipeline/decide.ts): synchronously, except where a store,
   * the scheduler's queue or a JWT not verified before makes it wait. Adapters handle both (see
   * `decisionSettler`). A request that comes before the stores have loaded waits for them.
   */
  decide(raw: RawRequest): Decision | Promise<Decision> {
    // Counted here, where the decision is final, once per request (ase_decisions_total).
    const d = this.loading ? this.ready.then(() => decide(this.ctx, raw)) : decide(this.ctx, raw);
    return d instanceof Promise ? d.then(this.decisions.count) : this.decisions.count(d);
  }

  /**
   * What the enforcer would do with a request, without doing it (docs/explain.md): the same
   * stages as `decide`, in a dry run that writes no list entry, consumes no counter, takes no
   * server slot, emits no event and logs nothing. `request` is checked first (a bad one throws).
   */
  async explain(request: unknown): Promise<Explanation> {
    const parsed = parseExplainRequest(request);
    if (this.loading) await this.ready;
    return explain(this.ctx, parsed);
  }

  /** Sends a `proxy` decision's request to its backend. Adapters give it Node's req/res. */
  forward(req: IncomingMessage, res: ServerResponse, decision: Extract<Decision, { action: 'proxy' }>): void {
    forwardDecision(this.apis, req, res, decision);
  }

  /**
   * A WebSocket upgrade (the HTTP server's `upgrade` event, which bypasses every framework's
   * middleware): the same pipeline decides, at the upgrade. Resolves true when the socket was
   * answered or tunnelled, false when no API took it (middleware mode), so another upgrade
   * handler of the app may have it.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: string = req.url ?? '/'): Promise<boolean> {
    return handleUpgrade(this.tunnels, req, socket, head, url);
  }

  // ---------------------------------------------------------------- lists (in-process API)

  /**
   * Adds a deny-list entry (tag `manual` unless given); resolves once persisted. `opts.ttl`: its
   * lifetime in seconds (1 to 10 years); without it the entry never expires.
   */
  addDeny(input: ListEntry, tag: DenyTag = 'manual', opts: AddOptions = {}): Promise<boolean> {
    return this.lists.addDeny(input, tag, opts);
  }

  removeDeny(input: ListEntry): Promise<boolean> {
    return this.lists.removeDeny(input);
  }

  /** Clears the deny list, or only entries with the given tag. */
  clearDeny(tag?: DenyTag): Promise<number> {
    return this.lists.clearDeny(tag);
  }

  /**
   * Brings the lists' hit counts up to date with a shared store (every node's hits) before they
   * are shown; nothing to do with a store of this process alone.
   */
  refreshListHits(): Promise<void> {
    return this.lists.refreshHits();
  }

  /** Adds an allow-list entry; `opts.ttl` as for {@link addDeny}. */
  addAllow(input: ListEntry, opts: AddOptions = {}): Promise<boolean> {
    return this.lists.addAllow(input, opts);
  }

  removeAllow(input: ListEntry): Promise<boolean> {
    return this.lists.removeAllow(input);
  }

  clearAllow(): Promise<number> {
    return this.lists.clearAllow();
  }

  // ---------------------------------------------------------------- switches

  get firewallEnabled(): boolean {
    return this.ctx.firewall;
  }

  setFirewall(enabled: boolean): void {
    this.ctx.firewall = enabled;
  }

  get aseDetectedAttacksEnabled(): boolean {
    return this.ctx.aseDetected;
  }

  /** Disabling removes every ASE-detected deny-list entry, as the reference product does. */
  setAseDetectedAttacks(enabled: boolean): Promise<void> {
    return this.management.setAseDetectedAttacks(enabled);
  }

  // ---------------------------------------------------------------- APIs

  listApis(): CompiledApi[] {
    return this.apis.list();
  }

  getApi(id: string): CompiledApi | undefined {
    return this.apis.get(id)?.api;
  }

  serverPool(id: string): ServerPool | undefined {
    return this.apis.get(id)?.pool;
  }

  /**
   * Adds (or with `replace`, updates) an API. Validated first; persisted to `api/<id>.json` before
   * it goes live, so an acknowledged change survives a restart.
   */
  putApi(id: string, input: unknown, opts: { replace?: boolean; persist?: boolean } = {}): Promise<CompiledApi> {
    return this.management.putApi(id, input, opts);
  }

  // ---------------------------------------------------------------- management
  // The operations behind @ase/admin and the `ase` CLI (management/management-service.ts).

  /** The management API's credentials (`data/credentials.json`), shared by every admin mount. */
  get adminCredentials(): AdminCredentials {
    return this.management.adminCredentials;
  }

  /** Adds an API. The id must be valid and free; the hostname and url must not belong to another API. */
  createApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.management.createApi(id, input);
  }

  /** Replaces an existing API's definition (persisted to `api/<id>.json` first). */
  updateApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.management.updateApi(id, input);
  }

  /** Removes an API: `api/<id>.json` is deleted first, then the API stops matching. */
  deleteApi(id: string): Promise<void> {
    return this.management.deleteApi(id);
  }

  /** Adds a backend server (`{host, port, server_spike_threshold?, server_connection_quota?}`) to an API. */
  addServer(apiId: string, server: unknown): Promise<ServerJson> {
    return this.management.addServer(apiId, server);
  }

  /** Removes the server `{host, port}` from an API. */
  deleteServer(apiId: string, server: unknown): Promise<void> {
    return this.management.deleteServer(apiId, server);
  }

  /** The API's `flow_control` (values only: enforcement is the flow-control stage's business). */
  getFlowControl(apiId: string): FlowControlJson {
    return this.management.getFlowControl(apiId);
  }

  /** Changes keys of an API's `flow_control`; returns the whole new `flow_control`. */
  updateFlowControl(apiId: string, changes: unknown): Promise<FlowControlJson> {
    return this.management.updateFlowControl(apiId, changes);
  }

  /** Changes `server_connection_quota` / `server_spike_threshold` of the server `{host, port}` of an API. */
  updateServerFlowControl(apiId: string, server: unknown): Promise<ServerJson> {
    return this.management.updateServerFlowControl(apiId, server);
  }

  /** Enables or disables the firewall, persisted in `data/runtime.json`; false when it already was. */
  updateFirewall(enabled: boolean): Promise<boolean> {
    return this.management.updateFirewall(enabled);
  }

  /** Enables or disables ASE-detected attacks (disabling purges their entries), persisted; false when unchanged. */
  updateAseDetectedAttacks(enabled: boolean): Promise<boolean> {
    return this.management.updateAseDetectedAttacks(enabled);
  }

  /** `attack_list_memory` configured and in use (bytes, both lists together). */
  get attackListMemory(): { configured: number; used: number } {
    return { configured: this.conf.attack_list_memory, used: this.denyList.memoryUsed };
  }

  /** The size of every table a client can grow, beside its bound (docs/security.md). */
  stats(): EnforcerStats {
    const { denyList, allowList, ctx } = this;
    const runtimes = this.apis.runtimes.values();
    return enforcerStats({ counters: this.stores.runtime.counters, rotation: ctx.rotation, denyList, allowList, attackListMemory: this.conf.attack_list_memory, listStore: this.stores.lists, honeytokens: ctx.honeytokens, runtimes });
  }

  /** Open WebSocket connections of an API, as `/v4/ase/persistentconnection` reports them; unknown APIs throw. */
  persistentConnections(apiId: string): { ws: number; wss: number } {
    return this.management.persistentConnections(apiId);
  }

  /**
   * For framework plugins: log through the host app's logger when createEnforcer was given none
   * (and the host's logger writes warnings). Start-up warnings not yet on the console go there
   * instead. False when the enforcer keeps its logger.
   */
  useHostLogger(logger: Logger): boolean {
    return this.logger instanceof DefaultLogger && this.logger.adopt(logger);
  }

  private warn(msg: string): void {
    this.warnings.push(msg);
    this.logger.warn(msg);
    if (this.listenerCount('warning') > 0) this.emit('warning', msg);
  }

  /**
   * Ends every open WebSocket tunnel. Upgraded sockets keep an HTTP server's close() waiting, so a
   * graceful shutdown calls this right after it stops accepting connections.
   */
  endWebSockets(): void {
    endTunnels(this.apis);
  }

  /** Stops background work, waits for pending writes and closes the stores. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lists.close();
    this.metricSet.close();
    this.apis.close();
    this.agents.destroy();
    await this.ready.catch(() => undefined);
    await this.stores.close();
    await this.accessLog?.close();
  }
}

export function createEnforcer(options: EnforcerOptions = {}): Enforcer {
  return new Enforcer(options);
}

/** Creates an enforcer and waits for its stores to load (needed for stores that load asynchronously). */
export async function startEnforcer(options: EnforcerOptions = {}): Promise<Enforcer> {
  const enforcer = new Enforcer(options);
  try {
    await enforcer.ready;
  } catch (err) {
    await enforcer.close();
    throw err;
  }
  return enforcer;
}
