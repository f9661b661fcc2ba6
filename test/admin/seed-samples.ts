/**
 * Request and response bodies exactly as `../shared/seeds/002_*` (the reference's REST API page)
 * shows them. Tests send and expect these verbatim.
 */

/** Create/Update API (POST/PUT /v4/ase/api): the REST API request; also the Read API answer. */
export const REST_API = {
  api_metadata: {
    protocol: 'http',
    url: '/your_rest_api',
    hostname: '*',
    cookie: '',
    cookie_idle_timeout: '200m',
    logout_api_enabled: false,
    cookie_persistence_enabled: false,
    oauth2_access_token: false,
    apikey_qs: '',
    apikey_header: '',
    login_url: '',
    enable_blocking: true,
    api_mapping: { internal_url: '' },
    api_pattern_enforcement: {
      protocol_allowed: '',
      http_redirect: { response_code: '', response_def: '', https_url: '' },
      methods_allowed: [],
      content_type_allowed: '',
      error_code: '401',
      error_def: 'Unauthorized',
      error_message_body: '401 Unauthorized',
    },
    flow_control: { client_spike_threshold: '0/second', server_connection_queueing: false },
    api_memory_size: '128mb',
    health_check: true,
    health_check_interval: 60,
    health_retry_count: 4,
    health_url: '/health',
    server_ssl: false,
    servers: [
      { host: '127.0.0.1', port: 8080, server_spike_threshold: '0/second', server_connection_quota: 0 },
      { host: '127.0.0.1', port: 8081, server_spike_threshold: '0/second', server_connection_quota: 0 },
    ],
    decoy_config: { decoy_enabled: false, response_code: 200, response_def: '', response_message: '', decoy_subpaths: [] },
  },
};

/** Create/Update API: the WebSocket API request; also the Read API answer for a WebSocket API. */
export const WS_API = {
  api_metadata: {
    protocol: 'ws',
    url: '/your_websocket_api',
    hostname: '*',
    cookie: '',
    cookie_idle_timeout: '200m',
    logout_api_enabled: false,
    cookie_persistence_enabled: false,
    oauth2_access_token: false,
    apikey_qs: '',
    apikey_header: '',
    login_url: '',
    enable_blocking: true,
    api_mapping: { internal_url: '' },
    api_pattern_enforcement: {
      protocol_allowed: '',
      http_redirect: { response_code: '', response_def: '', https_url: '' },
      methods_allowed: [],
      content_type_allowed: '',
      error_code: '401',
      error_def: 'Unauthorized',
      error_message_body: '401 Unauthorized',
    },
    flow_control: { client_spike_threshold: '0/second', bytes_in_threshold: '0/second', bytes_out_threshold: '0/second', server_connection_queueing: false },
    api_memory_size: '128mb',
    health_check: true,
    health_check_interval: 60,
    health_retry_count: 4,
    health_url: '/health',
    server_ssl: false,
    servers: [
      { host: '127.0.0.1', port: 8080, server_connection_quota: 0 },
      { host: '127.0.0.1', port: 8081, server_connection_quota: 0 },
    ],
    decoy_config: { decoy_enabled: false, response_code: 200, response_def: '', response_message: '', decoy_subpaths: [] },
  },
};

export const SUCCESS = { status: 'success', status_message: 'success' };

/** Create server: REST and WebSocket request bodies. */
export const REST_SERVER = { server: { host: '192.168.1.100', port: 8080, server_spike_threshold: '1/second', server_connection_quota: 100 } };
export const WS_SERVER = { server: { host: '192.168.1.100', port: 8080, server_connection_quota: 100 } };

/** Deny/allow-list entry bodies. */
export const IP_ENTRY = { type: 'ip', value: '1.1.1.1' };
export const TOKEN_ENTRY = { type: 'token', value: 'sadjhasiufgkjdsbfkgfa' };
export const COOKIE_ENTRY = { type: 'cookie', name: 'JSESSIONID', value: 'ljkhasioutfdqbjsfdmakhflia' };

/** The fields of a list entry the reference documents, in its order. */
const DOCUMENTED_ENTRY_KEYS = ['type', 'name', 'value'];

/**
 * A list page (`{"manual_blacklist": [...]}`, `{"whitelist": [...]}`) as a client that knows only
 * the reference's fields reads it: each entry's documented fields, which must come first and in
 * the reference's order; anything after them (our history fields) is passed over.
 */
export function asReferenceClient(page: unknown): Record<string, Record<string, string>[]> {
  const out: Record<string, Record<string, string>[]> = {};
  for (const [key, entries] of Object.entries(page as Record<string, unknown>)) {
    out[key] = (entries as Record<string, unknown>[]).map((e) => {
      const keys = Object.keys(e);
      const documented = DOCUMENTED_ENTRY_KEYS.filter((k) => k in e);
      if (keys.slice(0, documented.length).join() !== documented.join()) throw new Error(`${key}: documented fields are not first: ${keys.join(', ')}`);
      return Object.fromEntries(documented.map((k) => [k, e[k] as string]));
    });
  }
  return out;
}
