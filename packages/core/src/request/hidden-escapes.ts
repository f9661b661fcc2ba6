/**
 * Escapes that show one thing to ASE and another to a receiver behind it.
 *
 * A receiver may decode a path more than once (a proxy that decodes, then an app that decodes
 * again), and an old or lax UTF-8 decoder reads overlong forms (`%C0%AE` for `.`, `%E0%80%AF` for
 * `/`). ASE decodes once and matches on that, so a path that a second decoding would change, or
 * that holds overlong UTF-8, is a spelling the policy never saw: refused (docs/security.md,
 * "Double-encoded and overlong spellings are refused").
 */

/** Hex value of `s[i]`, or -1. */
function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The byte escaped at `s[i]` (`%XX`) when the escape ends before `end`, else -1. */
export function escapedByteAt(s: string, i: number, end = s.length): number {
  if (i + 2 >= end || s.charCodeAt(i) !== 0x25) return -1;
  const h1 = hexAt(s, i + 1);
  const h2 = hexAt(s, i + 2);
  return h1 < 0 || h2 < 0 ? -1 : h1 * 16 + h2;
}

/**
 * True when byte `lead`, followed by `next` (-1: none), starts an overlong UTF-8 sequence: C0 and C1
 * never start a valid one, E0 80–9F and F0 80–8F are the overlong 3- and 4-byte forms.
 */
export function isOverlongStart(lead: number, next: number): boolean {
  if (lead === 0xc0 || lead === 0xc1) return true;
  if (lead === 0xe0) return next >= 0x80 && next <= 0x9f;
  if (lead === 0xf0) return next >= 0x80 && next <= 0x8f;
  return false;
}

/**
 * True when a path segment, as ASE forwards it, changes if decoded twice: it holds an escaped `%`
 * followed by two hex digits (`%252e`, `%2541`, and `%25%32%65`, which ASE's own decoding of
 * unreserved escapes turns into `%252e`). A lone `%25` (`100%25`) decodes to `%` and stays that.
 */
export function isDoubleEncoded(segment: string): boolean {
  for (let i = segment.indexOf('%25'); i >= 0; i = segment.indexOf('%25', i + 3)) {
    if (hexAt(segment, i + 3) >= 0 && hexAt(segment, i + 4) >= 0) return true;
  }
  return false;
}
