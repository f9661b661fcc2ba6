import type { Registry } from 'prom-client';
import type { ApiRuntime } from '../api/api-runtime';
import type { ClientList, ListBudget } from '../lists/client-list';
import { DENY_TAGS } from '../lists/entries';
import { LIST_SHARES } from '../lists/list-budget';
import type { EnforcerStats } from '../setup/enforcer-stats';
import { promClient } from './prom';

/** What the state gauges read when scraped: the enforcer's tables as they are. */
export interface EnforcerState {
  readonly denyList: ClientList;
  readonly allowList: ClientList;
  readonly budget: ListBudget;
  runtimes(): Iterable<ApiRuntime>;
  stats(): EnforcerStats;
}

/**
 * Gauges of the enforcer's state: list sizes and their memory, open WebSocket connections, queued
 * requests, the bounded tables, backend health. Each is set from the tables in its `collect`, at
 * scrape time only; labels are list names, entry types, shares, API ids and configured server ids.
 */
export function stateMetrics(registry: Registry, state: () => EnforcerState | undefined): void {
  const { Gauge } = promClient();
  const registers = [registry];
  new Gauge({
    name: 'ase_list_entries',
    help: 'Entries of the deny and allow lists, by list, identifier type and tag.',
    labelNames: ['list', 'type', 'tag'],
    registers,
    collect() {
      this.reset();
      const s = state();
      if (!s) return;
      for (const [list, cl] of [['deny', s.denyList], ['allow', s.allowList]] as const) {
        // A type once seen keeps its series (0 when emptied), so a rate or an alert sees it drop;
        // at most 5 types x 7 tags. Allow-list entries have no tag of their own: all are manual.
        const tags = list === 'deny' ? DENY_TAGS : (['manual'] as const);
        for (const type of new Set(['ip' as const, ...cl.sizeByType.keys()])) {
          for (const tag of tags) this.set({ list, type, tag }, cl.sizeOf(type, tag));
        }
      }
    },
  });
  new Gauge({
    name: 'ase_list_memory_bytes',
    help: 'Bytes of attack_list_memory the lists use, by share (manual, decoy, automatic).',
    labelNames: ['share'],
    registers,
    collect() {
      const s = state();
      if (s) for (const share of LIST_SHARES) this.set({ share }, s.budget.shareUsed(share));
    },
  });
  new Gauge({
    name: 'ase_list_memory_limit_bytes',
    help: 'Bytes of attack_list_memory each share may hold (attack_list_shares).',
    labelNames: ['share'],
    registers,
    collect() {
      const s = state();
      if (s) for (const share of LIST_SHARES) this.set({ share }, s.budget.shareLimit(share));
    },
  });
  perApi(registry, state);
  tables(registry, state);
}

/** Gauges with an `api` label, rebuilt at each scrape so a deleted API's series go. */
function perApi(registry: Registry, state: () => EnforcerState | undefined): void {
  const { Gauge } = promClient();
  const registers = [registry];
  const each = (fill: (rt: ApiRuntime, g: InstanceType<typeof Gauge>) => void) =>
    function collect(this: InstanceType<typeof Gauge>): void {
      this.reset();
      const s = state();
      if (s) for (const rt of s.runtimes()) fill(rt, this);
    };
  new Gauge({
    name: 'ase_websocket_connections',
    help: 'Open WebSocket connections tunnelled to an API.',
    labelNames: ['api'],
    registers,
    collect: each((rt, g) => g.set({ api: rt.api.id }, rt.tunnels.size)),
  });
  new Gauge({
    name: 'ase_queued_requests',
    help: 'Requests waiting for a server slot of an API (queue_max_size).',
    labelNames: ['api'],
    registers,
    collect: each((rt, g) => g.set({ api: rt.api.id }, rt.scheduler?.queued ?? 0)),
  });
  new Gauge({
    name: 'ase_backend_up',
    help: 'Whether a configured backend server of an API is usable: 1 up, 0 down (health checks or a recent connection error).',
    labelNames: ['api', 'server'],
    registers,
    collect: each((rt, g) => {
      const now = Date.now();
      for (const u of rt.pool.servers) g.set({ api: rt.api.id, server: u.id }, rt.pool.isUsable(u, now) ? 1 : 0);
    }),
  });
}

/** `ase_table_entries{table}` and `ase_table_max_entries{table}`: the bounded client tables of enforcer.stats(). */
function tables(registry: Registry, state: () => EnforcerState | undefined): void {
  const { Gauge } = promClient();
  const read = (): [string, { size: number; max: number }][] => {
    const st = state()?.stats();
    if (!st) return [];
    const out: [string, { size: number; max: number }][] = [['rotation', st.rotation]];
    if (st.counters) out.push(['rate_limit_counters', st.counters]);
    return out;
  };
  new Gauge({
    name: 'ase_table_entries',
    help: 'Entries of a bounded client table of this process (rotation: ip_rotation_threshold clients; rate_limit_counters: in-process rate-limit windows).',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      for (const [table, t] of read()) this.set({ table }, t.size);
    },
  });
  new Gauge({
    name: 'ase_table_max_entries',
    help: 'The most entries a bounded client table keeps.',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      for (const [table, t] of read()) this.set({ table }, t.max);
    },
  });
}
