import Ajv, { type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { type AseConfigError, type ConfigProblem, invalidConfig } from '../errors';
import { API_DEFAULTS } from './defaults';
import { cloneJsonData, valueAt } from './json-data';
import { closest } from './suggest';
import type {
  ApiJson,
  ApiMetadata,
  ApiPatternEnforcementJson,
  DecoyConfigJson,
  FlowControlJson,
  HttpRedirectJson,
  JwtJson,
  JwtVerificationJson,
  ServerJson,
} from './types';
import { DEFAULT_CLOCK_TOLERANCE_S, JWT_ALGORITHMS, isHmac } from '../identity/jwt-verifier';
import {
  DURATION_FORM,
  DURATION_PATTERN,
  RATE_FORM,
  RATE_PATTERN,
  SIZE_FORM,
  SIZE_PATTERN,
  caseInsensitive,
  parseDuration,
  parseSize,
} from './units';

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
 * Each field carries `x-accepts`: the accepted form in words, used as the error message, so one
 * bad field gives one readable line whatever ajv found wrong with it.
 */

/** Annotation keyword: the accepted form of a field, completing "must be ..." in error messages. */
const ACCEPTS = 'x-accepts';

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
const STATUS_FORM = 'an HTTP status code from 100 to 599 (a number or a string like "401")';
const TOKEN_CLASS = `[${TCHAR}]`;
const JWT_LOCATION_PATTERN =
  `^(?:${caseInsensitive('qs')}:[^\\s&=#]+` +
  `|[Hh]:${caseInsensitive('authorization')}:(?:${caseInsensitive('bearer')}|${caseInsensitive('mac')})` +
  `|[Hh]:${caseInsensitive('cookie')}:${TOKEN_CLASS}+` +
  `|[Hh]:${TOKEN_CLASS}+)?$`;
const JWT_LOCATION_FORM =
  '"" or one of "qs:<query parameter>", "h:<header name>", "h:authorization:bearer", "h:authorization:mac", "h:cookie:<cookie name>"';

type Schema = SchemaObject;

function str(pattern: string, accepts: string, def: string | undefined, maxLength = 1024): Schema {
  const s: Schema = { type: 'string', pattern, maxLength, [ACCEPTS]: accepts };
  if (def !== undefined) s['default'] = def;
  return s;
}
function bool(def: boolean): Schema {
  return { type: 'boolean', default: def, [ACCEPTS]: 'true or false' };
}
function int(min: number, max: number, accepts: string, def?: number): Schema {
  const s: Schema = { type: 'integer', minimum: min, maximum: max, [ACCEPTS]: accepts };
  if (def !== undefined) s['default'] = def;
  return s;
}
function status(def: string | number, allowEmpty: boolean): Schema {
  return {
    default: def,
    [ACCEPTS]: allowEmpty ? `${STATUS_FORM}, or ""` : STATUS_FORM,
    anyOf: [
      { type: 'integer', minimum: 100, maximum: 599 },
      { type: 'string', pattern: allowEmpty ? '^(?:[1-5][0-9]{2})?$' : '^[1-5][0-9]{2}$' },
    ],
  };
}
function obj(properties: Record<string, Schema>, opts: { required?: string[]; withDefault?: boolean; accepts?: string } = {}): Schema {
  const s: Schema = {
    type: 'object',
    properties,
    additionalProperties: false,
    [ACCEPTS]: opts.accepts ?? `an object with the keys ${Object.keys(properties).join(', ')}`,
  };
  if (opts.required && opts.required.length > 0) s['required'] = opts.required;
  if (opts.withDefault) s['default'] = {};
  return s;
}

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

function unescapeSegment(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The sub-schema describing the data at a JSON pointer. */
function schemaAt(root: Schema, ptr: string): Schema | undefined {
  let cur: Schema | undefined = root;
  if (ptr === '') return cur;
  for (const raw of ptr.slice(1).split('/')) {
    if (!cur) return undefined;
    const seg = unescapeSegment(raw);
    const props = cur['properties'] as Record<string, Schema> | undefined;
    if (props && Object.prototype.hasOwnProperty.call(props, seg)) cur = props[seg];
    else if (cur['items'] && /^\d+$/.test(seg)) cur = cur['items'] as Schema;
    else if (cur['additionalProperties'] && typeof cur['additionalProperties'] === 'object') cur = cur['additionalProperties'] as Schema;
    else return undefined;
  }
  return cur;
}

function acceptsAt(ptr: string): string | undefined {
  const a = schemaAt(API_JSON_SCHEMA, ptr)?.[ACCEPTS];
  return typeof a === 'string' ? a : undefined;
}

function childPointer(parent: string, key: string): string {
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Turns ajv's errors into one problem per bad field: anyOf branches, pattern + maxLength and the
 * like collapse into a single line carrying the field's accepted form.
 */
function toProblems(errors: readonly ErrorObject[], data: unknown, file: string, prefix: string): ConfigProblem[] {
  const out = new Map<string, ConfigProblem>();
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty: unknown }).additionalProperty);
      const ptr = childPointer(e.instancePath, key);
      const props = schemaAt(API_JSON_SCHEMA, e.instancePath)?.['properties'] as Record<string, Schema> | undefined;
      const known = props ? Object.keys(props) : [];
      const hint = closest(key, known);
      let message = `unknown key \`${key}\``;
      if (hint) message += `; did you mean \`${hint}\`?`;
      if (known.length > 0) message += `${hint ? ' Known' : '; known'} keys: ${known.join(', ')}`;
      if (!out.has(ptr)) out.set(ptr, { file, path: prefix + ptr, message });
      continue;
    }
    if (e.keyword === 'required') {
      const key = String((e.params as { missingProperty: unknown }).missingProperty);
      const ptr = childPointer(e.instancePath, key);
      const accepts = acceptsAt(ptr);
      if (!out.has(ptr)) out.set(ptr, { file, path: prefix + ptr, message: `is required${accepts ? `; it must be ${accepts}` : ''}` });
      continue;
    }
    if (e.keyword === 'propertyNames') continue; // reported through its own `pattern` error below
    const list = byPath.get(e.instancePath);
    if (list) list.push(e);
    else byPath.set(e.instancePath, [e]);
  }
  for (const [ptr, list] of byPath) {
    if (out.has(ptr)) continue;
    const accepts = acceptsAt(ptr);
    const tooLong = list.find((e) => e.keyword === 'maxLength' || e.keyword === 'maxItems' || e.keyword === 'maxProperties');
    const nameError = list.find((e) => e.propertyName !== undefined);
    let message: string;
    if (nameError) {
      const name = String(nameError.propertyName);
      message = `has an invalid header name \`${name}\`; it must be ${accepts ?? 'a header name'}`;
    } else if (tooLong) {
      const limit = (tooLong.params as { limit?: unknown }).limit;
      const what = tooLong.keyword === 'maxLength' ? 'characters' : 'entries';
      message = `is too long (at most ${String(limit)} ${what}); it must be ${accepts ?? 'shorter'}`;
    } else if (accepts) {
      message = `must be ${accepts}`;
    } else {
      message = list.map((e) => e.message ?? e.keyword).join('; ');
    }
    out.set(ptr, { file, path: prefix + ptr, value: nameError ? undefined : valueAt(data, ptr), message });
  }
  return [...out.values()];
}

