/**
 * The `Host` header as the API matcher sees it: lower case, no port, no trailing dot.
 *
 * Strict on purpose. Koa CVE-2026-27959 (`ctx.hostname`) took everything before the first colon, so
 * `Host: evil@malicious.com` passed; Node itself accepts `Host: good.example@evil.example` and
 * `Host: good.example evil` unchanged. Anything that is not one hostname or IP literal with an optional
 * port is refused (the caller answers 400) rather than interpreted.
 */
import { canonicalIpv6Literal } from './ip-address';

export type ParsedHost =
  | { ok: true; /** lower case, no port, '' when absent */ host: string }
  | { ok: false; reason: string };

/** Longest accepted host name, port excluded. */
const MAX_HOST_LEN = 255;
/** `:65535` */
const MAX_PORT_SUFFIX = 6;

const ABSENT: ParsedHost = { ok: true, host: '' };

function fail(reason: string): ParsedHost {
  return { ok: false, reason };
}

/** `value[from..]` is empty (RFC 3986 allows `host:`) or 1–5 digits ≤ 65535. */
function validPort(value: string, from: number): boolean {
  const digits = value.length - from;
  if (digits > 5) return false;
  let v = 0;
  for (let i = from; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    v = v * 10 + d;
  }
  return v <= 65535;
}

/**
 * True when the raw header lines hold more than one `Host` (RFC 9112 §3.2: answered 400). Node
 * keeps the first in `req.headers`; a server or proxy that reads the other would route by it.
 */
export function hasRepeatedHost(rawHeaders: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!;
    if (n.length !== 4 || (n !== 'Host' && n !== 'host' && n.toLowerCase() !== 'host')) continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

/**
 * Parses `Host`. Absent or empty (HTTP/1.0, or an empty field) → ok with ''. A one-element array is
 * read as its element; several elements, a comma, userinfo (`@`), whitespace, characters outside
 * `[A-Za-z0-9._-]` (or an IPv6 literal in brackets), empty labels, a bad port or a name longer than
 * 255 characters → not ok. IPv6 literals are returned in brackets and canonical (`[0:0::1]:80` → `[::1]`).
 */
export function parseHost(hostHeader: string | string[] | undefined): ParsedHost {
  let value: string;
  if (hostHeader === undefined) return ABSENT;
  if (Array.isArray(hostHeader)) {
    if (hostHeader.length === 0) return ABSENT;
    if (hostHeader.length > 1) return fail('several Host headers');
    value = hostHeader[0] ?? '';
  } else value = hostHeader;
  if (value.length === 0) return ABSENT;
  if (value.length > MAX_HOST_LEN + MAX_PORT_SUFFIX) return fail('Host too long');

  if (value.charCodeAt(0) === 0x5b) return parseIpLiteral(value);

  // One scan: validate characters, find the port, note whether lower-casing is needed.
  let end = value.length;
  let upper = false;
  let dotDot = false; // `..` before the port: an empty label whichever way the trailing dot is cut
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2e) {
      if (i > 0 && value.charCodeAt(i - 1) === 0x2e) dotDot = true;
      continue;
    }
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) continue;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      continue;
    }
    if (c === 0x3a) {
      if (!validPort(value, i + 1)) return fail('invalid port in Host');
      end = i;
      break;
    }
    if (c === 0x2c) return fail('several values in Host');
    if (c === 0x40) return fail('userinfo in Host');
    if (c === 0x20 || c === 0x09) return fail('whitespace in Host');
    return fail('invalid character in Host');
  }
  if (end > 0 && value.charCodeAt(end - 1) === 0x2e) end--; // one trailing dot: `example.com.`
  if (end === 0) return fail('empty host name');
  if (end > MAX_HOST_LEN) return fail('Host too long');
  const name = end === value.length ? value : value.slice(0, end);
  if (name.charCodeAt(0) === 0x2e || dotDot || name.charCodeAt(name.length - 1) === 0x2e) {
    return fail('empty label in Host');
  }
  return { ok: true, host: upper ? name.toLowerCase() : name };
}

function parseIpLiteral(value: string): ParsedHost {
  const close = value.indexOf(']');
  if (close < 0) return fail('unterminated IPv6 literal in Host');
  if (close + 1 < value.length) {
    if (value.charCodeAt(close + 1) !== 0x3a) return fail('invalid character after IPv6 literal in Host');
    if (!validPort(value, close + 2)) return fail('invalid port in Host');
  }
  const ip = canonicalIpv6Literal(value.slice(1, close));
  if (!ip) return fail('invalid IPv6 literal in Host');
  return { ok: true, host: `[${ip}]` };
}
