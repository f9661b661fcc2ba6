/**
 * The top-level members of a JSON object text with a given name, every one of them. `JSON.parse`
 * keeps the last of two members with the same name; other parsers keep the first (RFC 7519 §4 lets
 * a JWT parser keep the last, yet not every one does), so a JWT can name two users at once.
 */

/** Index just past the string literal that starts at `text[from]` (a `"`). */
function stringEnd(text: string, from: number): number {
  let i = from + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
  }
  return text.length;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Index just past the JSON value that starts at `text[from]` (not validated: `JSON.parse` already accepted the whole text). */
function valueEnd(text: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      if (depth === 0) return i;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) return i;
    i++;
  }
  return i;
}

/**
 * The values of every top-level member called `name` in `text`, a JSON object that `JSON.parse`
 * accepts, in order; member names are compared once unescaped (`"s\u0075b"` is `sub`).
 */
export function memberValues(text: string, name: string): unknown[] {
  const out: unknown[] = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return out;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === 0x22) {
    const keyEnd = stringEnd(text, i);
    const key: unknown = JSON.parse(text.slice(i, keyEnd));
    const start = skipSpace(text, skipSpace(text, keyEnd) + 1); // past `:`
    const end = valueEnd(text, start);
    if (key === name) out.push(JSON.parse(text.slice(start, end)));
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 0x2c) break;
    i = skipSpace(text, i + 1);
  }
  return out;
}
