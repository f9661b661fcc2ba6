import { ipv4Mask, ipv4ToInt, ipv6Prefix } from '../request/ip-address';
import { TOP16_UNKNOWN, TOP16_V6 } from './presence-filter';

/**
 * The network entries of a list (`203.0.113.0/24`, `2001:db8::/48`), so that an IP lookup also
 * tries the networks of each prefix length the list holds, longest first: O(prefix lengths in use)
 * however many networks are listed. IPv4 networks have one integer-keyed map per length (the
 * address is masked, not formatted); IPv6 ones live in the list's own maps under their canonical
 * string, and are found here by prefix length.
 */
export class NetworkIndex {
  /** Entries per IPv6 prefix length (index 1–127); `v6Lengths` are those with any. */
  private readonly v6Prefix = new Int32Array(129);
  private v6Lengths: number[] = [];
  /** IPv4 networks per prefix length (index 1–31): masked address → record; `v4Lengths` are those in use, longest first. */
  private readonly v4Nets: (Map<number, number> | undefined)[] = [];
  private v4Lengths: number[] = [];
  /** IPv4 network records → their entry value (`203.0.113.0/24`). */
  private readonly v4Values = new Map<number, string>();
  /**
   * Networks per value of an address's first 16 bits, IPv4 and IPv6 (allocated with the first
   * network): an address whose count is 0 is in no listed network, and its lookup probes nothing.
   * Most clients are in no listed network, so listing networks costs them one array read.
   */
  private v4Top: Uint32Array | undefined;
  private v6Top: Uint32Array | undefined;

  /**
   * `live`: whether a record has not expired. `v6Record`: the record of an IPv6 network by its
   * canonical form (-1 when not listed or expired), read from the list's maps.
   */
  constructor(
    private readonly live: (rec: number) => boolean,
    private readonly v6Record: (net: string) => number,
  ) {}

  /** Whether no network is listed (an IP lookup then probes nothing here). */
  get empty(): boolean {
    return this.v4Lengths.length === 0 && this.v6Lengths.length === 0;
  }

  /**
   * Whether a listed network may hold an address with these first 16 bits (`top` of
   * {@link keyHashAndTop16}): false for most clients, and small enough to be inlined where it is asked.
   */
  mayHold(top: number): boolean {
    if (top < TOP16_V6) return this.v4Top !== undefined && this.v4Top[top] !== 0;
    return top === TOP16_UNKNOWN || (this.v6Top !== undefined && this.v6Top[top - TOP16_V6] !== 0);
  }

  /**
   * The most specific listed network holding the canonical address `ip`: its record and value.
   * `top`: its first 16 bits as {@link keyHashAndTop16} gives them, when the caller has them.
   */
  find(ip: string, top = TOP16_UNKNOWN): { rec: number; value: string } | undefined {
    if (top === TOP16_UNKNOWN) top = top16(ip);
    if (top < TOP16_V6) {
      // Most clients are in no listed network: the first two octets say so without parsing the rest.
      if (this.v4Lengths.length === 0 || this.v4Top![top] === 0) return undefined;
      const n = ipv4ToInt(ip);
      for (const len of this.v4Lengths) {
        const rec = this.v4Nets[len]!.get(n & ipv4Mask(len)) ?? -1;
        if (rec >= 0 && this.live(rec)) return { rec, value: this.v4Values.get(rec)! };
      }
      return undefined;
    }
    if (this.v6Lengths.length === 0 || this.v6Top![top - TOP16_V6] === 0) return undefined;
    for (const len of this.v6Lengths) {
      const net = ipv6Prefix(ip, len);
      const rec = net ? this.v6Record(net) : -1;
      if (rec >= 0) return { rec, value: net! };
    }
    return undefined;
  }

  /** Counts an IP entry in (`delta` 1) or out (-1) of the index; a single address is not a network. */
  count(value: string, rec: number, delta: number): void {
    const slash = value.indexOf('/');
    if (slash < 0) return;
    const len = Number(value.slice(slash + 1));
    const v4 = value.indexOf(':') < 0;
    const top = v4 ? (this.v4Top ??= new Uint32Array(65536)) : (this.v6Top ??= new Uint32Array(65536));
    const first = v4 ? ipv4ToInt(value.slice(0, slash)) >>> 16 : firstGroup(value);
    for (let i = 0, n = len >= 16 ? 1 : 1 << (16 - len); i < n; i++) top[first + i]! += delta;
    if (v4) {
      const net = ipv4ToInt(value.slice(0, slash));
      let nets = this.v4Nets[len];
      if (delta > 0) {
        if (!nets) this.v4Nets[len] = nets = new Map();
        nets.set(net, rec);
        this.v4Values.set(rec, value);
        if (nets.size === 1) this.v4Lengths = lengthsOf(32, (i) => (this.v4Nets[i]?.size ?? 0) > 0);
      } else if (nets) {
        nets.delete(net);
        this.v4Values.delete(rec);
        if (nets.size === 0) {
          this.v4Nets[len] = undefined;
          this.v4Lengths = lengthsOf(32, (i) => (this.v4Nets[i]?.size ?? 0) > 0);
        }
      }
      return;
    }
    const before = this.v6Prefix[len]!;
    this.v6Prefix[len] = before + delta;
    if ((before === 0) !== (before + delta === 0)) this.v6Lengths = lengthsOf(128, (i) => this.v6Prefix[i]! > 0);
  }
}

/** Prefix lengths in use, longest first: the most specific entry answers. */
function lengthsOf(max: number, used: (len: number) => boolean): number[] {
  const lengths: number[] = [];
  for (let i = max; i > 0; i--) if (used(i)) lengths.push(i);
  return lengths;
}

/** The first 16 bits of a canonical IPv6 address or network (`2001:db8::/32` → 0x2001, `::1` → 0). */
function firstGroup(value: string): number {
  const colon = value.indexOf(':');
  return colon <= 0 ? 0 : parseInt(value.slice(0, colon), 16) & 0xffff;
}

/** `top` of {@link keyHashAndTop16}, parsed here (no caller had it). */
function top16(ip: string): number {
  const v4 = ipv4Top16(ip);
  return v4 >= 0 ? v4 : TOP16_V6 + firstGroup(ip);
}

/** The first 16 bits of a dotted quad (`203.0.113.7` → 203 × 256 + 0), or -1 for anything else (IPv6). */
function ipv4Top16(s: string): number {
  let a = 0;
  let i = 0;
  let c = 0;
  for (; i < s.length; i++) {
    c = s.charCodeAt(i);
    if (c === 0x2e) break;
    if (c < 0x30 || c > 0x39) return -1;
    a = a * 10 + c - 0x30;
  }
  if (c !== 0x2e) return -1;
  let b = 0;
  for (i++; i < s.length; i++) {
    c = s.charCodeAt(i);
    if (c === 0x2e) break;
    b = b * 10 + c - 0x30;
  }
  return ((a & 255) << 8) | (b & 255);
}
