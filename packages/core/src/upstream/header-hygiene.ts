import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledApi } from '../api/compiled-api';

/**
 * Which of a client's header fields go on to a backend (HTTP and WebSocket alike).
 *
 * RFC 9110 §7.6.1 makes every field named in `Connection` hop-by-hop, so a proxy removes them. A
 * client can name any field there, including the ones ASE's decision read: the backend would then
 * get a request other than the one that was checked (no `Authorization`, no API key, a `Host`
 * filled in by the proxy). Those fields are never removed that way.
 *
 * Forwarding fields describe the client's connection as a proxy in front saw it. Only a proxy ASE
 * trusts (`enable_xff` and `xff_trusted_proxies`) may set them; from anyone else they are forgeries
 * aimed at the backend (a spoofed client address, scheme or host for building links and redirects).
 */

/** Kept whatever a client's Connection header says: framing, routing and credentials. */
const ALWAYS_KEPT = ['host', 'content-type', 'content-length', 'authorization', 'cookie'] as const;

export const DEFAULT_KEPT: ReadonlySet<string> = new Set(ALWAYS_KEPT);

/** Forwarding fields believed only from a trusted proxy (X-Forwarded-For has its own rule). */
export const CLIENT_FORWARDING: ReadonlySet<string> = new Set(['forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix']);

/** The header fields (lower case) a client's Connection header can never remove for this API. */
export function policyHeaders(api: CompiledApi): ReadonlySet<string> {
  const id = api.identity;
  const out = new Set<string>(ALWAYS_KEPT);
  if (id.apikeyHeader) out.add(id.apikeyHeader.toLowerCase());
  if (id.usernameHeader) out.add(id.usernameHeader.toLowerCase());
  const loc = id.jwt?.location.toLowerCase();
  // `h:authorization:…` and `h:cookie:…` name fields that are kept anyway; `h:<name>` is its own.
  if (loc?.startsWith('h:')) out.add(loc.slice(2).split(':')[0]!);
  return out;
}

/**
 * The fields a client's `Connection` header makes hop-by-hop, minus `kept`; undefined for none
 * (the usual `keep-alive` / `close` / `Upgrade` name no other field).
 */
export function connectionDrops(connection: string | string[] | undefined, kept: ReadonlySet<string>): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const value = Array.isArray(connection) ? connection.join(',') : connection;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close' || lower === 'upgrade') return undefined;
  let out: Set<string> | undefined;
  for (const t of lower.split(',')) {
    const name = t.trim();
    if (name.length > 0 && !kept.has(name)) (out ??= new Set()).add(name);
  }
  return out;
}

/**
 * The same rules for a WebSocket upgrade, whose proxy copies `req.headers`: `omit` are the client
 * fields not to pass on (named in Connection, or forwarding fields from an untrusted peer); `own`
 * are ASE's forwarding fields to set, minus those a trusted proxy gave itself.
 */
export function wsForwarding(
  headers: IncomingHttpHeaders,
  kept: ReadonlySet<string>,
  trusted: boolean,
  ours: Record<string, string>,
): { omit: ReadonlySet<string> | undefined; own: Record<string, string> } {
  let omit = connectionDrops(headers.connection, kept);
  if (!trusted) for (const n of CLIENT_FORWARDING) if (headers[n] !== undefined) (omit ??= new Set()).add(n);
  if (!trusted) return { omit, own: ours };
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(ours)) if (k === 'x-forwarded-for' || headers[k] === undefined) own[k] = v;
  return { omit, own };
}
