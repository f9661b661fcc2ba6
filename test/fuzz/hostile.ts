import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';

/*
 * Generators of hostile configuration data, shared by the generated tests of the loaders and of the
 * management API: wrong types, numbers out of range, control characters, very long strings,
 * `__proto__`/`constructor`/`prototype` keys, enormous arrays, deep nesting, and mutations of the
 * raw text (duplicate keys, invalid UTF-8, truncation).
 */

/** Seeded runs: a failure is reproduced by its seed and path, printed by fast-check. */
export const SEED = Number(process.env['ASE_FUZZ_SEED'] ?? 20_261_202);

const FIXTURES = path.resolve(__dirname, '..', '..', 'packages', 'core', 'test', 'config', 'fixtures');
const EXAMPLE_APIS = path.resolve(__dirname, '..', '..', 'examples', 'standalone', 'config', 'api');

/** Every valid sample API JSON of the repository: the reference's samples and the example's APIs. */
export const SAMPLE_APIS: readonly { name: string; json: Record<string, unknown> }[] = [
  ...fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => path.join(FIXTURES, f)),
  ...fs.readdirSync(EXAMPLE_APIS).filter((f) => f.endsWith('.json')).map((f) => path.join(EXAMPLE_APIS, f)),
].map((file) => ({ name: path.basename(file, '.json'), json: JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> }));

export const FORBIDDEN = ['__proto__', 'constructor', 'prototype'] as const;

const CONTROL = fc.constantFrom('\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\ufeff', '\ud800');

/** Strings a careless parser trips on. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 8 }), CONTROL, fc.string({ maxLength: 8 })).map(([a, c, b]) => `${a}${c}${b}`),
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(...FORBIDDEN, '', ' ', '/', '..', '../..', '*', '%00', '0/second', '99999999999999999/second', '9999999999yr', '0kb', 'GET', 'ws', '401', '1e3', 'NaN', 'Infinity', 'true', 'null'),
);

/** Numbers out of every range a configuration field has (NaN and Infinity become null in JSON). */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1.5, 65_535, 65_536, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, 5e-324, Number.NaN, Number.POSITIVE_INFINITY),
);

