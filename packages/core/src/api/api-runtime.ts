import type { ServerResponse } from 'node:http';
import type { AseConf } from '../config/types';
import { parseDuration, parseRate, parseSize } from '../config/units';
import { ByteMeter } from '../flow/byte-meter';
import { type RateLimiter, createRateLimiter } from '../flow/rate-limit';
import type { BackendAgents } from '../upstream/agents';
import { Forwarder } from '../upstream/forwarder';
import { policyHeaders } from '../upstream/header-hygiene';
import { HealthChecker } from '../upstream/health-check';
import { ServerScheduler, type SchedulerServer } from '../upstream/scheduler';
import { ServerPool, type Upstream } from '../upstream/server-pool';
import { StickyPins } from '../upstream/sticky-pins';
import type { CounterStore, QuotaStore, StickyStore } from '../stores/types';
import type { WsTunnel } from '../upstream/ws-proxy';
import type { ResponseSpec } from '../types';
import type { CompiledApi } from './compiled-api';

export interface ApiRuntimeDeps {
  conf: AseConf;
  ca: Buffer | undefined;
  /** Keep-alive pools shared by the enforcer's APIs; each forwarder has its own when absent. */
  agents?: BackendAgents | undefined;
  onServerDown(api: string, server: Upstream, error: string): void;
  onHealthChange(api: string, server: Upstream, healthy: boolean): void;
  writeResponse(res: ServerResponse, spec: ResponseSpec): void;
  /** Where a proxied request's backend response time goes (`ase_upstream_duration_seconds`). */
  onUpstreamTiming?: ((api: string, seconds: number) => void) | undefined;
  /** Whether a socket peer is a trusted proxy (enable_xff and xff_trusted_proxies). */
  trustedPeer?: ((peer: string) => boolean) | undefined;
  /**
   * Where counters, connection slots and sticky pins are held: made once by the enforcer, shared
   * by its APIs, keyed by API id. Because the stores hold them, they outlive an edit of the API.
   */
  stores: RuntimeStores;
}

export interface RuntimeStores {
  counters: CounterStore;
  quotas: QuotaStore;
  sticky: StickyStore;
}

const OFF = { points: 0, unit: 'second', windowSeconds: 1 } as const;

/**
 * Everything one API needs at run time besides its definition: the server pool and its proxy,
 * flow-control limiters and the server scheduler, health checks, the sticky-session table and the
 * WebSocket meters. Built when the API is installed, closed when it is replaced or removed.
 */
