import type { CompiledApi } from '../api/compiled-api';
import { getCookie, getQueryParam, getQueryParams, parseCookies } from '../request/cookies';
import type { EnforcerRequest } from '../types';
import { claimString, decodeJwtPayload } from './jwt';
import type { JwtCheck } from './jwt-verifier';

/** Every identifier of a client the API is configured to capture. */
export interface ClientIdentifiers {
  ip: string;
  token?: string;
  apiKey?: { name: string; value: string };
  /** Further values of a repeated API-key query parameter; deny-list checks look at them too. */
  otherApiKeys?: string[];
  cookie?: { name: string; value: string };
  username?: string;
  /**
   * True when `username` comes from a verified JWT, or from a trusted proxy's `username_header`:
   * only then may it match the allow list. Any other user name only counts against the client.
   */
  usernameTrusted?: boolean;
  /** From `jwt.clientid`; recorded in events and logs, not matched against lists. */
  clientId?: string;
}

function header(req: EnforcerRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Authorization: <scheme> <credentials>` → credentials when the scheme matches (case-insensitive). */
export function authorizationCredentials(req: EnforcerRequest, scheme: string): string | undefined {
  const auth = header(req, 'authorization');
  if (!auth || auth.length > 16384) return undefined;
  const sp = auth.indexOf(' ');
  if (sp <= 0 || !schemeIs(auth, sp, scheme)) return undefined;
  const cred = trimmed(auth.slice(sp + 1));
  return cred.length > 0 ? cred : undefined;
}

/**
 * `auth.slice(0, sp).toLowerCase() === scheme` without building either string: ASCII letters are
 * folded here, and anything non-ASCII goes to `toLowerCase` itself (it folds a few of those into
 * ASCII, e.g. the Kelvin sign into `k`).
 */
function schemeIs(auth: string, sp: number, scheme: string): boolean {
  if (sp !== scheme.length) return auth.slice(0, sp).toLowerCase() === scheme;
  for (let i = 0; i < sp; i++) {
    let c = auth.charCodeAt(i);
    if (c >= 0x80) return auth.slice(0, sp).toLowerCase() === scheme;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== scheme.charCodeAt(i)) return false;
  }
  return true;
}

/** `s.trim()`, which is only called when an end is not plainly printable ASCII (it trims Unicode spaces too). */
function trimmed(s: string): string {
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f ? s : s.trim();
}

/** MAC scheme: the token is the `id` attribute (`MAC id="<jwt>", ts="...", ...`). */
function macId(req: EnforcerRequest): string | undefined {
  const cred = authorizationCredentials(req, 'mac');
  if (!cred) return undefined;
  const m = /(?:^|[\s,])id="([^"]{1,8192})"/.exec(cred);
  return m?.[1];
}

type Cookies = Map<string, string>;

function jwtFrom(api: CompiledApi, req: EnforcerRequest, cookies: () => Cookies): string | undefined {
  const loc = api.identity.jwt?.location;
  if (!loc) return undefined;
  if (loc.startsWith('qs:')) return getQueryParam(req.query, loc.slice(3));
  const lower = loc.toLowerCase();
  if (lower === 'h:authorization:bearer') return authorizationCredentials(req, 'bearer');
  if (lower === 'h:authorization:mac') return macId(req);
  if (lower.startsWith('h:cookie:')) return cookies().get(loc.slice('h:cookie:'.length));
  if (lower.startsWith('h:')) return header(req, lower.slice(2));
  return undefined;
}

/** What the enforcer knows about where a user name may come from, for `readUsername`. */
export interface UsernameTrust {
  /** The API's JWT as `jwt_verification` checked it (undefined: the API only decodes JWTs). */
  jwt?: JwtCheck | undefined;
  /** The API declares `username_header_trusted` and the socket peer is in `xff_trusted_proxies`. */
  headerFromTrustedProxy?: boolean;
}

/** The JWT at the API's `jwt.location`, if any. */
export function readJwt(api: CompiledApi, req: EnforcerRequest): string | undefined {
  let parsed: Cookies | undefined;
  return jwtFrom(api, req, () => (parsed ??= parseCookies(req.headers['cookie'])));
}

/**
 * Reads the identifiers the API captures; cookies are parsed only when something needs them.
 * The steps below are this in parts, in the order the lists are searched (IP, token, API key,
 * cookie, user name): a caller that looks each one up as it is read may stop at the first listed one.
 */
export function extractIdentifiers(api: CompiledApi, req: EnforcerRequest, trust?: UsernameTrust): ClientIdentifiers {
  const ids: ClientIdentifiers = { ip: req.ip };
  readToken(api, req, ids);
  readApiKey(api, req, ids);
  readCookie(api, req, ids);
  readUsername(api, req, ids, trust);
  return ids;
}

export function readToken(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  if (api.identity.oauth2) {
    const t = authorizationCredentials(req, 'bearer');
    if (t) ids.token = t;
  }
}

export function readApiKey(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  const id = api.identity;
  if (id.apikeyQs) {
    const v = getQueryParam(req.query, id.apikeyQs);
    if (v !== undefined) {
      // `?key=a&key=b`: the first value identifies the client, but a backend may read another one.
      const all = getQueryParams(req.query, id.apikeyQs).filter((x) => x !== '');
      const first = all[0];
      if (first !== undefined) ids.apiKey = { name: id.apikeyQs.toLowerCase(), value: first };
      if (all.length > 1) ids.otherApiKeys = all.slice(1);
    }
  }
  if (!ids.apiKey && id.apikeyHeader) {
    const v = header(req, id.apikeyHeader);
    if (v) ids.apiKey = { name: id.apikeyHeader, value: v };
  }
}

export function readCookie(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  const name = api.identity.cookie;
  if (name) {
    // One cookie wanted: scan for it rather than parse them all (the same answer).
    const v = getCookie(req.headers['cookie'], name);
    if (v) ids.cookie = { name, value: v };
  }
}

export function readUsername(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers, trust?: UsernameTrust): void {
  const id = api.identity;
  if (id.jwt) {
    const check = trust?.jwt;
    // Unverified claims still identify the client (for the deny list), they just earn nothing.
    let payload: Record<string, unknown> | undefined;
    if (check?.ok) payload = check.payload;
    else {
      const raw = check ? check.token : readJwt(api, req);
      payload = raw ? decodeJwtPayload(raw) : undefined;
    }
    if (payload) {
      const user = id.jwt.username ? claimString(payload, id.jwt.username) : undefined;
      if (user) {
        ids.username = user;
        if (check?.ok) ids.usernameTrusted = true;
      }
      const client = id.jwt.clientid ? claimString(payload, id.jwt.clientid) : undefined;
      if (client) ids.clientId = client;
    }
  }
  if (!ids.username && id.usernameHeader) {
    const v = header(req, id.usernameHeader);
    if (v) {
      ids.username = v;
      if (id.usernameHeaderTrusted && trust?.headerFromTrustedProxy) ids.usernameTrusted = true;
    }
  }
}
