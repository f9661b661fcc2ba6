import type { Honeytoken, HoneytokenTable } from './honeytoken-table';

/** The characters of every planted value (base62 and `_`): a run of them is a candidate. */
function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * The first remembered honeytoken found in `s`, wherever it stands: a header's whole value, after
 * `Bearer `, in a cookie, a JSON document or a query string — as a whole run of token characters.
 * Only every `minLength`-th character is looked at until one is a token character (any run long
 * enough to be a token holds one of them), so a value shorter than the shortest token costs one
 * comparison and a long one a fraction of its length; a run of a token's length is one map lookup.
 */
export function findHoneytoken(table: HoneytokenTable, s: string): Honeytoken | undefined {
  const min = table.minLength;
  const max = table.maxLength;
  const n = s.length;
  let p = min - 1;
  while (p < n) {
    if (!isTokenChar(s.charCodeAt(p))) {
      p += min;
      continue;
    }
    let a = p;
    while (a > 0 && isTokenChar(s.charCodeAt(a - 1))) a--;
    let b = p + 1;
    while (b < n && isTokenChar(s.charCodeAt(b))) b++;
    const len = b - a;
    if (len >= min && len <= max) {
      const t = table.get(s.slice(a, b));
      if (t) return t;
    }
    // The next run starts after b: sampling again from there still meets every long enough run.
    p = b + min;
  }
  return undefined;
}

/** `s` percent-decoded when it holds escapes (a client may escape any character); `s` when they are malformed. */
export function decodedForScan(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The credentials of an `Authorization: Basic` value, decoded (an API key is often the user name). */
export function basicCredentials(value: string): string | undefined {
  // Most Authorization values are Bearer: skip the pattern for them.
  const c = value.charCodeAt(0);
  if (c !== 66 && c !== 98 && c !== 32 && c !== 9) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  return m ? Buffer.from(m[1]!, 'base64').toString('latin1') : undefined;
}
