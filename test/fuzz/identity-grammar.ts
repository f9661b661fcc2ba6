import { createHmac } from 'node:crypto';
import fc from 'fast-check';

/**
 * Identities as attackers spell them, for an API that reads a bearer token, an API key (header
 * `X-API-Key`, query `api_key`), the cookie `sid` and a user name from the bearer JWT's `sub`
 * (policy.ts). The deny-listed values are `bad` and the user name `mallory`; `good`, `fine` and
 * `alice` are clean. Each request carries any mix of: several `Authorization` lines, several
 * comma-joined credentials, schemes in any case; `access_token` and `api_key` parameters, repeated
 * and percent-encoded (value and name); several `X-API-Key` lines and lists; several `Cookie`
 * lines, repeated `sid` cookies, quoted, percent-encoded, padded, with spaces around `=`; values
 * 3 000 characters long; JWTs with `alg: none`, a bad signature or none, claims spelled twice or
 * with escaped names.
 */

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

const SUBS = [
  '{"sub":"alice"}',
  '{"sub":"mallory"}',
  '{"sub":"alice","sub":"mallory"}',
  '{"sub":"mallory","sub":"alice"}',
  '{"s\\u0075b":"mallory"}',
  '{"sub":"\\u006dallory"}',
  '{"sub":["mallory"]}',
  '{"sub":"alice","x":{"sub":"mallory"}}',
];

const jwtArb = fc
  .tuple(fc.constantFrom('none', 'HS256', 'RS256'), fc.constantFrom(...SUBS), fc.constantFrom('', 'sig', 'hmac'))
  .map(([alg, payload, sig]) => {
    const input = `${b64(JSON.stringify({ alg, typ: 'JWT' }))}.${b64(payload)}`;
    const signature = sig === 'hmac' ? createHmac('sha256', 'not-the-key').update(input).digest('base64url') : sig;
    return `${input}.${signature}`;
  });

const value = fc.constantFrom('good', 'fine', 'bad', 'bad', 'Bad', 'bad ', ' bad', 'k'.repeat(3000));
const tokenArb = fc.oneof({ weight: 3, arbitrary: value }, { weight: 2, arbitrary: jwtArb });
const queryValue = fc.constantFrom('good', 'bad', '%62ad', '%62%61%64', 'b%61d', 'bad%00', 'ba+d', '');

const authorizationLine = fc
  .tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer '), fc.array(tokenArb, { minLength: 1, maxLength: 2 }))
  .map(([scheme, tokens]) => tokens.map((t) => `${scheme} ${t}`).join(', '));

const apiKeyLine = fc.tuple(fc.array(value, { minLength: 1, maxLength: 3 }), fc.constantFrom(',', ', ')).map(([vs, sep]) => vs.join(sep));

const sidCookie = fc
  .tuple(fc.constantFrom('sid', 'sid', 'SID', ' sid'), fc.constantFrom('=', ' = ', '='), fc.constantFrom('good', 'bad', '"bad"', '%62ad', '%62%61%64', 'b%61d', 'bad;', 'bad%', 'good'))
  .map(([n, eq, v]) => `${n}${eq}${v}`);
const cookieLine = fc
  .array(fc.oneof(sidCookie, fc.constantFrom('a=1', 'pad=' + 'p'.repeat(9000), Array.from({ length: 70 }, (_v, i) => `c${i}=v`).join('; '))), { minLength: 1, maxLength: 3 })
  .map((cs) => cs.join('; '));

const queryPart = fc
  .tuple(fc.constantFrom('access_token', 'api_key', 'api%5fkey', '%61ccess_token', 'API_KEY', 'api_key[]'), queryValue)
  .map(([k, v]) => `${k}=${v}`);

export interface GeneratedIdentity {
  /** Query string, without `?`, possibly empty. */
  query: string;
  headers: [string, string][];
}

export const identityArb: fc.Arbitrary<GeneratedIdentity> = fc
  .record({
    auth: fc.array(authorizationLine, { maxLength: 3 }),
    keys: fc.array(apiKeyLine, { maxLength: 2 }),
    cookies: fc.array(cookieLine, { maxLength: 2 }),
    query: fc.array(queryPart, { maxLength: 4 }),
  })
  .map(({ auth, keys, cookies, query }) => ({
    query: query.join('&'),
    headers: [
      ...auth.map((v): [string, string] => ['Authorization', v]),
      ...keys.map((v): [string, string] => ['X-API-Key', v]),
      ...cookies.map((v): [string, string] => ['Cookie', v]),
    ],
  }));
