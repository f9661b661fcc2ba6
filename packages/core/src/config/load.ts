import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ConfigProblem, formatConfigProblem, invalidConfig } from '../errors';
import { checkApiJson } from './api-schema';
import { checkAseConf, checkAseConfObject } from './ase-conf';
import { ASE_CONF_DEFAULTS } from './defaults';
import { decodeUtf8, parseJsonFile } from './json-data';
import type { ApiJson, ApiJsonInput, AseConf, LoadedConfig } from './types';

/**
 * The config directory, as the reference product lays it out: `ase.conf` and `api/<api_id>.json`.
 * A bad `ase.conf` stops the start, and so does a bad API file unless skipping them was asked for:
 * a skipped file would leave that API's routes served without protection.
 */

/** API id rule of the reference: up to 160 characters, letters, digits, space, `_`, `-`, alphanumeric first. */
export const API_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,159}$/;
/** Names the reference reserves (its CLI and REST API use them as selectors). */
const RESERVED_API_IDS = new Set(['all', 'model', 'threshold', 'decoyall']);

/** Why an API id is refused, or undefined when it is fine. */
export function apiIdProblem(id: string): string | undefined {
  if (!API_ID_PATTERN.test(id)) {
    return 'api id must be 1 to 160 characters among letters, digits, space, "_" and "-", starting with a letter or digit';
  }
  if (RESERVED_API_IDS.has(id.toLowerCase())) return `api id \`${id}\` is reserved (all, model, threshold and decoyall are)`;
  return undefined;
}

export function isValidApiId(id: string): boolean {
  return apiIdProblem(id) === undefined;
}

/** `config/api/shop.json` → `shop`. */
export function apiIdFromFile(file: string): string {
  const base = path.basename(file);
  return base.toLowerCase().endsWith('.json') ? base.slice(0, -'.json'.length) : base;
}

/** Reads and validates one API JSON file; problems instead of a throw. */
function checkApiFile(file: string): { api?: ApiJson; problems: ConfigProblem[]; warnings: string[] } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return { problems: [{ file, path: '', message: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }], warnings: [] };
  }
  const parsed = parseJsonFile(bytes);
  if (!parsed.ok) return { problems: [{ file, path: parsed.path, message: parsed.message }], warnings: [] };
  return checkApiJson(parsed.value, file);
}

/** Reads and validates one API JSON file, with its warnings. Throws AseConfigError. */
export function readApiFile(file: string): { api: ApiJson; warnings: string[] } {
  const r = checkApiFile(file);
  if (!r.api || r.problems.length > 0) throw invalidConfig(r.problems);
  return { api: r.api, warnings: r.warnings };
}

/** Reads and validates one API JSON file (every default filled in). Throws AseConfigError. */
export function loadApiFile(file: string): ApiJson {
  return readApiFile(file).api;
}

/** The key two APIs must not share: hostname and url in matching form. */
function routeKey(api: ApiJson): string {
  const m = api.api_metadata;
  let url = m.url.toLowerCase();
  if (url.length > 1 && url.endsWith('/')) url = url.slice(0, -1);
  return `${m.hostname.toLowerCase()} ${url}`;
}

function skipped(file: string, problems: readonly ConfigProblem[]): string {
  return `${file}: skipped, ${problems.length === 1 ? 'one problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${formatConfigProblem(p)}`).join('\n')}`;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface LoadConfigDirOptions {
  /**
   * false (default): any API file that does not load throws one AseConfigError listing the
   * problems of every bad file. true: each bad file is listed in `warnings` and skipped.
   */
  skipInvalidApis?: boolean;
}

/**
 * Loads `dir/ase.conf` (missing: defaults) and every `dir/api/*.json` in name order. Throws
 * AseConfigError when the directory or `ase.conf` is unusable, and when an API file does not load
 * (every bad file is reported, not only the first) unless `skipInvalidApis` is set.
 */
export function loadConfigDir(dir: string, options: LoadConfigDirOptions = {}): LoadedConfig {
  const fromConf = loadConfFile(dir);
  const fromApis = loadApiDir(dir, options);
  return { conf: fromConf.conf, apis: fromApis.apis, warnings: [...fromConf.warnings, ...fromApis.warnings] };
}

/** `dir/ase.conf` (missing: defaults), after checking that `dir` is a usable directory. */
export function loadConfFile(dir: string): { conf: AseConf; warnings: string[] } {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
    throw invalidConfig([{ file: dir, path: '', message: `config directory ${why}` }]);
  }
  if (!st.isDirectory()) throw invalidConfig([{ file: dir, path: '', message: 'is not a directory' }]);

  const warnings: string[] = [];
  const confFile = path.join(dir, 'ase.conf');
  let conf: AseConf = { ...ASE_CONF_DEFAULTS, xff_trusted_proxies: [...ASE_CONF_DEFAULTS.xff_trusted_proxies] };
  let confBytes: Buffer | undefined;
  try {
    confBytes = fs.readFileSync(confFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw invalidConfig([{ file: confFile, path: '', message: `cannot be read: ${code ?? String(err)}` }]);
  }
  if (confBytes !== undefined) {
    const decoded = decodeUtf8(confBytes);
    if (!decoded.ok) throw invalidConfig([{ file: confFile, path: '', message: decoded.message }]);
    const r = checkAseConf(decoded.text, confFile);
    if (r.problems.length > 0) throw invalidConfig(r.problems);
    conf = r.conf;
    warnings.push(...r.warnings);
  }
  return { conf, warnings };
}