/** Checks ajv cannot express: values that match their pattern but do not fit a number. */
function semanticProblems(m: ApiMetadata, file: string, prefix: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (parseDuration(m.cookie_idle_timeout) === undefined) {
    problems.push({ file, path: `${prefix}/api_metadata/cookie_idle_timeout`, value: m.cookie_idle_timeout, message: `is too large; it must be ${DURATION_FORM}` });
  }
  const size = parseSize(m.api_memory_size);
  if (size === undefined || size === 0) {
    problems.push({
      file,
      path: `${prefix}/api_metadata/api_memory_size`,
      value: m.api_memory_size,
      message: `${size === 0 ? 'must be more than 0' : 'is too large'}; it must be ${SIZE_FORM}`,
    });
  }
  problems.push(...jwtVerificationProblems(m, file, prefix));
  return problems;
}

/** `jwt_verification` rules the schema cannot say: one key source, the right one, no HS/asymmetric mix. */
function jwtVerificationProblems(m: ApiMetadata, file: string, prefix: string): ConfigProblem[] {
  const v = m.jwt_verification;
  if (!v) return [];
  const at = `${prefix}/api_metadata/jwt_verification`;
  const sources = (['secret_file', 'public_key_file', 'jwks_file'] as const).filter((k) => v[k] !== undefined);
  const hmac = v.algorithms.filter(isHmac);
  const problems: ConfigProblem[] = [];
  if (hmac.length > 0 && hmac.length < v.algorithms.length) {
    // A verifier that accepts both lets a public key be used as an HMAC secret (key confusion).
    problems.push({ file, path: `${at}/algorithms`, value: v.algorithms, message: 'mixes HS* with asymmetric algorithms; list HS* only (with secret_file) or asymmetric ones only' });
  } else if (sources.length !== 1) {
    problems.push({ file, path: at, message: 'needs exactly one of secret_file (HS*), public_key_file or jwks_file (RS*, PS*, ES*, EdDSA)' });
  } else if (hmac.length > 0 && sources[0] !== 'secret_file') {
    problems.push({ file, path: `${at}/${sources[0]}`, message: `cannot verify ${hmac.join(', ')}; HS* algorithms need secret_file` });
  } else if (hmac.length === 0 && sources[0] === 'secret_file') {
    problems.push({ file, path: `${at}/secret_file`, message: `cannot verify ${v.algorithms.join(', ')}; asymmetric algorithms need public_key_file or jwks_file` });
  }
  if (m.jwt.location === '') {
    problems.push({ file, path: `${prefix}/api_metadata/jwt/location`, value: '', message: 'is required when jwt_verification is set: it says where the JWT is' });
  }
  return problems;
}

