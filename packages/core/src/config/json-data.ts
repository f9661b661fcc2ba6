import { type ConfigProblem, MAX_PROBLEMS, clip, moreProblems } from '../errors';

/** Keys refused anywhere in configuration objects: they lead to prototype pollution in merges. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted in configuration data (real files nest four levels). */
const MAX_DEPTH = 32;
/** Most entries in one object or list (the largest list of the API JSON, `servers`, takes 256). */
export const MAX_ENTRIES = 1024;
/** Most values in one document (256 servers with every field are about 1 300): bounds the schema check's work. */
export const MAX_VALUES = 10_000;

/** `/a/b~1c`: RFC 6901 JSON pointer of a path. */
export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Deep-copies configuration data as plain JSON data and reports what is not: keys `__proto__`,
 * `constructor`, `prototype`; functions, symbols, bigints, non-finite numbers; class instances
 * (Date, Map, ...); cycles; absurd nesting; more than MAX_ENTRIES entries in one object or list, or
 * MAX_VALUES values in all (the rest is not looked at). At most MAX_PROBLEMS problems are listed.
 * A property whose value is `undefined` means "not set" and is left out. The caller's object is never modified, and nothing outside it is read but own
 * enumerable string keys.
 */
export function cloneJsonData(raw: unknown, file: string, base: readonly (string | number)[] = []): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let unlisted = 0;
  const report = (p: ConfigProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else unlisted++;
  };
  const ancestors = new Set<object>();
  let values = 0;
  /** Thrown past MAX_VALUES: nothing more is looked at. */
  const tooLarge = Symbol('too large');

  const walk = (v: unknown, path: (string | number)[]): unknown => {
    const at = (): string => pointer([...base, ...path]);
    if (++values > MAX_VALUES) {
      report({ file, path: at(), message: `makes the document too large (more than ${MAX_VALUES} values in all)` });
      throw tooLarge;
    }
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) report({ file, path: at(), value: String(v), message: 'must be a finite number' });
        return v;
      case 'object': {
        if (v === null) return null;
        if (ancestors.has(v)) {
          report({ file, path: at(), message: 'is a circular reference; configuration must be plain JSON data' });
          return undefined;
        }
        if (path.length >= MAX_DEPTH) {
          report({ file, path: at(), message: `is nested too deeply (more than ${MAX_DEPTH} levels)` });
          return undefined;
        }
        const count = Array.isArray(v) ? v.length : Object.keys(v).length;
        if (count > MAX_ENTRIES) {
          report({ file, path: at(), message: `has too many entries (${count}; at most ${MAX_ENTRIES} in one object or list)` });
          return undefined;
        }
        ancestors.add(v);
        try {
          if (Array.isArray(v)) {
            const out: unknown[] = [];
            for (let i = 0; i < v.length; i++) {
              const item: unknown = v[i];
              if (item === undefined) {
                report({ file, path: pointer([...base, ...path, i]), message: 'must not be undefined; configuration must be plain JSON data' });
                continue;
              }
              out.push(walk(item, [...path, i]));
            }
            return out;
          }
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) {
            report({ file, path: at(), message: 'must be a plain object (JSON data), not a class instance' });
            return undefined;
          }
          const out: Record<string, unknown> = {};
          for (const key of Object.keys(v)) {
            if (FORBIDDEN_KEYS.has(key)) {
              report({ file, path: pointer([...base, ...path, key]), message: `key \`${key}\` is not allowed in configuration` });
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
        report({ file, path: at(), message: `must be JSON data, not ${v === undefined ? 'undefined' : `a ${typeof v}`}` });
        return undefined;
    }
  };

  let value: unknown;
  try {
    value = walk(raw, []);
  } catch (err) {
    if (err !== tooLarge) throw err;
  }
  if (unlisted > 0) problems.push(moreProblems(file, unlisted));
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

/**
 * The text of a configuration file. Bytes that are not UTF-8 are an error, not U+FFFD: a file that
 * says something other than what its reader sees (an error body, a header value) must fail loudly.
 * A streaming decoder accepts a prefix exactly when it holds no invalid sequence, so the first bad
 * byte is found by bisection.
 */
export function decodeUtf8(bytes: Uint8Array): { ok: true; text: string } | { ok: false; message: string } {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    let good = 0;
    let bad = bytes.length;
    while (bad - good > 1) {
      const mid = (good + bad) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, mid), { stream: true });
        good = mid;
      } catch {
        bad = mid;
      }
    }
    const before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, good));
    const { line, column } = lineColumn(before, before.length);
    const byte = bytes[Math.min(good, bytes.length - 1)] ?? 0;
    return { ok: false, message: `is not valid UTF-8: byte 0x${byte.toString(16).padStart(2, '0')} at line ${line}, column ${column}` };
  }
}

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The first key that appears twice in one object of `text` (valid JSON), with its JSON path and
 * line. JSON.parse keeps the last copy silently, while a reader of the file sees the first: a file
 * with `"enable_blocking": true` above `"enable_blocking": false` must not be guessed at.
 */
export function firstDuplicateKey(text: string): { path: string; key: string; line: number } | undefined {
  /** One open object or list: its own segment in the path, the keys seen (objects), the next index (lists). */
  interface Open {
    segment: string | number | undefined;
    keys: Set<string> | undefined;
    key: string;
    index: number;
  }
  const open: Open[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const start = i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      const top = open[open.length - 1];
      let j = i;
      while (j < n && isJsonSpace(text.charCodeAt(j))) j++;
      if (top?.keys && text.charCodeAt(j) === 58) {
        const key = JSON.parse(text.slice(start, i)) as string;
        if (top.keys.has(key)) {
          const segments = [...open.slice(1).map((o) => o.segment!), key];
          return { path: pointer(segments), key, line: lineColumn(text, start).line };
        }
        top.keys.add(key);
        top.key = key;
      }
      continue;
    }
    if (c === 123 || c === 91) {
      const top = open[open.length - 1];
      open.push({ segment: top ? (top.keys ? top.key : top.index) : undefined, keys: c === 123 ? new Set() : undefined, key: '', index: 0 });
    } else if (c === 125 || c === 93) open.pop();
    else if (c === 44) {
      const top = open[open.length - 1];
      if (top && !top.keys) top.index++;
    }
    i++;
  }
  return undefined;
}

/**
 * The JSON document in a configuration file's bytes, or why there is none: not UTF-8, not JSON
 * (with line and column), or a key given twice in one object (with its path).
 */
export function parseJsonFile(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; path: string; message: string } {
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) return { ok: false, path: '', message: decoded.message };
  const parsed = parseJsonText(decoded.text);
  if (!parsed.ok) return { ok: false, path: '', message: parsed.message };
  const dup = firstDuplicateKey(decoded.text);
  if (dup) return { ok: false, path: dup.path, message: `duplicate key \`${clip(dup.key)}\` (line ${dup.line}); each key may appear once in an object` };
  return { ok: true, value: parsed.value };
}
