/**
 * Every error the enforcer produces is an AseError with a stable `code` and an HTTP `status`,
 * made here and nowhere else, so adapters, the admin API and the CLI report them the same way.
 */
/**
 * How the management API answers an error: HTTP status, the `status` word of its envelope and, when
 * the reference answers with a fixed sentence, that sentence instead of the error's own message.
 */
export interface WireAnswer {
  readonly status: number;
  readonly label: string;
  readonly message?: string;
}

/**
 * The one table of error codes: one meaning each, its HTTP status, and how the management API
 * answers it. A code without `wire` is not the caller's fault: the admin logs it and answers 500.
 */
export const ERRORS = {
  /** A configuration value or file (or an API edit's body) is invalid. */
  ERR_ASE_CONFIG: { status: 400, wire: { status: 403, label: 'validation_error' } },
  /** A file the enforcer keeps for itself (lists, credentials, runtime switches) cannot be used. */
  ERR_ASE_STATE_FILE: { status: 500 },
  /** A new management secret key breaks the rules for secret keys. */
  ERR_ASE_SECRET_KEY: { status: 400, wire: { status: 403, label: 'validation_error' } },
  ERR_ASE_LIST_FULL: { status: 507, wire: { status: 507, label: 'fail' } },
  ERR_ASE_LIST_ENTRY: { status: 400, wire: { status: 403, label: 'validation_error' } },
  ERR_ASE_LIST_DUPLICATE: { status: 409 },
  ERR_ASE_LIST_MISSING: { status: 404 },
  ERR_ASE_UNKNOWN_API: { status: 404, wire: { status: 404, label: 'api_not_found' } },
  ERR_ASE_DUPLICATE_API: { status: 409, wire: { status: 403, label: 'api_already_exists' } },
  ERR_ASE_PERSIST: { status: 500 },
  /** The disk (or the file-size limit) has no room for the change: nothing was changed. */
  ERR_ASE_STORAGE_FULL: { status: 507, wire: { status: 507, label: 'storage_full' } },
  /** The configuration directory cannot be written (read-only file system, permissions): nothing was changed. */
  ERR_ASE_STORAGE_READ_ONLY: { status: 503, wire: { status: 503, label: 'storage_read_only' } },
  /** The shared state store (Redis) cannot be reached: a change is refused rather than acknowledged and lost. */
  ERR_ASE_STORE_UNAVAILABLE: { status: 503, wire: { status: 503, label: 'store_unavailable', message: 'shared state store unreachable' } },
  ERR_ASE_INTERNAL: { status: 500 },
  /** A request to explain (`POST /v4/ase/explain`) that does not describe a request. */
  ERR_ASE_EXPLAIN_REQUEST: { status: 400, wire: { status: 403, label: 'validation_error' } },
  ERR_ASE_DUPLICATE_SERVER: { status: 409, wire: { status: 403, label: 'server_exists', message: 'server already exists' } },
  ERR_ASE_UNKNOWN_SERVER: { status: 404, wire: { status: 404, label: 'server_not_found', message: 'server does not exist' } },
} as const satisfies Record<string, { status: number; wire?: WireAnswer }>;

export type AseErrorCode = keyof typeof ERRORS;

/** The management API's answer to `code`, or undefined when it answers 500 and logs the error. */
export function wireAnswer(code: AseErrorCode): WireAnswer | undefined {
  const spec = ERRORS[code];
  return 'wire' in spec ? spec.wire : undefined;
}

export class AseError extends Error {
  override readonly name: string = 'AseError';
  readonly code: AseErrorCode;
  readonly status: number;

