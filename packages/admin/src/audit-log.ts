import { type Logger, RotatingFile } from '@ase/core';

/** What every secret is written as. */
export const MASK = '**********';

/** One audit record: `YYYY-MM-DD hh:mm:ss | subject | action | key=value, ...`. */
export interface AuditRecord {
  time: Date;
  /** `rest_api` for a REST call, `cli` for an `ase` command. */
  subject: 'rest_api' | 'cli';
  /** `POST /v4/ase/api` for REST calls, the command name (`add_api`) for the CLI. */
  action: string;
  fields: [string, string][];
  /** The formatted line, without the newline. */
  line: string;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `2024-05-06 10:45:12`, in UTC. */
export function auditTime(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * A value as written in a line: plain when it is a simple token, else JSON-quoted, so request data
 * can neither break the line nor fake another `key=value`. Long values are cut.
 */
export function auditValue(v: string): string {
  const s = v.length > 256 ? `${v.slice(0, 253)}...` : v;
  return /^[\w.:/@*()[\]+-]*$/.test(s) && s !== '' ? s : JSON.stringify(s);
}

export function formatAudit(time: Date, subject: string, action: string, fields: readonly (readonly [string, string])[]): string {
  return `${auditTime(time)} | ${subject} | ${action} | ${fields.map(([k, v]) => `${k}=${auditValue(v)}`).join(', ')}`;
}

/**
 * Appends lines to the audit file, opened on the first line. Failed logins are audited too, so the
 * file is rotated by size and never buffers without bound (core's `RotatingFile`).
 */
export class AuditFile {
  private out: RotatingFile | undefined;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  write(line: string): void {
    this.out ??= new RotatingFile(this.file, { onError: (err) => this.logger.error(`audit log ${this.file}: ${err.message}`) });
    this.out.write(line);
  }

  close(): Promise<void> {
    const out = this.out;
    this.out = undefined;
    return out ? out.close() : Promise.resolve();
  }
}
