import * as fs from 'node:fs';
import * as path from 'node:path';
import { AseConfigError, AseError, type Logger, SIDEBAND_PROXIES, type SidebandProxy, checkConfigDir, closest, formatConfigProblem, loadUpstreamClient, parseAseConf } from '@ase/core';
import { type AdminServer, createAdmin, startAdminServer } from '@ase/admin';
import { AdminClient, CliError } from './admin-client';
import { type CliArgs, UsageError, parseArgs } from './args';
import { COMMANDS } from './commands';
import type { Framework, Gateway } from './gateway';
import { promptHidden } from './secret-prompt';
import { runTop } from './top';

const MANAGEMENT_HELP = Object.entries(COMMANDS)
  .map(([name, c]) => `  ${`${name} ${c.args}`.trimEnd()}\n        ${c.summary}`)
  .join('\n');

const USAGE = `Usage: ase [-u USER] [-p PASSWORD] [--host H] [--admin-port N] [--url URL] [--config-dir DIR] COMMAND [ARGS]

  start [--config-dir DIR] [--port N] [--bind ADDR] [--admin-port N] [--admin-bind ADDR]
        [--framework node|express|koa|fastify] [--skip-invalid-apis]
        Run the standalone gateway on the config directory DIR (default ./config): data on
        --bind:--port (else http_ws_bind:http_ws_port of ase.conf, every interface:8000), the
        management API on --admin-bind:--admin-port (else management_bind:management_port,
        127.0.0.1:8010). An API file that does not load stops the start, unless
        --skip-invalid-apis reports it and starts without it.
        --mode decide [--proxy nginx|envoy|traefik] [--path-prefix P]: instead of the gateway,
        the decision service nginx auth_request, Envoy ext_authz or Traefik ForwardAuth asks
        (docs/sideband.md), on the same port and with the same management API.

  check CONFIG_DIR
        Check the configuration directory as a start would read it (ase.conf, every api/*.json,
        the lists in data/), starting nothing: prints each problem as FILE: FIELD: MESSAGE and
        exits 1, or prints a one-line summary and exits 0.

Management commands (they call the management API of a running ase start):
${MANAGEMENT_HELP}
  top [--interval 2s] [--once]
        a live view of the running enforcer: requests per API (per second and totals), refused
        requests by reason, the newest deny-list entries; redrawn every --interval (default 2s),
        q or Ctrl-C quits. With --once, or when stdout is not a terminal, prints one frame.

  -u USER        access key (default admin)
  -p PASSWORD    secret key; else ASE_PASSWORD, else asked at a terminal, else admin
  --host H       management API host (default 127.0.0.1)
  --admin-port N management API port (default: management_port of DIR/ase.conf, else 8010)
  --url URL      management API at a URL instead, e.g. http://127.0.0.1:3000/admin for one
                 an app mounts under /admin (overrides --host and --admin-port)`;

/** What a usage error prints after its message: a few lines, not the whole help. */
const SHORT_USAGE = `usage: ase [-u USER] [-p PASSWORD] [--host H] [--admin-port N] [--url URL] COMMAND [ARGS]
       ase start [--config-dir DIR] [--port N] [--bind ADDR] [--admin-port N] [--admin-bind ADDR]
       ase check CONFIG_DIR
Run "ase help" for every command and option.`;

const COMMAND_NAMES = ['start', 'check', 'help', 'top', ...Object.keys(COMMANDS)];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function stdLogger(): Logger {
  const stamp = (): string => new Date().toISOString();
  return {
    info: (m) => console.log(`${stamp()} [ase] ${m}`),
    warn: (m) => console.warn(`${stamp()} [ase] warning: ${m}`),
    error: (m) => console.error(`${stamp()} [ase] error: ${m}`),
  };
}

/** Runs the CLI; resolves with the exit code (the `start` command resolves only on shutdown). */
export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`ase: ${(err as Error).message}\n${SHORT_USAGE}`);
    return 2;
  }
  if (args.flags.help || args.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!args.command) {
    console.error(`ase: no command given\n${SHORT_USAGE}`);
    return 2;
  }
  const { headers, ip, json } = args.flags;
  if (args.command !== 'explain' && (headers !== undefined || ip !== undefined || json !== undefined)) {
    console.error(`ase: ${headers ? '-H' : ip !== undefined ? '--ip' : '--json'} is an option of ase explain only\n${SHORT_USAGE}`);
    return 2;
  }
  if (args.flags.ttl !== undefined && args.command !== 'add_blacklist' && args.command !== 'add_whitelist') {
    console.error(`ase: --ttl is an option of add_blacklist and add_whitelist only\n${SHORT_USAGE}`);
    return 2;
  }
  const { sort, limit, offset } = args.flags;
  const viewOption = args.flags.history ? '--history' : sort !== undefined ? '--sort' : limit !== undefined ? '--limit' : offset !== undefined ? '--offset' : undefined;
  if (viewOption && args.command !== 'view_blacklist' && args.command !== 'view_whitelist') {
    console.error(`ase: ${viewOption} is an option of view_blacklist and view_whitelist only\n${SHORT_USAGE}`);
    return 2;
  }
  const { intervalMs, once } = args.flags;
  if (args.command !== 'top' && (intervalMs !== undefined || once !== undefined)) {
    console.error(`ase: ${once ? '--once' : '--interval'} is an option of ase top only\n${SHORT_USAGE}`);
    return 2;
  }
  if (args.command === 'start') return start(args);
  if (args.command === 'check') return check(args.positionals);
  if (args.command === 'top' || Object.prototype.hasOwnProperty.call(COMMANDS, args.command)) return manage(args);
  const near = closest(args.command, COMMAND_NAMES);
  console.error(`ase: unknown command "${args.command}"${near ? `; did you mean "${near}"?` : ''}\n${SHORT_USAGE}`);
  return 2;
}

