import Ajv, { type ValidateFunction } from 'ajv';
import { type ConfigProblem, invalidConfig } from '../errors';
import { DEFAULT_CLOCK_TOLERANCE_S, JWT_ALGORITHMS } from '../identity/jwt-verifier';
import { semanticProblems, warningsFor } from './api-rules';
import { API_DEFAULTS } from './defaults';
import { cloneJsonData } from './json-data';
import { ACCEPTS, type Schema, bool, int, obj, status, str, toProblems } from './schema-fields';
import type { ApiJson, ApiMetadata, ApiPatternEnforcementJson, DecoyConfigJson, FlowControlJson, HoneytokensJson, HttpRedirectJson, JwtJson, JwtVerificationJson, ServerJson } from './types';
import { DURATION_FORM, DURATION_PATTERN, RATE_FORM, RATE_PATTERN, SIZE_FORM, SIZE_PATTERN, caseInsensitive } from './units';

/*
 * The JSON Schema of an API JSON file (`api/<id>.json`, a management API body, or an object
 * passed in code). Every parameter of the reference's API JSON table, `additionalProperties: false`
 * at every level (a typo must fail loudly, not turn a protection off), and every default from
 * API_DEFAULTS, so that `{ api_metadata: { url, hostname } }` comes out complete.
 *
 * The property maps are typed `Record<keyof X, ...>`: a field added to or removed from types.ts
 * without its schema (or the reverse) fails the type check. ajv's JSONSchemaType cannot be used
 * because of the `string | number` status-code fields.
 *
 * Each field carries `x-accepts` (schema-fields.ts): the accepted form in words, used as the error
 * message. Rules beyond the schema are in api-rules.ts.
 */

/** Characters of an HTTP token (header names, cookie names). */
const TCHAR = "!#$%&'*+.^_`|~0-9A-Za-z-";
/** Characters Node accepts in a reason phrase or header value (no CR, LF or other controls). */
const FIELD_TEXT = '^[\\t\\x20-\\x7e\\x80-\\xff]*$';
/** No control characters. */
const PRINTABLE = '^[^\\x00-\\x1f\\x7f]*$';
/** One path segment: no `/`, `?`, `#`, backslash, whitespace or control characters. */
const SEG = '[^/?#\\\\\\s\\x00-\\x1f\\x7f]+';
const NO_DOTDOT_NO_DOUBLE_SLASH = '(?!.*\\.\\.)(?!.*//)';

/** The API `url`: `/` or up to six segments, no `..`, no `//`, no query or fragment. */
export const URL_PATTERN = `^${NO_DOTDOT_NO_DOUBLE_SLASH}/(?:${SEG}(?:/${SEG}){0,5}/?)?$`;
const URL_FORM =
  'a path starting with "/" with at most six segments (like "/shop" or "/shop/electronics/phones"), without "..", "//", "?", "#" or spaces';
const INTERNAL_URL_PATTERN = `^(?:${NO_DOTDOT_NO_DOUBLE_SLASH}/(?:${SEG}(?:/${SEG})*/?)?)?$`;
const INTERNAL_URL_FORM = '"" or a path starting with "/" (like "/internal/v2"), without "..", "//", "?", "#" or spaces';
const SUBPATH_PATTERN = `^${NO_DOTDOT_NO_DOUBLE_SLASH}/?${SEG}(?:/${SEG})*/?$`;
const SUBPATH_FORM = 'a path under the API url (like "admin" or "/shop/admin"), without "..", "//", "?", "#" or spaces';
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'] as const;
const METHOD_PATTERN = `^(?:${METHODS.map(caseInsensitive).join('|')})$`;
const PROTOCOL_WORD = `(?:${caseInsensitive('http')}[Ss]?|${caseInsensitive('ws')}[Ss]?)`;
const PROTOCOL_ALLOWED_PATTERN = `^[\\s,]*(?:${PROTOCOL_WORD}(?:[\\s,]+${PROTOCOL_WORD})*[\\s,]*)?$`;
const TOKEN_CLASS = `[${TCHAR}]`;
const JWT_LOCATION_PATTERN =
  `^(?:${caseInsensitive('qs')}:[^\\s&=#]+` +
  `|[Hh]:${caseInsensitive('authorization')}:(?:${caseInsensitive('bearer')}|${caseInsensitive('mac')})` +
  `|[Hh]:${caseInsensitive('cookie')}:${TOKEN_CLASS}+` +
  `|[Hh]:${TOKEN_CLASS}+)?$`;
