import * as path from 'node:path';
import { AseError, type Logger } from '@ase/core';
import { type CliArgs, UsageError, parseArgs } from './args';
import { FRAMEWORKS, type Framework, FrameworkUnavailableError, startGateway } from './gateway';

const USAGE = `Usage: ase [-u USER] [-p PASSWORD] [--host H] [--admin-port N] COMMAND [ARGS]

Commands:
  start [--config-dir DIR] [--port N] [--admin-port N] [--framework express|koa|fastify]
        Run the standalone gateway on the config directory DIR (default ./config).

The management commands (add_api, update_api, list_api, add_blacklist, ...) arrive with the
management API; see the README.`;

const MANAGEMENT_COMMANDS = new Set([
  'add_api', 'update_api', 'delete_api', 'list_api', 'api_info', 'add_server', 'delete_server', 'list_server',
  'enable_firewall', 'disable_firewall', 'status', 'add_blacklist', 'delete_blacklist', 'view_blacklist',
  'clear_blacklist', 'add_whitelist', 'delete_whitelist', 'view_whitelist', 'clear_whitelist', 'update_password',
  'enable_ase_detected_attack', 'disable_ase_detected_attack',
]);

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
    console.error(`ase: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.flags.help || !args.command) {
    console.log(USAGE);
    return args.flags.help ? 0 : 2;
  }
  if (args.command === 'start') return start(args);
  if (MANAGEMENT_COMMANDS.has(args.command)) {
    console.error(`ase: ${args.command} is not available yet: the management API is not part of this version`);
    return 2;
  }
  console.error(`ase: unknown command "${args.command}"\n\n${USAGE}`);
  return 2;
}

async function start(args: CliArgs): Promise<number> {
  const logger = stdLogger();
  const framework = args.flags.framework ?? 'express';
  if (!(FRAMEWORKS as readonly string[]).includes(framework)) {
    console.error(`ase: --framework must be one of ${FRAMEWORKS.join(', ')} (got "${framework}")`);
    return 2;
  }
  const configDir = path.resolve(args.flags.configDir ?? './config');
  let gw;
  try {
    gw = await startGateway({ configDir, port: args.flags.port, framework: framework as Framework, logger });
  } catch (err) {
    if (err instanceof FrameworkUnavailableError || err instanceof UsageError) {
      console.error(`ase: ${err.message}`);
      return 2;
    }
    if (err instanceof AseError) {
      console.error(`ase: cannot start: invalid configuration in ${configDir}\n${err.message}`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    console.error(`ase: cannot start: ${e.code === 'EADDRINUSE' ? `port ${args.flags.port ?? ''} is already in use` : e.message}`);
    return 1;
  }
  // Signal handlers go in before the ready line: whoever waits for that line may stop us at once.
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal} received, shutting down`);
      gw.close().then(
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
  const apis = gw.enforcer.listApis().length;
  logger.info(
    `ASE ready: ${framework} gateway on port ${gw.port}, ${apis} API${apis === 1 ? '' : 's'} loaded from ${configDir}` +
      (args.flags.adminPort !== undefined ? ` (--admin-port ${args.flags.adminPort} accepted; management API not available yet)` : ''),
  );
  return stopped;
}