/** `management_port` of DIR/ase.conf, when the file is there and valid. */
function confManagementPort(configDir: string): number | undefined {
  const file = path.join(configDir, 'ase.conf');
  try {
    return parseAseConf(fs.readFileSync(file, 'utf8'), file).conf.management_port;
  } catch {
    return undefined;
  }
}

async function manage(args: CliArgs): Promise<number> {
  const command = args.command!;
  const configDir = path.resolve(args.flags.configDir ?? './config');
  const askSecret = async (prompt: string, envName: string): Promise<string | undefined> =>
    (envName ? process.env[envName] : undefined) ?? (await promptHidden(prompt));
  try {
    const password = args.flags.password ?? (await askSecret('password: ', 'ASE_PASSWORD')) ?? 'admin';
    const client = new AdminClient({
      host: args.flags.host ?? '127.0.0.1',
      port: args.flags.adminPort ?? confManagementPort(configDir) ?? 8010,
      url: args.flags.url,
      user: args.flags.user ?? 'admin',
      password,
      command,
    });
    if (command === 'top') {
      if (args.positionals.length > 0) throw new CliError(`top takes no arguments (got "${args.positionals[0]!}")\nusage: ase top [--interval 2s] [--once]`, 2);
      return await runTop(client, { intervalMs: args.flags.intervalMs ?? 2000, once: args.flags.once === true }, { stdout: process.stdout, stdin: process.stdin });
    }
    const explain = { headers: args.flags.headers ?? [], ip: args.flags.ip, json: args.flags.json === true };
    const { sort, limit, offset } = args.flags;
    const lines = await COMMANDS[command]!.run({ client, configDir, askSecret, explain, ttl: args.flags.ttl, history: args.flags.history === true, paging: { sort, limit, offset } }, args.positionals);
    if (lines.length > 0) console.log(lines.join('\n'));
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`ase: ${err.message}`);
      return err.exitCode;
    }
    console.error(`ase: ${command} failed: ${(err as Error).message}`);
    return 1;
  }
}

