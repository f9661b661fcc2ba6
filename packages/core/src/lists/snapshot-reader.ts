import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads `lists.json` from its bytes, an entry at a time. One `JSON.parse` of the whole file built
 * a string of its size and an array of a million objects that all lived until the last one was in
 * its list, which the garbage collector copied to the old generation: with 1 000 000 entries that
 * was most of the start-up time (docs/performance.md). Here the file stays a Buffer, and an entry
 * is read from its bytes straight into the object `putEntry` takes, garbage as soon as it is in
 * its list. The file is the same JSON it always was: what `JSON.parse` refuses, this refuses, and
 * an entry this does not read itself (escapes, fractions, unknown fields) goes to `JSON.parse`.
 */

export type ListName = 'blacklist' | 'whitelist';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Reads `file` and hands each entry to `put`, the whole allow list before the deny list wherever
 * they are in the file. Throws (a SyntaxError when the file is not JSON) as `JSON.parse` of its
 * text would, possibly after some entries were handed over. Returns `seq` (0 when absent) and the
 * file's size.
 */
export function readSnapshot(file: string, put: (list: ListName, raw: unknown, i: number) => void): { seq: number; bytes: number } {
  const fd = openSync(file, 'r');
  try {
    return readFrom(fd, fstatSync(fd).size, put);
  } finally {
    closeSync(fd);
  }
}

/** Bytes read at a time into one reused buffer: a buffer the file's size cost more in page faults than the read itself. */
const WINDOW = 4 << 20;
/** Bytes kept ahead of each entry, so that an entry is read without a refill (a longer one goes to JSON.parse). */
const AHEAD = 64 << 10;

