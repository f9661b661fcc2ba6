import type { CompiledApi } from '../api/compiled-api';
import { decodeCookieValue, getCookieValues, getQueryParam, getQueryParams, parseCookies } from '../request/cookies';
import type { ClientIdentifiers, EnforcerRequest } from '../types';
import { claimString, decodeJwtPayload, repeatedClaimValues } from './jwt';
import type { JwtCheck } from './jwt-verifier';

// Defined beside EnforcerRequest, which carries it; exported here too, where it is read.
export type { ClientIdentifiers } from '../types';

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
 * Every distinct JWT at the API's `jwt.location`: each repeated header line (Node keeps the first
 * `Authorization` only, and joins other repeats with `, `, which no JWT contains), parameter or
 * cookie (as sent and percent-decoded). `readJwt`'s token comes first when there is one. One entry
 * in the common case; several mean the backend may read a token other than the one checked.
 */
export function readJwtCopies(api: CompiledApi, req: EnforcerRequest): string[] {
  const loc = api.identity.jwt?.location;
  const out: string[] = [];
  if (!loc) return out;
  const first = readJwt(api, req);
  if (first !== undefined) out.push(first);
  const add = (v: string | undefined): void => {
    const t = v?.trim();
    if (t && out.indexOf(t) < 0) out.push(t);
  };
  const lower = loc.toLowerCase();
  if (loc.startsWith('qs:')) {
    for (const v of getQueryParams(req.query, loc.slice(3))) add(v);
  } else if (lower.startsWith('h:cookie:')) {
    const v = getCookieValues(req.headers['cookie'], loc.slice('h:cookie:'.length));
    for (const c of v === undefined ? [] : Array.isArray(v) ? v : [v]) {
      add(c);
      add(decodeCookieValue(c));
    }
  } else if (lower.startsWith('h:')) {
    const auth = lower === 'h:authorization:bearer' || lower === 'h:authorization:mac';
    const name = auth ? 'authorization' : lower.slice(2);
    const raw = req.rawHeaders ?? [];
    for (let i = 0; i < raw.length; i += 2) {
      if (!isName(raw[i]!, name)) continue;
      for (const piece of raw[i + 1]!.split(',')) {
        if (!auth) add(piece);
        else if (lower === 'h:authorization:bearer') add(bearerPart(piece.trim().toLowerCase().startsWith('bearer ') ? piece : ''));
        else add(/(?:^|[\s,])id="([^"]{1,8192})"/.exec(raw[i + 1]!)?.[1]);
      }
    }
  }
  return out;
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

/**
 * The bearer token: the first `Authorization: Bearer` credentials, else the `access_token` query
 * parameter (RFC 6750 §2.3). Every other copy goes to `otherTokens`: further Authorization lines
 * (Node keeps only the first in `req.headers`), comma-separated credentials, and every
 * `access_token` parameter.
 */
export function readToken(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  if (!api.identity.oauth2) return;
  const t = authorizationCredentials(req, 'bearer');
  if (t) {
    ids.token = t;
    if (t.indexOf(',') >= 0) for (const part of t.split(',')) addToken(ids, bearerPart(part));
  }
  const raw = req.rawHeaders;
  if (raw && headerLines(raw, 'authorization') > 1) {
    for (let i = 0; i < raw.length; i += 2) {
      if (!isName(raw[i]!, 'authorization')) continue;
      const v = raw[i + 1]!;
      const sp = v.indexOf(' ');
      if (sp <= 0 || v.length > 16384 || !schemeIs(v, sp, 'bearer')) continue;
      for (const part of v.slice(sp + 1).split(',')) addToken(ids, bearerPart(part));
    }
  }
  // A `%` may spell the parameter's name too (`%61ccess_token`): the decoding scan then decides.
  const q = req.query;
  if (q.length > 0 && (q.indexOf('access_token') >= 0 || q.indexOf('%') >= 0)) {
    for (const v of getQueryParams(q, 'access_token')) addToken(ids, v);
  }
}

/** One comma-separated piece of bearer credentials, without a repeated `Bearer ` scheme. */
function bearerPart(part: string): string {
  const p = part.trim();
  return p.length > 7 && p.charCodeAt(6) === 0x20 && p.slice(0, 6).toLowerCase() === 'bearer' ? p.slice(7).trim() : p;
}

function addToken(ids: ClientIdentifiers, v: string): void {
  if (v.length === 0) return;
  if (ids.token === undefined) ids.token = v;
  else if (v !== ids.token) (ids.otherTokens ??= []).push(v);
}

/** Header lines called `lower` (case-insensitive) in a raw header list. */
function headerLines(raw: readonly string[], lower: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (isName(raw[i]!, lower)) n++;
  return n;
}

