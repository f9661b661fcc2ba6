import type { GeneratedIdentity } from './identity-grammar';

/**
 * Whether a request carries a deny-listed identity (`bad`, or the user name `mallory`) in any copy
 * some receiver may read: Express's, Koa's and Fastify's own parsers and the common libraries
 * (`cookie`, Koa's `cookies`, URLSearchParams, a JWT library that keeps the first or the last of two
 * claims). Written apart from the enforcer's code, on purpose.
 */
export function carriesDenied(id: GeneratedIdentity): boolean {
  return deniedTokens(id) || deniedApiKeys(id) || deniedCookies(id) || deniedUsernames(id);
}

const lines = (id: GeneratedIdentity, name: string): string[] => id.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim());
const pieces = (line: string): string[] => line.split(',').map((p) => p.trim());
const query = (id: GeneratedIdentity, name: string): string[] => new URLSearchParams(id.query).getAll(name);

function bearerTokens(id: GeneratedIdentity): string[] {
  const out: string[] = [];
  for (const line of lines(id, 'authorization')) {
    for (const p of pieces(line)) {
      const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(p);
      if (m) out.push(m[1]!);
    }
  }
  return out;
}

function deniedTokens(id: GeneratedIdentity): boolean {
  return [...bearerTokens(id), ...query(id, 'access_token')].some((t) => t === 'bad');
}

function deniedApiKeys(id: GeneratedIdentity): boolean {
  return [...lines(id, 'x-api-key').flatMap(pieces), ...query(id, 'api_key')].some((k) => k === 'bad');
}

function deniedCookies(id: GeneratedIdentity): boolean {
  const header = lines(id, 'cookie').join('; ');
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq);
    let v = pair.slice(eq + 1).trim();
    // `cookie` (Express, Fastify) trims the name; Koa's `cookies` reads it after `; ` only, untrimmed.
    if (name.trim() !== 'sid') continue;
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    let decoded = v;
    try {
      decoded = decodeURIComponent(v);
    } catch {
      // kept as sent, as the `cookie` package does
    }
    if (v === 'bad' || decoded === 'bad') return true;
  }
  return false;
}

/** Every top-level `sub` of every bearer JWT, duplicates included, as a first- or last-wins parser would read it. */
function deniedUsernames(id: GeneratedIdentity): boolean {
  for (const t of bearerTokens(id)) {
    const parts = t.split('.');
    if (parts.length !== 3) continue;
    const text = Buffer.from(parts[1]!, 'base64url').toString('utf8');
    for (const v of topLevelValues(text, 'sub')) {
      const first = Array.isArray(v) ? v[0] : v;
      if (first === 'mallory') return true;
    }
  }
  return false;
}

/** The values of every top-level member called `key` of a JSON object text, in order (duplicates kept). */
function topLevelValues(text: string, key: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let i = 0;
  const stringEnd = (from: number): number => {
    let j = from + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(i);
      if (depth === 1) {
        const after = text.slice(end).match(/^\s*:\s*/);
        if (after && JSON.parse(text.slice(i, end)) === key) {
          const valueStart = end + after[0].length;
          let valueEnd = valueStart;
          let d = 0;
          while (valueEnd < text.length) {
            const ch = text[valueEnd]!;
            if (ch === '"') {
              valueEnd = stringEnd(valueEnd);
              if (d === 0) break;
              continue;
            }
            if (ch === '{' || ch === '[') d++;
            else if (ch === '}' || ch === ']') {
              if (d === 0) break;
              d--;
              if (d === 0) {
                valueEnd++;
                break;
              }
            } else if (ch === ',' && d === 0) break;
            valueEnd++;
          }
          try {
            out.push(JSON.parse(text.slice(valueStart, valueEnd)));
          } catch {
            // not a JSON value: no receiver reads it either
          }
        }
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return out;
}
