/** Parsed command line: global flags, the command and its positional arguments. */
export interface CliArgs {
  command: string | undefined;
  positionals: string[];
  flags: {
    configDir?: string;
    port?: number;
    adminPort?: number;
    framework?: string;
    host?: string;
    user?: string;
    password?: string;
    help?: boolean;
    skipInvalidApis?: boolean;
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const VALUE_FLAGS: Record<string, Exclude<keyof CliArgs['flags'], 'help' | 'skipInvalidApis'>> = {
  '--config-dir': 'configDir',
  '--port': 'port',
  '--admin-port': 'adminPort',
  '--framework': 'framework',
  '--host': 'host',
  '-u': 'user',
  '-p': 'password',
};

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535 (got "${v}")`);
  return n;
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
      else out.flags[key] = v;
    } else if (a === '-h' || a === '--help') {
      out.flags.help = true;
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
