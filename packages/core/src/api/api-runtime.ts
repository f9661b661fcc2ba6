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
import { StickyTable } from '../upstream/sticky-sessions';
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
  /** Whether a socket peer is a trusted proxy (enable_xff and xff_trusted_proxies). */
  trustedPeer?: ((peer: string) => boolean) | undefined;
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
  readonly sticky: StickyTable | undefined;
  readonly bytesIn: ByteMeter | undefined;
  readonly bytesOut: ByteMeter | undefined;
  /** Open WebSocket tunnels, counted for `/v4/ase/persistentconnection` and ended on close. */
  readonly tunnels = new Map<WsTunnel, 'ws' | 'wss'>();
  /** Request fields a client's Connection header cannot remove on the way to this API's servers. */
  readonly keptHeaders: ReadonlySet<string>;
  /** `server_spike_threshold` limiters by server id, so a successor can keep the windows. */
  private readonly spikes = new Map<string, RateLimiter | undefined>();

  /**
   * `prev` is the runtime this one replaces (an edit of the API): state that still applies is taken
   * over, keyed by server id (`host:port`), so an edit neither frees slots nor forgets windows,
   * pins or health. State of servers the edit removed is dropped.
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
            writeResponse: deps.writeResponse,
          })
        : undefined;

    // A changed threshold starts fresh windows: counts taken under the old rate do not carry over.
    this.clientLimiter =
      prev && prevMeta!.flow_control.client_spike_threshold === m.flow_control.client_spike_threshold
        ? prev.clientLimiter
        : createRateLimiter(parseRate(m.flow_control.client_spike_threshold) ?? OFF, `client:${api.id}`);

    const schedServers: SchedulerServer[] = this.pool.servers.map((u) => {
      const old = prev?.pool.find(u.id);
      const spike =
        old && prev!.spikes.has(u.id) && old.json.server_spike_threshold === u.json.server_spike_threshold
          ? prev!.spikes.get(u.id)
          : createRateLimiter(parseRate(u.json.server_spike_threshold) ?? OFF, `spike:${api.id}`);
      this.spikes.set(u.id, spike);
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
    };
    if (schedServers.some((s) => s.quota > 0 || s.spike)) {
      // The predecessor's scheduler goes on with the new servers and settings: in-flight counts stay
      // with their server, so requests of before the edit count against the edited quota.
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

    const stickyOn = m.cookie_persistence_enabled && m.cookie;
    const sameSticky =
      stickyOn && prev?.sticky && prevMeta!.cookie === m.cookie && prevMeta!.api_memory_size === m.api_memory_size && prevMeta!.cookie_idle_timeout === m.cookie_idle_timeout;
    if (sameSticky) {
      this.sticky = prev!.sticky;
      for (const old of prev!.pool.servers) if (!this.pool.find(old.id)) this.sticky!.dropServer(old.id);
    } else {
      this.sticky = stickyOn
        ? new StickyTable({ maxBytes: parseSize(m.api_memory_size) ?? 128 * 1024 * 1024, idleMs: parseDuration(m.cookie_idle_timeout) ?? 0 })
        : undefined;
    }

    const inRate = parseRate(m.flow_control.bytes_in_threshold);
    const outRate = parseRate(m.flow_control.bytes_out_threshold);
    this.bytesIn = inRate && inRate.points > 0 ? new ByteMeter(inRate) : undefined;
    this.bytesOut = outRate && outRate.points > 0 ? new ByteMeter(outRate) : undefined;
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
