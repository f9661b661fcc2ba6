import { isIP } from 'node:net';
import type { SchemaObject } from 'ajv';
import { parseHost } from '../request/host';
import { DEFAULT_DENY_LIST_TTL } from './defaults';
import type { AseConf, DenyListTtl, ListShares } from './types';
import { DURATION_BODY, SIZE_FORM, SIZE_PATTERN, caseInsensitive, parseDuration, parseSize } from './units';

/** The keys of `ase.conf`: what each accepts, in the file and from code, and its typed form. */

/** Keys of the reference product's ase.conf that ASE for Node.js accepts and ignores (with a warning). */
export const REFERENCE_ONLY_KEYS: readonly string[] = Object.freeze([
  'mode',
  'http_ws_process',
  'https_wss_process',
  'enable_sslv3',
  'keystore_password',
  'tcp_send_buffer_size',
  'tcp_receive_buffer_size',
  'buffer_size',
  'enable_1G',
  'timezone',
  'flush_log_immediate',
  'syslog_server',
  'auth_method',
  'hostname_refresh',
  'enable_abs',
  'enable_abs_attack',
  'abs_attack_request_minutes',
  'enable_abs_publish',
  'abs_publish_request_minutes',
  'enable_google_pubsub',
  'google_pubsub_topic',
  'google_pubsub_concurrency',
  'google_pubsub_qps',
  'google_pubsub_apikey',
  'google_pubsub_timeout',
  'cache_queue_size',
  'decoy_alert_interval',
  'enable_email',
  'email_report',
  'smtp_host',
  'smtp_port',
  'smtp_ssl',
  'smtp_cert_verification',
  'sender_email',
  'sender_password',
  'receiver_email',
  'cpu_usage',
  'memory_usage',
  'filesystem_size',
  'enable_sideband_keepalive',
  'enable_sideband_authentication',
  'enable_mtls',
  'enable_hostname_rewrite',
]);

/** Longest timer Node can arm (setTimeout clamps anything longer to 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
/** Longest lifetime of a list entry, in seconds: ten years. */
export const MAX_ENTRY_TTL_S = 315_360_000;
const TTL_FORM = 'tag:duration pairs separated by commas, like "invalid_method:1h, decoy:30d" (a duration like "1h" or a whole number of milliseconds, up to 10 years, or "never")';

export type Converted<T> = { value: T } | { error: string };

export interface KeySpec<T> {
  /** Schema of the value: the string form of the file and, for objects passed in code, the typed form. */
  schema: SchemaObject;
  /** Accepted form in words, completing "must be ...". */
  accepts: string;
  /** Turns a value that passed the schema into its typed form, or says what is still wrong. */
  convert(v: unknown): Converted<T>;
}

const PORT_PATTERN = '^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

function port(): KeySpec<number> {
  return {
    schema: { anyOf: [{ type: 'string', pattern: PORT_PATTERN }, { type: 'integer', minimum: 1, maximum: 65_535 }] },
    accepts: 'a port number from 1 to 65535',
    convert: (v) => ({ value: Number(v) }),
  };
}

function bool(): KeySpec<boolean> {
  return {
    schema: { anyOf: [{ type: 'string', pattern: `^(?:${caseInsensitive('true')}|${caseInsensitive('false')})$` }, { type: 'boolean' }] },
    accepts: 'true or false',
    convert: (v) => ({ value: typeof v === 'boolean' ? v : String(v).toLowerCase() === 'true' }),
  };
}

function integer(min: number, max: number, accepts: string): KeySpec<number> {
  return {
    schema: { anyOf: [{ type: 'string', pattern: '^[0-9]{1,15}$' }, { type: 'integer', minimum: min, maximum: max }] },
    accepts,
    convert: (v) => {
      const n = Number(v);
      return n >= min && n <= max ? { value: n } : { error: `must be ${accepts}` };
    },
  };
}

