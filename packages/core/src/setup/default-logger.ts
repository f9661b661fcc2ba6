import type { Logger } from '../types';
import { consoleLogger } from './enforcer-options';

/** A host logger that writes warnings: pino's `isLevelEnabled`, else any logger with a level (not a no-op one). */
function logsWarnings(logger: Logger): boolean {
  const l = logger as Logger & { isLevelEnabled?: (level: string) => boolean; level?: unknown };
  return typeof l.isLevelEnabled === 'function' ? l.isLevelEnabled('warn') : l.level !== undefined;
}

/**
 * The logger of an enforcer created without one: the console until a host framework offers its
 * own (the Fastify plugin offers `fastify.log`). The parts of the enforcer keep this object, so
 * the switch reaches all of them; a logger given to createEnforcer is never replaced.
 *
 * Warnings wait for the next turn of the event loop before they go to the console: a plugin
 * registered in the meantime takes them into the host's log instead, so each is written once,
 * not on the console and again in the app's log.
 */
export class DefaultLogger implements Logger {
  private target: Logger = consoleLogger;
  private adopted = false;
  private held: string[] = [];
  private flush: NodeJS.Immediate | undefined;

  info(msg: string): void {
    this.target.info(msg);
  }

  warn(msg: string): void {
    if (this.adopted) return this.target.warn(msg);
    this.held.push(msg);
    this.flush ??= setImmediate(() => this.release());
  }

  error(msg: string): void {
    this.target.error(msg);
  }

  /**
   * Logs through `logger` from now on; the first offer of a logger that writes warnings only (a
   * Fastify app created without a logger has a no-op one: the console stays). Warnings not yet
   * written go there.
   */
  adopt(logger: Logger): boolean {
    if (this.adopted || !logsWarnings(logger)) return false;
    this.adopted = true;
    this.target = logger;
    this.release();
    return true;
  }

  private release(): void {
    if (this.flush) clearImmediate(this.flush);
    this.flush = undefined;
    const held = this.held;
    this.held = [];
    for (const m of held) this.target.warn(m);
  }
}
