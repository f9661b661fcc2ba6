import type { Headers, Logger } from '@ase/core';

/** A request body as a mount has it: already read, or a function that reads it (with the size limit). */
export type BodySource = string | Uint8Array | undefined | (() => Promise<string | Uint8Array | undefined>);

/** What a mount hands to the admin handler: plain data, whatever the framework. */
export interface AdminRequest {
  method: string;
  /** Path and query, relative to where the admin API is mounted: `/v4/ase/api?api_id=shop`. */
  url: string;
  /** Lower-case header names, as Node gives them. */
  headers: Headers;
  /** Client address (the socket peer): keys the failed-login throttle, and goes to the audit log. */
  ip: string;
  /** Node's raw header lines (`req.rawHeaders`): when given, every `Host` line is checked, not only the first. */
  rawHeaders?: readonly string[];
  /** Read only once the caller is authenticated and the endpoint takes a body. */
  body?: BodySource;
}

/** What the admin handler answers; a mount writes it as is. */
export interface AdminResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text. */
  body: string;
}

/** Failed-login throttle: after `maxFailures` wrong credentials within `windowMs` from one address, 429 for `lockoutMs`. */
export interface ThrottleOptions {
  /** Defaults to 5. */
  maxFailures?: number;
  /** Defaults to 60 000 ms. */
  windowMs?: number;
  /** Defaults to 60 000 ms. */
  lockoutMs?: number;
  /** Remote clients (addresses, IPv6 /64 prefixes) remembered at most; the least recently active is forgotten first. Defaults to 10 000. */
  maxTracked?: number;
}

/** Values `/v4/ase/status` reports that only the host process knows. */
export interface ServiceInfo {
  /** The data port really listened on (`ase start --port 0` picks one). Defaults to `http_ws_port`. */
  http_ws_port?: number;
  /** The management port really listened on. Defaults to `management_port`. */
  management_port?: number;
  /** The framework the data port runs on (`ase start --framework`); left out of the status when unknown. */
  framework?: string;
}

export interface ClusterNode {
  host: string;
  port: number;
  uuid: string;
  status: 'active' | 'inactive';
}

export interface ClusterInfo {
  cluster_id: string;
  node: ClusterNode[];
  /** Whether this node reaches the shared state store now; left out when the store cannot tell. */
  redis?: 'connected' | 'unreachable';
}

export interface AdminOptions {
  /** Largest request body accepted, in bytes; larger gets 413. Defaults to 1 MiB (1 048 576). */
  bodyLimit?: number;
  /** Failed-login throttle; `false` turns it off (not recommended). */
  throttle?: ThrottleOptions | false;
  /**
   * The `Host` names and addresses this admin API answers to (ports are not compared); any other Host
   * gets 421 before the keys are looked at. `['*']` or `false`: no check. Unset: no check on the
   * framework mounts (the app owns its Host routing), and the standalone listener's own list
   * (`localhost`, loopback, the bound address, `management_allowed_hosts`).
   */
  allowedHosts?: readonly string[] | false;
  /**
   * Audit log file. Defaults to `<configDir>/logs/audit.log` when the enforcer has a config directory;
   * `false` writes no file (the `audit` event still fires). Nothing is recorded when `enable_audit=false`.
   */
  auditFile?: string | false;
  /** Live values for `/v4/ase/status`. */
  info?: () => ServiceInfo;
  /** Cluster membership for `/v4/ase/cluster`; without it the endpoint answers 404 `no_cluster_mode`. */
  cluster?: () => ClusterInfo | Promise<ClusterInfo>;
  /**
   * Whether `metricsPath` asks for the admin credentials, as every other endpoint does (the
   * `x-ase-access-key`/`x-ase-secret-key` headers, or `Authorization: Basic` with the same keys).
   * Defaults to ase.conf's `metrics_auth` (true). `false`: anyone who reaches the listener may scrape;
   * the Host check still applies.
   */
  metricsAuth?: boolean;
  /**
   * Where the enforcer's Prometheus metrics are served, relative to the mount (default `/metrics`);
   * `false` serves none. The Express and Koa mounts take this path from the app, so an app with a
   * `/metrics` route of its own sets another path or `false`.
   */
  metricsPath?: string | false;
  /** Defaults to the enforcer's logger. */
  logger?: Logger;
  /**
   * Express and Koa mounts: the path the mount is used under (`app.use('/admin', adminExpress(...))`:
   * `'/admin'`; default `''`, the root). The enforcer's middleware hands requests under it to this
   * API before deciding, so an operator the lists block can still reach it.
   */
  mountPath?: string;
}
