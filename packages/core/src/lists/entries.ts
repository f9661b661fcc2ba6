import { listEntryInvalid } from '../errors';
import { canonicalIp } from '../request/client-ip';

export const ENTRY_TYPES = ['ip', 'token', 'username', 'cookie', 'api_key'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** Tags of the reference product, plus our `missing_token` for `is_token_mandatory`. */
export const DENY_TAGS = [
  'manual',
  'abs_generated',
  'decoy',
  'invalid_method',
  'invalid_content_type',
  'invalid_protocol',
  'missing_token',
] as const;
export type DenyTag = (typeof DENY_TAGS)[number];

/** Tags the enforcer adds by itself; removed when ASE-detected attacks are disabled. */
export const ASE_DETECTED_TAGS: ReadonlySet<DenyTag> = new Set([
  'decoy',
  'invalid_method',
  'invalid_content_type',
  'invalid_protocol',
  'missing_token',
]);

/** One client identifier. `name` is the cookie name or the API key's header/parameter name. */
export interface ListEntry {
  type: EntryType;
  value: string;
  name?: string;
}

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
    const ip = canonicalIp(value.trim());
    if (!ip) throw listEntryInvalid(`value must be an IPv4 or IPv6 address (got ${JSON.stringify(value.slice(0, 64))})`);
    return { type, value: ip };
  }
  if (type === 'cookie' || type === 'api_key') {
    const name = e['name'];
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || CONTROL.test(name)) {
      throw listEntryInvalid(`${type} entries need a non-empty name of at most ${MAX_NAME} characters`);
    }
    return { type, name: type === 'api_key' ? name.toLowerCase() : name, value };
  }
  return { type: type as EntryType, value };
}

/** The lookup key of an entry; names and values never hold control characters, so it cannot be forged. */
export function entryKey(type: EntryType, value: string, name?: string): string {
  return `${type}\u0000${name ?? ''}\u0000${value}`;
}

export function describeEntry(e: ListEntry): string {
  return e.name === undefined ? `${e.type} ${e.value}` : `${e.type} ${e.name} ${e.value}`;
}
