import type { AseConf, DenyTag, EntryType, ListEntry } from '@ase/core';
import type { Framework } from './harness/types';

/**
 * The shape of one conformance scenario. A scenario is data: the enforcer's configuration, the
 * backends it proxies to, and a sequence of requests with what each must produce. The runner
 * (conformance.test.ts) plays every scenario on every framework harness, over real sockets.
 */

/**
 * Backends a scenario can start, each on port 0:
 * - `echo`: answers 200 JSON `{"server": <name>, "url": <url>}` with `x-backend: <name>`
 * - `slow`: receives the request and answers after 2 s (pair with a short `backend_timeout`)
 * - `garbage`: answers bytes that are not HTTP
 * - `refused`: a port nothing listens on
 * - `tls`: HTTPS with the certificate of test/fixtures/tls (CA in ca.crt), answers `over tls`
 */
export type BackendKind = 'echo' | 'slow' | 'garbage' | 'refused' | 'tls';

/** A server entry of an API JSON that names a scenario backend; the runner fills host and port. */
export interface BackendRef {
  backend: string;
}

export interface ScenarioRequest {
  /** Default GET. */
  method?: string;
  /** The request-target, sent exactly as written. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Write the request byte for byte over a socket (for targets Node's client refuses). Sent with
   * `Host: x` and `Connection: close` unless `headers` give a host.
   */
  raw?: boolean;
}

/** Done through the enforcer's in-process API before the step's request is sent. */
export type Action =
  | { deny: ListEntry; tag?: DenyTag }
  | { allow: ListEntry }
  | { firewall: boolean }
  | { aseDetected: boolean }
  /** `decide()` throws from now on: the adapter must fail closed. */
  | { breakDecide: true };

/** What reached the backend or the host app (a subset: only the fields given are compared). */
export interface Received {
  method?: string;
  url?: string;
  body?: string;
  /** `null`: the header must be absent. */
  headers?: Record<string, string | null>;
}

export interface ListedEntry {
  type: EntryType;
  value: string;
  name?: string;
  tag: DenyTag;
}

export interface Expected {
  status: number;
  /** Reason phrase of the status line. */
  reason?: string;
  /** A subset of the response headers; `null`: must be absent. */
  headers?: Record<string, string | RegExp | null>;
  body?: string | RegExp;
  /** Where the request went: a scenario backend (by name), the host app's own routes, or nowhere. */
  reached: 'app' | 'nobody' | { backend: string };
  /** What that backend or the host app received. */
  received?: Received;
  /** The whole deny list after the step, in any order. */
  denyList?: ListedEntry[];
  /**
   * The enforcer's events during the step, in order: `attack:<kind>:<blocked>`, `blocked:<reason>`,
   * `backend_down:<backend name>`.
   */
  events?: string[];
}

export interface Step {
  act?: Action[];
  request: ScenarioRequest;
  expect: Expected;
  /**
   * A framework that answers this step differently, and why. Every difference is written here, in
   * the table, so it is visible and tested rather than hidden in a harness.
   */
  differs?: Partial<Record<Framework, { expect: Partial<Expected>; why: string }>>;
}

export interface Scenario {
  name: string;
  /** Started for this scenario only, by name. */
  backends?: Record<string, BackendKind>;
  /** `ase.conf` keys. */
  conf?: Partial<Record<keyof AseConf, unknown>>;
  /** Default `middleware` (the host app's routes get what ASE passes on). */
  mode?: 'middleware' | 'gateway';
  /** API JSON by api_id. A `servers` entry may be a `BackendRef` (see `on()`). */
  apis: Record<string, { api_metadata: Record<string, unknown> }>;
  steps: Step[];
}
