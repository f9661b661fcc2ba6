import type { Logger } from '../types';
import { consoleLogger } from './enforcer-options';

/**
 * The logger of an enforcer created without one: the console until a host framework offers its
 * own (the Fastify plugin offers `fastify.log`). The parts of the enforcer keep this object, so
 * the switch reaches all of them; a logger given to createEnforcer is never replaced.
 */
export class DefaultLogger implements Logger {
  private target: Logger = consoleLogger;
  private adopted = false;

  info(msg: string): void {
    this.target.info(msg);
  }

  warn(msg: string): void {
    this.target.warn(msg);
  }

  error(msg: string): void {
    this.target.error(msg);
  }

  /**
   * Logs through `logger` from now on; the first offer only. `earlier` (the start-up warnings,
   * already on the console) are repeated there, so the host's log has them too.
   */
  adopt(logger: Logger, earlier: readonly string[]): boolean {
    if (this.adopted) return false;
    this.adopted = true;
    this.target = logger;
    for (const w of earlier) logger.warn(w);
    return true;
  }
}
