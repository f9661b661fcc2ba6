import type { Registry } from 'prom-client';
import type { StoreHealth } from '../stores/types';
import { promClient } from './prom';

/**
 * `ase_store_up` and `ase_store_unreachable_total` for a store that reports its health: values are
 * read from the store when the registry is collected, so nothing runs between scrapes.
 */
export function storeMetrics(registry: Registry, health: StoreHealth): void {
  const { Counter, Gauge } = promClient();
  const store = health.name;
  new Gauge({
    name: 'ase_store_up',
    help: 'Whether the shared state store answers: 1 connected, 0 unreachable.',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.set({ store }, health.status === 'connected' ? 1 : 0);
    },
  });
  if (health.outages === undefined) return;
  new Counter({
    name: 'ase_store_unreachable_total',
    help: 'Times the shared state store turned unreachable since this process started.',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      // The store counts; the counter only mirrors its total at each scrape.
      this.reset();
      this.inc({ store }, health.outages ?? 0);
    },
  });
}
