import { Registry } from 'prom-client';
import type { StoreHealth } from '../stores/types';
import { buildInfo } from './build-info';
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
}

/**
 * The metrics of one enforcer, registered in one registry. Every name starts with `ase_`; labels
 * take fixed words only (never a client's address, key or path), so the series stay few.
 */
export class EnforcerMetrics {
  readonly registry: Registry;
  private readonly names: string[];

  constructor(options: MetricsOptions | undefined, sources: MetricSources) {
    const registry = (this.registry = options?.registry ?? new Registry());
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const taken = [...before].filter((n) => n.startsWith('ase_'));
    if (taken.length > 0) {
      throw new TypeError(
        `metrics.registry already holds ${taken[0]}: give each enforcer its own registry (the default)`,
      );
    }
    buildInfo(registry);
    if (sources.storeHealth) storeMetrics(registry, sources.storeHealth);
    this.names = registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n));
  }

  /** Takes this enforcer's metrics out of the registry (a host app's registry outlives the enforcer). */
  close(): void {
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }
}
