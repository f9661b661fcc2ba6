import type { ErrorObject, SchemaObject } from 'ajv';
import { type ConfigProblem, MAX_PROBLEMS, clip, moreProblems } from '../errors';
import { valueAt } from './json-data';
import { closest } from './suggest';

/*
 * The `x-accepts` annotation: every field schema carries its accepted form in words, and ajv's
 * errors are turned back into one readable line per bad field with it, whatever ajv found wrong.
 */

export type Schema = SchemaObject;

/** Annotation keyword: the accepted form of a field, completing "must be ..." in error messages. */
export const ACCEPTS = 'x-accepts';
const STATUS_FORM = 'an HTTP status code from 100 to 599 (a number or a string like "401")';

export function str(pattern: string, accepts: string, def: string | undefined, maxLength = 1024): Schema {
  const s: Schema = { type: 'string', pattern, maxLength, [ACCEPTS]: accepts };
  if (def !== undefined) s['default'] = def;
  return s;
}
export function bool(def: boolean): Schema {
  return { type: 'boolean', default: def, [ACCEPTS]: 'true or false' };
}
export function int(min: number, max: number, accepts: string, def?: number): Schema {
  const s: Schema = { type: 'integer', minimum: min, maximum: max, [ACCEPTS]: accepts };
  if (def !== undefined) s['default'] = def;
  return s;
}
export function status(def: string | number, allowEmpty: boolean): Schema {
  return {
    default: def,
    [ACCEPTS]: allowEmpty ? `${STATUS_FORM}, or ""` : STATUS_FORM,
    anyOf: [
      { type: 'integer', minimum: 100, maximum: 599 },
      { type: 'string', pattern: allowEmpty ? '^(?:[1-5][0-9]{2})?$' : '^[1-5][0-9]{2}$' },
    ],
  };
}
export function obj(properties: Record<string, Schema>, opts: { required?: string[]; withDefault?: boolean; accepts?: string } = {}): Schema {
  const s: Schema = {
    type: 'object',
    properties,
    additionalProperties: false,
    [ACCEPTS]: opts.accepts ?? `an object with the keys ${Object.keys(properties).join(', ')}`,
  };
  if (opts.required && opts.required.length > 0) s['required'] = opts.required;
  if (opts.withDefault) s['default'] = {};
  return s;
}

function unescapeSegment(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The sub-schema describing the data at a JSON pointer. */
function schemaAt(root: Schema, ptr: string): Schema | undefined {
  let cur: Schema | undefined = root;
  if (ptr === '') return cur;
  for (const raw of ptr.slice(1).split('/')) {
    if (!cur) return undefined;
    const seg = unescapeSegment(raw);
    const props = cur['properties'] as Record<string, Schema> | undefined;
    if (props && Object.prototype.hasOwnProperty.call(props, seg)) cur = props[seg];
    else if (cur['items'] && /^\d+$/.test(seg)) cur = cur['items'] as Schema;
    else if (cur['additionalProperties'] && typeof cur['additionalProperties'] === 'object') cur = cur['additionalProperties'] as Schema;
    else return undefined;
  }
  return cur;
}

function acceptsAt(root: Schema, ptr: string): string | undefined {
  const a = schemaAt(root, ptr)?.[ACCEPTS];
  return typeof a === 'string' ? a : undefined;
}

function childPointer(parent: string, key: string): string {
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Turns ajv's errors into one problem per bad field: anyOf branches, pattern + maxLength and the
 * like collapse into a single line carrying the field's accepted form.
 */
export function toProblems(root: Schema, errors: readonly ErrorObject[], data: unknown, file: string, prefix: string): ConfigProblem[] {
  const out = new Map<string, ConfigProblem>();
  const byPath = new Map<string, ErrorObject[]>();
  /** Fields past MAX_PROBLEMS: counted, not described (a suggestion costs an edit distance per known key). */
  const unlisted = new Set<string>();
  const full = (ptr: string): boolean => {
    if (out.has(ptr) || out.size < MAX_PROBLEMS) return false;
    unlisted.add(ptr);
    return true;
  };
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty: unknown }).additionalProperty);
      const ptr = childPointer(e.instancePath, key);
      if (full(ptr)) continue;
      const props = schemaAt(root, e.instancePath)?.['properties'] as Record<string, Schema> | undefined;
      const known = props ? Object.keys(props) : [];
      const hint = closest(key, known);
      let message = `unknown key \`${clip(key)}\``;
      if (hint) message += `; did you mean \`${hint}\`?`;
      if (known.length > 0) message += `${hint ? ' Known' : '; known'} keys: ${known.join(', ')}`;
      if (!out.has(ptr)) out.set(ptr, { file, path: prefix + ptr, message });
      continue;
    }
    if (e.keyword === 'required') {
      const key = String((e.params as { missingProperty: unknown }).missingProperty);
      const ptr = childPointer(e.instancePath, key);
      if (full(ptr)) continue;
      const accepts = acceptsAt(root, ptr);
      if (!out.has(ptr)) out.set(ptr, { file, path: prefix + ptr, message: `is required${accepts ? `; it must be ${accepts}` : ''}` });
      continue;
    }
    if (e.keyword === 'propertyNames') continue; // reported through its own `pattern` error below
    const list = byPath.get(e.instancePath);
    if (list) list.push(e);
    else byPath.set(e.instancePath, [e]);
  }
  for (const [ptr, list] of byPath) {
    if (out.has(ptr) || full(ptr)) continue;
    const accepts = acceptsAt(root, ptr);
    const tooLong = list.find((e) => e.keyword === 'maxLength' || e.keyword === 'maxItems' || e.keyword === 'maxProperties');
    const nameError = list.find((e) => e.propertyName !== undefined);
    let message: string;
    if (nameError) {
      const name = String(nameError.propertyName);
      message = `has an invalid header name \`${clip(name)}\`; it must be ${accepts ?? 'a header name'}`;
    } else if (tooLong) {
      const limit = (tooLong.params as { limit?: unknown }).limit;
      const what = tooLong.keyword === 'maxLength' ? 'characters' : 'entries';
      message = `is too long (at most ${String(limit)} ${what}); it must be ${accepts ?? 'shorter'}`;
    } else if (accepts) {
      message = `must be ${accepts}`;
    } else {
      message = list.map((e) => e.message ?? e.keyword).join('; ');
    }
    out.set(ptr, { file, path: prefix + ptr, value: nameError ? undefined : valueAt(data, ptr), message });
  }
  return unlisted.size > 0 ? [...out.values(), moreProblems(file, unlisted.size)] : [...out.values()];
}
