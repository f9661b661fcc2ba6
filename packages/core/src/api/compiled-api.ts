import type { ApiJson, ApiMetadata } from '../config/types';
import { normalizeTarget, toMatchPath } from '../request/normalize-path';
import { type ResponseSpec, textResponse } from '../policy/responses';
import type { JwtVerifier } from '../identity/jwt-verifier';
import type { HoneytokenPlan } from '../honeytokens/planting';
import type { HoneytokensJson } from '../config/types';

/** The protocols an API may allow, and the one a request came over. */
export type Protocol = 'http' | 'https' | 'ws' | 'wss';

/**
 * An API definition turned into the form the request path needs: lower-cased, pre-split and
 * pre-built, so that no per-request work re-reads the JSON.
 */
export interface CompiledApi {
  readonly id: string;
  readonly json: ApiJson;
  readonly meta: ApiMetadata;
  /** Lower-case host name, or `*`. */
  readonly hostname: string;
  /** Matching form of `url` (`/` or `/shop/items`). */
  readonly matchUrl: string;
  /** Forward form of `url`, as configured (trailing slash removed). */
  readonly url: string;
  /** `internal_url` replacing `url` before forwarding, or undefined. */
  readonly internalUrl: string | undefined;
  readonly enableBlocking: boolean;
  readonly protocolsAllowed: ReadonlySet<Protocol> | undefined;
  readonly redirect: { status: number; reason: string; url: string } | undefined;
  readonly methodsAllowed: ReadonlySet<string> | undefined;
  /** Lower-case media type, or undefined when not enforced. */
  readonly contentTypeAllowed: string | undefined;
  /** The answer given when this API blocks a client. */
  readonly blockResponse: ResponseSpec;
  readonly decoy: {
    readonly enabled: boolean;
    /** True for an out-of-context decoy: the whole API is a trap. */
    readonly wholeApi: boolean;
    /** Matching forms of the decoy paths. */
    readonly matchPaths: readonly string[];
    readonly response: ResponseSpec;
    /** The credentials its answer plants (`decoy_config.honeytokens`); undefined: none. */
    readonly honeytokens: HoneytokenPlan | undefined;
  };
  readonly identity: {
    readonly oauth2: boolean;
    readonly tokenMandatory: boolean;
    readonly apikeyQs: string;
    /** Lower-case header name. */
    readonly apikeyHeader: string;
    readonly cookie: string;
    readonly usernameHeader: string;
    /** `username_header` may earn the allow list when a trusted proxy is the socket peer. */
    readonly usernameHeaderTrusted: boolean;
    readonly jwt: { readonly location: string; readonly username: string; readonly clientid: string } | undefined;
  };
  /** `jwt_verification` with its keys loaded; undefined: JWT claims are decoded only, never trusted. */
  readonly jwtVerifier: JwtVerifier | undefined;
}

/** The plan of `decoy_config.honeytokens`; undefined when it plants nothing. */
function honeytokenPlan(h: HoneytokensJson | undefined): HoneytokenPlan | undefined {
  if (!h || !(h.api_key || h.bearer_token || h.cookie !== '')) return undefined;
  return { apiKey: h.api_key, bearerToken: h.bearer_token, cookie: h.cookie === '' ? undefined : h.cookie };
}

function statusOf(v: string | number, fallback: number): number {
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : fallback;
}

/** Configured paths get the same normalisation as requests, so `/shop/%61dmin` means `/shop/admin`. */
function configMatchPath(p: string): string {
  const t = normalizeTarget(p);
  return t.ok ? t.matchPath : toMatchPath(p);
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** `jwtVerifier` is loaded by the caller (it reads key files): see `JwtVerifier.load`. */
export function compileApi(id: string, json: ApiJson, jwtVerifier?: JwtVerifier): CompiledApi {
  const m = json.api_metadata;
  const pe = m.api_pattern_enforcement;
  const url = stripTrailingSlash(m.url);
  const matchUrl = configMatchPath(url);

  const protocols = pe.protocol_allowed
    .split(/[\s,]+/)
    .map((p) => p.trim().toLowerCase())
    .filter((p): p is Protocol => p === 'http' || p === 'https' || p === 'ws' || p === 'wss');
  const redirectUrl = pe.http_redirect.https_url.trim();

  const customBlock = String(pe.error_code).trim() !== '';
  const blockStatus = statusOf(pe.error_code, 403);
  const blockResponse = customBlock
    ? textResponse(blockStatus, pe.error_def || 'Unauthorized', pe.error_message_body)
    : textResponse(403, 'Unauthorized', 'Error: Unauthorized');

  const dc = m.decoy_config;
  const decoyPaths = dc.decoy_subpaths.map((p) => {
    // Both `/shop/admin` and `admin` mean `/shop/admin` for url `/shop`.
    const full = p.startsWith('/') ? p : `${url === '/' ? '' : url}/${p}`;
    return configMatchPath(full);
  });

  const jwt = m.jwt.location && (m.jwt.username || m.jwt.clientid || jwtVerifier) ? { ...m.jwt } : undefined;

  return {
    id,
    json,
    meta: m,
    hostname: m.hostname.toLowerCase(),
    matchUrl,
    url,
    internalUrl: m.api_mapping.internal_url ? stripTrailingSlash(m.api_mapping.internal_url) : undefined,
    enableBlocking: m.enable_blocking,
    protocolsAllowed: protocols.length > 0 ? new Set(protocols) : undefined,
    redirect: redirectUrl
      ? {
          status: statusOf(pe.http_redirect.response_code, 301),
          reason: pe.http_redirect.response_def || '',
          url: stripTrailingSlash(redirectUrl),
        }
      : undefined,
    methodsAllowed: pe.methods_allowed.length > 0 ? allowedMethods(pe.methods_allowed) : undefined,
    contentTypeAllowed: pe.content_type_allowed.trim() ? pe.content_type_allowed.trim().toLowerCase() : undefined,
    blockResponse,
    decoy: {
      enabled: dc.decoy_enabled,
      wholeApi: dc.decoy_enabled && decoyPaths.length === 0,
      matchPaths: dc.decoy_enabled ? decoyPaths : [],
      response: textResponse(statusOf(dc.response_code, 200), dc.response_def, dc.response_message),
      honeytokens: dc.decoy_enabled ? honeytokenPlan(dc.honeytokens) : undefined,
    },
    identity: {
      oauth2: m.oauth2_access_token,
      tokenMandatory: m.is_token_mandatory,
      apikeyQs: m.apikey_qs,
      apikeyHeader: m.apikey_header.toLowerCase(),
      cookie: m.cookie,
      usernameHeader: m.username_header.toLowerCase(),
      usernameHeaderTrusted: m.username_header_trusted === true,
      jwt,
    },
    jwtVerifier,
  };
}

/** `methods_allowed` as a set; HEAD wherever GET is (RFC 9110 §9.3.2: a HEAD is a GET without the body). */
function allowedMethods(methods: readonly string[]): ReadonlySet<string> {
  const set = new Set(methods.map((m) => m.toUpperCase()));
  if (set.has('GET')) set.add('HEAD');
  return set;
}
