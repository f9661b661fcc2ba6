import fc from 'fast-check';

/**
 * Request targets as attackers spell them: words of the policy's paths (`shop`, `admin`, `app`,
 * `secret`, `members`, `guarded`) and dot segments, each character possibly percent-encoded (lower or
 * upper hex), double- or triple-encoded (`%252e`), in overlong UTF-8 (`%c0%ae`), or case-flipped;
 * segments with `;params` or a trailing dot; separators spelled `//`, `%2f`, `%5c`, `\`, `%252f`;
 * `%00`; absolute-form; queries and fragments; very long segments and long runs of `x/..`.
 */

const WORDS = ['shop', 'admin', 'items', 'app', 'secret', 'members', 'me', 'guarded', 'x', '.', '..', '...', ''];

type CharSpelling = 'raw' | 'lower' | 'upper' | 'double' | 'triple' | 'overlong' | 'overlong3' | 'case';
const CHAR_SPELLINGS: CharSpelling[] = ['raw', 'raw', 'raw', 'lower', 'upper', 'double', 'triple', 'overlong', 'overlong3', 'case'];

const hex = (c: number): string => c.toString(16).padStart(2, '0');

export function spellChar(ch: string, how: CharSpelling): string {
  const c = ch.charCodeAt(0);
  switch (how) {
    case 'raw':
      return ch;
    case 'lower':
      return `%${hex(c)}`;
    case 'upper':
      return `%${hex(c).toUpperCase()}`;
    case 'double':
      return `%25${hex(c)}`;
    case 'triple':
      return `%2525${hex(c)}`;
    case 'overlong':
      return `%${hex(0xc0 | (c >> 6))}%${hex(0x80 | (c & 0x3f))}`;
    case 'overlong3':
      return `%e0%${hex(0x80 | (c >> 6))}%${hex(0x80 | (c & 0x3f))}`;
    case 'case':
      return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
  }
}

const spelling = fc.oneof({ weight: 3, arbitrary: fc.constant<CharSpelling[]>(['raw']) }, { weight: 2, arbitrary: fc.array(fc.constantFrom(...CHAR_SPELLINGS), { minLength: 3, maxLength: 3 }) });

const spell = (word: string, hows: CharSpelling[]): string => [...word].map((ch, i) => spellChar(ch, hows[i % hows.length]!)).join('');

const spelledWord = (words: readonly string[]): fc.Arbitrary<string> => fc.tuple(fc.constantFrom(...words), spelling).map(([word, hows]) => spell(word, hows));

const decoration = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(';x=1', ';', '.', '%00', '%2500', '%3b', '%20', '%3f', '%23', '%2e') });

const segment = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(spelledWord(WORDS), decoration).map(([w, d]) => w + d) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 4000 }).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 400 }).map((n) => Array.from({ length: n }, () => 'x/..').join('/')) },
);

const separator = fc.oneof({ weight: 8, arbitrary: fc.constant('/') }, { weight: 1, arbitrary: fc.constantFrom('//', '%2f', '%2F', '%5c', '\\', '%252f', '/./', '%c0%af', '/;/') });

/** Any words in any order. */
const wordSalad = fc.array(fc.tuple(separator, segment), { minLength: 1, maxLength: 6 }).map((parts) => parts.map(([sep, seg], i) => (i === 0 ? '/' : sep) + seg).join(''));

/** A policy path, then dot segments climbing out of it, then another path: `/members/%2e%2e/x`, `/x/../shop/admin`. */
const detour = fc
  .tuple(
    fc.constantFrom('', 'shop', 'shop/admin', 'shop/items', 'app', 'app/secret', 'members', 'members/me', 'guarded', 'x', 'x/y'),
    fc.array(fc.tuple(fc.constantFrom('..', '.', '..;x', '.;'), spelling, separator), { minLength: 1, maxLength: 3 }),
    fc.constantFrom('', 'x', 'items', 'shop/items', 'shop/admin', 'app/secret', 'app/items', 'members/me', 'guarded', '/'),
    spelling,
  )
  .map(([from, dots, to, hows]) => {
    const head = from ? `/${from.split('/').map((w) => spell(w, hows)).join('/')}` : '';
    const climb = dots.map(([d, h, sep]) => sep + spell(d, h)).join('');
    return `${head}${climb}/${to}`.replace(/^(?!\/)/, '/');
  });

const tail = fc.constantFrom('', '', '', '/', '?q=1', '?x=/../shop/admin', '#frag', '?a=%2f..%5c');

const absolutePrefix = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('http://good.example', 'HTTP://evil.example:80', 'https://x') });

/** A request-target: an optional absolute-form prefix, a path (words in any order, or a detour through dot segments), a query or fragment. */
export const targetArb: fc.Arbitrary<string> = fc
  .tuple(absolutePrefix, fc.oneof(wordSalad, detour), tail)
  .map(([prefix, path, end]) => `${prefix}${path}${end}`)
  .filter((t) => t.length < 12000);
