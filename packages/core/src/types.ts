import type { CompiledApi, Protocol } from './api/compiled-api';
import type { ResponseSpec } from './policy/responses';
import type { Upstream } from './upstream/server-pool';
import type { DenyTag, EntryType } from './lists/entries';

// Protocol and ResponseSpec live with the modules that own them (which import nothing from here),
// so this module's imports form no cycle; they are re-exported for the modules that read them here.
export type { Protocol, ResponseSpec };

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * What an adapter hands to the core: plain data read off Node's IncomingMessage, which all three
 * frameworks expose (`req`, `ctx.req`, `request.raw`). Nothing downstream re-reads the framework object.
 */
export interface RawRequest {
  method: string;
  /** The raw request-target (`req.url`). */
  url: string;
  /** Lower-case header names, as Node gives them. */
  headers: Headers;
  /**
   * Every header line as it arrived (`[name, value, name, value, ...]`, Node's `rawHeaders`). Node
   * keeps only the first of some repeated headers (`authorization`, `host`, ...) in `headers`, while
   * a backend may read another copy: checks that must see every copy read this.
   */
  rawHeaders?: readonly string[];
  /** Socket peer address. */
  remoteAddress: string | undefined;
  /** True when the connection is TLS. */
  encrypted: boolean;
  /** True for a WebSocket upgrade request. */
  upgrade?: boolean;
}

/** The request as the pipeline sees it: resolved once, in core. */
export interface EnforcerRequest {
  method: string;
  /** Normalised path (forward form: keeps case and `;params`). */
  path: string;
  /** Matching form of the path: lower case, no `;params`, no trailing slash. */
  matchPath: string;
  /** Query string including the leading `?`, or "". Forwarded byte for byte. */
  query: string;
  /** Host without port, lower case; "" when absent. */
  host: string;
  protocol: Protocol;
  /** Client IP, canonical (IPv4-mapped IPv6 as IPv4). */
  ip: string;
  headers: Headers;
  /** Every header line as it arrived, when the adapter gave them (see {@link RawRequest.rawHeaders}). */
  rawHeaders: readonly string[] | undefined;
  /** Socket peer address, canonical (the client IP may come from X-Forwarded-For instead). */
  peer: string;
  /**
   * The client's identifiers as the firewall read them, set once it let the request on (so a
   * passing decision carries them, and nobody reads the headers twice); undefined before, or
   * with the firewall off.
   */
  identifiers?: ClientIdentifiers | undefined;
}

/** Why a request was answered by the enforcer instead of reaching the app or a backend. */
export type RespondReason =
  | 'malformed'
  | 'unknown_api'
  | 'unknown_hostname'
  | 'deny_list'
  | 'invalid_protocol'
  | 'invalid_method'
  | 'cors_preflight'
  | 'invalid_content_type'
  | 'missing_token'
  /** `jwt_verification.required` and the request has no valid JWT. */
  | 'invalid_jwt'
  | 'decoy'
  | 'redirect'
  | 'health'
  | 'no_backend'
  | 'rate_limited'
  | 'server_busy';

export type Decision =
  /** Hand the request to the host app's next handler (no API matched, or an API without servers). */
  | { action: 'pass'; api: CompiledApi | undefined; request: EnforcerRequest | undefined }
  /** Answer it now, with this response. */
  | {
      action: 'respond';
      reason: RespondReason;
      api: CompiledApi | undefined;
      response: ResponseSpec;
      /** `deny_list`: the type and tag of the entry that refused the request (the metrics' labels). */
      listed?: { readonly type: EntryType; readonly tag: DenyTag } | undefined;
    }
  /** Forward it to a backend server of the API. */
  | {
      action: 'proxy';
      api: CompiledApi;
      request: EnforcerRequest;
      upstream: Upstream;
      forwardPath: string;
      /** Value of the API's session cookie when sticky sessions are on. */
      stickyKey?: string | undefined;
      /** Frees the server slot taken by flow control; called when the response closes. */
      release?: (() => void) | undefined;
    };

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Every identifier of a client the API is configured to capture. */
export interface ClientIdentifiers {
  ip: string;
  token?: string;
  /**
   * Other copies of the identifiers that differ from the first one (`token`, `apiKey`, `cookie`):
   * a repeated header line, a comma-joined value, a repeated query parameter or cookie, the
   * `access_token` parameter, a percent-decoded cookie. The backend may read any of them, so every
   * copy is looked up on the deny list, and an identifier with other copies never counts for the
   * allow list. Absent (not empty) in the common case of one copy.
   */
  otherTokens?: string[];
  apiKey?: { name: string; value: string };
  /** Other API-key copies: the header and query copies carry their own names. */
  otherApiKeys?: { name: string; value: string }[];
  cookie?: { name: string; value: string };
  otherCookies?: string[];
  username?: string;
  /**
   * Other user names the request carries: from other copies of the JWT (repeated header lines,
   * parameters or cookies) or of `username_header`. Looked up on the deny list only; with any of
   * them, `username` is not trusted either (the backend may read another copy).
   */
  otherUsernames?: string[];
  /**
   * True when `username` comes from a verified JWT, or from a trusted proxy's `username_header`:
   * only then may it match the allow list. Any other user name only counts against the client.
   */
  usernameTrusted?: boolean;
  /** From `jwt.clientid`; recorded in events and logs, not matched against lists. */
  clientId?: string;
}
