/**
 * Every error the enforcer produces is an AseError with a stable `code` and an HTTP `status`,
 * made here and nowhere else, so adapters, the admin API and the CLI report them the same way.
 */
export type AseErrorCode =
  | 'ERR_ASE_CONFIG'
  | 'ERR_ASE_LIST_FULL'
  | 'ERR_ASE_LIST_ENTRY'
  | 'ERR_ASE_LIST_DUPLICATE'
  | 'ERR_ASE_LIST_MISSING'
  | 'ERR_ASE_UNKNOWN_API'
  | 'ERR_ASE_DUPLICATE_API'
  | 'ERR_ASE_PERSIST'
  | 'ERR_ASE_INTERNAL'
  | 'ERR_ASE_DUPLICATE_SERVER'
  | 'ERR_ASE_UNKNOWN_SERVER';

export class AseError extends Error {
  override readonly name: string = 'AseError';
  readonly code: AseErrorCode;
  readonly status: number;

  constructor(code: AseErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

/** One problem found in one configuration file. */
export interface ConfigProblem {
  /** File the problem is in (`config/api/shop.json`), or `<code>` for objects passed in code. */
  file: string;
  /** JSON path (`/api_metadata/url`) or `ase.conf` key (`http_ws_port`); empty for the whole file. */
  path: string;
  /** The offending value, as found (undefined when missing). */
  value?: unknown;
  /** Human sentence: what is wrong and what is accepted. */
  message: string;
}

export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.file}: ${p.path}` : p.file;
  const got = p.value === undefined ? '' : ` (got ${safeJson(p.value)})`;
  return `${where}: ${p.message}${got}`;
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

export class AseConfigError extends AseError {
  override readonly name: string = 'AseConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('ERR_ASE_CONFIG', 400, problems.map(formatConfigProblem).join('\n'));
    this.problems = problems;
  }
}

export const listFull = (which: string, share: string, used: number, limit: number): AseError =>
  new AseError(
    'ERR_ASE_LIST_FULL',
    507,
    `${which}: the ${share} share of attack_list_memory is full (${used} of ${limit} bytes); remove ${share} entries or raise attack_list_memory`,
  );
export const listEntryInvalid = (why: string): AseError =>
  new AseError('ERR_ASE_LIST_ENTRY', 400, why);
export const unknownApi = (id: string): AseError =>
  new AseError('ERR_ASE_UNKNOWN_API', 404, `api ${id} does not exist`);
export const duplicateApi = (id: string): AseError =>
  new AseError('ERR_ASE_DUPLICATE_API', 409, `api ${id} already exists`);
export const persistFailed = (what: string, cause: unknown): AseError =>
  new AseError('ERR_ASE_PERSIST', 500, `could not persist ${what}`, { cause });

export const duplicateServer = (api: string, server: string): AseError =>
  new AseError('ERR_ASE_DUPLICATE_SERVER', 409, `server ${server} already exists in api ${api}`);
export const unknownServer = (api: string, server: string): AseError =>
  new AseError('ERR_ASE_UNKNOWN_SERVER', 404, `server ${server} does not exist in api ${api}`);

/** Turns anything thrown into an AseError without leaking internals into messages. */
export function toAseError(err: unknown): AseError {
  if (err instanceof AseError) return err;
  return new AseError('ERR_ASE_INTERNAL', 500, 'internal error', { cause: err });
}
