import { isIP } from 'node:net';
import * as os from 'node:os';
import { parseHost } from '@ase/core';

/** The answer's message when the Host is not one of the listener's own names. */
export const HOST_NOT_ALLOWED = 'host not allowed: the management API answers only to its own names and addresses (management_allowed_hosts)';

/**
 * One entry of an allowed-hosts list in the form `parseHost` gives a Host header: lower case, no
 * trailing dot, IPv6 in brackets and canonical. Undefined for anything else, a port included (the
 * check ignores ports, so an entry with one would promise more than it does).
 */
export function normalizeHostEntry(entry: string): string | undefined {
  const s = entry.trim();
  if (s === '') return undefined;
  const literal = isIP(s) === 6 ? `[${s}]` : s;
  const parsed = parseHost(literal);
  if (!parsed.ok || parsed.host === '') return undefined;
  // A port would have been cut off: the entry must be the host alone.
  const bare = literal.toLowerCase().replace(/\.$/, '');
  if (parsed.host.startsWith('[')) return literal.endsWith(']') ? parsed.host : undefined;
  return bare === parsed.host ? parsed.host : undefined;
}

/**
 * The `Host` values a listener answers to. A page an attacker controls can make a browser reach a
 * loopback or private listener through a name it owns (DNS rebinding), but it cannot make the browser
 * send anything but that name in `Host`: answering only to the listener's own names shuts that door.
 * Ports are not compared (an SSH tunnel or a port forward changes them; an attacker's page does not
 * get past the name). `*` allows every Host (the check is off).
 */
export class AllowedHosts {
  private readonly names = new Set<string>();
  readonly any: boolean;

  constructor(entries: readonly string[]) {
    this.any = entries.some((e) => e.trim() === '*');
    for (const e of entries) {
      if (e.trim() === '*') continue;
      const n = normalizeHostEntry(e);
      if (n === undefined) throw new TypeError(`allowedHosts: ${JSON.stringify(e.slice(0, 64))} is not a host name or IP address (like "admin.example", "10.0.0.5" or "::1"; no port)`);
      this.names.add(n);
    }
  }

  /** The normalized entries (for messages and tests). */
  get list(): string[] {
    return this.any ? ['*'] : [...this.names];
  }

  /** True when `values` (every Host line of the request) is exactly one allowed host, with any port. */
  allows(values: readonly string[]): boolean {
    if (this.any) return true;
    if (values.length !== 1) return false;
    const parsed = parseHost(values[0]!);
    return parsed.ok && parsed.host !== '' && this.names.has(parsed.host);
  }
}

function isWildcard(bind: string): boolean {
  return bind === '0.0.0.0' || bind === '::' || /^(?:0{0,4}:){2,7}0{0,4}$/.test(bind);
}

/**
 * What the standalone management listener answers to by default: `localhost`, 127.0.0.1, ::1, the
 * bound address (every interface's address when bound to 0.0.0.0 or ::), and the names of
 * `management_allowed_hosts`. `*` among those names switches the check off.
 */
export function defaultAllowedHosts(bind: string, configured: readonly string[]): string[] {
  const out = new Set<string>(['localhost', '127.0.0.1', '::1']);
  if (isWildcard(bind)) {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const i of list ?? []) out.add(i.address.replace(/%.*$/, ''));
    }
  } else out.add(bind);
  for (const c of configured) out.add(c);
  return [...out];
}
