import type { Registry } from 'prom-client';

/** Upper bounds (seconds) of `ase_upstream_duration_seconds`'s buckets: prom-client's defaults. */
export const UPSTREAM_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const N = UPSTREAM_BUCKETS.length;
const NAME = 'ase_upstream_duration_seconds';
const HELP = "Time from sending a proxied request to its backend to the backend's response headers (a retry on another server included), by API id.";

/**
 * Backend response times per API, kept in plain numbers (one row of bucket counts, then the count
 * and the sum): observing one is a lookup and three increments, with prom-client not involved,
 * and the histogram is written out from the rows when scraped. Rows are keyed by API id.
 */
export class UpstreamTimes {
  private readonly rows = new Map<string, Float64Array>();

  observe(apiId: string, seconds: number): void {
    let row = this.rows.get(apiId);
    if (!row) this.rows.set(apiId, (row = new Float64Array(N + 2)));
    let i = 0;
    while (i < N && seconds > UPSTREAM_BUCKETS[i]!) i++;
    row[i] = (row[i] ?? 0) + 1; // index N: above every bound (+Inf only)
    row[N + 1] = (row[N + 1] ?? 0) + seconds;
  }

  forget(apiId: string): void {
    this.rows.delete(apiId);
  }

  /**
   * Registers the histogram as a metric of its own making (what prom-client's registry reads of a
   * metric: its name, help, type and values), since prom-client's Histogram cannot be set from
   * counts kept elsewhere.
   */
  register(registry: Registry): void {
    const rows = this.rows;
    const get = (): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { metricName: string; labels: Record<string, string | number>; value: number }[] } => {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [api, row] of rows) {
        let cumulative = 0;
        for (let i = 0; i < N; i++) {
          cumulative += row[i] ?? 0;
          values.push({ metricName: `${NAME}_bucket`, labels: { api, le: UPSTREAM_BUCKETS[i]! }, value: cumulative });
        }
        cumulative += row[N] ?? 0;
        values.push({ metricName: `${NAME}_bucket`, labels: { api, le: '+Inf' }, value: cumulative });
        values.push({ metricName: `${NAME}_sum`, labels: { api }, value: row[N + 1] ?? 0 });
        values.push({ metricName: `${NAME}_count`, labels: { api }, value: cumulative });
      }
      return { name: NAME, help: HELP, type: 'histogram', aggregator: 'sum', values };
    };
    registry.registerMetric({ name: NAME, help: HELP, get, reset() {} } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
