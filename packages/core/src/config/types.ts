/**
 * Configuration shapes. API definitions keep the reference product's snake_case JSON names so that
 * an `api/<id>.json` file, a management API body and the object passed in code are the same thing.
 */

export type RateUnit = 'second' | 'minute' | 'hour';

/** `N/second|minute|hour`; `points: 0` means "off". */
export interface Rate {
  readonly points: number;
  readonly unit: RateUnit;
  /** Length of the window in seconds (1, 60, 3600). */
  readonly windowSeconds: number;
}

export interface ServerJson {
  host: string;
  port: number;
  server_spike_threshold: string;
  server_connection_quota: number;
}

export interface HttpRedirectJson {
  response_code: string | number;
  response_def: string;
  https_url: string;
}

export interface ApiPatternEnforcementJson {
  protocol_allowed: string;
  http_redirect: HttpRedirectJson;
  methods_allowed: string[];
  content_type_allowed: string;
  error_code: string | number;
  error_def: string;
  error_message_body: string;
}

export interface FlowControlJson {
  client_spike_threshold: string;
  server_connection_queueing: boolean;
  bytes_in_threshold: string;
  bytes_out_threshold: string;
}

export interface DecoyConfigJson {
  decoy_enabled: boolean;
  response_code: string | number;
  response_def: string;
  response_message: string;
  decoy_subpaths: string[];
  /** Credentials the decoy plants in its answer (docs/honeytokens.md); absent: none. */
  honeytokens?: HoneytokensJson;
}

export interface HoneytokensJson {
  /** Plant an API key: `${api_key}` in `response_message` is replaced by it. */
  api_key: boolean;
  /** Plant a bearer token: `${bearer_token}` in `response_message` is replaced by it. */
  bearer_token: boolean;
  /** Plant a session cookie of this name (`Set-Cookie`; `${cookie}` in the body too); "" for none. */
  cookie: string;
}

export interface JwtJson {
  location: string;
  username: string;
  clientid: string;
}

/**
 * Our extension (absent = the reference's decode-only JWT): how this API verifies the JWT that
 * `jwt.location` names. Exactly one key source; key files are relative to the config directory.
 */
export interface JwtVerificationJson {
  /** Accepted `alg` values: all HS*, or all asymmetric (RS*, PS*, ES*, EdDSA); never `none`. */
  algorithms: string[];
  /** File holding the shared secret (HS*). */
  secret_file?: string;
  /** File holding a PEM public key or certificate (RS*, PS*, ES*, EdDSA). */
  public_key_file?: string;
  /** File holding a JWKS of public keys (RS*, PS*, ES*, EdDSA). */
  jwks_file?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud` (one of the token's audiences), when set. */
  audience?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf` (default 30). */
  clock_tolerance: number;
  /** Claims a token must carry (say `exp`, so that no token is valid forever), when set. */
  required_claims?: string[];
  /** Refuse requests to the API without a valid JWT (default false: an invalid one only loses trust). */
  required: boolean;
}

/** `api_metadata` of an API JSON file, with every default filled in. */
export interface ApiMetadata {
  protocol: 'http' | 'ws';
  url: string;
  hostname: string;
  cookie: string;
  cookie_idle_timeout: string;
  logout_api_enabled: boolean;
  cookie_persistence_enabled: boolean;
  oauth2_access_token: boolean;
  is_token_mandatory: boolean;
  apikey_qs: string;
  apikey_header: string;
  login_url: string;
  enable_blocking: boolean;
  api_mapping: { internal_url: string };
  api_pattern_enforcement: ApiPatternEnforcementJson;
  flow_control: FlowControlJson;
  api_memory_size: string;
  health_check: boolean;
  health_check_interval: number;
  health_retry_count: number;
  health_url: string;
  health_check_headers: Record<string, string>;
  server_ssl: boolean;
  servers: ServerJson[];
  decoy_config: DecoyConfigJson;
  username_header: string;
  /** Our extension: `username_header` is set by a proxy in `xff_trusted_proxies` (default false). */
  username_header_trusted?: boolean;
  jwt: JwtJson;
  jwt_verification?: JwtVerificationJson;
}

/** A whole API JSON file. */
export interface ApiJson {
  api_metadata: ApiMetadata;
}

/** Deep-partial input form: what a user may write (everything but `url` and `hostname` defaults). */
export type ApiJsonInput = { api_metadata: DeepPartial<ApiMetadata> & { url: string; hostname: string } };

