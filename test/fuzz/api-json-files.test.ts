import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { AseConfigError, type ApiJson, loadConfigDir, validateApiJson } from '@ase/core';
import { configDir } from '../helpers/config';
import {
  SAMPLE_APIS,
  SEED,
  type Mutation,
  type TextMutation,
  apiJsonBytes,
  applyMutation,
  mutatedPointer,
  mutationOf,
  prototypeSnapshot,
  prototypeUntouched,
  related,
  textMutationOf,
} from './hostile';

/*
 * Generated hostile API JSON files: each valid sample, mutated field by field (dropped, wrong type,
 * out of range, control characters, huge, deep, forbidden keys) and byte by byte (duplicate keys,
 * invalid UTF-8, truncation), loaded the way `ase start` and createEnforcer load them. The loader
 * either accepts the file, and then what it returns is complete JSON data that validates again to
 * itself, or throws AseConfigError whose every problem names the file and a JSON path; never another
 * exception, never slowly, and Object.prototype is never touched.
 */

/** Far above a real file's load (a few ms) and far below a hang, even on a loaded machine. */
const MAX_MS = 3_000;
const RUNS = 80;

/** True when `t` wrote a second copy of a key `doc`'s api_metadata has (the mutation may have dropped it). */
function duplicates(doc: unknown, t: TextMutation): boolean {
  const m = (doc as { api_metadata?: unknown } | null)?.api_metadata;
  return t.op === 'duplicate' && m !== null && typeof m === 'object' && !Array.isArray(m) && Object.prototype.hasOwnProperty.call(m, t.key);
}

/** A problem names what was mutated: the field (or an ancestor, or what it holds), or the text's flaw. */
function namesTheField(problems: AseConfigError['problems'], m: Mutation | undefined, t: TextMutation, duplicated: boolean): boolean {
  if (m && problems.some((p) => related(p.path, mutatedPointer(m)))) return true;
  if (t.op === 'truncate' || t.op === 'bytes') return problems.some((p) => p.path === '' && /line \d+, column \d+/.test(p.message));
  if (t.op === 'duplicate') return problems.some((p) => related(p.path, `/api_metadata/${t.key}`) && (!duplicated || /duplicate key/.test(p.message)));
  return false;
}

type Outcome = { ok: true; api: ApiJson } | { ok: false; error: unknown };

function load(dir: string, file: string): Outcome {
  try {
    const loaded = loadConfigDir(dir);
    const api = loaded.apis.get(path.basename(file, '.json'));
    if (!api) throw new Error('loaded without the API');
    return { ok: true, api };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('generated hostile API JSON files', () => {
  let dir: string;
  beforeEach(() => {
    dir = configDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(SAMPLE_APIS)('mutations of $name load completely or fail naming the file and field', ({ name, json }) => {
    const file = path.join(dir, 'api', `${name}.json`);
    const keys = Object.keys((json as { api_metadata: object }).api_metadata);
    const before = prototypeSnapshot();
    fc.assert(
      fc.property(fc.option(mutationOf(json), { nil: undefined, freq: 8 }), textMutationOf(keys), (m, t) => {
        const doc = m ? applyMutation(json, m) : json;
        fs.writeFileSync(file, apiJsonBytes(doc, t));
        const started = performance.now();
        const r = load(dir, file);
        const ms = performance.now() - started;
        expect(prototypeUntouched(before)).toBe(true);
        expect(ms).toBeLessThan(MAX_MS);
        if (r.ok) {
          // Complete plain JSON data: it survives a JSON round trip and validates again to itself.
          expect(JSON.parse(JSON.stringify(r.api))).toEqual(r.api);
          expect(validateApiJson(r.api, 'again').api).toEqual(r.api);
          // A duplicate key is never resolved silently in favour of one copy.
          expect(duplicates(doc, t)).toBe(false);
          if (t.op === 'bytes') throw new Error('a file that is not UTF-8 was accepted');
          return;
        }
        if (!(r.error instanceof AseConfigError)) throw r.error;
        expect(r.error.problems.length).toBeGreaterThan(0);
        expect(r.error.problems.length).toBeLessThanOrEqual(51);
        for (const p of r.error.problems) {
          expect(p.file).toBe(file);
          expect(p.path === '' || p.path.startsWith('/')).toBe(true);
        }
        expect(r.error.message.startsWith(file)).toBe(true);
        expect(r.error.message.length).toBeLessThan(64 * 1024);
        if (!namesTheField(r.error.problems, m, t, duplicates(doc, t))) throw new Error(`no problem names the mutated field:\n${r.error.message.slice(0, 2_000)}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 60_000);

  test('one bad file among good ones: refused with that file named, or skipped and reported with skipInvalidApis', () => {
    const good = SAMPLE_APIS;
    const mutations = fc.tuple(
      fc.constantFrom(...good),
      fc.constantFrom(...good).chain(({ json }) => mutationOf(json).map((m) => applyMutation(json, m))),
      textMutationOf(['url', 'enable_blocking']),
    );
    const before = prototypeSnapshot();
    fc.assert(
      fc.property(mutations, ([, bad, t]) => {
        fs.rmSync(path.join(dir, 'api'), { recursive: true, force: true });
        fs.mkdirSync(path.join(dir, 'api'));
        good.forEach((s, i) => fs.writeFileSync(path.join(dir, 'api', `good${i}.json`), JSON.stringify(s.json)));
        const badFile = path.join(dir, 'api', 'zz-bad.json');
        fs.writeFileSync(badFile, apiJsonBytes(bad, t));
        let strict: unknown;
        try {
          loadConfigDir(dir);
        } catch (err) {
          strict = err;
        }
        const skipping = loadConfigDir(dir, { skipInvalidApis: true });
        expect(prototypeUntouched(before)).toBe(true);
        for (let i = 0; i < good.length; i++) expect(skipping.apis.has(`good${i}`)).toBe(true);
        if (skipping.apis.has('zz-bad')) {
          expect(strict).toBeUndefined();
          return;
        }
        // Refused: without skipping, the whole directory is refused naming only the bad file.
        if (!(strict instanceof AseConfigError)) throw strict ?? new Error('the bad file was neither loaded nor refused');
        expect(new Set(strict.problems.map((p) => p.file))).toEqual(new Set([badFile]));
        expect(skipping.warnings.some((w) => w.startsWith(`${badFile}: skipped`))).toBe(true);
      }),
      { seed: SEED, numRuns: 25, endOnFailure: true },
    );
  }, 60_000);
});
