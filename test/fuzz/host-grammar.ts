import fc from 'fast-check';

/**
 * `Host` lines as attackers write them: the API's host name in another case, with a trailing dot or
 * a port (empty, out of range); other names, IPv4, IPv6 and IPv4-mapped IPv6 literals, `localhost`;
 * userinfo, spaces and lists; no Host at all (HTTP/1.0), or two Host lines.
 */

const NAMES = ['good.example', 'GOOD.example', 'Good.Example', 'evil.example', 'good.example.evil', 'evil.good.example', 'good-example', 'localhost', '127.0.0.1', '0x7f.1', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0::1]', '[fe80::1%25eth0]', ''];

const decorated = fc
  .tuple(
    fc.constantFrom(...NAMES),
    fc.constantFrom('', '', '', '.', '..'),
    fc.constantFrom('', '', '', ':80', ':8080', ':', ':99999', ':0x50', ':80:80'),
    fc.constantFrom('', '', '', '', '@evil.example', ' evil', ', evil.example', '\t', '/x', '#'),
  )
  .map(([name, dot, port, junk]) => (name.startsWith('[') ? name + port + junk : name + dot + port + junk));

/** Zero, one (mostly) or two Host lines. */
export const hostLinesArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 8, arbitrary: decorated.map((h) => [h]) },
  { weight: 1, arbitrary: fc.constant<string[]>([]) },
  { weight: 2, arbitrary: fc.tuple(decorated, decorated).map(([a, b]) => [a, b]) },
);

/** Paths of every kind of place under the policy, lightly spelled. */
export const placePathArb: fc.Arbitrary<string> = fc.constantFrom(
  '/members/me',
  '/MEMBERS/me',
  '/members;x=1/me',
  '/members',
  '/members/',
  '//members/me',
  '/guarded/x',
  '/Guarded',
  '/app/items',
  '/app/secret',
  '/shop/items',
  '/shop/admin',
  '/x',
  'http://good.example/members/me',
  'http://evil.example/members/me',
);