  constructor(code: AseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = ERRORS[code].status;
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

/**
 * At most this many problems are listed for one file or body (then one line says how many more):
 * a document with 80 000 bad keys must not cost seconds of CPU and tens of megabytes of message.
 */
export const MAX_PROBLEMS = 50;

/** The line that stands for the problems past MAX_PROBLEMS. */
export const moreProblems = (file: string, count: number): ConfigProblem => ({
  file,
  path: '',
  message: `${count} more ${count === 1 ? 'problem' : 'problems'} not listed`,
});

/** A name as shown in a message: long ones cut, so a message never echoes a huge key back. */
export function clip(s: string, max = 100): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.file}: ${clip(p.path, 200)}` : p.file;
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
    super('ERR_ASE_CONFIG', problems.map(formatConfigProblem).join('\n'));
    this.problems = problems;
  }
}

export const listFull = (which: string, share: string, used: number, limit: number): AseError =>
  new AseError(
    'ERR_ASE_LIST_FULL',
    `${which}: the ${share} share of attack_list_memory is full (${used} of ${limit} bytes); remove ${share} entries or raise attack_list_memory`,
  );
export const listEntryInvalid = (why: string): AseError =>
  new AseError('ERR_ASE_LIST_ENTRY', why);
export const unknownApi = (id: string): AseError =>
  new AseError('ERR_ASE_UNKNOWN_API', `api ${id} does not exist`);
export const duplicateApi = (id: string): AseError =>
  new AseError('ERR_ASE_DUPLICATE_API', `api ${id} already exists`);
/** File-system errors that mean "no room": a full disk, a quota, a file-size limit (RLIMIT_FSIZE). */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** File-system errors that mean "may not write here": a read-only mount, permissions. */
const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * A change the store could not make durable; the change is not made. A store's refusal passes
 * through as it is when the store is unreachable (the caller may try again later); a disk without
 * room and a directory that cannot be written get their own codes, so the writer learns which of
 * the operator's problems to fix.
 */
export function persistFailed(what: string, cause: unknown): AseError {
  if (isStoreUnavailable(cause)) return cause;
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && NO_ROOM.has(errno)) {
    return new AseError('ERR_ASE_STORAGE_FULL', `could not persist ${what}: no room left for the configuration files (${errno}); nothing was changed`, { cause });
  }
  if (typeof errno === 'string' && NOT_WRITABLE.has(errno)) {
    return new AseError('ERR_ASE_STORAGE_READ_ONLY', `could not persist ${what}: the configuration directory cannot be written (${errno}); nothing was changed`, { cause });
  }
  return new AseError('ERR_ASE_PERSIST', `could not persist ${what}`, { cause });
}

/** What a shared store answers while it cannot reach its server (`what`: the store's own words). */
export const storeUnavailable = (what: string, cause?: unknown): AseError =>
  new AseError('ERR_ASE_STORE_UNAVAILABLE', `shared state store unreachable: ${what}`, { cause });

export function isStoreUnavailable(err: unknown): err is AseError {
  return err instanceof AseError && err.code === 'ERR_ASE_STORE_UNAVAILABLE';
}

export const duplicateServer = (api: string, server: string): AseError =>
  new AseError('ERR_ASE_DUPLICATE_SERVER', `server ${server} already exists in api ${api}`);
export const unknownServer = (api: string, server: string): AseError =>
  new AseError('ERR_ASE_UNKNOWN_SERVER', `server ${server} does not exist in api ${api}`);

/** Turns anything thrown into an AseError without leaking internals into messages. */
export function toAseError(err: unknown): AseError {
  if (err instanceof AseError) return err;
  return new AseError('ERR_ASE_INTERNAL', 'internal error', { cause: err });
}

/** The problems found in configuration files or in an API edit's body, as one error. */
export const invalidConfig = (problems: readonly ConfigProblem[]): AseConfigError => new AseConfigError(problems);
/** A configuration value that is not one of the accepted forms (outside a config file's problems). */
export const configValueInvalid = (message: string): AseError => new AseError('ERR_ASE_CONFIG', message);
/** A state file the enforcer keeps cannot be read or used; starting without it would be unsafe. */
export const stateFileUnusable = (message: string, cause?: unknown): AseError =>
  new AseError('ERR_ASE_STATE_FILE', message, cause === undefined ? undefined : { cause });
export const explainRequestInvalid = (why: string): AseError => new AseError('ERR_ASE_EXPLAIN_REQUEST', why);
export const secretKeyInvalid = (why: string): AseError => new AseError('ERR_ASE_SECRET_KEY', why);
