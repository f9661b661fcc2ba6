import Ajv, { type SchemaObject, type ValidateFunction } from 'ajv';
import { type ConfigProblem, MAX_PROBLEMS, clip, invalidConfig, moreProblems } from '../errors';
import { ASE_CONF_KEYS, type KeySpec, REFERENCE_ONLY_KEYS, SPECS } from './ase-conf-keys';
import { ASE_CONF_DEFAULTS } from './defaults';
import { cloneJsonData } from './json-data';
import { closest } from './suggest';
import type { AseConf } from './types';

export { ASE_CONF_KEYS, REFERENCE_ONLY_KEYS, bindProblem, isIpOrCidr } from './ase-conf-keys';

/*
 * `ase.conf`: `key=value` lines, `;` (or `#`) comment lines, an inline ` ;comment` after
 * whitespace. Every value is checked by one JSON Schema (string forms as in the file, plus the
 * typed forms accepted from code) and then converted to the typed AseConf. Unknown keys are an
 * error; keys of the reference product that we do not implement are accepted with one warning.
 * What each key accepts is in ase-conf-keys.ts.
 */

const REFERENCE_ONLY = new Set(REFERENCE_ONLY_KEYS);
const KNOWN = new Set<string>(ASE_CONF_KEYS);

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const properties: Record<string, SchemaObject> = {};
    for (const k of ASE_CONF_KEYS) properties[k] = SPECS[k].schema;
    const ajv = new Ajv({ allErrors: true, strict: true });
    compiled = ajv.compile({ type: 'object', properties, additionalProperties: false });
  }
  return compiled;
}

/** A value as found, and where (for messages): `line 3: http_ws_port` in a file, the key in code. */
interface Found {
  value: unknown;
  where: string;
}

function unknownKeyMessage(key: string): string {
  const hint = closest(key, ASE_CONF_KEYS);
  return `unknown key \`${clip(key)}\`${hint ? `; did you mean \`${hint}\`? Known` : '; known'} keys: ${ASE_CONF_KEYS.join(', ')}`;
}

function referenceWarning(file: string, names: readonly string[]): string {
  return `${file}: ignoring keys of the reference product that ASE for Node.js does not implement: ${names.join(', ')}`;
}

function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || bind.startsWith('127.');
}

/** Validates and converts the keys found; unset keys take ASE_CONF_DEFAULTS. */
function buildConf(found: Map<keyof AseConf, Found>, file: string): { conf: AseConf; problems: ConfigProblem[]; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const data: Record<string, unknown> = {};
  for (const [k, f] of found) data[k] = f.value;
  const validate = validator();
  const bad = new Set<string>();
  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      const key = e.instancePath.slice(1);
      if (bad.has(key) || !KNOWN.has(key)) continue;
      bad.add(key);
      const f = found.get(key as keyof AseConf);
      problems.push({ file, path: f?.where ?? key, value: f?.value, message: `must be ${SPECS[key as keyof AseConf].accepts}` });
    }
  }
  const conf = {
    ...ASE_CONF_DEFAULTS,
    xff_trusted_proxies: [...ASE_CONF_DEFAULTS.xff_trusted_proxies],
    management_allowed_hosts: [...ASE_CONF_DEFAULTS.management_allowed_hosts],
  } as AseConf;
  const out = conf as unknown as Record<keyof AseConf, unknown>;
  for (const [k, f] of found) {
    if (bad.has(k)) continue;
    const r = (SPECS[k] as KeySpec<unknown>).convert(f.value);
    if ('error' in r) problems.push({ file, path: f.where, value: f.value, message: r.error });
    else out[k] = r.value;
  }
  if (problems.length === 0) {
    const ports: (keyof AseConf)[] = ['http_ws_port', 'https_wss_port', 'management_port'];
    for (let i = 0; i < ports.length; i++) {
      for (let j = i + 1; j < ports.length; j++) {
        const a = ports[i] as keyof AseConf;
        const b = ports[j] as keyof AseConf;
        if (conf[a] === conf[b]) {
          const f = found.get(b) ?? found.get(a);
          problems.push({ file, path: f?.where ?? b, value: conf[b], message: `must differ from ${a}; each port is its own listener` });
        }
      }
    }
    if (!isLoopback(conf.management_bind)) {
      warnings.push(`${file}: management_bind=${conf.management_bind} exposes the management API beyond this host; keep the management port private`);
    }
    if (conf.enable_cluster && conf.redis_url === '') {
      warnings.push(`${file}: enable_cluster=true but redis_url is empty; instances cannot share state without Redis`);
    }
  }
  return { conf, problems, warnings };
}

/** Internal form of parseAseConf that reports instead of throwing. */
export function checkAseConf(text: string, file: string): { conf: AseConf; problems: ConfigProblem[]; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const found = new Map<keyof AseConf, Found>();
  const firstLine = new Map<string, number>();
  const ignored: string[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  let unlisted = 0;
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    // Past MAX_PROBLEMS the file is refused anyway: the rest is counted, not described.
    if (problems.length >= MAX_PROBLEMS) {
      unlisted++;
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      problems.push({ file, path: `line ${n}`, value: line.length > 80 ? `${line.slice(0, 77)}...` : line, message: 'is not a `key=value` line' });
      return;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).replace(/\s;.*$/s, '').trim();
    if (key === '') {
      problems.push({ file, path: `line ${n}`, message: 'has no key before `=`' });
      return;
    }
    const where = `line ${n}: ${clip(key)}`;
    const first = firstLine.get(key);
    if (first !== undefined) {
      problems.push({ file, path: where, value, message: `duplicate key \`${key}\` (first set on line ${first})` });
      return;
    }
    firstLine.set(key, n);
    if (KNOWN.has(key)) found.set(key as keyof AseConf, { value, where });
    else if (REFERENCE_ONLY.has(key)) ignored.push(`${key} (line ${n})`);
    else problems.push({ file, path: where, message: unknownKeyMessage(key) });
  });
  const built = buildConf(found, file);
  const warnings = ignored.length > 0 ? [referenceWarning(file, ignored), ...built.warnings] : built.warnings;
  const lineOf = (p: ConfigProblem): number => Number(/^line (\d+)/.exec(p.path)?.[1] ?? 0);
  const all = [...problems, ...built.problems].sort((a, b) => lineOf(a) - lineOf(b));
  if (unlisted > 0) all.push(moreProblems(file, unlisted));
  return { conf: built.conf, problems: all, warnings };
}