export type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Shares of `attack_list_memory`, in percent (they add up to 100). */
export interface ListShares {
  manual: number;
  decoy: number;
  automatic: number;
}

/** Lifetime in ms of the deny-list entries the enforcer adds, per tag; 0 or absent: they never expire. */
export type DenyListTtl = Readonly<Record<string, number>>;

/** Typed `ase.conf`. Durations are in milliseconds, sizes in bytes. */
export interface AseConf {
  http_ws_port: number;
  /** Address of the data port of `ase start`: an IP address, `localhost`, or `*` for every interface. */
  http_ws_bind: string;
  https_wss_port: number;
  management_port: number;
  management_bind: string;
  /** Extra `Host` names/addresses the management listener answers to (lower case, no port); `*` = any. */
  management_allowed_hosts: string[];
  /** Our own: `/metrics` of the management API asks for the admin credentials (default true). */
  metrics_auth: boolean;
  enable_firewall: boolean;
  enable_ase_detected_attack: boolean;
  enable_xff: boolean;
  /** IPs and CIDRs (IPv4 or IPv6) whose X-Forwarded-For is believed. */
  xff_trusted_proxies: string[];
  enable_audit: boolean;
  /** Detections and blocks go to `<configDir>/logs/access.log` (when there is a config directory). */
  enable_access_log: boolean;
  admin_log_level: number;
  attack_list_memory: number;
  /** Our own: percent of attack_list_memory for manual entries (and the allow list), decoy IPs, other detections. */
  attack_list_shares: ListShares;
  /** Our own: how long an automatic deny-list entry lasts, per tag, in ms (0 or absent: no expiry). */
  deny_list_ttl: DenyListTtl;
  /** Our own: distinct identifiers with violations from one client address that deny-list the address (0: off). */
  ip_rotation_threshold: number;
  /** Our own: the window those violations must fall in, in ms. */
  ip_rotation_window: number;
  /** Our own: IPv6 clients are listed and rate-limited per network of this prefix length. */
  ipv6_client_prefix: number;
  /**
   * Our own: most clients each per-client table of this process remembers (rate-limit windows of
   * every API together, each API's WebSocket byte meters, the `ip_rotation_threshold` table); beyond
   * it the oldest is forgotten.
   */
  tracked_clients_max: number;
  /**
   * Our own: most honeytokens an enforcer remembers (every API together; in a cluster, the bound in
   * Redis too); beyond it the oldest planted is forgotten.
   */
  honeytokens_max: number;
  enable_strict_request_parser: boolean;
  enable_ase_health: boolean;
  /**
   * Our own, middleware mode: `true` lets a request whose Host matches no API reach the app even
   * under another API's url (for apps that really serve other hosts). Default false: refused as
   * `Unknown API`, so a forged Host cannot step out of an API's policy.
   */
  pass_unmatched_hosts: boolean;
  server_ca_cert_path: string;
  enable_cluster: boolean;
  cluster_id: string;
  redis_url: string;
  /** Our own: how often a cluster node renews its heartbeat, in ms; it shows `inactive` after three missed. */
  cluster_heartbeat: number;
  /** Our own: spike counters while Redis is unreachable: `open` counts per node, `closed` refuses with 503. */
  cluster_counters_on_failure: 'open' | 'closed';
  /** Our own: connection quotas while Redis is unreachable: `open` holds them per node, `closed` refuses with 503. */
  cluster_quotas_on_failure: 'open' | 'closed';
  /** Our own: Redis unreachable at start: `closed` refuses to start, `open` starts from the config directory and joins when it answers. */
  cluster_start_on_failure: 'open' | 'closed';
  /** Our own: a node whose heartbeat expired this long ago (in ms) leaves `/v4/ase/cluster`. */
  cluster_forget_after: number;
  /** Our own: most requests waiting for a server slot per API (`server_connection_queueing`). */
  queue_max_size: number;
  /** Our own: longest a queued request waits before 503, in ms. */
  queue_max_wait: number;
  /** Our own: time a backend has to answer before 504, in ms. */
  backend_timeout: number;
  /** Our own: how long a server marked down by a connection error is skipped (no health check), in ms. */
  server_down_time: number;
}

/** A problem-free load result: what loaded, plus what was skipped and why. */
export interface LoadedConfig {
  conf: AseConf;
  apis: Map<string, ApiJson>;
  /** Non-fatal problems: skipped API files, ignored reference keys. */
  warnings: string[];
}