function duration(minMs: number, accepts: string): KeySpec<number> {
  return {
    schema: { anyOf: [{ type: 'string', pattern: `^(?:[0-9]{1,15}|${DURATION_BODY})$` }, { type: 'integer', minimum: minMs, maximum: MAX_TIMER_MS }] },
    accepts,
    convert: (v) => {
      const ms = typeof v === 'number' ? v : /^[0-9]+$/.test(String(v)) ? Number(v) : parseDuration(String(v));
      if (ms === undefined || ms > MAX_TIMER_MS) return { error: `is too long; it must be ${accepts}` };
      if (ms < minMs) return { error: `is too short; it must be ${accepts}` };
      return { value: ms };
    },
  };
}

/**
 * A list key: a comma-separated string in the file, or an array from code. Each entry is trimmed
 * and checked (`entry` gives its stored form, undefined when it is not one); every bad entry is named.
 */
function oneOf<T extends string>(values: readonly T[]): KeySpec<T> {
  const words = values.map((v) => `"${v}"`).join(' or ');
  return {
    schema: { type: 'string', pattern: `^(?:${values.map(caseInsensitive).join('|')})$` },
    accepts: words,
    convert: (v) => ({ value: String(v).toLowerCase() as T }),
  };
}

function commaList(o: {
  maxItems: number;
  maxEntryLength: number;
  /** What the entries must be, plural ("IP addresses or CIDR ranges"). */
  what: string;
  accepts: string;
  entry: (s: string) => string | undefined;
  unique?: boolean;
}): KeySpec<string[]> {
  return {
    schema: {
      anyOf: [
        { type: 'string', maxLength: 16_384 },
        { type: 'array', maxItems: o.maxItems, items: { type: 'string', maxLength: o.maxEntryLength } },
      ],
    },
    accepts: o.accepts,
    convert: (v) => {
      const raw = (Array.isArray(v) ? (v as string[]) : String(v).trim() === '' ? [] : String(v).split(',')).map((s) => s.trim());
      // The file's comma-separated form gets the same bound as the list form from code.
      if (raw.length > o.maxItems) return { error: `has ${raw.length} entries (at most ${o.maxItems}); it must be ${o.accepts}` };
      const list = raw.map(o.entry);
      const bad = raw.filter((_, i) => list[i] === undefined);
      if (bad.length > 0) {
        return { error: `has entries that are not ${o.what}: ${bad.map((b) => JSON.stringify(b)).join(', ')}; it must be ${o.accepts}` };
      }
      const values = list as string[];
      return { value: o.unique ? [...new Set(values)] : values };
    },
  };
}

/** A `management_allowed_hosts` entry as a Host header would carry it (lower case, IPv6 in brackets), or undefined. */
function allowedHostEntry(s: string): string | undefined {
  if (s === '*') return s;
  const literal = isIP(s) === 6 ? `[${s}]` : s;
  const parsed = parseHost(literal);
  if (!parsed.ok || parsed.host === '') return undefined;
  // No port: the check ignores ports, so an entry with one would promise more than it does.
  if (parsed.host.startsWith('[')) return literal.endsWith(']') ? parsed.host : undefined;
  return literal.toLowerCase().replace(/\.$/, '') === parsed.host ? parsed.host : undefined;
}

/** `1.2.3.4`, `10.0.0.0/8`, `::1`, `fd00::/8`. */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s) !== 0;
  const addr = s.slice(0, slash);
  const prefix = s.slice(slash + 1);
  const family = isIP(addr);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const BIND_ACCEPTS = 'an IP address (like "127.0.0.1", "0.0.0.0" or "::"), "localhost", or "*" for every interface';

/** Why `s` cannot be a listening address of `ase start` (`*` = every interface), or undefined. */
export function bindProblem(s: string): string | undefined {
  return s === '*' || s === 'localhost' || isIP(s) !== 0 ? undefined : `must be ${BIND_ACCEPTS}`;
}

