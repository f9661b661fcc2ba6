import type { Counter, Registry } from 'prom-client';
import { promClient } from './prom';

/** Methods counted by name; any other a client sends is `other`, so the label stays bounded. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** Why a management call's keys were refused. */
export type ManagementAuthFailure = 'missing_key' | 'wrong_key' | 'locked_out';
const FAILURES: readonly ManagementAuthFailure[] = ['missing_key', 'wrong_key', 'locked_out'];

/**
 * Calls of the management API (@ase/admin), counted in plain numbers by every admin mount of the
 * enforcer and read by `ase_management_requests_total` and `ase_management_auth_failures_total`
 * when scraped. The status codes are the management API's own answers, so the keys stay few.
 */
export class ManagementCounts {
  private readonly calls = new Map<string, number>();
  private readonly failures = new Float64Array(FAILURES.length);

  /** One answered call (scrapes of `/metrics` included). */
  call(method: string, status: number): void {
    const key = `${METHODS.has(method) ? method : 'other'} ${status}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** A call refused for its keys. */
  authFailure(reason: ManagementAuthFailure): void {
    const i = FAILURES.indexOf(reason);
    this.failures[i] = (this.failures[i] ?? 0) + 1;
  }

  register(registry: Registry): void {
    const { Counter } = promClient();
    const { calls, failures } = this;
    new Counter({
      name: 'ase_management_requests_total',
      help: 'Calls of the management API (every mount of this enforcer, /metrics included), by method and answered status.',
      labelNames: ['method', 'status'],
      registers: [registry],
      collect(this: Counter<'method' | 'status'>) {
        this.reset();
        for (const [key, n] of calls) {
          const sp = key.indexOf(' ');
          this.inc({ method: key.slice(0, sp), status: key.slice(sp + 1) }, n);
        }
      },
    });
    new Counter({
      name: 'ase_management_auth_failures_total',
      help: 'Management calls refused for their keys: missing_key, wrong_key, locked_out (the failed-login throttle).',
      labelNames: ['reason'],
      registers: [registry],
      collect(this: Counter<'reason'>) {
        this.reset();
        FAILURES.forEach((reason, i) => this.inc({ reason }, failures[i] ?? 0));
      },
    });
  }
}