/** `{key: value}` with `key` as an own, enumerable property, even `__proto__`. */
export function ownKey(key: string, value: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

/** A value nested `depth` levels deep, in arrays or objects. */
function nested(depth: number, inObject: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = inObject ? { a: v } : [v];
  return v;
}

/** Any JSON value a field might be given instead of the right one. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom([], {}, [[]], [{}], ['GET'], [null], { host: '127.0.0.1', port: 8080 }),
  fc.integer({ min: 100, max: 60_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
  fc.integer({ min: 100, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  fc.tuple(fc.integer({ min: 20, max: 3_000 }), fc.boolean()).map(([d, o]) => nested(d, o)),
  fc.tuple(fc.constantFrom(...FORBIDDEN), fc.constantFrom<unknown>(1, { polluted: 'yes' }, [])).map(([k, v]) => ownKey(k, v)),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A JSON path into a parsed document, as segments. */
export type Segments = readonly (string | number)[];

/** Every path of `doc` (the root included). */
export function pathsOf(doc: unknown, base: Segments = []): Segments[] {
  const out: Segments[] = [base];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...pathsOf(v, [...base, i])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push(...pathsOf(v, [...base, k]));
  return out;
}

export function pointer(segments: Segments): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** One change to a parsed document at one path. */
export type Mutation =
  | { op: 'delete'; at: Segments }
  | { op: 'replace'; at: Segments; value: unknown }
  | { op: 'add'; at: Segments; key: string; value: unknown };

/** Mutations of `doc`: drop a field, give it a hostile value, or add a key (forbidden ones included) to an object. */
export function mutationOf(doc: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(doc);
  const objects = paths.filter((p) => {
    const v = valueAt(doc, p);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  const inner = paths.filter((p) => p.length > 0);
  const key = fc.oneof(fc.constantFrom(...FORBIDDEN), fc.constantFrom(...new Set(inner.map((p) => String(p[p.length - 1])))), hostileString);
  return fc.oneof(
    fc.constantFrom(...inner).map((at): Mutation => ({ op: 'delete', at })),
    fc.tuple(fc.constantFrom(...inner), hostileValue).map(([at, value]): Mutation => ({ op: 'replace', at, value })),
    fc.tuple(fc.constantFrom(...objects), key, hostileValue).map(([at, k, value]): Mutation => ({ op: 'add', at, key: k, value })),
  );
}

export function valueAt(doc: unknown, at: Segments): unknown {
  let cur = doc;
  for (const s of at) cur = (cur as Record<string | number, unknown>)[s];
  return cur;
}

/** A deep copy of `doc` with `m` applied (`doc` untouched). */
export function applyMutation(doc: unknown, m: Mutation): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  if (m.op === 'add') {
    Object.defineProperty(valueAt(copy, m.at) as object, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const parent = valueAt(copy, m.at.slice(0, -1)) as Record<string | number, unknown>;
  const last = m.at[m.at.length - 1]!;
  if (m.op === 'replace') Object.defineProperty(parent, last, { value: m.value, enumerable: true, writable: true, configurable: true });
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return copy;
}

/** The mutated path in a problem's terms: where the field is (an added key's own path). */
export function mutatedPointer(m: Mutation): string {
  return pointer(m.op === 'add' ? [...m.at, m.key] : m.at);
}

/** Changes to the raw bytes of a serialized document. */
export type TextMutation =
  | { op: 'none' }
  | { op: 'truncate'; at: number }
  | { op: 'bytes'; at: number; bytes: readonly number[] }
  | { op: 'duplicate'; key: string; value: unknown }
  | { op: 'bom' }
  | { op: 'crlf' };

/** Byte sequences that are not UTF-8: lone continuation bytes, overlongs, surrogates, truncated sequences. */
const INVALID_UTF8 = fc.constantFrom([0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe, 0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x98]);

export function textMutationOf(keys: readonly string[]): fc.Arbitrary<TextMutation> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<TextMutation>({ op: 'none' }) },
    fc.nat().map((at): TextMutation => ({ op: 'truncate', at })),
    fc.tuple(fc.nat(), INVALID_UTF8).map(([at, bytes]): TextMutation => ({ op: 'bytes', at, bytes })),
    fc.tuple(fc.constantFrom(...keys), fc.oneof(hostileValue, fc.boolean())).map(([key, value]): TextMutation => ({ op: 'duplicate', key, value })),
    fc.constant<TextMutation>({ op: 'bom' }),
    fc.constant<TextMutation>({ op: 'crlf' }),
  );
}

/**
 * The bytes of an API JSON document after `t`. A duplicate key is written first in `api_metadata`,
 * before the field of the same name the document already has.
 */
export function apiJsonBytes(doc: unknown, t: TextMutation): Buffer {
  const text = JSON.stringify(doc, null, 2) ?? '';
  switch (t.op) {
    case 'none':
      return Buffer.from(text);
    case 'truncate':
      return Buffer.from(text).subarray(0, t.at % Math.max(1, Buffer.byteLength(text)));
    case 'bytes': {
      const b = Buffer.from(text);
      const at = t.at % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(t.bytes), b.subarray(at)]);
    }
    case 'duplicate':
      return Buffer.from(text.replace(/"api_metadata": \{/, `"api_metadata": {\n    ${JSON.stringify(t.key)}: ${JSON.stringify(t.value) ?? 'null'},`));
    case 'bom':
      return Buffer.from(`\ufeff${text}`);
    case 'crlf':
      return Buffer.from(text.replace(/\n/g, '\r\n'));
  }
}

/** Object.prototype as it is now; `untouched(snapshot)` says whether anything was added or changed since. */
export function prototypeSnapshot(): Map<string, PropertyDescriptor | undefined> {
  return new Map(Reflect.ownKeys(Object.prototype).map((k) => [String(k), Object.getOwnPropertyDescriptor(Object.prototype, k)]));
}

export function prototypeUntouched(before: Map<string, PropertyDescriptor | undefined>): boolean {
  const now = prototypeSnapshot();
  if (now.size !== before.size) return false;
  for (const [k, d] of now) {
    const was = before.get(k);
    if (!was || !d || was.value !== d.value || was.get !== d.get || was.set !== d.set) return false;
  }
  return ({} as Record<string, unknown>)['polluted'] === undefined && Object.getPrototypeOf({}) === Object.prototype;
}

/** True when `a` is `b` or one of them lies under the other (`/x` and `/x/y`). */
export function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
