import type { ListEntry } from '@ase/core';

/**
 * The policy every generated request meets, on every framework. Four APIs, chosen so that each way
 * past the enforcer has something to reach:
 * - `shop` (`/shop`, any host) is proxied to the `echo` backend; `/shop/admin` is its decoy;
 * - `app` (`/app`, any host) has no servers: the host app's own routes serve it; `/app/secret` is
 *   its decoy;
 * - `members` (`/members`) is bound to `good.example` and served by the host app: another Host must
 *   not step out of it;
 * - `guarded` (`/guarded`, `good.example`) allows POST only: the GETs sent here must never reach anybody.
 * All four block (`enable_blocking`) and read every identity the product knows; the deny list holds
 * one value of each (`bad`, the user name `mallory`). Detections list nobody
 * (`enable_ase_detected_attack` stays off), so every generated request meets the same lists.
 */

export const GOOD_HOST = 'good.example';

const IDENTITIES = {
  oauth2_access_token: true,
  apikey_header: 'X-API-Key',
  apikey_qs: 'api_key',
  cookie: 'sid',
  jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
};

const refuse = (methods: string[]): Record<string, unknown> => ({
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: methods,
  content_type_allowed: '',
  error_code: '403',
  error_def: 'Forbidden',
  error_message_body: 'guarded',
});

const decoy = (path: string, message: string): Record<string, unknown> => ({
  decoy_enabled: true,
  response_code: 200,
  response_def: 'OK',
  response_message: message,
  decoy_subpaths: [path],
});

const api = (url: string, over: Record<string, unknown>): { api_metadata: Record<string, unknown> } => ({
  api_metadata: { protocol: 'http', url, hostname: '*', enable_blocking: true, ...IDENTITIES, ...over },
});

/** The APIs; `backendPort` is the echo backend's. */
export function fuzzApis(backendPort: number): Record<string, { api_metadata: Record<string, unknown> }> {
  return {
    shop: api('/shop', { servers: [{ host: '127.0.0.1', port: backendPort }], decoy_config: decoy('/shop/admin', 'shop decoy') }),
    app: api('/app', { decoy_config: decoy('/app/secret', 'app decoy') }),
    members: api('/members', { hostname: GOOD_HOST }),
    guarded: api('/guarded', { hostname: GOOD_HOST, api_pattern_enforcement: refuse(['POST']) }),
  };
}

export const DECOY_ANSWERS = ['shop decoy', 'app decoy'];

export const DENIED: readonly ListEntry[] = [
  { type: 'token', value: 'bad' },
  { type: 'api_key', name: 'x-api-key', value: 'bad' },
  { type: 'api_key', name: 'api_key', value: 'bad' },
  { type: 'cookie', name: 'sid', value: 'bad' },
  { type: 'username', value: 'mallory' },
];

/** Where a path leads under this policy, by its segments (already lower-cased, `;params` and empty ones dropped). */
export type Place = 'shop' | 'shop decoy' | 'app' | 'app decoy' | 'members' | 'guarded' | 'elsewhere';

export function placeOf(segments: readonly string[]): Place {
  const [first, second] = segments;
  switch (first) {
    case 'shop':
      return second === 'admin' ? 'shop decoy' : 'shop';
    case 'app':
      return second === 'secret' ? 'app decoy' : 'app';
    case 'members':
      return 'members';
    case 'guarded':
      return 'guarded';
    default:
      return 'elsewhere';
  }
}
