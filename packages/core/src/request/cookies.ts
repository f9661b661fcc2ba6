/**
 * Cookie and query-string lookups for client identifiers. They never throw on attacker input:
 * cookie values are returned as sent ({@link decodeCookieValue} gives the app's view), query values are decoded the WHATWG
 * `application/x-www-form-urlencoded` way (malformed escapes stay literal, bad UTF-8 becomes U+FFFD).
 */

/** Most cookies kept from one request. */
export const MAX_COOKIES = 64;
/** Characters of the Cookie header read; a pair crossing this limit is ignored with everything after it. */
export const MAX_COOKIE_HEADER = 8192;

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Several Cookie headers as one (`; `-joined, as Node does), reading no more than the bound needs. */
function joinHead(values: readonly string[]): string {
  let out = '';
  for (const v of values) {
    out = out.length === 0 ? v : `${out}; ${v}`;
    if (out.length > MAX_COOKIE_HEADER) break;
  }
  return out;
}

/**
 * Cookie name → value. The first occurrence of a name wins; a value in double quotes is unquoted;
 * pairs without `=`, with an empty name or with an empty value are skipped; values are returned as
 * sent (no percent-decoding). At most {@link MAX_COOKIES} cookies from the first
 * {@link MAX_COOKIE_HEADER} characters. Names are case-sensitive.
 */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  let s = Array.isArray(header) ? joinHead(header) : header;
  if (s.length > MAX_COOKIE_HEADER) {
    // Keep only whole pairs inside the bound (a pair ending exactly at the bound is whole).
    const head = s.slice(0, MAX_COOKIE_HEADER + 1);
    const cut = head.lastIndexOf(';');
    s = cut < 0 ? '' : head.slice(0, cut);
  }
  const pairs = new CookiePairs(s);
  while (out.size < MAX_COOKIES && pairs.next()) {
    if (pairs.nameEnd > pairs.nameStart && pairs.valueEnd > pairs.valueStart) {
      const name = s.slice(pairs.nameStart, pairs.nameEnd);
      if (!out.has(name)) out.set(name, s.slice(pairs.valueStart, pairs.valueEnd));
    }
  }
  return out;
}

/**
 * Every value of the cookies called `name`, in order, from the WHOLE header (several Cookie headers
 * read as one `; `-joined line, as Node joins them): a string for one, an array for several,
 * undefined for none. Unlike {@link parseCookies} no pair count or length bound applies, because the
 * app's own cookie parser has none: padding or 64 junk cookies in front must not hide a copy. The
 * header itself is bounded by the HTTP server's header size limit, and nothing is allocated beyond
 * the values found. Same pair rules otherwise (OWS trimmed, quotes removed, empty values skipped).
 */
export function getCookieValues(header: string | string[] | undefined, name: string): string | string[] | undefined {
  if (header === undefined || name.length === 0) return undefined;
  const s = Array.isArray(header) ? header.join('; ') : header;
  let first: string | undefined;
  let more: string[] | undefined;
  const pairs = new CookiePairs(s);
  while (pairs.next()) {
    if (pairs.nameEnd - pairs.nameStart !== name.length || !regionIs(s, pairs.nameStart, name) || pairs.valueEnd <= pairs.valueStart) continue;
    const v = s.slice(pairs.valueStart, pairs.valueEnd);
    if (first === undefined) {
      first = v;
      // The common case: the name appears nowhere after this pair, so there is no other copy.
      if (s.indexOf(name, pairs.pairEnd) < 0) return first;
    } else (more ??= [first]).push(v);
  }
  return more ?? first;
}

/**
 * Walks the `name=value` pairs of a Cookie header without allocating: after each `next()` the
 * name and value are the ranges below, OWS trimmed, one pair of quotes removed from the value.
 * Parts without `=` are skipped.
 */