/**
 * Parses the text of an `ase.conf` into a complete AseConf (defaults for what the file leaves out).
 * Throws AseConfigError listing every problem of the file, each at `line N: key`.
 */
export function parseAseConf(text: string, file: string): { conf: AseConf; warnings: string[] } {
  const r = checkAseConf(text, file);
  if (r.problems.length > 0) throw invalidConfig(r.problems);
  return { conf: r.conf, warnings: r.warnings };
}

/** Internal form of normaliseAseConf that reports instead of throwing. */
export function checkAseConfObject(partial: unknown, source: string): { conf: AseConf; problems: ConfigProblem[]; warnings: string[] } {
  const cloned = cloneJsonData(partial ?? {}, source);
  const problems = cloned.problems.map((p) => ({ ...p, path: p.path.replace(/^\//, '') }));
  const found = new Map<keyof AseConf, Found>();
  const ignored: string[] = [];
  const value = cloned.value;
  if (problems.length === 0 && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    problems.push({ file: source, path: '', value, message: 'must be an object of ase.conf keys' });
  } else if (problems.length === 0) {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (KNOWN.has(key)) found.set(key as keyof AseConf, { value: v, where: key });
      else if (REFERENCE_ONLY.has(key)) ignored.push(key);
      else problems.push({ file: source, path: key, message: unknownKeyMessage(key) });
    }
  }
  const built = buildConf(found, source);
  const warnings = ignored.length > 0 ? [referenceWarning(source, ignored), ...built.warnings] : built.warnings;
  return { conf: built.conf, problems: [...problems, ...built.problems], warnings };
}

/**
 * The same checks as parseAseConf for settings passed in code. Values may be typed (numbers,
 * booleans, an array of proxies, sizes in bytes, durations in ms) or strings as in the file;
 * `undefined` means "not set". Throws AseConfigError naming `source` and each bad key.
 */
export function normaliseAseConf(partial: Partial<Record<keyof AseConf, unknown>>, source = '<code>'): AseConf {
  const r = checkAseConfObject(partial, source);
  if (r.problems.length > 0) throw invalidConfig(r.problems);
  return r.conf;
}
