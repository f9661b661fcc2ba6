import type { ConfigProblem } from '../errors';
import { isHmac } from '../identity/jwt-verifier';
import type { ApiMetadata } from './types';
import { DURATION_FORM, SIZE_FORM, parseDuration, parseSize } from './units';

/** The API JSON rules a JSON Schema cannot say: values that must fit a number, fields that go together. */

/** Checks ajv cannot express: values that match their pattern but do not fit a number. */
export function semanticProblems(m: ApiMetadata, file: string, prefix: string): ConfigProblem[] {
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
  problems.push(...honeytokenProblems(m, file, prefix));
  return problems;
}

/**
 * A key or token the decoy's answer never shows would be planted for nothing: its placeholder
 * must be in `response_message` (a cookie reaches the client by `Set-Cookie` anyway).
 */
function honeytokenProblems(m: ApiMetadata, file: string, prefix: string): ConfigProblem[] {
  const h = m.decoy_config.honeytokens;
  if (!h) return [];
  const problems: ConfigProblem[] = [];
  for (const [key, placeholder] of [['api_key', '${api_key}'], ['bearer_token', '${bearer_token}']] as const) {
    if (h[key] && !m.decoy_config.response_message.includes(placeholder)) {
      problems.push({ file, path: `${prefix}/api_metadata/decoy_config/honeytokens/${key}`, value: true, message: `plants a value the decoy never shows; put ${placeholder} in decoy_config.response_message` });
    }
  }
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

export function warningsFor(m: ApiMetadata, where: string): string[] {
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