/**
 * The PEM bundle `server_ca_cert_path` names (undefined for ""). A file that cannot be read is a
 * config error naming `source` (the ase.conf or the option that set it), not a bare fs error.
 */
export function readServerCa(file: string, source: string): Buffer | undefined {
  if (file === '') return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw invalidConfig([{ file: source, path: 'server_ca_cert_path', value: file, message: `cannot be read (${code}); it must be a readable PEM file, or ""` }]);
  }
}

/** Every `dir/api/*.json` in name order; a bad file throws unless `skipInvalidApis` is set. */
export function loadApiDir(dir: string, options: LoadConfigDirOptions = {}): { apis: Map<string, ApiJson>; warnings: string[] } {
  const warnings: string[] = [];
  const apis = new Map<string, ApiJson>();
  const apiDir = path.join(dir, 'api');
  let names: string[] = [];
  try {
    names = fs.readdirSync(apiDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw invalidConfig([{ file: apiDir, path: '', message: `cannot be read: ${code ?? String(err)}` }]);
  }
  const routes = new Map<string, string>();
  const rejected: ConfigProblem[] = [];
  const reject = (file: string, problems: readonly ConfigProblem[], why?: string): void => {
    rejected.push(...problems);
    warnings.push(why === undefined ? skipped(file, problems) : `${file}: skipped, ${why}`);
  };
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(apiDir, name);
    if (!isFile(file)) {
      reject(file, [{ file, path: '', message: 'not a regular file' }], 'not a regular file');
      continue;
    }
    const id = apiIdFromFile(name);
    const idProblem = apiIdProblem(id);
    if (idProblem) {
      reject(file, [{ file, path: '', message: idProblem }], idProblem);
      continue;
    }
    const r = checkApiFile(file);
    if (!r.api || r.problems.length > 0) {
      reject(file, r.problems);
      continue;
    }
    const key = routeKey(r.api);
    const other = routes.get(key);
    if (other !== undefined) {
      const why = `api \`${other}\` already has the same hostname and url`;
      reject(file, [{ file, path: '/api_metadata/url', value: r.api.api_metadata.url, message: why }], why);
      continue;
    }
    routes.set(key, id);
    apis.set(id, r.api);
    warnings.push(...r.warnings);
  }
  if (rejected.length > 0 && !options.skipInvalidApis) throw invalidConfig(rejected);
  return { apis, warnings };
}

/**
 * Configuration passed in code: `conf` as for normaliseAseConf, `apis` keyed by api id. Any
 * invalid API is a hard error (there is no skipping here): one AseConfigError lists every problem, with
 * JSON paths into the object given (`/apis/shop/api_metadata/url`).
 */
export function fromObjects(input: { conf?: Partial<Record<keyof AseConf, unknown>>; apis?: Record<string, ApiJsonInput> } = {}): LoadedConfig {
  const source = '<code>';
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const c = checkAseConfObject(input.conf ?? {}, source);
  problems.push(...c.problems.map((p) => ({ ...p, path: p.path === '' ? '/conf' : `/conf/${p.path}` })));
  warnings.push(...c.warnings);

  const apis = new Map<string, ApiJson>();
  const routes = new Map<string, string>();
  const given: unknown = input.apis ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given) || (Object.getPrototypeOf(given) !== Object.prototype && Object.getPrototypeOf(given) !== null)) {
    problems.push({ file: source, path: '/apis', message: 'must be a plain object of api id to API JSON' });
  } else {
    for (const id of Object.keys(given).sort()) {
      const raw = (given as Record<string, unknown>)[id];
      if (raw === undefined) continue;
      const at = `/apis/${id.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const idProblem = apiIdProblem(id);
      if (idProblem) {
        problems.push({ file: source, path: at, message: idProblem });
        continue;
      }
      const r = checkApiJson(raw, source, at, `${source} api \`${id}\``);
      if (!r.api || r.problems.length > 0) {
        problems.push(...r.problems);
        continue;
      }
      const key = routeKey(r.api);
      const other = routes.get(key);
      if (other !== undefined) {
        problems.push({ file: source, path: `${at}/api_metadata/url`, value: r.api.api_metadata.url, message: `api \`${other}\` already has the same hostname and url` });
        continue;
      }
      routes.set(key, id);
      apis.set(id, r.api);
      warnings.push(...r.warnings);
    }
  }
  if (problems.length > 0) throw invalidConfig(problems);
  return { conf: c.conf, apis, warnings };
}