function warningsFor(m: ApiMetadata, where: string): string[] {
  const w: string[] = [];
  if (m.username_header !== '' && m.jwt.location !== '' && m.jwt.username !== '') {
    w.push(`${where}: both username_header and jwt are set; the JWT claim names the client first, and a deny-listed name in either blocks`);
  }
  // A location without a username claim still has a use when the JWT is verified (jwt_verification.required).
  if ((m.jwt.location === '') !== (m.jwt.username === '') && !(m.jwt.location !== '' && m.jwt_verification)) {
    w.push(`${where}: jwt needs both location and username to be decoded; jwt is ignored`);
  }
  if (m.username_header_trusted && m.username_header === '') {
    w.push(`${where}: username_header_trusted has no effect without username_header`);
  }
  if (m.is_token_mandatory && !m.oauth2_access_token) {
    w.push(`${where}: is_token_mandatory has no effect unless oauth2_access_token is true`);
  }
  const withQuota = m.servers.filter((s) => s.server_connection_quota > 0).length;
  if (withQuota > 0 && withQuota < m.servers.length) {
    w.push(
      `${where}: some servers have server_connection_quota 0 (no quota) and others a quota; set a quota on every server or on none`,
    );
  }
  return w;
}

/** Internal form of validateApiJson: `prefix` is prepended to every JSON path (for objects nested in a larger one). */
export function checkApiJson(raw: unknown, file: string, prefix = '', where = file): { api?: ApiJson; problems: ConfigProblem[]; warnings: string[] } {
  const { value, problems } = cloneJsonData(raw, file, []);
  if (problems.length > 0) return { problems: problems.map((p) => ({ ...p, path: prefix + p.path })), warnings: [] };
  const validate = validator();
  if (!validate(value)) return { problems: toProblems(validate.errors ?? [], value, file, prefix), warnings: [] };
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