const JWT_LOCATION_FORM =
  '"" or one of "qs:<query parameter>", "h:<header name>", "h:authorization:bearer", "h:authorization:mac", "h:cookie:<cookie name>"';

const rate = (def: string): Schema => str(RATE_PATTERN, RATE_FORM, def, 64);
const reason = (def: string): Schema =>
  str(FIELD_TEXT, 'a reason phrase on one line (like "Unauthorized"), without control characters', def, 256);
const body = (def: string): Schema => ({ type: 'string', maxLength: 65_536, default: def, [ACCEPTS]: 'a string of at most 65536 characters' });
const headerName = (def: string): Schema =>
  str(`^${TOKEN_CLASS}*$`, '"" or an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-, no spaces)', def, 256);

const D = API_DEFAULTS;
const PE = D.api_pattern_enforcement;

const httpRedirectProps: Record<keyof HttpRedirectJson, Schema> = {
  response_code: status(PE.http_redirect.response_code, true),
  response_def: reason(PE.http_redirect.response_def),
  https_url: str(
    `^(?:${caseInsensitive('http')}[Ss]?://[^\\s/?#@\\\\]+(?:/[^\\s?#\\\\]*)?)?$`,
    '"" or an absolute URL like "https://shop.example.com" (no query, fragment or spaces)',
    PE.http_redirect.https_url,
    2048,
  ),
};

const patternEnforcementProps: Record<keyof ApiPatternEnforcementJson, Schema> = {
  protocol_allowed: str(
    PROTOCOL_ALLOWED_PATTERN,
    '"" or a comma or space separated list of http, https, ws, wss (like "https, wss")',
    PE.protocol_allowed,
    128,
  ),
  http_redirect: obj(httpRedirectProps, { withDefault: true }),
  methods_allowed: {
    type: 'array',
    maxItems: 16,
    default: [],
    items: str(METHOD_PATTERN, `one of ${METHODS.join(', ')}`, undefined, 16),
    [ACCEPTS]: `a list of HTTP methods among ${METHODS.join(', ')} ([] allows every method)`,
  },
  content_type_allowed: str(
    `^(?:${TOKEN_CLASS}+/${TOKEN_CLASS}+(?:[ \\t]*;[^,\\x00-\\x1f\\x7f]*)?)?$`,
    '"" or one media type like "application/json"',
    PE.content_type_allowed,
    256,
  ),
  error_code: status(PE.error_code, true),
  error_def: reason(PE.error_def),
  error_message_body: body(PE.error_message_body),
};

const flowControlProps: Record<keyof FlowControlJson, Schema> = {
  client_spike_threshold: rate(D.flow_control.client_spike_threshold),
  server_connection_queueing: bool(D.flow_control.server_connection_queueing),
  bytes_in_threshold: rate(D.flow_control.bytes_in_threshold),
  bytes_out_threshold: rate(D.flow_control.bytes_out_threshold),
};

const serverProps: Record<keyof ServerJson, Schema> = {
  host: str('^[^\\s/@\\x00-\\x1f\\x7f]+$', 'a host name or IP address (not empty, no spaces, "/" or "@")', undefined, 253),
  port: int(1, 65_535, 'a port number from 1 to 65535'),
  server_spike_threshold: rate(D.server.server_spike_threshold),
  server_connection_quota: int(0, 1_000_000_000, 'a whole number of concurrent connections, 0 or more (0 = no quota)', D.server.server_connection_quota),
};

const decoyProps: Record<keyof DecoyConfigJson, Schema> = {
  decoy_enabled: bool(D.decoy_config.decoy_enabled),
  response_code: status(D.decoy_config.response_code, true),
  response_def: reason(D.decoy_config.response_def),
  response_message: body(D.decoy_config.response_message),
  decoy_subpaths: {
    type: 'array',
    maxItems: 32,
    default: [],
    items: str(SUBPATH_PATTERN, SUBPATH_FORM, undefined, 1024),
    [ACCEPTS]: 'a list of at most 32 decoy paths',
  },
  honeytokens: obj(
    {
      api_key: bool(false),
      bearer_token: bool(false),
      cookie: str(`^${TOKEN_CLASS}*$`, '"" or a cookie name (like "session")', '', 256),
    } satisfies Record<keyof HoneytokensJson, Schema>,
    { accepts: 'an object like {"api_key": true, "bearer_token": false, "cookie": "session"}' },
  ),
};