/** `ase check CONFIG_DIR`: every problem a start would meet, nothing started. */
function check(positionals: readonly string[]): number {
  if (positionals.length !== 1) {
    console.error(`ase: check takes the config directory, got ${positionals.length} arguments\nusage: ase check CONFIG_DIR`);
    return 2;
  }
  const dir = path.resolve(positionals[0]!);
  const r = checkConfigDir(dir);
  for (const w of r.warnings) console.error(`warning: ${w}`);
  if (r.problems.length > 0) {
    for (const p of r.problems) console.error(formatConfigProblem(p));
    console.error(`${dir}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
    return 1;
  }
  console.log(`${dir}: ok (ase.conf, ${r.apis} API${r.apis === 1 ? '' : 's'}, ${r.listEntries} list entr${r.listEntries === 1 ? 'y' : 'ies'})`);
  return 0;
}

async function start(args: CliArgs): Promise<number> {
  // Loaded here: the management commands do not need the frameworks, and start faster without them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DEFAULT_FRAMEWORK, FRAMEWORKS, FrameworkUnavailableError, startGateway } = require('./gateway') as typeof import('./gateway');
  const logger = stdLogger();
  if (args.positionals.length > 0) {
    console.error(`ase: start takes no arguments (got "${args.positionals[0]!}"); the config directory is --config-dir DIR\n${SHORT_USAGE}`);
    return 2;
  }
  const framework = args.flags.framework ?? DEFAULT_FRAMEWORK;
  if (!(FRAMEWORKS as readonly string[]).includes(framework)) {
    console.error(`ase: --framework must be one of ${FRAMEWORKS.join(', ')} (got "${framework}")`);
    return 2;
  }
  const mode = args.flags.mode ?? 'gateway';
  if (mode !== 'gateway' && mode !== 'decide') {
    console.error(`ase: --mode must be gateway or decide (got "${mode}")`);
    return 2;
  }
  if (mode === 'decide' && args.flags.framework !== undefined) {
    console.error('ase: --framework goes with the gateway; the decision service (--mode decide) runs on node:http alone');
    return 2;
  }
  const proxy = args.flags.proxy ?? 'nginx';
  if (mode === 'decide' ? !(SIDEBAND_PROXIES as readonly string[]).includes(proxy) : args.flags.proxy !== undefined || args.flags.pathPrefix !== undefined) {
    console.error(mode === 'decide' ? `ase: --proxy must be one of ${SIDEBAND_PROXIES.join(', ')} (got "${proxy}")` : 'ase: --proxy and --path-prefix go with --mode decide');
    return 2;
  }
  const configDir = path.resolve(args.flags.configDir ?? './config');
  let gw: Gateway;
  try {
    const common = { configDir, port: args.flags.port, host: args.flags.bind, logger, skipInvalidApis: args.flags.skipInvalidApis };
    if (mode === 'decide') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { startDecideServer } = require('./decide-server') as typeof import('./decide-server');
      gw = await startDecideServer({ ...common, proxy: proxy as SidebandProxy, pathPrefix: args.flags.pathPrefix });
    } else {
      gw = await startGateway({ ...common, framework: framework as Framework });
    }
  } catch (err) {
    if (err instanceof FrameworkUnavailableError || err instanceof UsageError) {
      console.error(`ase: ${err.message}`);
      return 2;
    }
    if (err instanceof AseError) {
      const apiDir = path.join(configDir, 'api') + path.sep;
      const badApiFile = err instanceof AseConfigError && err.problems.some((p) => p.file.startsWith(apiDir));
      const hint = badApiFile ? '\n(fix the API files above, or start without them: ase start --skip-invalid-apis)' : '';
      console.error(`ase: cannot start: invalid configuration in ${configDir}\n${err.message}${hint}`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    console.error(`ase: cannot start: ${e.code === 'EADDRINUSE' ? `port ${args.flags.port ?? ''} is already in use` : e.message}`);
    return 1;
  }

  // The management API on its own port, loopback-only unless --admin-bind or management_bind says otherwise.
  const conf = gw.enforcer.conf;
  const adminPort = args.flags.adminPort ?? conf.management_port;
  const adminBind = args.flags.adminBind ?? conf.management_bind;
  if (args.flags.adminBind !== undefined && !isLoopback(adminBind)) {
    logger.warn(`--admin-bind ${adminBind} exposes the management API beyond this host; keep the management port private`);
  }
  let adminSrv: AdminServer;
  try {
    const cluster = gw.cluster;
    const admin = createAdmin(gw.enforcer, {
      // The decision service runs on no framework: the status leaves it out.
      info: () => ({ http_ws_port: gw.port, management_port: adminSrv?.port ?? adminPort, ...(mode === 'decide' ? {} : { framework }) }),
      ...(cluster ? { cluster: () => cluster.info() } : {}),
    });
    adminSrv = await startAdminServer(admin, { port: adminPort, host: adminBind });
  } catch (err) {
    await gw.close().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(`ase: cannot start: management port ${adminPort} is already in use (set --admin-port or management_port)`);
    } else if (err instanceof AseError) {
      console.error(`ase: cannot start: ${err.message}`);
    } else {
      console.error(`ase: cannot start the management API on ${adminBind}:${adminPort}: ${e.code ?? e.message}`);
    }
    return 1;
  }

  // Signal handlers go in before the ready line: whoever waits for that line may stop us at once.
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal} received, shutting down`);
      Promise.all([adminSrv.close(), gw.close()]).then(
        () => resolve(0),
        (err: unknown) => {
          logger.error(`shutdown failed: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Started without Redis: the stores' own line said so, and another says when the node joins.
  const joined = gw.cluster !== undefined && !gw.cluster.stores.detached;
  if (gw.cluster && joined) logger.info(`cluster ${conf.cluster_id}: joined as node ${gw.cluster.uuid}; lists and APIs are shared through Redis`);
  const apis = gw.enforcer.listApis().length;
  const at = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info(
    `ASE ready: ${mode === 'decide' ? `decision service for ${proxy}` : `${framework} gateway`} on port ${gw.port}, ${apis} API${apis === 1 ? '' : 's'} loaded from ${joined ? `cluster ${conf.cluster_id}` : configDir}; ` +
      `listening on ${at(gw.address, gw.port)}; management API on ${at(adminSrv.host, adminSrv.port)}`,
  );
  // The backend client, left out of the start-up: loaded now rather than by the first proxied request.
  if (mode !== 'decide') setImmediate(loadUpstreamClient);
  return stopped;
}
