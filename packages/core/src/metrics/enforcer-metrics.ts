import type { Registry } from 'prom-client';
import type { StoreHealth } from '../stores/types';
import { buildInfo } from './build-info';
import type { DecisionCounts } from './decision-counts';
import type { FlowCounts } from './flow-counts';
import type { ManagementCounts } from './management-counts';
import type { UpstreamTimes } from './upstream-times';
import { promClient } from './prom';
import { type EnforcerState, stateMetrics } from './state-metrics';
import { storeMetrics } from './store-metrics';

export interface MetricsOptions {
  /**
   * The registry the enforcer's metrics are registered in: the host app's own, to serve them with
   * the app's metrics. Default: a registry of the enforcer's own (`enforcer.metrics`), never
   * prom-client's global one, so that two enforcers in one process do not clash.
   */
  registry?: Registry;
}

/** What the metrics read, at scrape time. */
export interface MetricSources {
  /** The stores' health, when they report one. */
  storeHealth?: StoreHealth | undefined;
  /** The decisions counted on the request path. */
  decisions?: DecisionCounts;
  /** Backend response times of proxied requests. */
  upstreamTimes?: UpstreamTimes;
  /** Requests flow control refused. */
  flow?: FlowCounts;
  /** Calls of the management API. */
  management?: ManagementCounts;
  /** The lists, APIs and tables, once the enforcer has them. */
  state?: () => EnforcerState | undefined;
}

/**
 * The metrics of one enforcer, registered in one registry. Every name starts with `ase_`; labels
 * take fixed words only (never a client's address, key or path), so the series stay few. The
 * enforcer's own registry is made when first asked for (a scrape): until then prom-client is not
 * even loaded. A registry given in options takes the metrics at once, so a clash fails the start.
 */
export class EnforcerMetrics {
  private current: Registry | undefined;
  private names: string[] = [];
  private closed = false;

  constructor(
    options: MetricsOptions | undefined,
    private readonly sources: MetricSources,
  ) {
    if (options?.registry) this.fill(options.registry);
  }

  get registry(): Registry {
    return this.current ?? this.fill(new (promClient().Registry)());
  }

  private fill(registry: Registry): Registry {
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const taken = [...before].find((n) => n.startsWith('ase_'));
    if (taken !== undefined) throw new TypeError(`metrics.registry already holds ${taken}: give each enforcer its own registry (the default)`);
    this.current = registry;
    if (this.closed) return registry;
    buildInfo(registry);
    this.sources.decisions?.register(registry);
    this.sources.upstreamTimes?.register(registry);
    this.sources.flow?.register(registry);
    this.sources.management?.register(registry);
    if (this.sources.state) stateMetrics(registry, this.sources.state);
    if (this.sources.storeHealth) storeMetrics(registry, this.sources.storeHealth);
    this.names = registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n));
    return registry;
  }

  /** Takes this enforcer's metrics out of the registry (a host app's registry outlives the enforcer). */
  close(): void {
    this.closed = true;
    for (const name of this.names.splice(0)) this.current?.removeSingleMetric(name);
  }
}