const claim = (def: string): Schema => str(PRINTABLE, 'a JWT claim name (no control characters)', def, 256);
const jwtProps: Record<keyof JwtJson, Schema> = {
  location: str(JWT_LOCATION_PATTERN, JWT_LOCATION_FORM, D.jwt.location, 512),
  username: claim(D.jwt.username),
  clientid: claim(D.jwt.clientid),
};

const keyFile = (what: string): Schema => ({
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  pattern: PRINTABLE,
  [ACCEPTS]: `the path of a file holding ${what}, relative to the config directory`,
});
const jwtVerificationProps: Record<keyof JwtVerificationJson, Schema> = {
  algorithms: {
    type: 'array',
    minItems: 1,
    maxItems: JWT_ALGORITHMS.length,
    uniqueItems: true,
    items: { type: 'string', enum: [...JWT_ALGORITHMS], [ACCEPTS]: `one of ${JWT_ALGORITHMS.join(', ')} ("none" is never accepted)` },
    [ACCEPTS]: `a non-empty list of JWT algorithms among ${JWT_ALGORITHMS.join(', ')} ("none" is never accepted)`,
  },
  secret_file: keyFile('the shared secret (HS256, HS384, HS512)'),
  public_key_file: keyFile('a PEM public key or certificate'),
  jwks_file: keyFile('a JWKS (JSON Web Key Set) of public keys'),
  issuer: str(PRINTABLE, 'the required "iss" claim (no control characters)', undefined, 2048),
  audience: str(PRINTABLE, 'the required "aud" claim (no control characters)', undefined, 2048),
  clock_tolerance: int(0, 600, 'a whole number of seconds from 0 to 600', DEFAULT_CLOCK_TOLERANCE_S),
  required_claims: {
    type: 'array',
    maxItems: 16,
    uniqueItems: true,
    items: { type: 'string', minLength: 1, maxLength: 256, pattern: PRINTABLE, [ACCEPTS]: 'a claim name like "exp" (no control characters)' },
    [ACCEPTS]: 'a list of at most 16 claim names a token must carry, like ["exp", "sub"]',
  },
  required: bool(false),
};

