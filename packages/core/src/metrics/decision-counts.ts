import type { Counter, Registry } from 'prom-client';
import type { Decision, RespondReason } from '../types';
import { DENY_TAGS } from '../lists/entries';
import { KIND_TYPES, typeIndex } from '../lists/list-slots';
import { promClient } from './prom';

/** What became of a request, the `outcome` label of `ase_decisions_total`. */
export type DecisionOutcome = 'passed' | 'blocked' | 'decoy' | 'redirected' | 'rate_limited' | 'unknown_api' | 'answered' | 'unavailable';

/** Why, the `reason` label: a respond reason, `allowed` (an API's request went on), `unmatched` (no API; the app's). */
export type DecisionReason = RespondReason | 'allowed' | 'unmatched';

const OUTCOME_OF: Readonly<Record<DecisionReason, DecisionOutcome>> = {
  allowed: 'passed',
  unmatched: 'passed',
  deny_list: 'blocked',
  invalid_protocol: 'blocked',
  invalid_method: 'blocked',
  invalid_content_type: 'blocked',
  missing_token: 'blocked',
  invalid_jwt: 'blocked',
  malformed: 'blocked',
  cors_preflight: 'blocked',
  decoy: 'decoy',
  redirect: 'redirected',
  rate_limited: 'rate_limited',
  server_busy: 'rate_limited',
  unknown_api: 'unknown_api',
  unknown_hostname: 'unknown_api',
  health: 'answered',
  no_backend: 'unavailable',
};

const REASONS = Object.keys(OUTCOME_OF) as DecisionReason[];
const INDEX = new Map<string, number>(REASONS.map((r, i) => [r, i]));
/**
 * Deny-list blocks are counted by the entry's identifier type and tag (`list_type`, `tag`): after
 * the reasons come one slot per type and tag, 5 x 7, so the series stay few whatever the traffic.
 */
const DENY_AT = REASONS.length;
const ROW = DENY_AT + KIND_TYPES.length * DENY_TAGS.length;
const TAG_AT = new Map<string, number>(DENY_TAGS.map((t, i) => [t, i]));

/**
 * Decisions counted per API and reason, in plain numbers: counting one is a Map lookup and an
 * increment, with nothing allocated and prom-client not involved, so the request path does not
 * pay for the metrics; `ase_decisions_total` reads the numbers when scraped. Rows are keyed by API
 * id (`''` for requests no API took), so they are bounded by the configured APIs.
 */
export class DecisionCounts {
  private readonly rows = new Map<string, Float64Array>();

  /** Counts `d` and hands it back, to be chained on a decision (or its Promise). */
  readonly count = (d: Decision): Decision => {
    this.add(d, 1);
    return d;
  };

  /** A decision counted as `was` that became `now` after all (an upgrade the API does not carry). */
  recount(was: Decision, now: Decision): void {
    this.add(was, -1);
    this.add(now, 1);
  }

  private add(d: Decision, n: number): void {
    const reason = d.action === 'respond' ? d.reason : d.api ? 'allowed' : 'unmatched';
    const api = d.api?.id ?? '';
    let row = this.rows.get(api);
    if (!row) this.rows.set(api, (row = new Float64Array(ROW)));
    const listed = d.action === 'respond' ? d.listed : undefined;
    const i = listed ? DENY_AT + typeIndex(listed.type) * DENY_TAGS.length + TAG_AT.get(listed.tag)! : (INDEX.get(reason) ?? 0);
    row[i] = (row[i] ?? 0) + n;
  }

  /** Drops a deleted API's series, so created-and-deleted APIs do not pile up. */
  forget(apiId: string): void {
    this.rows.delete(apiId);
  }

  /** `ase_decisions_total{api, outcome, reason}`, mirroring the counts at each scrape. */
  register(registry: Registry): void {
    const rows = this.rows;
    new (promClient().Counter)({
      name: 'ase_decisions_total',
      help: 'Requests the enforcer decided, by API id ("" when no API matched), outcome and reason; deny-list blocks also by the entry\'s identifier type and tag.',
      labelNames: ['api', 'outcome', 'reason', 'list_type', 'tag'],
      registers: [registry],
      collect(this: Counter<'api' | 'outcome' | 'reason' | 'list_type' | 'tag'>) {
        this.reset();
        for (const [api, row] of rows) {
          for (let i = 0; i < row.length; i++) {
            const n = row[i] ?? 0;
            if (n === 0) continue;
            if (i < DENY_AT) {
              const reason = REASONS[i] as DecisionReason;
              this.inc({ api, outcome: OUTCOME_OF[reason], reason }, n);
            } else {
              const j = i - DENY_AT;
              const list_type = KIND_TYPES[Math.floor(j / DENY_TAGS.length)]!;
              this.inc({ api, outcome: 'blocked', reason: 'deny_list', list_type, tag: DENY_TAGS[j % DENY_TAGS.length]! }, n);
            }
          }
        }
      },
    });
  }
}
