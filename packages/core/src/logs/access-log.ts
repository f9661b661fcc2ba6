import type { AttackEvent, BlockedEvent, EnforcerEventSource } from '../events';
import type { Logger } from '../types';
import type { ListEntry } from '../lists/entries';
import { maskIdentifier } from './mask';
import { RotatingFile, type RotatingFileOptions } from './rotating-file';

function describe(e: ListEntry): string {
  const value = maskIdentifier(e.type, e.value);
  return e.name === undefined ? `${e.type}:${value}` : `${e.type}:${e.name}=${value}`;
}

/** Printable, single-line, bounded: log lines must not be forgeable through request data. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 256);
}

export function formatAttack(e: AttackEvent, at = new Date()): string {
  return `[${at.toISOString()}] [type:attack] [tag:${e.kind}] [api_id:${clean(e.api)}] [connectinfo:${e.ip}] [identifier:${clean(describe(e.identifier))}] [listed:${e.listed}] [blocked:${e.blocked}]`;
}

export function formatBlocked(e: BlockedEvent, at = new Date()): string {
  const entry = e.entry ? ` [entry:${clean(describe(e.entry))}] [tag:${e.entry.tag}]` : '';
  // A detect-only API serves the request: the line must not read as a block.
  const type = e.blocked ? 'blocked' : 'detected';
  return `[${at.toISOString()}] [type:${type}] [reason:${e.reason}] [api_id:${clean(e.api ?? '')}] [connectinfo:${e.ip}]${entry} [blocked:${e.blocked}]`;
}

/**
 * The access log: one line per detection and per block (`[type:blocked]` for a refused request,
 * `[type:detected]` for one a detect-only API served), appended to `logs/access.log` through a
 * buffered stream, so the request path never waits on the disk. Blocked requests are what an
 * attacker produces at will, so the file is rotated by size and lines are dropped (and counted)
 * while the disk is behind ({@link RotatingFile}).
 */
export class AccessLog {
  private readonly out: RotatingFile;
  private readonly onAttack = (e: AttackEvent): void => void this.out.write(formatAttack(e));
  private readonly onBlocked = (e: BlockedEvent): void => void this.out.write(formatBlocked(e));

  constructor(
    private readonly enforcer: EnforcerEventSource & { readonly logger: Logger },
    readonly file: string,
    opts: RotatingFileOptions = {},
  ) {
    this.out = new RotatingFile(file, { ...opts, onError: (err) => enforcer.logger.error(`access log ${file}: ${err.message}`) });
    enforcer.on('attack', this.onAttack);
    enforcer.on('blocked', this.onBlocked);
  }

  close(): Promise<void> {
    this.enforcer.off('attack', this.onAttack);
    this.enforcer.off('blocked', this.onBlocked);
    return this.out.close();
  }
}