const metadataProps: Record<keyof ApiMetadata, Schema> = {
  protocol: { type: 'string', enum: ['http', 'ws'], default: D.protocol, [ACCEPTS]: '"http" or "ws"' },
  url: str(URL_PATTERN, URL_FORM, undefined, 2048),
  hostname: str('^[^\\s/@\\x00-\\x1f\\x7f]+$', 'a host name or "*" (not empty, no spaces, "/" or "@")', undefined, 253),
  cookie: str(`^${TOKEN_CLASS}*$`, '"" or a cookie name (like "JSESSIONID")', D.cookie, 256),
  cookie_idle_timeout: str(DURATION_PATTERN, DURATION_FORM, D.cookie_idle_timeout, 32),
  logout_api_enabled: bool(D.logout_api_enabled),
  cookie_persistence_enabled: bool(D.cookie_persistence_enabled),
  oauth2_access_token: bool(D.oauth2_access_token),
  is_token_mandatory: bool(D.is_token_mandatory),
  apikey_qs: str('^[^\\s&=#\\x00-\\x1f\\x7f]*$', '"" or a query parameter name (no spaces, "&", "=" or "#")', D.apikey_qs, 256),
  apikey_header: headerName(D.apikey_header),
  login_url: str(PRINTABLE, 'a URL or path without control characters', D.login_url, 2048),
  enable_blocking: bool(D.enable_blocking),
  api_mapping: obj({ internal_url: str(INTERNAL_URL_PATTERN, INTERNAL_URL_FORM, D.api_mapping.internal_url, 2048) }, { withDefault: true }),
  api_pattern_enforcement: obj(patternEnforcementProps, { withDefault: true }),
  flow_control: obj(flowControlProps, { withDefault: true }),
  api_memory_size: str(SIZE_PATTERN, SIZE_FORM, D.api_memory_size, 32),
  health_check: bool(D.health_check),
  health_check_interval: int(1, 2_147_483, 'a whole number of seconds, at least 1', D.health_check_interval),
  health_retry_count: int(1, 1000, 'a whole number of attempts from 1 to 1000', D.health_retry_count),
  health_url: str('^(?:/[^\\s\\x00-\\x1f\\x7f]*)?$', 'a path starting with "/" (like "/health")', D.health_url, 2048),
  health_check_headers: {
    type: 'object',
    default: {},
    maxProperties: 64,
    propertyNames: { type: 'string', pattern: `^${TOKEN_CLASS}+$`, maxLength: 256 },
    additionalProperties: { type: 'string', pattern: FIELD_TEXT, maxLength: 8192, [ACCEPTS]: 'a header value on one line (a string without control characters)' },
    [ACCEPTS]: 'an object of at most 64 header names (letters, digits and !#$%&\'*+.^_`|~-) to string values, like {"X-Host": "%{HOST}"}',
  },
  server_ssl: bool(D.server_ssl),
  servers: {
    type: 'array',
    maxItems: 256,
    default: [],
    items: obj(serverProps, {
      required: ['host', 'port'],
      accepts: 'a server object like {"host": "127.0.0.1", "port": 8080, "server_spike_threshold": "0/second", "server_connection_quota": 0}',
    }),
    [ACCEPTS]: 'a list of at most 256 server objects',
  },
  decoy_config: obj(decoyProps, { withDefault: true }),
  username_header: headerName(D.username_header),
  username_header_trusted: { type: 'boolean', [ACCEPTS]: 'true or false' },
  jwt: obj(jwtProps, { withDefault: true }),
  jwt_verification: obj(jwtVerificationProps, {
    required: ['algorithms'],
    accepts: 'an object like {"algorithms": ["RS256"], "public_key_file": "keys/issuer.pem", "required": true}',
  }),
};

/** The JSON Schema of a whole API JSON file. */
export const API_JSON_SCHEMA: Readonly<Schema> = {
  type: 'object',
  properties: {
    api_metadata: obj(metadataProps, { required: ['url', 'hostname'], accepts: 'an object with at least "url" and "hostname"' }),
  },
  required: ['api_metadata'],
  additionalProperties: false,
  [ACCEPTS]: 'an object with one key, "api_metadata"',
};

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
    ajv.addVocabulary([ACCEPTS]);
    compiled = ajv.compile(API_JSON_SCHEMA);
  }
  return compiled;
}

/** Internal form of validateApiJson: `prefix` is prepended to every JSON path (for objects nested in a larger one). */
export function checkApiJson(raw: unknown, file: string, prefix = '', where = file): { api?: ApiJson; problems: ConfigProblem[]; warnings: string[] } {
  const { value, problems } = cloneJsonData(raw, file, []);
  if (problems.length > 0) return { problems: problems.map((p) => ({ ...p, path: prefix + p.path })), warnings: [] };
  const validate = validator();
  if (!validate(value)) return { problems: toProblems(API_JSON_SCHEMA, validate.errors ?? [], value, file, prefix), warnings: [] };
  const api = value as ApiJson;
  const m = api.api_metadata;
  const semantic = semanticProblems(m, file, prefix);
  if (semantic.length > 0) return { problems: semantic, warnings: [] };
  const pe = m.api_pattern_enforcement;
  pe.methods_allowed = [...new Set(pe.methods_allowed.map((x) => x.toUpperCase()))];
  return { api, problems: [], warnings: warningsFor(m, where) };
}

/**
 * Validates an API JSON document (parsed JSON or an object written in code) and returns a complete
 * copy with every default filled in; the caller's object is not modified. `methods_allowed` comes
 * back in upper case. Throws AseConfigError listing one problem per bad field, each naming `file`,
 * the JSON path, the bad value and the accepted form.
 */
export function validateApiJson(raw: unknown, file: string): { api: ApiJson; warnings: string[] } {
  const r = checkApiJson(raw, file);
  if (!r.api || r.problems.length > 0) throw invalidConfig(r.problems);
  return { api: r.api, warnings: r.warnings };
}
