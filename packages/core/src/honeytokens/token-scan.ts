import type { Honeytoken, HoneytokenTable } from './honeytoken-table';

/** The characters of every planted value (base62 and `_`): a run of them is a candidate. */
function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * The first remembered honeytoken found in `s`, wherever it stands: a header's whole value, after
 * `Bearer `, in a cookie, a JSON document or a query string. Each run of token characters whose
 * length a remembered token has is one map lookup; other runs cost a comparison.
 */
export function findHoneytoken(table: HoneytokenTable, s: string): Honeytoken | undefined {
  const min = table.minLength;
  const max = table.maxLength;
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    if (i < s.length && isTokenChar(s.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      const n = i - start;
      if (n >= min && n <= max) {
        const t = table.get(s.slice(start, i));
        if (t) return t;
      }
      start = -1;
    }
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
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  return m ? Buffer.from(m[1]!, 'base64').toString('latin1') : undefined;
}
