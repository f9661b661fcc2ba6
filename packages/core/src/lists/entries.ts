import { listEntryInvalid } from '../errors';
import { canonicalIp, ipv4Prefix, ipv6Prefix } from '../request/ip-address';

export const ENTRY_TYPES = ['ip', 'token', 'username', 'cookie', 'api_key'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** Tags of the reference product, plus our `missing_token` (`is_token_mandatory`) and `honeytoken` (a planted credential presented). */
export const DENY_TAGS = [
  'manual',
  'abs_generated',
  'decoy',
  'invalid_method',
  'invalid_content_type',
  'invalid_protocol',
  'missing_token',
  'honeytoken',
] as const;
export type DenyTag = (typeof DENY_TAGS)[number];

/** Tags the enforcer adds by itself; removed when ASE-detected attacks are disabled. */
export const ASE_DETECTED_TAGS: ReadonlySet<DenyTag> = new Set([
  'decoy',
  'invalid_method',
  'invalid_content_type',
  'invalid_protocol',
  'missing_token',
  'honeytoken',
]);

/** One client identifier. `name` is the cookie name or the API key's header/parameter name. */
export interface ListEntry {
  type: EntryType;
  value: string;
  name?: string;
  /**
   * `value` is the SHA-256 (hex) of the identifier rather than the identifier itself: how long
   * values are kept (see {@link DIGEST_OVER}). Lists show such an entry as `sha256:<hex>`, and an
   * operator names it the same way.
   */
  digest?: true;
}

/**
 * Values longer than this many characters are kept as their SHA-256, so an entry costs the same
 * whether the client sent 2 KB or 64 KB. Above any usual JWT, so ordinary lookups never hash.
 */
export const DIGEST_OVER = 1024;
/** How a digested entry is written in lists, files and management calls. */
export const DIGEST_PREFIX = 'sha256:';
const DIGEST_FORM = /^sha256:[0-9a-fA-F]{64}$/;
/** A network entry (CIDR): `203.0.113.0/24`, `2001:db8::/48`. */
const PREFIX_FORM = /^([^/]+)\/([0-9]{1,3})$/;

const MAX_VALUE = 4096;
const MAX_NAME = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Validates and canonicalises an entry (IPs in canonical form, api_key names lower case since
 * header names are case-insensitive). Throws a 400 AseError naming the problem.
 */
export function canonicalEntry(input: unknown): ListEntry {
  if (!input || typeof input !== 'object') throw listEntryInvalid('entry must be an object with type and value');
  const e = input as Record<string, unknown>;
  const type = e['type'];
  if (typeof type !== 'string' || !(ENTRY_TYPES as readonly string[]).includes(type)) {
    throw listEntryInvalid(`type must be one of ${ENTRY_TYPES.join(', ')}`);
  }
  const value = e['value'];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE || CONTROL.test(value)) {
    throw listEntryInvalid(`value must be a non-empty string of at most ${MAX_VALUE} characters without control characters`);
  }
  if (type === 'ip') {
    const trimmed = value.trim();
    const net = PREFIX_FORM.exec(trimmed);
    if (net) return { type, value: ipNetwork(net[1]!, Number(net[2])) };
    const ip = canonicalIp(trimmed);
    if (!ip) throw listEntryInvalid(`value must be an IPv4 or IPv6 address, or a network like 203.0.113.0/24 or 2001:db8::/48 (got ${JSON.stringify(value.slice(0, 64))})`);
    return { type, value: ip };
  }
  const digest = DIGEST_FORM.test(value) ? ({ value: value.slice(DIGEST_PREFIX.length).toLowerCase(), digest: true } as const) : { value };
  if (type === 'cookie' || type === 'api_key') {
    const name = e['name'];
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || CONTROL.test(name)) {
      throw listEntryInvalid(`${type} entries need a non-empty name of at most ${MAX_NAME} characters`);
    }
    return { type, name: type === 'api_key' ? name.toLowerCase() : name, ...digest };
  }
  return { type: type as EntryType, ...digest };
}

/**
 * `addr/len` as an entry (CIDR), host bits cleared so one network has one spelling; `/32` (IPv4)
 * and `/128` (IPv6) are the address itself. An IPv4-mapped IPv6 network is refused rather than
 * guessed at: write the IPv4 network.
 */
function ipNetwork(addr: string, len: number): string {
  const ip = canonicalIp(addr);
  const v6 = ip.indexOf(':') >= 0;
  const max = v6 ? 128 : 32;
  if (!ip || len < 1 || len > max || (!v6 && addr.trim().indexOf(':') >= 0)) {
    throw listEntryInvalid(`a network entry must be an IPv4 address with a prefix from /1 to /32 (like 203.0.113.0/24) or an IPv6 address with a prefix from /1 to /128 (like 2001:db8::/48) (got ${JSON.stringify(`${addr}/${len}`.slice(0, 64))})`);
  }
  if (len === max) return ip;
  return v6 ? ipv6Prefix(ip, len) : ipv4Prefix(ip, len);
}

/** The lookup key of an entry; names and values never hold control characters, so it cannot be forged. */
export function entryKey(type: EntryType, value: string, name?: string): string {
  return `${type}\u0000${name ?? ''}\u0000${value}`;
}

export function describeEntry(e: ListEntry): string {
  const value = e.digest ? `${DIGEST_PREFIX}${e.value}` : e.value;
  return e.name === undefined ? `${e.type} ${value}` : `${e.type} ${e.name} ${value}`;
}
