/** The `xff_trusted_proxies` set: which socket peers and X-Forwarded-For hops are trusted. */
import { BlockList } from 'node:net';
import { configValueInvalid } from '../errors';
import { canonicalIp, formatIpv6, ipv4ToInt, ipv6Groups } from './ip-address';

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
    if (ip.indexOf(':') < 0) return this.hasIpv4Value(ipv4ToInt(ip));
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const yes = this.list.check(ip, familyOf(ip));
    if (this.cache.size >= TRUST_CACHE_MAX) this.cache.clear();
    this.cache.set(ip, yes);
    return yes;
  }
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
