import type { NormalizedTarget } from '../request/normalize-path';
import { hasRepeatedHost, parseHost } from '../request/host';
import { canonicalIp } from '../request/client-ip';
import type { EnforcerRequest, Protocol, RawRequest } from '../types';
import type { DecisionContext } from './context';

/**
 * The request's Host, normalised: '' when absent or (with enable_strict_request_parser=false)
 * unusable; undefined when the request must be refused as malformed.
 */
export function normaliseHost(ctx: DecisionContext, raw: RawRequest): string | undefined {
  // Node keeps the first of two Host lines: whoever reads the other would route another request.
  if (raw.rawHeaders !== undefined && hasRepeatedHost(raw.rawHeaders)) return undefined;
  // enable_strict_request_parser=false only relaxes the Host header (an unusable one matches as
  // absent, i.e. only `*` APIs); path problems are bypass vectors and always get 400.
  const parsedHost = parseHost(raw.headers['host']);
  if (!parsedHost.ok && ctx.conf.enable_strict_request_parser) return undefined;
  return parsedHost.ok ? parsedHost.host : '';
}

export function isHealthProbe(ctx: DecisionContext, raw: RawRequest, matchPath: string): boolean {
  return ctx.conf.enable_ase_health && matchPath === '/ase' && (raw.method === 'GET' || raw.method === 'HEAD');
}

/** The request as the later stages see it, once an API has matched. */
export function enforcerRequest(ctx: DecisionContext, raw: RawRequest, target: Extract<NormalizedTarget, { ok: true }>, host: string): EnforcerRequest {
  return {
    method: raw.method,
    path: target.path,
    matchPath: target.matchPath,
    query: target.query,
    host,
    protocol: protocolOf(raw),
    ip: ctx.ipResolver.resolve(raw.remoteAddress, raw.headers['x-forwarded-for']),
    headers: raw.headers,
    rawHeaders: raw.rawHeaders,
    peer: canonicalIp(raw.remoteAddress),
    // Declared up front so setting it later keeps the object's shape.
    identifiers: undefined,
  };
}

function protocolOf(raw: RawRequest): Protocol {
  if (raw.upgrade) return raw.encrypted ? 'wss' : 'ws';
  return raw.encrypted ? 'https' : 'http';
}
