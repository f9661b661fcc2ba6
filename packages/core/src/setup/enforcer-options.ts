import type { ApiJson, ApiJsonInput, AseConf } from '../config/types';
import type { MetricsOptions } from '../metrics/enforcer-metrics';
import type { EnforcerStores } from '../stores/types';
import type { Logger } from '../types';

export interface EnforcerOptions {
  /**
   * Config directory as the reference product has it: `ase.conf`, `api/<id>.json`, and `data/`
   * where lists are persisted. Omit it to run purely from objects (nothing persisted).
   */
  configDir?: string;
  /** `ase.conf` keys given in code; they override the file. */
  conf?: Partial<Record<keyof AseConf, unknown>>;
  /** API definitions given in code, by api_id; they are added to those of the directory. */
  apis?: Record<string, ApiJsonInput | ApiJson>;
  /**
   * `middleware` (default): requests no API matches, and APIs without servers, go to the host app.
   * `gateway`: the standalone product: those get 503 `Unknown API` / `No Backend Available`.
   */
  mode?: 'middleware' | 'gateway';
  /** Defaults to warnings and errors on the console, prefixed `[ase]`. */
  logger?: Logger;
  /**
   * false (default): an API file of `configDir` that does not load makes createEnforcer throw
   * (an AseConfigError naming every bad file, field and value), since that API's routes would
   * otherwise reach the app unprotected. true: bad files are reported in `warnings` and skipped.
   */
  skipInvalidApis?: boolean;
  /**
   * Where lists and API definitions are kept. Those not given are files of `configDir`, or
   * without one, kept in memory only.
   */
  stores?: EnforcerStores;
  /**
   * Prometheus metrics (docs/metrics.md). By default the enforcer registers them in a registry of
   * its own, `enforcer.metrics`; `{ registry }` registers them in the host app's registry instead.
   */
  metrics?: MetricsOptions;
}

/** Warnings and errors on the console, prefixed `[ase]`: the logger when none is given. */
export const consoleLogger: Logger = {
  info() {},
  warn: (m) => console.warn(`[ase] ${m}`),
  error: (m) => console.error(`[ase] ${m}`),
};
