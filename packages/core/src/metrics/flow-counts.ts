import type { Counter, Registry } from 'prom-client';
import type { FlowControlEvent } from '../events';
import { promClient } from './prom';

const KINDS: readonly FlowControlEvent['kind'][] = ['client_spike', 'server_busy', 'queue_full', 'queue_timeout', 'bytes_in', 'bytes_out'];
const INDEX = new Map<string, number>(KINDS.map((k, i) => [k, i]));

/**
 * Requests flow control refused, per API and kind, in plain numbers fed by the `flow_control`
 * event; `ase_rate_limited_total` reads them when scraped. Rows are keyed by API id.
 */
export class FlowCounts {
  private readonly rows = new Map<string, Float64Array>();

  readonly count = (e: FlowControlEvent): void => {
    let row = this.rows.get(e.api);
    if (!row) this.rows.set(e.api, (row = new Float64Array(KINDS.length)));
    const i = INDEX.get(e.kind);
    if (i !== undefined) row[i] = (row[i] ?? 0) + 1;
  };

  forget(apiId: string): void {
    this.rows.delete(apiId);
  }

  register(registry: Registry): void {
    const rows = this.rows;
    new (promClient().Counter)({
      name: 'ase_rate_limited_total',
      help: 'Requests refused by flow control, by API id and kind (client_spike, server_busy, queue_full, queue_timeout, bytes_in, bytes_out).',
      labelNames: ['api', 'kind'],
      registers: [registry],
      collect(this: Counter<'api' | 'kind'>) {
        this.reset();
        for (const [api, row] of rows) {
          for (let i = 0; i < row.length; i++) if ((row[i] ?? 0) > 0) this.inc({ api, kind: KINDS[i]! }, row[i]!);
        }
      },
    });
  }
}