export class ApiRuntime {
  readonly pool: ServerPool;
  readonly forwarder: Forwarder | undefined;
  /** `client_spike_threshold`, keyed by client IP; undefined when off. */
  readonly clientLimiter: RateLimiter | undefined;
  /** Present only when a server has a quota or a spike threshold: the plain path stays synchronous. */
  readonly scheduler: ServerScheduler | undefined;
  readonly health: HealthChecker | undefined;
  /** Present when `cookie_persistence_enabled` and the API names its cookie. */
  readonly sticky: StickyPins | undefined;
  readonly bytesIn: ByteMeter | undefined;
  readonly bytesOut: ByteMeter | undefined;
  /** Open WebSocket tunnels, counted for `/v4/ase/persistentconnection` and ended on close. */
  readonly tunnels = new Map<WsTunnel, 'ws' | 'wss'>();
  /** Request fields a client's Connection header cannot remove on the way to this API's servers. */
  readonly keptHeaders: ReadonlySet<string>;
  /** @internal Where this API's pins are kept (read by `enforcer.stats()`). */
  readonly stickyStore: StickyStore;
  /**
   * `prev` is the runtime this one replaces (an edit of the API). Windows, slots and pins are in
   * the stores, keyed by API and server id (`host:port`), so an edit neither frees slots nor
   * forgets them; health and the scheduler's queue are taken over from `prev`. State of servers
   * the edit removed is dropped.
   */
  constructor(
    readonly api: CompiledApi,
    deps: ApiRuntimeDeps,
    prev?: ApiRuntime,
  ) {
    const m = api.meta;
    this.pool = new ServerPool(m.servers, m.server_ssl, deps.conf.server_down_time);
    const prevMeta = prev?.api.meta;
    const keepHealth = prev?.health !== undefined && m.health_check;
    for (const u of this.pool.servers) {
      const old = prev?.pool.find(u.id);
      if (!old) continue;
      u.passiveDownUntil = old.passiveDownUntil;
      if (keepHealth) u.healthy = old.healthy;
    }
    this.keptHeaders = policyHeaders(api);
    this.forwarder =
      this.pool.size > 0
        ? new Forwarder({
            pool: this.pool,
            timeoutMs: deps.conf.backend_timeout,
            ca: deps.ca,
            keepForwardedFor: deps.conf.enable_xff,
            keptHeaders: this.keptHeaders,
            trustedPeer: deps.trustedPeer,
            agents: deps.agents,
            onServerDown: (u, error) => deps.onServerDown(api.id, u, error),
            onTiming: deps.onUpstreamTiming && ((s) => deps.onUpstreamTiming!(api.id, s)),
            writeResponse: deps.writeResponse,
          })
        : undefined;

    // The rate is part of the key: a changed threshold starts fresh windows (counts taken under
    // the old rate do not carry over), an unchanged one keeps them.
    const counters = deps.stores.counters;
    const clientRate = m.flow_control.client_spike_threshold;
    this.clientLimiter = createRateLimiter(parseRate(clientRate) ?? OFF, `client|${api.id}|${clientRate}|`, counters);

    const schedServers: SchedulerServer[] = this.pool.servers.map((u) => {
      const rate = u.json.server_spike_threshold;
      const spike = createRateLimiter(parseRate(rate) ?? OFF, `spike|${api.id}|${rate}|`, counters);
      return { id: u.id, quota: u.json.server_connection_quota, spike };
    });
    const schedOpts = {
      queueing: m.flow_control.server_connection_queueing,
      queueMaxSize: deps.conf.queue_max_size,
      queueMaxWaitMs: deps.conf.queue_max_wait,
      isUsable: (s: SchedulerServer) => {
        const u = this.pool.find(s.id);
        return u !== undefined && this.pool.isUsable(u);
      },
      slots: deps.stores.quotas,
      slotPrefix: `${api.id}|`,
    };
    if (schedServers.some((s) => s.quota > 0 || s.spike)) {
      // The predecessor's scheduler goes on with the new servers and settings, so its waiters keep
      // their place; in-flight counts are in the store, so requests of before the edit count
      // against the edited quota.
      if (prev?.scheduler) prev.scheduler.update(schedServers, schedOpts);
      this.scheduler = prev?.scheduler ?? new ServerScheduler(schedServers, schedOpts);
    } else {
      // No quota left: its waiters are served by the pump (nothing is at quota now).
      prev?.scheduler?.update(schedServers, schedOpts);
      this.scheduler = undefined;
    }

    this.health =
      m.health_check && this.pool.size > 0
        ? new HealthChecker(
            this.pool.servers,
            {
              initial: keepHealth ? (id) => prev!.health!.state(id) : undefined,
              intervalMs: m.health_check_interval * 1000,
              retryCount: m.health_retry_count,
              path: m.health_url,
              headers: m.health_check_headers,
              ssl: m.server_ssl,
              ca: deps.ca,
            },
            (id, healthy) => {
              const u = this.pool.find(id);
              if (!u) return;
              u.healthy = healthy;
              if (healthy) u.passiveDownUntil = 0;
              this.scheduler?.recheck();
              deps.onHealthChange(api.id, u, healthy);
            },
          )
        : undefined;
    this.health?.start();

    // Pins stay in the store across an edit that keeps the cookie and budget (a changed budget
    // starts afresh in the store; a changed cookie name, here). Pins to removed servers go.
    const stickyOn = Boolean(m.cookie_persistence_enabled && m.cookie);
    const sticky = deps.stores.sticky;
    if (!stickyOn || (prevMeta && prevMeta.cookie !== m.cookie)) sticky.configure?.(api.id, undefined);
    if (stickyOn) {
      sticky.configure?.(api.id, { maxBytes: parseSize(m.api_memory_size) ?? 128 * 1024 * 1024, idleMs: parseDuration(m.cookie_idle_timeout) ?? 0 });
      this.sticky = new StickyPins(sticky, api.id);
      if (prev) for (const old of prev.pool.servers) if (!this.pool.find(old.id)) this.sticky.dropServer(old.id);
    } else {
      this.sticky = undefined;
    }
    this.stickyStore = sticky;

    const inRate = parseRate(m.flow_control.bytes_in_threshold);
    const outRate = parseRate(m.flow_control.bytes_out_threshold);
    const meter = { maxKeys: deps.conf.tracked_clients_max };
    this.bytesIn = inRate && inRate.points > 0 ? new ByteMeter(inRate, meter) : undefined;
    this.bytesOut = outRate && outRate.points > 0 ? new ByteMeter(outRate, meter) : undefined;
  }

  /** Open WebSocket connections by scheme. */
  openConnections(): { ws: number; wss: number } {
    let ws = 0;
    let wss = 0;
    for (const scheme of this.tunnels.values()) scheme === 'ws' ? ws++ : wss++;
    return { ws, wss };
  }

  /**
   * The API was replaced (management update): stop this runtime's background work, hand open
   * WebSockets to the successor so they stay counted, and let in-flight exchanges finish.
   */
  retire(successor: ApiRuntime | undefined): void {
    this.health?.stop();
    if (!successor) this.stickyStore.configure?.(this.api.id, undefined);
    // With a successor, the scheduler was handed over (or its quotas lifted) by the successor's constructor.
    if (!successor) this.scheduler?.close();
    this.forwarder?.closeIdle();
    if (successor) for (const [t, scheme] of this.tunnels) successor.tunnels.set(t, scheme);
    else for (const t of this.tunnels.keys()) t.close();
    this.tunnels.clear();
  }

  /** Shutdown: everything stops, open WebSockets included. */
  close(): void {
    this.health?.stop();
    this.scheduler?.close();
    this.forwarder?.close();
    for (const t of this.tunnels.keys()) t.close();
    this.tunnels.clear();
  }
}
