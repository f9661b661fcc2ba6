import { bindProblem } from '@ase/core';

/** Parsed command line: global flags, the command and its positional arguments. */
export interface CliArgs {
  command: string | undefined;
  positionals: string[];
  flags: {
    configDir?: string;
    port?: number;
    adminPort?: number;
    /** Address of the data port (`ase start`). */
    bind?: string;
    /** Address of the management port (`ase start`). */
    adminBind?: string;
    /** Base URL of the management API (`http://host:port/prefix`), for the management commands. */
    url?: URL;
    framework?: string;
    /** `ase start --mode gateway|decide`. */
    mode?: string;
    /** `ase start --mode decide`: which proxy asks (nginx, envoy, traefik). */
    proxy?: string;
    /** `ase start --mode decide --proxy envoy`: Envoy's path_prefix. */
    pathPrefix?: string;
    host?: string;
    user?: string;
    password?: string;
    help?: boolean;
    skipInvalidApis?: boolean;
    /** `-H 'Name: value'` lines of `ase explain`, in order. */
    headers?: string[];
    /** `--ip ADDR` of `ase explain`: the client address. */
    ip?: string;
    /** `--json`: print the answer as JSON (`ase explain`). */
    json?: boolean;
    /** `--interval 2s` of `ase top`, in milliseconds. */
    intervalMs?: number;
    /** `--once` of `ase top`: one plain frame, then exit. */
    once?: boolean;
    /** `--history` of view_blacklist and view_whitelist: each entry's history and expiry too. */
    history?: boolean;
    /** `--ttl 10m` of add_blacklist and add_whitelist: the entry's lifetime. */
    ttl?: string;
    /** `--sort`, `--limit`, `--offset` of view_blacklist and view_whitelist: passed to the list page as typed (the server checks them). */
    sort?: string;
    limit?: string;
    offset?: string;
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const VALUE_FLAGS: Record<string, Exclude<keyof CliArgs['flags'], 'help' | 'skipInvalidApis' | 'headers' | 'json' | 'intervalMs' | 'once' | 'history'>> = {
  '--bind': 'bind',
  '--admin-bind': 'adminBind',
  '--url': 'url',
  '--config-dir': 'configDir',
  '--port': 'port',
  '--admin-port': 'adminPort',
  '--framework': 'framework',
  '--mode': 'mode',
  '--proxy': 'proxy',
  '--path-prefix': 'pathPrefix',
  '--host': 'host',
  '-u': 'user',
  '-p': 'password',
  '--ip': 'ip',
  '--ttl': 'ttl',
  '--sort': 'sort',
  '--limit': 'limit',
  '--offset': 'offset',
};

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535 (got "${v}")`);
  return n;
}

function bind(flag: string, v: string, every: boolean): string {
  const problem = bindProblem(v);
  if (problem || (!every && v === '*')) {
    throw new UsageError(`${flag} ${every ? problem : 'must be an IP address (like "127.0.0.1" or "::1") or "localhost"'} (got "${v}")`);
  }
  return v;
}

/** `2s`, `500ms`, `1.5` (seconds): how often `ase top` redraws; 0.2 seconds to an hour. */
function interval(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!(ms >= 200 && ms <= 3_600_000)) throw new UsageError(`${flag} must be a duration from 200ms to 3600s, like 2s or 500ms (got "${v}")`);
  return ms;
}

/** `http://127.0.0.1:8010`, `https://admin.example/ase`: the base the management paths are appended to. */
function baseUrl(flag: string, v: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash) {
    throw new UsageError(`${flag} must be an http:// or https:// URL of the management API, like http://127.0.0.1:8010 or http://127.0.0.1:3000/admin (got "${v}")`);
  }
  return u;
}

/** Flags may come before or after the command, as with the reference product's cli.sh. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: undefined, positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_FLAGS[name];
    if (key) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      if (key === 'port' || key === 'adminPort') out.flags[key] = port(name, v);
      else if (key === 'bind' || key === 'adminBind') out.flags[key] = bind(name, v, key === 'bind');
      else if (key === 'url') out.flags.url = baseUrl(name, v);
      else out.flags[key] = v;
    } else if (a === '-h' || a === '--help') {
      out.flags.help = true;
    } else if (a === '-H' || a === '--header') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value like 'Authorization: Bearer ...'`);
      (out.flags.headers ??= []).push(v);
    } else if (name === '--interval') {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value like 2s`);
      out.flags.intervalMs = interval(name, v);
    } else if (a === '--once') {
      out.flags.once = true;
    } else if (a === '--json') {
      out.flags.json = true;
    } else if (a === '--history') {
      out.flags.history = true;
    } else if (a === '--skip-invalid-apis') {
      out.flags.skipInvalidApis = true;
    } else if (a.startsWith('-') && a.length > 1) {
      throw new UsageError(`unknown option ${a}`);
    } else if (out.command === undefined) {
      out.command = a;
    } else {
      out.positionals.push(a);
    }
  }
  return out;
}
