/**
 * Request-target normalisation: the one place a raw `req.url` becomes the path the policy sees.
 *
 * Node hands us the request-target untouched (`..`, `%2e%2e`, `%2F`, `\`, `;params`, `#frag`, `//` and
 * absolute-form all arrive as sent), and every known path-matching bypass in proxies (Envoy
 * CVE-2019-9901/CVE-2021-29492/CVE-2021-32779, Traefik CVE-2025-32431, rou3 `//path`) comes from matching
 * one form and forwarding another. So the path is normalised once, here, and:
 *   - `path` (forward form) is what the backend receives: unreserved escapes decoded, other escapes in
 *     upper-case hex, slashes merged, dot segments resolved; case, `;params` and a trailing slash kept.
 *   - `matchPath` is what policy matching uses: `path` lower-cased, `;params` and empty segments dropped,
 *     no trailing slash. It is at least as broad as the most permissive backend router.
 * Anything ambiguous (encoded slash, backslash or semicolon, encoded control characters, malformed
 * escapes, overlong UTF-8, an escape a second decoding would change (hidden-escapes.ts), a path
 * that climbs above the root) is refused instead of guessed at.
 *
 * Never throws, no regular expressions, and the already-clean common case (`/shop/items?id=1`) costs two
 * linear scans and returns slices of the input.
 */
import { escapedByteAt, isDoubleEncoded, isOverlongStart } from './hidden-escapes';

