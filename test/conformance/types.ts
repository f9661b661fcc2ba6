import type { AseConf, AttackEvent, DenyTag, EntryType, ListEntry } from '@ase/core';
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
 * - `delayed`: answers like `echo`, `DELAYED_MS` (backends.ts) after the request arrived (to keep
 *   requests in flight: server quotas, queueing)
 * - `session`: answers like `echo` and, to a request without a `sid` cookie, sets
 *   `sid=<name>-<n>; Path=/` (n counts from 1 per backend): a backend that starts sessions
 * - `failing`: an `echo` that is failing from the start (see below), e.g. to have health checks
 *   take it out without waiting for a first good check
 * - `garbage`: answers bytes that are not HTTP
 * - `refused`: a port nothing listens on
 * - `tls`: HTTPS with the certificate of test/fixtures/tls (CA in ca.crt), answers `over tls`
 *
 * The plain HTTP ones (`echo`, `slow`, `delayed`, `session`, `failing`) also
 * - count the requests in progress at once (see {@link BackendStats});
 * - take a request without `X-Forwarded-For` as a health probe (ASE sets that header on every request
 *   it proxies; its health checks do not): a probe is counted, never recorded as reached, and answered
 *   200 `ok`;
 * - can be made to fail (`{ backend, healthy: false }`): they then answer 503 `down` to everything,
 *   probes included, until made healthy again.
 */
export type BackendKind = 'echo' | 'slow' | 'delayed' | 'session' | 'failing' | 'garbage' | 'refused' | 'tls';

/** What a plain HTTP backend went through during one step (a subset is compared). */
export interface BackendStats {
  /** Most requests it was handling at the same time during the step. */
  maxConcurrent: number;
  /** Health probes it answered with a failure since it was last made to fail. */
  failedProbes: number;
}

/**
 * A server entry of an API JSON that names a scenario backend; the runner fills host and port and
 * keeps the other keys (`server_connection_quota`, `server_spike_threshold`).
 */
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
  | { breakDecide: true }
  /** A plain HTTP backend starts failing (503 to everything, health probes included) or recovers. */
  | { backend: string; healthy: boolean };

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
   * `backend_down:<backend name>`, `backend_up:<backend name>`, `flow_control:<kind>`.
   */
  events?: string[];
  /** The `attack` events during the step, in order, every field compared. */
  attacks?: AttackEvent[];
  /** What these backends went through during the step (only the fields given). */
  backends?: Record<string, Partial<BackendStats>>;
}

/** Expectations about a whole step rather than one answer. */
export type StepExpected = Pick<Expected, 'denyList' | 'events' | 'attacks' | 'backends'>;

/** What one of several answers of a step must be (compared in any order). */
export type Answer = Omit<Expected, keyof StepExpected>;

/**
 * One step: actions first (`act`), then one of
 * - `request`: one request, one expectation (the common case);
 * - `concurrent`: several requests sent at once, each on its own connection, every answer awaited;
 * - `repeat`: the same request sent `repeat` times, one after the other;
 * - `waitFor`: no request; waits (at most `withinMs`) for an enforcer event, e.g. a health check
 *   taking a server down.
 */
export type Step = RequestStep | ConcurrentStep | RepeatStep | WaitStep;

export interface RequestStep {
  act?: Action[];
  request: ScenarioRequest;
  expect: Expected;
  /**
   * A framework that answers this step differently, and why. Every difference is written here, in
   * the table, so it is visible and tested rather than hidden in a harness.
   */
  differs?: Partial<Record<Framework, { expect: Partial<Expected>; why: string }>>;
  repeat?: never;
}

export interface ConcurrentStep {
  act?: Action[];
  /**
   * Sent together, each on its own connection (the runner adds `x-conformance-request: <n>` to tell
   * them apart at the backends).
   */
  concurrent: ScenarioRequest[];
  expect: StepExpected & {
    /** One per request, matched to the answers in any order. */
    answers: Answer[];
  };
}

export interface RepeatStep {
  act?: Action[];
  /** How many times `request` is sent, each after the previous answer. */
  repeat: number;
  request: ScenarioRequest;
  expect: StepExpected & {
    /**
     * How many of the requests went where: a backend's name, `app` or `nobody` (every key of the
     * outcome is compared: a destination not named must have got none).
     */
    spread: Record<string, number>;
    /** The status of every answer. */
    status?: number;
  };
}

export interface WaitStep {
  act?: Action[];
  /** An event as `events` writes it (e.g. `backend_down:a`), and how long it may take to come. */
  waitFor: { event: string; withinMs: number };
  /** Checked when the event has come; `events` are those since the step began. */
  expect?: StepExpected;
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
