/**
 * Client IP: the socket peer, or the X-Forwarded-For walk through trusted proxies. Address forms
 * are in ip-address.ts, the trusted set in trusted-proxies.ts; both are re-exported here.
 */
import { canonicalIp, dottedQuadValue, isDottedQuad, MAX_ADDR_LEN } from './ip-address';
import type { TrustedProxies } from './trusted-proxies';

export { canonicalIp, canonicalIpv6Literal, dottedQuadValue, ipv6Prefix, isDottedQuad } from './ip-address';
export { isIpOrCidr, TrustedProxies } from './trusted-proxies';

/** X-Forwarded-For bounds: entries examined, and characters read from the right end of the header. */
export const XFF_MAX_ENTRIES = 32;
export const XFF_MAX_CHARS = 4096;

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

