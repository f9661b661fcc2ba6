/**
 * IP address forms: every IP the enforcer stores or compares goes through {@link canonicalIp}, so
 * one client has one spelling: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::ffff:102:304`) is that IPv4
 * address (the express-rate-limit GHSA-46wh-pxpv-q5gq lesson), IPv6 is the compressed lower-case form.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Longest input worth parsing as an address (a full IPv6 with embedded IPv4 and a zone fits easily). */
export const MAX_ADDR_LEN = 100;

/**
 * Eight 16-bit groups of an IPv6 address that `net.isIPv6` accepted (no zone, no brackets).
 * Handles `::` and an embedded dotted-quad tail.
 */
export function ipv6Groups(s: string): number[] | undefined {
  let head = s;
  let v4Tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = s.slice(lastColon + 1);
    if (!isIPv4(v4)) return undefined;
    const o = v4.split('.').map(Number);
    v4Tail = [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
    // Keep the colon when it is part of `::` (`::1.2.3.4`), drop it otherwise (`::ffff:1.2.3.4`).
    head = s.charCodeAt(lastColon - 1) === 0x3a ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (h.length === 0 || h.length > 4) return undefined;
      const v = parseInt(h, 16);
      if (Number.isNaN(v)) return undefined;
      out.push(v);
    }
    return out;
  };
  const dbl = head.indexOf('::');
  let groups: number[];
  if (dbl < 0) {
    const all = parse(head);
    if (!all) return undefined;
    groups = [...all, ...v4Tail];
  } else {
    const left = parse(head.slice(0, dbl));
    const right = parse(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const fill = 8 - left.length - right.length - v4Tail.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right, ...v4Tail];
  }
  return groups.length === 8 ? groups : undefined;
}

function isV4Mapped(g: readonly number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

function mappedToV4(g: readonly number[]): string {
  const a = g[6] ?? 0;
  const b = g[7] ?? 0;
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(g: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((v) => v.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Brackets and zone removed; '' when the brackets do not pair. */
function stripDecorations(addr: string): string {
  let s = addr;
  if (s.charCodeAt(0) === 0x5b) {
    if (s.charCodeAt(s.length - 1) !== 0x5d) return '';
    s = s.slice(1, -1);
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  return s;
}

/**
 * The one spelling of an IP address: IPv4 dotted quad, IPv4-mapped IPv6 as IPv4
 * (`::ffff:1.2.3.4` and `::ffff:102:304` → `1.2.3.4`), other IPv6 compressed and lower case
 * (`2001:DB8:0:0::1` → `2001:db8::1`; `2001:db8::1.2.3.4` stays IPv6 → `2001:db8::102:304`).
 * Brackets and a zone (`fe80::1%eth0`) are removed. '' for undefined, empty or invalid input
 * (including leading zeros in IPv4 and surrounding whitespace).
 */
export function canonicalIp(addr: string | undefined): string {
  if (!addr || addr.length > MAX_ADDR_LEN) return '';
  if (isDottedQuad(addr)) return addr;
  // Node's usual dual-stack spelling, in one step.
  if (addr.startsWith('::ffff:')) {
    const rest = addr.slice(7);
    if (isDottedQuad(rest)) return rest;
  }
  const s = stripDecorations(addr);
  if (s.length === 0 || !isIPv6(s)) return '';
  const g = ipv6Groups(s);
  if (!g) return '';
  return isV4Mapped(g) ? mappedToV4(g) : formatIpv6(g);
}

/**
 * `net.isIPv4` without its regular expression (it runs for every request, on the socket address
 * and each X-Forwarded-For entry): four decimal octets 0–255, no leading zeros, nothing else.
 */
export function isDottedQuad(s: string): boolean {
  return dottedQuadValue(s, 0, s.length) >= 0;
}

/**
 * The value (0 … 2^32 − 1) of the dotted quad `s[from, to)`, or -1 when that range is not one by
 * the rule of {@link isDottedQuad}. One pass and no slice: the X-Forwarded-For walk validates and
 * checks trust of an entry with it, where it used to slice, validate and then convert.
 */
export function dottedQuadValue(s: string, from: number, to: number): number {
  const len = to - from;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let i = from;
  for (let octets = 0; octets < 4; octets++) {
    if (octets > 0) {
      if (i >= to || s.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < to) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && s.charCodeAt(start) === 0x30)) return -1;
    value = value * 256 + v;
  }
  return i === to ? value : -1;
}

/** Canonical IPv6 spelling with no IPv4 mapping (used for `Host: [..]` literals); '' when invalid. */
export function canonicalIpv6Literal(addr: string): string {
  if (addr.length > MAX_ADDR_LEN || addr.indexOf('%') >= 0 || !isIPv6(addr)) return '';
  const g = ipv6Groups(addr);
  return g ? formatIpv6(g) : '';
}

/** A canonical dotted quad → its 32-bit value (as a signed int, for bitwise comparison). */
export function ipv4ToInt(ip: string): number {
  let v = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      v = (v << 8) | octet;
      octet = 0;
    } else octet = octet * 10 + (c - 0x30);
  }
  return (v << 8) | octet;
}

/**
 * `ip/prefix` for a canonical IPv6 address: its network, host bits cleared, in canonical form
 * (`2001:db8:1:2::7`, 64 → `2001:db8:1:2::/64`). '' when `ip` is not IPv6 (IPv4 and IPv4-mapped
 * addresses have no prefix form: one IPv4 address is one client).
 */
export function ipv6Prefix(ip: string, prefix: number): string {
  if (ip.indexOf(':') < 0) return '';
  const g = ipv6Groups(ip);
  if (!g || isV4Mapped(g)) return '';
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    g[i] = keep === 0 ? 0 : g[i]! & ((0xffff << (16 - keep)) & 0xffff);
  }
  return `${formatIpv6(g)}/${prefix}`;
}

/** A 32-bit IPv4 value (signed or not) as a dotted quad. */
export function intToIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The mask of an IPv4 prefix length (1–32) as a signed 32-bit int. */
export function ipv4Mask(prefix: number): number {
  return prefix >= 32 ? -1 : ~((1 << (32 - prefix)) - 1) | 0;
}

/** `ip/prefix` for a canonical dotted quad: its network, host bits cleared (`203.0.113.7`, 24 → `203.0.113.0/24`). */
export function ipv4Prefix(ip: string, prefix: number): string {
  return `${intToIpv4(ipv4ToInt(ip) & ipv4Mask(prefix))}/${prefix}`;
}