export const SPECS: { readonly [K in keyof AseConf]: KeySpec<AseConf[K]> } = {
  http_ws_port: port(),
  http_ws_bind: {
    schema: { type: 'string', maxLength: 64 },
    accepts: BIND_ACCEPTS,
    convert: (v) => (bindProblem(String(v)) ? { error: `must be ${BIND_ACCEPTS}` } : { value: String(v) }),
  },
  https_wss_port: port(),
  management_port: port(),
  management_bind: {
    schema: { type: 'string', maxLength: 64 },
    accepts: 'an IP address (like "127.0.0.1" or "::1") or "localhost"',
    convert: (v) =>
      v === 'localhost' || isIP(String(v)) !== 0 ? { value: String(v) } : { error: 'must be an IP address (like "127.0.0.1" or "::1") or "localhost"' },
  },
  management_allowed_hosts: commaList({
    maxItems: 256,
    maxEntryLength: 261,
    what: 'host names or IP addresses',
    accepts: 'a comma-separated list of host names or IP addresses without a port (like "admin.example, 10.0.0.5, ::1"), "*" for any, or ""',
    entry: allowedHostEntry,
    unique: true,
  }),
  metrics_auth: bool(),
  enable_firewall: bool(),
  enable_ase_detected_attack: bool(),
  enable_xff: bool(),
  xff_trusted_proxies: commaList({
    maxItems: 1024,
    maxEntryLength: 64,
    what: 'IP addresses or CIDR ranges',
    accepts: 'a comma-separated list of IP addresses or CIDR ranges (like "127.0.0.1, 10.0.0.0/8, ::1"), or ""',
    entry: (e) => (isIpOrCidr(e) ? e : undefined),
  }),
  enable_audit: bool(),
  enable_access_log: bool(),
  admin_log_level: integer(1, 5, 'a log level from 1 to 5 (1 fatal, 2 error, 3 warning, 4 info, 5 debug)'),
  attack_list_memory: {
    schema: { anyOf: [{ type: 'string', pattern: SIZE_PATTERN }, { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }] },
    accepts: SIZE_FORM,
    convert: (v) => {
      const bytes = typeof v === 'number' ? v : parseSize(String(v));
      if (bytes === undefined) return { error: `is too large; it must be ${SIZE_FORM}` };
      if (bytes === 0) return { error: `must be more than 0; it must be ${SIZE_FORM}` };
      return { value: bytes };
    },
  },
  attack_list_shares: {
    schema: {
      anyOf: [
        { type: 'string', pattern: '^\\s*[0-9]{1,3}\\s*,\\s*[0-9]{1,3}\\s*,\\s*[0-9]{1,3}\\s*$' },
        {
          type: 'object',
          properties: { manual: { type: 'integer' }, decoy: { type: 'integer' }, automatic: { type: 'integer' } },
          required: ['manual', 'decoy', 'automatic'],
          additionalProperties: false,
        },
      ],
    },
    accepts: 'three whole percentages "manual, decoy, automatic" that add up to 100, each at least 1 (like "50,20,30")',
    convert: (v) => {
      const [manual, decoy, automatic] = typeof v === 'string' ? v.split(',').map((x) => Number(x.trim())) : [(v as ListShares).manual, (v as ListShares).decoy, (v as ListShares).automatic];
      const all = [manual!, decoy!, automatic!];
      if (all.some((n) => n < 1) || all.reduce((a, b) => a + b, 0) !== 100) {
        return { error: 'must be three whole percentages "manual, decoy, automatic" that add up to 100, each at least 1 (like "50,20,30")' };
      }
      return { value: { manual: manual!, decoy: decoy!, automatic: automatic! } };
    },
  },
  deny_list_ttl: {
    schema: {
      anyOf: [
        { type: 'string', maxLength: 1024 },
        { type: 'object', additionalProperties: { anyOf: [{ type: 'string', maxLength: 32 }, { type: 'integer', minimum: 0 }] } },
      ],
    },
    accepts: TTL_FORM,
    convert: (v) => {
      const pairs: [string, unknown][] =
        typeof v === 'string'
          ? v
              .split(',')
              .filter((p) => p.trim() !== '')
              .map((p) => {
                const [tag, d] = p.split(':');
                return [String(tag).trim(), d === undefined ? undefined : d.trim()];
              })
          : Object.entries(v as Record<string, unknown>);
      const out: Record<string, number> = { ...DEFAULT_DENY_LIST_TTL };
      for (const [tag, d] of pairs) {
        const ms = d === 'never' || d === 0 || d === '0' ? 0 : typeof d === 'number' ? d : typeof d === 'string' ? (/^[0-9]+$/.test(d) ? Number(d) : parseDuration(d)) : undefined;
        if (!/^[a-z_]{1,32}$/.test(tag) || ms === undefined || ms > MAX_ENTRY_TTL_S * 1000) return { error: `must be ${TTL_FORM}` };
        out[tag] = ms;
      }
      return { value: out as DenyListTtl };
    },
  },
  ip_rotation_threshold: integer(0, 100, 'a whole number from 0 (off) to 100'),
  ip_rotation_window: duration(1000, 'a duration like "10m" or "1h", or a whole number of milliseconds, from 1 s to 24 days'),
  ipv6_client_prefix: integer(1, 128, 'a prefix length from 1 to 128 (128: every IPv6 address on its own)'),
  tracked_clients_max: integer(1, 10_000_000, 'a whole number from 1 to 10000000'),
  honeytokens_max: integer(1, 1_000_000, 'a whole number from 1 to 1000000'),
  enable_strict_request_parser: bool(),
  enable_ase_health: bool(),
  pass_unmatched_hosts: bool(),
  server_ca_cert_path: {
    schema: { type: 'string', maxLength: 4096, pattern: '^[^\\x00-\\x1f\\x7f]*$' },
    accepts: 'a file path without control characters, or ""',
    convert: (v) => ({ value: String(v) }),
  },
  enable_cluster: bool(),
  cluster_id: {
    schema: { type: 'string', pattern: '^[A-Za-z0-9_./-]{1,128}$' },
    accepts: 'a cluster name of 1 to 128 characters among letters, digits, "_", "-", "." and "/"',
    convert: (v) => ({ value: String(v) }),
  },
  redis_url: {
    schema: { type: 'string', maxLength: 4096 },
    accepts: '"" or a Redis URL like "redis://localhost:6379" or "rediss://user:password@host:6380/0"',
    convert: (v) => {
      const s = String(v);
      if (s === '') return { value: s };
      let ok = false;
      try {
        const u = new URL(s);
        ok = (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
      } catch {
        ok = false;
      }
      return ok ? { value: s } : { error: 'must be "" or a Redis URL like "redis://localhost:6379" or "rediss://user:password@host:6380/0"' };
    },
  },
  // The heartbeat's key expires after three of these; much below 100 ms a busy event loop alone would drop nodes.
  cluster_heartbeat: duration(100, 'a duration like "5s" or "1m", or a whole number of milliseconds (like 500), from 100 ms to 24 days'),
  cluster_counters_on_failure: oneOf(['open', 'closed'] as const),
  cluster_quotas_on_failure: oneOf(['open', 'closed'] as const),
  cluster_start_on_failure: oneOf(['closed', 'open'] as const),
  cluster_forget_after: duration(1000, 'a duration like "1h" or "30m", or a whole number of milliseconds, from 1 s to 24 days'),
  queue_max_size: integer(0, 1_000_000, 'a whole number from 0 to 1000000'),
  queue_max_wait: duration(0, 'a duration like "10s" or "2m", or a whole number of milliseconds, at most 24 days'),
  backend_timeout: duration(1, 'a duration like "60s" or "2m", or a whole number of milliseconds, from 1 ms to 24 days'),
  server_down_time: duration(0, 'a duration like "10s" or "1m", or a whole number of milliseconds, at most 24 days'),
};

/** Every key of ase.conf that ASE for Node.js reads. */
export const ASE_CONF_KEYS: readonly (keyof AseConf)[] = Object.freeze(Object.keys(SPECS) as (keyof AseConf)[]);
