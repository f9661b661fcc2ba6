import type { ConfigProblem } from '../errors';

/** Keys refused anywhere in configuration objects: they lead to prototype pollution in merges. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted in configuration data (real files nest four levels). */
const MAX_DEPTH = 32;

/** `/a/b~1c`: RFC 6901 JSON pointer of a path. */
export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Deep-copies configuration data as plain JSON data and reports what is not: keys `__proto__`,
 * `constructor`, `prototype`; functions, symbols, bigints, non-finite numbers; class instances
 * (Date, Map, ...); cycles; absurd nesting. A property whose value is `undefined` means "not set"
 * and is left out. The caller's object is never modified, and nothing outside it is read but own
 * enumerable string keys.
 */
export function cloneJsonData(raw: unknown, file: string, base: readonly (string | number)[] = []): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const ancestors = new Set<object>();

  const walk = (v: unknown, path: (string | number)[]): unknown => {
    const at = (): string => pointer([...base, ...path]);
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) problems.push({ file, path: at(), value: String(v), message: 'must be a finite number' });
        return v;
      case 'object': {
        if (v === null) return null;
        if (ancestors.has(v)) {
          problems.push({ file, path: at(), message: 'is a circular reference; configuration must be plain JSON data' });
          return undefined;
        }
        if (path.length >= MAX_DEPTH) {
          problems.push({ file, path: at(), message: `is nested too deeply (more than ${MAX_DEPTH} levels)` });
          return undefined;
        }
        ancestors.add(v);
        try {
          if (Array.isArray(v)) {
            const out: unknown[] = [];
            for (let i = 0; i < v.length; i++) {
              const item: unknown = v[i];
              if (item === undefined) {
                problems.push({ file, path: pointer([...base, ...path, i]), message: 'must not be undefined; configuration must be plain JSON data' });
                continue;
              }
              out.push(walk(item, [...path, i]));
            }
            return out;
          }
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) {
            problems.push({ file, path: at(), message: 'must be a plain object (JSON data), not a class instance' });
            return undefined;
          }
          const out: Record<string, unknown> = {};
          for (const key of Object.keys(v)) {
            if (FORBIDDEN_KEYS.has(key)) {
              problems.push({ file, path: pointer([...base, ...path, key]), message: `key \`${key}\` is not allowed in configuration` });
              continue;
            }
            const item: unknown = (v as Record<string, unknown>)[key];
            if (item === undefined) continue;
            out[key] = walk(item, [...path, key]);
          }
          return out;
        } finally {
          ancestors.delete(v);
        }
      }
      default:
        problems.push({ file, path: at(), message: `must be JSON data, not ${v === undefined ? 'undefined' : `a ${typeof v}`}` });
        return undefined;
    }
  };

  const value = walk(raw, []);
  return { value, problems };
}

/** The value at a JSON pointer (as produced by ajv's `instancePath`), or undefined. */
export function valueAt(root: unknown, ptr: string): unknown {
  if (ptr === '') return root;
  let cur: unknown = root;
  for (const raw of ptr.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Offset of the first character where `text` stops being JSON. Used only after JSON.parse failed,
 * because Node's messages do not always carry a position ("Unexpected token '}', ... is not valid
 * JSON"). Returns `text.length` for truncated input.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string): void => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const str = (): void => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= n) fail();
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      if (c === 92) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const num = (): void => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m ? m[0].length : 0;
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else num();
  };
  try {
    value(0);
    ws();
    return i < n ? i : n;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, n) : n;
  }
}

/** JSON.parse with a located error message (`line 3, column 5: Unexpected token ...`). */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; message: string; line: number; column: number } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/\s+in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '') : String(err);
    const { line, column } = lineColumn(body, jsonErrorOffset(body));
    return { ok: false, message: `is not valid JSON: ${reason} at line ${line}, column ${column}`, line, column };
  }
}
