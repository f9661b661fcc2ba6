import { HONEYTOKENS_MAX } from '../honeytokens/honeytoken-table';
import type { AseConf, DenyListTtl } from './types';

const HOUR = 3_600_000;

/** Detections by a rule last an hour, decoy catches 30 days; manual entries never expire. */
export const DEFAULT_DENY_LIST_TTL: DenyListTtl = Object.freeze({
  invalid_method: HOUR,
  invalid_content_type: HOUR,
  invalid_protocol: HOUR,
  missing_token: HOUR,
  decoy: 30 * 24 * HOUR,
  honeytoken: 30 * 24 * HOUR,
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Every default of `ase.conf`, in one place (see docs/configuration.md). */
export const ASE_CONF_DEFAULTS: Readonly<AseConf> = deepFreeze({
  http_ws_port: 8000,
  http_ws_bind: '*',
  https_wss_port: 8443,
  management_port: 8010,
  management_bind: '127.0.0.1',
  management_allowed_hosts: [],
  metrics_auth: true,
  enable_firewall: true,
  enable_ase_detected_attack: false,
  enable_xff: false,
  xff_trusted_proxies: ['127.0.0.0/8', '::1/128'],
  enable_audit: true,
  enable_access_log: true,
  admin_log_level: 4,
  attack_list_memory: 128 * 1024 * 1024,
  attack_list_shares: { manual: 50, decoy: 20, automatic: 30 },
  deny_list_ttl: DEFAULT_DENY_LIST_TTL,
  ip_rotation_threshold: 3,
  ip_rotation_window: 10 * 60_000,
  ipv6_client_prefix: 64,
  tracked_clients_max: 100_000,
  honeytokens_max: HONEYTOKENS_MAX,
  enable_strict_request_parser: true,
  enable_ase_health: false,
  pass_unmatched_hosts: false,
  server_ca_cert_path: '',
  enable_cluster: false,
  cluster_id: 'ase_cluster',
  redis_url: '',
  cluster_heartbeat: 5000,
  cluster_counters_on_failure: 'open',
  cluster_quotas_on_failure: 'open',
  cluster_start_on_failure: 'closed',
  cluster_forget_after: 3_600_000,
  queue_max_size: 100,
  queue_max_wait: 10_000,
  backend_timeout: 60_000,
  server_down_time: 10_000,
});

/** Every default of an API JSON `api_metadata` (the reference's sample values). */
export const API_DEFAULTS = deepFreeze({
  protocol: 'http',
  cookie: '',
  cookie_idle_timeout: '200m',
  logout_api_enabled: false,
  cookie_persistence_enabled: false,
  oauth2_access_token: false,
  is_token_mandatory: false,
  apikey_qs: '',
  apikey_header: '',
  login_url: '',
  enable_blocking: false,
  api_mapping: { internal_url: '' },
  api_pattern_enforcement: {
    protocol_allowed: '',
    http_redirect: { response_code: '', response_def: '', https_url: '' },
    methods_allowed: [] as string[],
    content_type_allowed: '',
    error_code: '',
    error_def: '',
    error_message_body: '',
  },
  flow_control: {
    client_spike_threshold: '0/second',
    server_connection_queueing: false,
    bytes_in_threshold: '0/second',
    bytes_out_threshold: '0/second',
  },
  api_memory_size: '128mb',
  health_check: false,
  health_check_interval: 60,
  health_retry_count: 4,
  health_url: '/health',
  health_check_headers: {} as Record<string, string>,
  server_ssl: false,
  servers: [] as unknown[],
  server: { server_spike_threshold: '0/second', server_connection_quota: 0 },
  decoy_config: {
    decoy_enabled: false,
    response_code: 200,
    response_def: '',
    response_message: '',
    decoy_subpaths: [] as string[],
  },
  username_header: '',
  jwt: { location: '', username: '', clientid: '' },
} as const);

export { deepFreeze };
