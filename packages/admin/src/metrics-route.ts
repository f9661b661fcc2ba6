import type { Enforcer, Headers } from '@ase/core';
import type { AdminResponse } from './types';

/** Where the admin listener and every mount serve the enforcer's metrics unless `metricsPath` says otherwise. */
export const DEFAULT_METRICS_PATH = '/metrics';

/** `metricsPath` checked: a plain absolute path, or false for none. */
export function metricsPathOf(given: string | false | undefined): string | false {
  if (given === undefined) return DEFAULT_METRICS_PATH;
  if (given === false) return false;
  if (!/^(?:\/[A-Za-z0-9._~-]+)+$/.test(given)) throw new TypeError(`metricsPath must be a plain path like /metrics, or false (got ${JSON.stringify(given)})`);
  return given;
}

/**
 * The admin keys of an `Authorization: Basic` header (user: the access key, password: the secret
 * key), for scrapers that send credentials that way (Prometheus's `basic_auth`). Accepted on the
 * metrics path only: a browser replays Basic credentials on its own, custom headers it never does.
 */
export function basicCredentials(headers: Headers): { access: string; secret: string } | undefined {
  const h = headers['authorization'];
  const value = Array.isArray(h) ? undefined : h;
  const m = value === undefined ? null : /^basic\s+([A-Za-z0-9+/=]{1,2048})\s*$/i.exec(value);
  if (!m) return undefined;
  const pair = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  if (colon <= 0 || colon === pair.length - 1) return undefined;
  return { access: pair.slice(0, colon), secret: pair.slice(colon + 1) };
}

/** One scrape: the registry's text in its own content type (Prometheus text format by default). */
export async function scrape(enforcer: Enforcer): Promise<AdminResponse> {
  const registry = enforcer.metrics;
  return {
    status: 200,
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body: await registry.metrics(),
  };
}
