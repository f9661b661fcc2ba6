import { type ApiJson, type FlowControlJson, type ServerJson, type StoredEntry } from '@ase/core';

/*
 * Bodies of the read endpoints, shaped as the reference shows them: keys in the reference's order,
 * and, while they hold their defaults, without the fields that do not apply to the API's protocol
 * (`bytes_in_threshold`/`bytes_out_threshold` on REST APIs, `server_spike_threshold` on WebSocket
 * APIs). Every other field of the reference is shown, default values included, so an API file
 * reads back field for field; our extensions (`username_header_trusted`, `jwt_verification`) only
 * when the file sets them.
 */

const METADATA_ORDER = [
  'protocol',
  'url',
  'hostname',
  'cookie',
  'cookie_idle_timeout',
  'logout_api_enabled',
  'cookie_persistence_enabled',
  'oauth2_access_token',
  'is_token_mandatory',
  'apikey_qs',
  'apikey_header',
  'login_url',
  'enable_blocking',
  'api_mapping',
  'api_pattern_enforcement',
  'flow_control',
  'api_memory_size',
  'health_check',
  'health_check_interval',
  'health_retry_count',
  'health_url',
  'health_check_headers',
  'server_ssl',
  'servers',
  'decoy_config',
  'username_header',
  'jwt',
] as const;

const PATTERN_ORDER = ['protocol_allowed', 'http_redirect', 'methods_allowed', 'content_type_allowed', 'error_code', 'error_def', 'error_message_body'];
const REDIRECT_ORDER = ['response_code', 'response_def', 'https_url'];
const FLOW_ORDER = ['client_spike_threshold', 'bytes_in_threshold', 'bytes_out_threshold', 'server_connection_queueing'];
const SERVER_ORDER = ['host', 'port', 'server_spike_threshold', 'server_connection_quota'];
const DECOY_ORDER = ['decoy_enabled', 'response_code', 'response_def', 'response_message', 'decoy_subpaths'];
const JWT_ORDER = ['location', 'username', 'clientid'];

/** A copy of `o` with the keys of `order` first (in that order), then any others. */
function ordered(o: object, order: readonly string[]): Record<string, unknown> {
  const src = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of order) if (Object.prototype.hasOwnProperty.call(src, k)) out[k] = src[k];
  for (const k of Object.keys(src)) if (!(k in out)) out[k] = src[k];
  return out;
}

function isOffRate(v: unknown): boolean {
  return typeof v === 'string' && /^0\/(?:second|minute|hour)$/i.test(v);
}

/** `flow_control` as the reference shows it for the API's protocol. */
export function renderFlowControl(fc: FlowControlJson, protocol: string): Record<string, unknown> {
  const out = ordered(fc, FLOW_ORDER);
  if (protocol !== 'ws') {
    if (isOffRate(out['bytes_in_threshold'])) delete out['bytes_in_threshold'];
    if (isOffRate(out['bytes_out_threshold'])) delete out['bytes_out_threshold'];
  }
  return out;
}

export function renderServer(s: ServerJson, protocol: string): Record<string, unknown> {
  const out = ordered(s, SERVER_ORDER);
  if (protocol === 'ws' && isOffRate(out['server_spike_threshold'])) delete out['server_spike_threshold'];
  return out;
}

/** Read API (GET /v4/ase/api?api_id=...). */
export function renderApi(json: ApiJson): { api_metadata: Record<string, unknown> } {
  const m = json.api_metadata;
  const out = ordered(m, METADATA_ORDER);
  out['api_pattern_enforcement'] = ordered(m.api_pattern_enforcement, PATTERN_ORDER);
  (out['api_pattern_enforcement'] as Record<string, unknown>)['http_redirect'] = ordered(m.api_pattern_enforcement.http_redirect, REDIRECT_ORDER);
  out['flow_control'] = renderFlowControl(m.flow_control, m.protocol);
  out['servers'] = m.servers.map((s) => renderServer(s, m.protocol));
  out['decoy_config'] = ordered(m.decoy_config, DECOY_ORDER);
  out['jwt'] = ordered(m.jwt, JWT_ORDER);
  return { api_metadata: out };
}

/** One deny- or allow-list entry: `{type, name?, value}`. */
export function renderEntry(e: StoredEntry): Record<string, string> {
  return e.name === undefined ? { type: e.type, value: e.value } : { type: e.type, name: e.name, value: e.value };
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/**
 * An entry as the list pages show it: the reference's `{type, name?, value}` first, in its order,
 * then our history and expiry (docs/lists.md), which clients that know only the reference's fields
 * pass over.
 */
export function renderListedEntry(e: StoredEntry): Record<string, unknown> {
  const addedBy: Record<string, unknown> = { via: e.via ?? 'management', tag: e.tag };
  if (e.api !== undefined) addedBy['api'] = e.api;
  if (e.requestId !== undefined) addedBy['request_id'] = e.requestId;
  return { ...renderEntry(e), added_at: iso(e.addedAt), added_by: addedBy, expires_at: iso(e.expiresAt), hits: e.hits ?? 0, last_hit: iso(e.lastHit) };
}

/** `?sort=` of the list pages: a field, `-` first for descending. */
export const LIST_SORTS = ['added_at', 'expires_at', 'hits', 'last_hit', 'value'] as const;

/** Sorts entries by `sort` (`hits`, `-hits`, ...); entries that never expire sort after those that do. */
export function sortEntries(entries: StoredEntry[], sort: string): StoredEntry[] {
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const key = (e: StoredEntry): number | string => {
    switch (field) {
      case 'added_at':
        return e.addedAt ?? 0;
      case 'expires_at':
        return e.expiresAt ?? Number.MAX_VALUE;
      case 'hits':
        return e.hits ?? 0;
      case 'last_hit':
        return e.lastHit ?? 0;
      default:
        return e.value;
    }
  };
  const sign = desc ? -1 : 1;
  return entries.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -sign : ka > kb ? sign : 0;
  });
}

