import type { CompiledApi } from '../api/compiled-api';
import type { DenyTag } from '../lists/entries';
import type { EnforcerRequest, ResponseSpec } from '../types';
import { textResponse } from './responses';

export type PatternOutcome =
  | undefined
  | { kind: 'redirect'; response: ResponseSpec }
  /** A CORS preflight asking for a method the API does not allow: refused, but never a violation. */
  | { kind: 'preflight_refused' }
  | { kind: 'violation'; tag: Extract<DenyTag, 'invalid_protocol' | 'invalid_method' | 'invalid_content_type'> };

/** True when the request carries a body (per its framing headers). */
export function hasBody(req: EnforcerRequest): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  const n = typeof cl === 'string' ? Number(cl) : 0;
  return n > 0;
}

/**
 * Media type of a Content-Type header, lower case, parameters dropped. Whitespace or control
 * characters inside the type (the Fastify CVE-2025-32442 class) make it unusable: undefined.
 */
export function mediaType(ct: string | string[] | undefined): string | undefined {
  const v = Array.isArray(ct) ? undefined : ct; // several Content-Type headers: ambiguous, refuse
  if (!v) return undefined;
  const semi = v.indexOf(';');
  const type = (semi < 0 ? v : v.slice(0, semi)).replace(/^ +| +$/g, '').toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : undefined;
}

/**
 * A CORS preflight (Fetch standard): `OPTIONS` with `Origin` and `Access-Control-Request-Method`,
 * and no body (a browser never sends one; a request with a body is an ordinary OPTIONS).
 */
export function isPreflight(req: EnforcerRequest): boolean {
  return (
    req.method === 'OPTIONS' &&
    typeof req.headers['origin'] === 'string' &&
    typeof req.headers['access-control-request-method'] === 'string' &&
    !hasBody(req)
  );
}

/** The method a preflight asks for, as the API's `methods_allowed` spells methods (upper case). */
function preflightMethod(req: EnforcerRequest): string {
  return (req.headers['access-control-request-method'] as string).trim().toUpperCase();
}

/** Protocol, then method, then content type, in the reference product's order. */
export function checkPattern(api: CompiledApi, req: EnforcerRequest): PatternOutcome {
  if (api.protocolsAllowed && !api.protocolsAllowed.has(req.protocol)) {
    const insecure = req.protocol === 'http' || req.protocol === 'ws';
    if (insecure && api.redirect) {
      const r = api.redirect;
      const location = `${r.url}${req.path}${req.query}`;
      return { kind: 'redirect', response: textResponse(r.status, r.reason, '', { location }) };
    }
    return { kind: 'violation', tag: 'invalid_protocol' };
  }
  if (api.methodsAllowed && !api.methodsAllowed.has(req.method)) {
    // A browser sends the preflight by itself, before the page's request: listing its user for it
    // would let any web page get its visitors deny-listed. The app or backend answers the preflight
    // for a method the API allows (CORS is its policy); for any other method it is refused unlisted,
    // and the browser then never sends the real request.
    if (isPreflight(req)) return api.methodsAllowed.has(preflightMethod(req)) ? undefined : { kind: 'preflight_refused' };
    return { kind: 'violation', tag: 'invalid_method' };
  }
  if (api.contentTypeAllowed && hasBody(req) && mediaType(req.headers['content-type']) !== api.contentTypeAllowed) {
    return { kind: 'violation', tag: 'invalid_content_type' };
  }
  return undefined;
}