export type NormalizedTarget =
  | {
      ok: true;
      path: string;
      matchPath: string;
      query: string;
      /**
       * Only when the target had dot segments: the matching form of its path with them kept as
       * plain segments (`/members/../x` → `/members/../x`), which is what a host app's router that
       * does not resolve them matches on.
       */
      literalMatchPath?: string;
    }
  | { ok: false; reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const QUESTION = 0x3f;
const HASH = 0x23;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;

const HEX_UPPER = '0123456789ABCDEF';

function fail(reason: string): NormalizedTarget {
  return { ok: false, reason };
}

/** Value of one hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === DOT ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** `http://` or `https://` (any case) at the start: the index just after `//`, else -1. */
function absoluteFormAuthorityStart(t: string): number {
  const lower4 = t.slice(0, 4).toLowerCase();
  if (lower4 !== 'http') return -1;
  let i = 4;
  if (t.charCodeAt(i) === 0x73 || t.charCodeAt(i) === 0x53) i++; // s / S
  if (t.charCodeAt(i) !== 0x3a || t.charCodeAt(i + 1) !== SLASH || t.charCodeAt(i + 2) !== SLASH) return -1;
  return i + 3;
}

/**
 * Normalises a raw request-target (`req.url`). Origin-form (`/p?q`) and absolute-form
 * (`http://host/p?q`, whose host is ignored: the `Host` header decides the API) are accepted;
 * `*`, authority-form and anything else is not ok.
 */
export function normalizeTarget(rawTarget: string): NormalizedTarget {
  const t = rawTarget;
  const len = t.length;
  let start = 0;
  if (t.charCodeAt(0) !== SLASH) {
    const auth = absoluteFormAuthorityStart(t);
    if (auth < 0) return fail('request-target is not origin-form or absolute-form');
    start = len;
    for (let i = auth; i < len; i++) {
      const c = t.charCodeAt(i);
      if (c === SLASH || c === QUESTION || c === HASH) {
        start = i;
        break;
      }
    }
  }

  // One scan to the end of the path: find `?`/`#`, whether the path needs the slow path, and
  // whether its matching form could differ from it (upper case, `;`).
  let end = len;
  let clean = true;
  let plain = true;
  for (let i = start; i < len; i++) {
    const c = t.charCodeAt(i);
    if (c === QUESTION || c === HASH) {
      end = i;
      break;
    }
    if (c === PERCENT || c === BACKSLASH || c <= 0x20 || c >= 0x7f) clean = false;
    else if (c === SLASH) {
      const n = t.charCodeAt(i + 1); // NaN past the end
      if (n === SLASH || n === DOT) clean = false;
    } else if ((c >= 0x41 && c <= 0x5a) || c === SEMICOLON) plain = false;
  }

  let query = '';
  if (end < len && t.charCodeAt(end) === QUESTION) {
    const hash = t.indexOf('#', end + 1);
    query = hash < 0 ? t.slice(end) : t.slice(end, hash);
  }

  let path: string;
  if (start === end) {
    path = '/'; // absolute-form without a path
  } else if (clean) {
    path = start === 0 && end === len ? t : t.slice(start, end);
    // No upper case, `;` or `//` (not clean), and no trailing slash: toMatchPath would return it as is.
    if (plain && (path.length === 1 || path.charCodeAt(path.length - 1) !== SLASH)) return { ok: true, path, matchPath: path, query };
  } else {
    const dots = { seen: false };
    const r = normalizeSlow(t, start, end, dots);
    if (typeof r !== 'string') return r;
    path = r;
    if (dots.seen) {
      const literal = normalizeSlow(t, start, end, undefined);
      if (typeof literal === 'string') return { ok: true, path, matchPath: toMatchPath(path), query, literalMatchPath: toMatchPath(literal) };
    }
  }
  return { ok: true, path, matchPath: toMatchPath(path), query };
}

/**
 * Segment-by-segment normalisation of `t[start, end)`, which starts with `/`. With `dots`, dot
 * segments are resolved and `dots.seen` says whether there were any; without, they are kept as
 * plain segments (the literal spelling).
 */
function normalizeSlow(t: string, start: number, end: number, dots: { seen: boolean } | undefined): string | NormalizedTarget {
  const segs: string[] = [];
  // The segments as RFC 3986 resolution sees them, empty ones included (true), kept once a `//`
  // appears: a `..` that removes an empty segment there removes a real one here (`/members//..`
  // is `/members/` to a WHATWG or RFC 3986 resolver, `/` once slashes are merged), so it is refused.
  let rfc: boolean[] | undefined;
  let trailingSlash = false;
  let i = start;
  while (i < end) {
    i++; // past the `/`
    const segStart = i;
    let built: string | undefined; // only allocated when the segment changes
    let doubleEncoded = false;
    let copiedTo = segStart;
    while (i < end) {
      const c = t.charCodeAt(i);
      if (c === SLASH) break;
      if (c === PERCENT) {
        if (i + 2 >= end) return fail('malformed percent-escape in path');
        const c1 = t.charCodeAt(i + 1);
        const c2 = t.charCodeAt(i + 2);
        const h1 = hexValue(c1);
        const h2 = hexValue(c2);
        if (h1 < 0 || h2 < 0) return fail('malformed percent-escape in path');
        const v = h1 * 16 + h2;
        if (v === SLASH) return fail('encoded slash in path');
        if (v === BACKSLASH) return fail('encoded backslash in path');
        if (v < 0x20 || v === 0x7f) return fail('encoded control character in path');
        // `;` is the one delimiter path matching itself reads (`;params`): a receiver that decodes
        // before it strips them would see another path.
        if (v === SEMICOLON) return fail('encoded semicolon in path');
        if (isOverlongStart(v, escapedByteAt(t, i + 3, end))) return fail('overlong UTF-8 in path');
        if (v === PERCENT) doubleEncoded = true;
        let rep: string | undefined;
        if (isUnreserved(v)) rep = String.fromCharCode(v);
        else if (c1 >= 0x61 || c2 >= 0x61) rep = `%${HEX_UPPER[h1]}${HEX_UPPER[h2]}`; // lower-case hex digit
        if (rep !== undefined) {
          built = (built ?? '') + t.slice(copiedTo, i) + rep;
          copiedTo = i + 3;
        }
        i += 3;
        continue;
      }
      if (c === BACKSLASH) return fail('backslash in path');
      if (c <= 0x20 || c >= 0x7f) return fail('invalid character in path');
      i++;
    }
    const seg = built === undefined ? t.slice(segStart, i) : built + t.slice(copiedTo, i);
    if (doubleEncoded && isDoubleEncoded(seg)) return fail('double-encoded escape in path');
    const last = i >= end;
    if (seg.length === 0) {
      // `//` collapses; a final empty segment is the trailing slash.
      if (last) trailingSlash = true;
      else if (dots !== undefined) (rfc ??= segs.map(() => false)).push(true);
      continue;
    }
    if (dots !== undefined && seg.charCodeAt(0) === DOT) {
      // A dot segment is `.` or `..`, optionally followed by `;params` (`/a/..;x=1/b` → `/b`).
      const semi = seg.indexOf(';');
      const base = semi < 0 ? seg : seg.slice(0, semi);
      if (base === '.') {
        dots.seen = true;
        if (last) trailingSlash = true;
        continue;
      }
      if (base === '..') {
        dots.seen = true;
        if (rfc?.pop() === true) return fail('dot segment removes an empty segment');
        if (segs.length === 0) return fail('path climbs above the root');
        segs.pop();
        if (last) trailingSlash = true;
        continue;
      }
    }
    segs.push(seg);
    rfc?.push(false);
  }
  if (segs.length === 0) return '/';
  const joined = `/${segs.join('/')}`;
  return trailingSlash ? `${joined}/` : joined;
}

/**
 * The matching form of a normalised path: ASCII lower case, `;params` removed from every segment,
 * empty segments dropped, no trailing slash (root stays `/`). `/SHOP/Admin;x=1/` → `/shop/admin`.
 * Expects a path that went through {@link normalizeTarget} (or a configured path without dot segments).
 */
export function toMatchPath(path: string): string {
  const len = path.length;
  let clean = true;
  for (let i = 0; i < len; i++) {
    const c = path.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c === SEMICOLON || (c === SLASH && (i === len - 1 || path.charCodeAt(i + 1) === SLASH))) {
      clean = false;
      break;
    }
  }
  if (clean) return len === 0 ? '/' : path;
  if (len === 1 && path.charCodeAt(0) === SLASH) return path;

  let out = '';
  let i = 0;
  while (i < len) {
    if (path.charCodeAt(i) === SLASH) {
      i++;
      continue;
    }
    const segStart = i;
    let segEnd = -1; // position of the first `;` in this segment
    while (i < len) {
      const c = path.charCodeAt(i);
      if (c === SLASH) break;
      if (c === SEMICOLON && segEnd < 0) segEnd = i;
      i++;
    }
    if (segEnd < 0) segEnd = i;
    if (segEnd > segStart) out += `/${asciiLower(path.slice(segStart, segEnd))}`;
  }
  return out.length === 0 ? '/' : out;
}

/** Lower-cases A–Z only (`toLowerCase` would also fold non-ASCII letters). */
function asciiLower(s: string): string {
  let out = '';
  let copiedTo = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      out += s.slice(copiedTo, i) + String.fromCharCode(c + 0x20);
      copiedTo = i + 1;
    }
  }
  return copiedTo === 0 ? s : out + s.slice(copiedTo);
}