class CookiePairs {
  nameStart = 0;
  nameEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Index of the `;` ending the pair (or the header's length). */
  pairEnd = 0;
  private i = 0;

  constructor(private readonly s: string) {}

  next(): boolean {
    const s = this.s;
    const len = s.length;
    while (this.i < len) {
      const start = this.i;
      let end = s.indexOf(';', start);
      if (end < 0) end = len;
      this.i = end + 1;
      const eq = s.indexOf('=', start);
      if (eq < 0 || eq >= end) continue;
      let ns = start;
      let ne = eq;
      while (ns < ne && isOws(s.charCodeAt(ns))) ns++;
      while (ne > ns && isOws(s.charCodeAt(ne - 1))) ne--;
      let vs = eq + 1;
      let ve = end;
      while (vs < ve && isOws(s.charCodeAt(vs))) vs++;
      while (ve > vs && isOws(s.charCodeAt(ve - 1))) ve--;
      if (ve - vs >= 2 && s.charCodeAt(vs) === 0x22 && s.charCodeAt(ve - 1) === 0x22) {
        vs++;
        ve--;
      }
      this.nameStart = ns;
      this.nameEnd = ne;
      this.valueStart = vs;
      this.valueEnd = ve;
      this.pairEnd = end;
      return true;
    }
    return false;
  }
}

/**
 * A cookie value as the `cookie` package (Express's cookie-parser, Koa, @fastify/cookie) hands it
 * to the app: percent-decoded when it holds a `%`, as sent when that fails.
 */
export function decodeCookieValue(v: string): string {
  if (v.indexOf('%') < 0) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** `s.startsWith(name, at)` for a short name, without the builtin call (cookie names are a few characters). */
function regionIs(s: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (s.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * Decodes one form-urlencoded component: `+` is a space, valid `%XX` escapes are bytes, everything is
 * then read as UTF-8 (invalid sequences → U+FFFD); malformed escapes stay as written. Never throws.
 */
export function decodeFormComponent(s: string): string {
  const hasPlus = s.indexOf('+') >= 0;
  const pct = s.indexOf('%');
  if (pct < 0) return hasPlus ? s.split('+').join(' ') : s;
  const src = Buffer.from(hasPlus ? s.split('+').join(' ') : s, 'utf8');
  const dst = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] ?? 0;
    if (b === 0x25 && i + 2 < src.length) {
      const h1 = hexValue(src[i + 1] ?? 0);
      const h2 = hexValue(src[i + 2] ?? 0);
      if (h1 >= 0 && h2 >= 0) {
        dst[n++] = h1 * 16 + h2;
        i += 2;
        continue;
      }
    }
    dst[n++] = b;
  }
  return dst.toString('utf8', 0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * The first value of query parameter `name` (exact, case-sensitive, compared after decoding), decoded;
 * `undefined` when absent, '' for `?name` or `?name=`. `query` is "" or starts with `?`.
 * Repeated keys: the first wins, so `?apikey=a&apikey=b` is `a` whichever the backend reads.
 */
export function getQueryParam(query: string, name: string): string | undefined {
  return getQueryParams(query, name, 1)[0];
}

/**
 * Every value of a repeated query parameter, in order (at most `max`, unbounded by default: a copy
 * left unread after N decoys would be a way past the deny list; the target's length is bounded by
 * the HTTP server's header size limit). Backends disagree on which one counts (first, last, all),
 * so deny-list checks look at each of them.
 */
export function getQueryParams(query: string, name: string, max = Infinity): string[] {
  const out: string[] = [];
  const len = query.length;
  let i = query.charCodeAt(0) === 0x3f ? 1 : 0;
  while (i < len && out.length < max) {
    let end = query.indexOf('&', i);
    if (end < 0) end = len;
    if (end > i) {
      const eq = query.indexOf('=', i);
      const keyEnd = eq >= 0 && eq < end ? eq : end;
      if (decodeFormComponent(query.slice(i, keyEnd)) === name) {
        out.push(keyEnd === end ? '' : decodeFormComponent(query.slice(keyEnd + 1, end)));
      }
    }
    i = end + 1;
  }
  return out;
}
