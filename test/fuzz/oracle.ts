import { type Place, placeOf } from './policy';

/**
 * How the receivers behind the enforcer may read what they get: independent re-implementations of
 * the routers and decoders a backend or a host app puts between the request line and its handler.
 * Nothing here calls the enforcer's own code, so a spelling the enforcer and its receivers read
 * differently shows up as a difference.
 */

/** How many decoding layers a receiver may stack (a proxy that decodes, then an app that decodes again...). */
const DECODING_LAYERS = 3;

/** The path of a target as received: origin-form as is; absolute-form without scheme and authority; no query or fragment. */
export function rawPathOf(target: string): string {
  let path = target;
  const abs = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (abs) path = path.slice(abs[0].length);
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  return path.startsWith('/') ? path : `/${path}`;
}

/** A router that matches the path as received (Express, Koa's routers): segments, case folded, `;params` ignored, empty segments merged. */
function segmentsAsRouted(path: string): string[] {
  return path
    .split('/')
    .map((s) => {
      const semi = s.indexOf(';');
      return (semi >= 0 ? s.slice(0, semi) : s).toLowerCase();
    })
    .filter((s) => s.length > 0);
}

/**
 * The WHATWG URL parser (Node's `new URL`): dot segments (`..`, `%2e%2E`, `.%2e`) resolved, `\` read
 * as `/`. Spaces and control characters a decoding produced are data: they are escaped first, so
 * the parser does not trim them off the end.
 */
function resolvedAsUrl(path: string): string {
  const data = path.replace(/[\x00-\x20\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  try {
    return new URL(`http://h${data.startsWith('/') ? '' : '/'}${data}`).pathname;
  } catch {
    return path;
  }
}

/**
 * One decoding layer as a lax decoder does it: `%XX` escapes become bytes, bytes are read as UTF-8
 * that accepts overlong forms (`%C0%AE` is `.`, `%E0%80%AF` is `/`), and a byte that starts no valid
 * sequence stands for itself. An escape that is not `%` and two hex digits is left alone, and so are
 * `%3F` and `%23`: a decoded `?` or `#` is part of the path, no receiver parses a query out of it
 * again. A decoded `;` is read as a `;params` delimiter, as a router that decodes before it strips
 * them would.
 */
export function laxDecode(path: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const v = c === 0x25 && /^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3)) ? parseInt(path.slice(i + 1, i + 3), 16) : -1;
    if (v >= 0 && v !== 0x3f && v !== 0x23) {
      bytes.push(v);
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(path[i]!, 'utf8')) bytes.push(b);
  }
  let out = '';
  const cont = (k: number): boolean => k < bytes.length && (bytes[k]! & 0xc0) === 0x80;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0xc0 && b < 0xe0 && cont(i + 1)) {
      out += String.fromCodePoint(((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f));
      i += 1;
    } else if (b >= 0xe0 && b < 0xf0 && cont(i + 1) && cont(i + 2)) {
      out += String.fromCodePoint(((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f));
      i += 2;
    } else if (b >= 0xf0 && b < 0xf8 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      const cp = ((b & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : String.fromCharCode(b);
      i += cp <= 0x10ffff ? 3 : 0;
    } else out += String.fromCharCode(b);
  }
  return out;
}

/** One reading of a received target: which layer and which parser, and where it leads. */
export interface Reading {
  how: string;
  path: string;
  place: Place;
}

/**
 * Every way a receiver may read the target it got: the raw path and each of up to three lax decoding
 * layers, each both as a router matches it and as the URL parser resolves it.
 */
export function readings(target: string): Reading[] {
  const out: Reading[] = [];
  let path = rawPathOf(target);
  for (let layer = 0; layer <= DECODING_LAYERS; layer++) {
    const resolved = resolvedAsUrl(path);
    out.push({ how: `routed after ${layer} decodings`, path, place: placeOf(segmentsAsRouted(path.replace(/\\/g, '/'))) });
    out.push({ how: `URL-resolved after ${layer} decodings`, path: resolved, place: placeOf(segmentsAsRouted(resolved)) });
    const next = laxDecode(path);
    if (next === path) break;
    path = next;
  }
  return out;
}

/**
 * The host name a receiver reads from the request's Host lines: only when there is exactly one,
 * lower case, without port and one trailing dot; undefined otherwise.
 */
export function hostOf(hostLines: readonly string[]): string | undefined {
  if (hostLines.length !== 1) return undefined;
  const v = hostLines[0]!.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{0,5})?$/.exec(v);
  if (!m) return undefined;
  return m[1]!.replace(/\.$/, '');
}