/** `name.toLowerCase() === lower` without building a string when the length already differs. */
function isName(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/**
 * Node keeps only the first of these in `req.headers` (the others it joins with `, `): repeats of
 * an API-key header with one of these names are read from the raw lines.
 */
const FIRST_ONLY = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

/**
 * The API key: the first non-empty `apikey_qs` parameter, else the `apikey_header` value. Every
 * other copy goes to `otherApiKeys`, under its own name: the other parameters, the header when
 * the query had one, the comma-separated pieces of the header (Node joins repeated lines so).
 */
export function readApiKey(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  const id = api.identity;
  if (id.apikeyQs && getQueryParam(req.query, id.apikeyQs) !== undefined) {
    const name = id.apikeyQs.toLowerCase();
    for (const v of getQueryParams(req.query, id.apikeyQs)) addKey(ids, name, v);
  }
  if (id.apikeyHeader) {
    const name = id.apikeyHeader;
    const v = header(req, name);
    if (v) {
      addKey(ids, name, v);
      if (v.indexOf(',') >= 0) for (const part of v.split(',')) addKey(ids, name, part.trim());
    }
    const raw = req.rawHeaders;
    if (raw && FIRST_ONLY.has(name) && headerLines(raw, name) > 1) {
      for (let i = 0; i < raw.length; i += 2) if (isName(raw[i]!, name)) addKey(ids, name, raw[i + 1]!.trim());
    }
  }
}

function addKey(ids: ClientIdentifiers, name: string, value: string): void {
  if (value.length === 0) return;
  const first = ids.apiKey;
  if (!first) ids.apiKey = { name, value };
  else if (value !== first.value || name !== first.name) (ids.otherApiKeys ??= []).push({ name, value });
}

/** True when an API-key copy holds another value than the first (then the key earns no allow entry). */
export function apiKeysDisagree(ids: ClientIdentifiers): boolean {
  const others = ids.otherApiKeys;
  if (!others || !ids.apiKey) return false;
  for (const o of others) if (o.value !== ids.apiKey.value) return true;
  return false;
}

/**
 * The API's cookie: every cookie of that name in the whole Cookie header (repeats in one header,
 * several headers), each as sent and, when it holds a `%`, as the app's cookie parser decodes it.
 * The first as sent identifies the client; the others go to `otherCookies`.
 */
export function readCookie(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): void {
  const name = api.identity.cookie;
  if (!name) return;
  const found = getCookieValues(req.headers['cookie'], name);
  if (found === undefined) return;
  if (typeof found === 'string') addCookie(ids, name, found);
  else for (const v of found) addCookie(ids, name, v);
}

function addCookie(ids: ClientIdentifiers, name: string, v: string): void {
  if (!ids.cookie) ids.cookie = { name, value: v };
  else if (v !== ids.cookie.value) (ids.otherCookies ??= []).push(v);
  const decoded = decodeCookieValue(v);
  if (decoded !== v && decoded.length > 0) (ids.otherCookies ??= []).push(decoded);
}

export function readUsername(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers, trust?: UsernameTrust): void {
  const id = api.identity;
  let copies = 0;
  if (id.jwt) {
    const check = trust?.jwt;
    // Unverified claims still identify the client (for the deny list), they just earn nothing.
    const raw = check ? check.token : readJwt(api, req);
    const payload = check?.ok ? check.payload : raw ? decodeJwtPayload(raw) : undefined;
    if (payload) {
      const user = id.jwt.username ? claimString(payload, id.jwt.username) : undefined;
      if (user) {
        ids.username = user;
        if (check?.ok) ids.usernameTrusted = true;
        // The claim spelled twice: the other spelling is another copy (and the two disagree).
        if (raw) for (const v of repeatedClaimValues(raw, id.jwt.username)) addUsername(ids, v);
      }
      const client = id.jwt.clientid ? claimString(payload, id.jwt.clientid) : undefined;
      if (client) ids.clientId = client;
    }
    const tokens = readJwtCopies(api, req);
    copies = tokens.length;
    if (id.jwt.username) {
      // Every copy but the one read above, which is not always the first: `Authorization: Basic …`
      // then `Authorization: Bearer <jwt>` has no JWT where Node's req.headers looks.
      for (const t of tokens) {
        if (t === raw) continue;
        addUsername(ids, claimOf(t, id.jwt.username));
        for (const v of repeatedClaimValues(t, id.jwt.username)) addUsername(ids, v);
      }
    }
  }
  if (id.usernameHeader) {
    const lines = headerValues(req, id.usernameHeader);
    const fromJwt = ids.username !== undefined;
    for (const line of lines) {
      addUsername(ids, line);
      if (line.indexOf(',') >= 0) for (const part of line.split(',')) addUsername(ids, part.trim());
    }
    if (!fromJwt && ids.username !== undefined && lines.length === 1 && !ids.otherUsernames && id.usernameHeaderTrusted && trust?.headerFromTrustedProxy) {
      ids.usernameTrusted = true;
    }
  }
  // Another token or header copy naming someone else: the backend may read that one.
  if (copies > 1 || ids.otherUsernames) ids.usernameTrusted = false;
}

function claimOf(token: string, claim: string): string | undefined {
  const payload = decodeJwtPayload(token);
  return payload ? claimString(payload, claim) : undefined;
}

function addUsername(ids: ClientIdentifiers, v: string | undefined): void {
  if (!v) return;
  if (ids.username === undefined) ids.username = v;
  else if (v !== ids.username && !ids.otherUsernames?.includes(v)) (ids.otherUsernames ??= []).push(v);
}

/** Every line of a header (Node joins repeats of most headers with `, `, and keeps only the first of some). */
function headerValues(req: EnforcerRequest, name: string): string[] {
  const raw = req.rawHeaders;
  if (!raw) {
    const v = header(req, name);
    return v ? [v] : [];
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (isName(raw[i]!, name) && raw[i + 1]) out.push(raw[i + 1]!);
  return out;
}