function readFrom(fd: number, size: number, put: (list: ListName, raw: unknown, i: number) => void): { seq: number; bytes: number } {
  const bytes = size;
  let store = Buffer.allocUnsafe(Math.min(WINDOW, Math.max(size, 1)));
  /** The bytes read and not yet dropped: the file from `base` on; positions (p) are in it. */
  let buf = store.subarray(0, 0);
  let base = 0;
  let seq = 0;
  let p = 0;
  /** Drops the bytes before `keep` (p moves with them) and reads more; returns how far positions moved. */
  const fill = (keep: number): number => {
    if (base + buf.length >= size) return 0;
    const len = buf.length - keep;
    store.copy(store, 0, keep, buf.length);
    if (len === store.length) {
      const bigger = Buffer.allocUnsafe(store.length * 2);
      store.copy(bigger, 0, 0, len);
      store = bigger;
    }
    base += keep;
    p -= keep;
    const n = readSync(fd, store, len, store.length - len, base + len);
    buf = store.subarray(0, len + n);
    if (n === 0) size = base + len; // the file shrank while read: its end is here
    return keep;
  };
  const seek = (at: number): void => {
    base = at;
    buf = store.subarray(0, 0);
    p = 0;
    fill(0);
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} in JSON at position ${base + p}`);
  };
  /** Skips white space within the bytes read (the fast path of an entry must not move them). */
  const ws = (): void => {
    while (isSpace(buf[p])) p++;
  };
  const skipSpace = (): void => {
    for (;;) {
      ws();
      if (p < buf.length) return;
      const read = base + buf.length;
      fill(p);
      if (base + buf.length === read) return; // the end of the file
    }
  };
  const expect = (c: number): void => {
    skipSpace();
    if (buf[p] !== c) fail(p >= buf.length ? 'Unexpected end of JSON input' : `Unexpected token '${String.fromCharCode(buf[p]!)}'`);
    p++;
  };
  /**
   * The end of the value at p: strings skipped whole, brackets counted; JSON.parse judges the rest.
   * `keep`: its bytes stay in the buffer (to be parsed); otherwise they are dropped as they go by.
   */
  const valueEnd = (keep = true): number => {
    let depth = 0;
    let inString = false;
    for (let i = p; ; i++) {
      if (i >= buf.length) {
        const read = base + buf.length;
        i -= fill(keep ? p : i);
        if (base + buf.length === read) break; // the end of the file
      }
      const c = buf[i]!;
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) {
          inString = false;
          if (depth === 0) return i + 1;
        }
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth <= 0) return depth < 0 ? i : i + 1;
      } else if (depth === 0 && (c === COMMA || isSpace(c))) return i;
    }
    if (inString) fail('Unterminated string');
    return buf.length;
  };
  const parseAt = (end: number): unknown => {
    const v: unknown = JSON.parse(buf.toString('utf8', p, end));
    p = end;
    return v;
  };

  /** The last string read for each field but `value` (names, tags and types repeat): reused when the bytes match. */
  const seen = new Map<string, string>();
  /** An entry's field value as JSON.parse would read it, or FALLBACK for what only JSON.parse reads right. */
  const scalar = (key: string): unknown => {
    const c = buf[p]!;
    if (c === QUOTE) {
      let ascii = true;
      let i = p + 1;
      for (let b = buf[i]; b !== QUOTE; b = buf[++i]) {
        if (b === undefined || b === BACKSLASH || b < 0x20) return FALLBACK;
        if (b >= 0x80) ascii = false;
      }
      const last = key === 'value' ? undefined : seen.get(key);
      let v: string;
      if (last !== undefined && ascii && last.length === i - p - 1 && startsWith(buf, p + 1, last)) v = last;
      else {
        v = buf.toString(ascii ? 'latin1' : 'utf8', p + 1, i);
        if (key !== 'value') seen.set(key, v);
      }
      p = i + 1;
      return v;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // Integers only (times, hit counts): fractions and exponents go to JSON.parse.
      const neg = c === 0x2d;
      let i = neg ? p + 1 : p;
      const first = i;
      let n = 0;
      for (let d = buf[i]! - 0x30; d >= 0 && d <= 9; d = buf[++i]! - 0x30) n = n * 10 + d;
      const digits = i - first;
      if (digits === 0 || digits > 15 || (digits > 1 && buf[first] === 0x30) || buf[i] === 0x2e || buf[i] === 0x65 || buf[i] === 0x45) return FALLBACK;
      p = i;
      return neg ? -n : n;
    }
    for (const [word, v] of LITERALS) {
      if (startsWith(buf, p, word)) {
        p += word.length;
        return v;
      }
    }
    return FALLBACK;
  };
  /** The entry at p: a flat object of known fields is read here, anything else by JSON.parse. */
  const entry = (): unknown => {
    const start = p;
    if (buf[p] === OPEN_BRACE) {
      const o: Record<string, unknown> = {};
      p++;
      ws();
      if (buf[p] === CLOSE_BRACE) {
        p++;
        return o;
      }
      for (;;) {
        ws();
        if (buf[p] !== QUOTE) break;
        const key = knownKey(buf, p + 1);
        if (key === undefined) break;
        p += key.length + 2;
        ws();
        if (buf[p] !== COLON) break;
        p++;
        ws();
        const v = scalar(key);
        if (v === FALLBACK) break;
        o[key] = v;
        ws();
        if (buf[p] === COMMA) p++;
        else if (buf[p] === CLOSE_BRACE) {
          p++;
          return o;
        } else break;
      }
    }
    p = start;
    return parseAt(valueEnd());
  };
  /** Hands over the entries of the array at p (its `[`). */
  const putAll = (list: ListName): void => {
    p++;
    skipSpace();
    if (buf[p] === CLOSE_BRACKET) {
      p++;
      return;
    }
    for (let i = 0; ; i++) {
      skipSpace();
      if (p >= buf.length || buf[p] === CLOSE_BRACKET || buf[p] === COMMA) fail('Unexpected token');
      if (buf.length - p < AHEAD) fill(p);
      put(list, entry(), i);
      skipSpace();
      if (buf[p] === COMMA) p++;
      else return expect(CLOSE_BRACKET);
    }
  };

  /** Where a deny list that came before the allow list starts (-1: none waits). */
  let denyAt = -1;
  let allowDone = false;
  expect(OPEN_BRACE);
  skipSpace();
  if (buf[p] === CLOSE_BRACE) p++;
  else {
    for (;;) {
      skipSpace();
      if (buf[p] !== QUOTE) fail('Expected property name');
      const key = parseAt(valueEnd()) as string;
      expect(COLON);
      skipSpace();
      if (key === 'whitelist' && buf[p] === OPEN_BRACKET) {
        putAll(key);
        allowDone = true;
      } else if (key === 'blacklist' && buf[p] === OPEN_BRACKET) {
        if (allowDone) putAll(key);
        else {
          // Skipped for now (checked by the end of this scan): the allow list is restored first.
          denyAt = base + p;
          p = valueEnd(false);
        }
      } else {
        const value = parseAt(valueEnd());
        if (key === 'seq') seq = typeof value === 'number' ? value : 0;
        else if ((key === 'blacklist' || key === 'whitelist') && value !== null) throw new TypeError(`${key} must be an array`);
        else if (key === 'blacklist') denyAt = -1;
      }
      skipSpace();
      if (buf[p] === COMMA) p++;
      else {
        expect(CLOSE_BRACE);
        break;
      }
    }
  }
  skipSpace();
  if (p < buf.length) fail(`Unexpected non-whitespace character after JSON`);
  if (denyAt >= 0) {
    seek(denyAt);
    putAll('blacklist');
  }
  return { seq, bytes };
}

const FALLBACK = Symbol('fallback');
const LITERALS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** The fields a stored entry has (StoredEntry); another key sends the entry to JSON.parse. */
const KEYS = ['type', 'value', 'name', 'tag', 'digest', 'expiresAt', 'addedAt', 'via', 'api', 'requestId', 'hits', 'lastHit'];

/** The known key whose name starts at `at` and is followed by its closing quote, if any. */
function knownKey(buf: Buffer, at: number): string | undefined {
  for (const k of KEYS) if (buf[at + k.length] === QUOTE && startsWith(buf, at, k)) return k;
  return undefined;
}

/** Whether the bytes at `at` are the ASCII `word`. */
function startsWith(buf: Buffer, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word.charCodeAt(i)) return false;
  return true;
}
