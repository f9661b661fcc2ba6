/**
 * Client IP: canonical address forms, trusted proxies and the X-Forwarded-For walk.
 *
 * Every IP the enforcer stores or compares goes through {@link canonicalIp}, so one client has one
 * spelling: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::ffff:102:304`) is that IPv4 address (the
 * express-rate-limit GHSA-46wh-pxpv-q5gq lesson), IPv6 is the compressed lower-case form.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { configValueInvalid } from '../errors';

/** Longest input worth parsing as an address (a full IPv6 with embedded IPv4 and a zone fits easily). */
const MAX_ADDR_LEN = 100;
/** X-Forwarded-For bounds: entries examined, and characters read from the right end of the header. */
export const XFF_MAX_ENTRIES = 32;
export const XFF_MAX_CHARS = 4096;

/**
 * Eight 16-bit groups of an IPv6 address that `net.isIPv6` accepted (no zone, no brackets).
 * Handles `::` and an embedded dotted-quad tail.
 */
function ipv6Groups(s: string): number[] | undefined {
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
function formatIpv6(g: readonly number[]): string {
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
  const len = s.length;
  if (len < 7 || len > 15) return false;
  let octets = 0;
  let i = 0;
  while (octets < 4) {
    const start = i;
    let v = 0;
    while (i < len) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && s.charCodeAt(start) === 0x30)) return false;
    octets++;
    if (octets < 4) {
      if (s.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
  }
  return i === len;
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

type Family = 'ipv4' | 'ipv6';
const TRUST_CACHE_MAX = 4096;
const familyOf = (canonical: string): Family => (canonical.indexOf(':') >= 0 ? 'ipv6' : 'ipv4');

/** `ip` or `ip/prefix` → canonical address, family and prefix (undefined prefix for a single address). */
function parseProxyEntry(entry: string): { ip: string; family: Family; prefix: number | undefined } | undefined {
  const slash = entry.indexOf('/');
  const addrText = slash < 0 ? entry : entry.slice(0, slash);
  if (addrText.indexOf('%') >= 0 || addrText.charCodeAt(0) === 0x5b) return undefined;
  const ip = canonicalIp(addrText);
  if (!ip) return undefined;
  const family = familyOf(ip);
  if (slash < 0) return { ip, family, prefix: undefined };
  const prefixText = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = Number(prefixText);
  const writtenAsV6 = addrText.indexOf(':') >= 0;
  if (writtenAsV6) {
    if (prefix > 128) return undefined;
    if (family === 'ipv4') {
      // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8.
      if (prefix < 96) {
        const g = ipv6Groups(addrText);
        return g ? { ip: formatIpv6(g), family: 'ipv6', prefix } : undefined;
      }
      prefix -= 96;
    }
  } else if (prefix > 32) return undefined;
  return { ip, family, prefix };
}

/** True when `entry` is an IP address or CIDR that {@link TrustedProxies} accepts. */
export function isIpOrCidr(entry: string): boolean {
  return parseProxyEntry(entry.trim()) !== undefined;
}

/**
 * The `xff_trusted_proxies` set: IPv4/IPv6 addresses and CIDRs, backed by `node:net` BlockList.
 * IPv4-mapped IPv6 is compared as IPv4, both in entries (`::ffff:10.0.0.0/104` = `10.0.0.0/8`) and in
 * lookups. An IPv6 network that contains `::ffff:0:0/96` (such as `::/0`) also holds every IPv4 address
 * (BlockList checks IPv4 against IPv6 rules through the mapped form).
 * Empty entries are skipped; any other invalid entry throws an `ERR_ASE_CONFIG` AseError naming it.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly count: number;
  /** BlockList.check costs ~2 µs (it builds a SocketAddress); IPv6 answers are cached, bounded. */
  private readonly cache = new Map<string, boolean>();
  /**
   * IPv4 lookups never reach BlockList: every client behind a proxy is a new address, so a cache
   * would thrash. IPv4 networks as (network, mask) pairs of 32-bit integers, and whether an IPv6
   * network holds all of `::ffff:0:0/96` (then every IPv4 address is trusted, as BlockList says).
   */
  private readonly v4: number[] = [];
  private allV4 = false;

  constructor(list: readonly string[]) {
    let n = 0;
    for (const raw of list) {
      const entry = raw.trim();
      if (entry.length === 0) continue;
      const p = parseProxyEntry(entry);
      if (!p) {
        throw configValueInvalid(
          `xff_trusted_proxies: ${JSON.stringify(entry.slice(0, 64))} is not an IP address or CIDR (examples: 10.0.0.1, 10.0.0.0/8, ::1/128)`,
        );
      }
      if (p.prefix === undefined) this.list.addAddress(p.ip, p.family);
      else this.list.addSubnet(p.ip, p.prefix, p.family);
      if (p.family === 'ipv4') {
        const mask = p.prefix === undefined || p.prefix === 32 ? -1 : p.prefix === 0 ? 0 : ~(-1 >>> p.prefix);
        this.v4.push(ipv4ToInt(p.ip) & mask, mask);
      } else if (p.prefix !== undefined && p.prefix <= 96 && coversMappedV4(p.ip, p.prefix)) {
        this.allV4 = true;
      }
      n++;
    }
    this.count = n;
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Whether `ip` (any spelling) is a trusted proxy. False for invalid input. */
  has(ip: string): boolean {
    return this.hasCanonical(canonicalIp(ip));
  }

  /** `hasCanonical` for an IPv4 address given as its value (see {@link dottedQuadValue}). */
  hasIpv4Value(value: number): boolean {
    if (this.count === 0) return false;
    if (this.allV4) return true;
    const v = value | 0;
    const nets = this.v4;
    for (let i = 0; i < nets.length; i += 2) if ((v & nets[i + 1]!) === nets[i]) return true;
    return false;
  }

  /** `has` for an address already in canonical form. */
  hasCanonical(ip: string): boolean {
    if (this.count === 0 || ip.length === 0) return false;
    if (ip.indexOf(':') < 0) {
      if (this.allV4) return true;
      const v = ipv4ToInt(ip);
      const nets = this.v4;
      for (let i = 0; i < nets.length; i += 2) if ((v & nets[i + 1]!) === nets[i]) return true;
      return false;
    }
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const yes = this.list.check(ip, familyOf(ip));
    if (this.cache.size >= TRUST_CACHE_MAX) this.cache.clear();
    this.cache.set(ip, yes);
    return yes;
  }
}

/** A canonical dotted quad → its 32-bit value (as a signed int, for bitwise comparison). */
function ipv4ToInt(ip: string): number {
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

/** Whether the IPv6 network `ip/prefix` (prefix ≤ 96) contains `::ffff:0:0/96`. */
function coversMappedV4(ip: string, prefix: number): boolean {
  const g = ipv6Groups(ip);
  if (!g) return false;
  const mapped = [0, 0, 0, 0, 0, 0xffff];
  for (let bit = 0; bit < prefix; bit++) {
    const group = bit >> 4;
    const shift = 15 - (bit & 15);
    if ((((g[group] ?? 0) >> shift) & 1) !== (((mapped[group] ?? 0) >> shift) & 1)) return false;
  }
  return true;
}

export interface ClientIpOptions {
  enableXff: boolean;
  trusted: TrustedProxies;
  /** Called when `enableXff` is off and the request carries X-Forwarded-For (the caller warns once). */
  onUntrustedXff?: () => void;
}

/**
 * One X-Forwarded-For entry → canonical IP, or '' when it is not an address. Ports are stripped:
 * `1.2.3.4:5678` and `[2001:db8::1]:443` (some proxies, e.g. Azure Application Gateway, append them).
 * An unbracketed IPv6 is never read as having a port.
 */
export function xffEntryIp(entry: string): string {
  if (entry.length === 0 || entry.length > MAX_ADDR_LEN) return '';
  const c0 = entry.charCodeAt(0);
  if (c0 === 0x5b) {
    const close = entry.indexOf(']');
    if (close < 0) return '';
    if (close !== entry.length - 1 && !isPortSuffix(entry, close + 1)) return '';
    return canonicalIp(entry.slice(1, close));
  }
  const colon = entry.indexOf(':');
  if (colon > 0 && entry.indexOf(':', colon + 1) < 0) {
    // Exactly one colon: IPv4 with a port.
    if (!isPortSuffix(entry, colon)) return '';
    const v4 = entry.slice(0, colon);
    return isDottedQuad(v4) ? v4 : '';
  }
  return canonicalIp(entry);
}

/** `:` followed by 1–5 digits up to the end, value ≤ 65535. */
function isPortSuffix(s: string, colonAt: number): boolean {
  if (s.charCodeAt(colonAt) !== 0x3a) return false;
  const digits = s.length - colonAt - 1;
  if (digits < 1 || digits > 5) return false;
  let v = 0;
  for (let i = colonAt + 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    v = v * 10 + d;
  }
  return v <= 65535;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The client's IP, canonical ('' only when the socket address itself is unusable).
 *
 * - `enableXff` off: the socket peer; a present X-Forwarded-For only triggers `onUntrustedXff`.
 * - `enableXff` on: X-Forwarded-For is read only when the socket peer is trusted. From the right, each
 *   entry is the address the hop to its right saw; trusted hops are skipped and the first untrusted
 *   address is the client. All trusted: the left-most address read. An entry that is not an address
 *   (garbage, empty, `unknown`) stops the walk and the last trusted address seen is the client.
 *   At most {@link XFF_MAX_ENTRIES} entries are examined, and of a header longer than
 *   {@link XFF_MAX_CHARS} only its right-most part is read (the left is client-controlled and padding it
 *   must not change the answer).
 */
export function resolveClientIp(
  socketAddress: string | undefined,
  xff: string | string[] | undefined,
  opts: ClientIpOptions,
): string {
  return clientIpFromPeer(canonicalIp(socketAddress), undefined, xff, opts);
}

/**
 * {@link resolveClientIp} for one configuration, remembering the last socket peer's canonical form
 * and trust: behind a load balancer every request comes from the same few peers, and each used to
 * cost two parses of the same address.
 */
export class ClientIpResolver {
  private peerRaw: string | undefined | null = null;
  private peer = '';
  private peerTrusted = false;

  constructor(private readonly opts: ClientIpOptions) {}

  resolve(socketAddress: string | undefined, xff: string | string[] | undefined): string {
    if (socketAddress !== this.peerRaw) {
      const peer = canonicalIp(socketAddress);
      this.peerTrusted = this.opts.trusted.hasCanonical(peer);
      this.peer = peer;
      this.peerRaw = socketAddress;
    }
    return clientIpFromPeer(this.peer, this.peerTrusted, xff, this.opts);
  }
}

/** The walk of {@link resolveClientIp} from the canonical peer (`peerTrusted` computed when undefined). */
function clientIpFromPeer(peer: string, peerTrusted: boolean | undefined, xff: string | string[] | undefined, opts: ClientIpOptions): string {
  if (xff === undefined || (Array.isArray(xff) && xff.length === 0)) return peer;
  if (!opts.enableXff) {
    opts.onUntrustedXff?.();
    return peer;
  }
  if (!(peerTrusted ?? opts.trusted.hasCanonical(peer))) return peer;

  let header = Array.isArray(xff) ? joinTail(xff) : xff;
  if (header.length > XFF_MAX_CHARS) {
    // Keep the right-most part, dropping the entry the cut went through.
    const tail = header.slice(header.length - XFF_MAX_CHARS);
    const comma = tail.indexOf(',');
    header = comma < 0 ? '' : tail.slice(comma + 1);
    if (header.length === 0) return peer;
  }

  let lastTrusted = peer;
  let end = header.length;
  for (let n = 0; n < XFF_MAX_ENTRIES; n++) {
    // `header.lastIndexOf(',', end - 1)`, which V8 runs in its runtime (a few hundred instructions).
    let comma = end - 1;
    while (comma >= 0 && header.charCodeAt(comma) !== 0x2c) comma--;
    let a = comma + 1;
    let b = end;
    while (a < b && isOws(header.charCodeAt(a))) a++;
    while (b > a && isOws(header.charCodeAt(b - 1))) b--;
    let ip: string;
    let trusted: boolean;
    // A plain dotted quad (the usual entry) is its own canonical form: no slice to validate it.
    const v4 = dottedQuadValue(header, a, b);
    if (v4 >= 0) {
      ip = a === 0 && b === header.length ? header : header.slice(a, b);
      trusted = opts.trusted.hasIpv4Value(v4);
    } else {
      ip = xffEntryIp(header.slice(a, b));
      if (ip.length === 0) return lastTrusted;
      trusted = opts.trusted.hasCanonical(ip);
    }
    if (!trusted) return ip;
    lastTrusted = ip;
    if (comma < 0) break;
    end = comma;
  }
  return lastTrusted;
}

/** Several header values as one list, reading no more than the right-most XFF_MAX_CHARS + 1 characters. */
function joinTail(values: readonly string[]): string {
  let out = '';
  for (let i = values.length - 1; i >= 0; i--) {
    out = out.length === 0 ? (values[i] ?? '') : `${values[i] ?? ''}, ${out}`;
    if (out.length > XFF_MAX_CHARS) break;
  }
  return out;
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
