import fc from 'fast-check';
import { HoneytokenTable } from '../../src/honeytokens/honeytoken-table';
import { newHoneytokenValue, plantedResponse, randomBase62 } from '../../src/honeytokens/planting';
import { basicCredentials, findHoneytoken } from '../../src/honeytokens/token-scan';
import { textResponse } from '../../src/policy/responses';

const tokenOf = (value: string, i = 0) => ({ value, kind: 'api_key' as const, api: 'ops', plantedTo: `10.0.0.${i}`, plantedAt: i });

/** The plain answer: every maximal run of token characters, looked up. */
function naive(table: HoneytokenTable, s: string): string | undefined {
  for (const run of s.match(/[A-Za-z0-9_]+/g) ?? []) if (table.get(run)) return run;
  return undefined;
}

describe('findHoneytoken', () => {
  const planted = [newHoneytokenValue('api_key'), newHoneytokenValue('bearer_token'), newHoneytokenValue('cookie')];
  const table = new HoneytokenTable();
  planted.forEach((v, i) => table.add(tokenOf(v, i)));

  it('finds a token as a whole run anywhere, as the plain scan of every run does, and nothing else', () => {
    const piece = fc.oneof(
      fc.constantFrom(...planted),
      fc.constantFrom(...planted).map((v) => v.slice(1)),
      fc.constantFrom(...planted).map((v) => `${v}x`),
      fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', ' ', '=', ';', '"', '.', '-', '/', '%'), maxLength: 50 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const s = parts.join('');
        expect(findHoneytoken(table, s)?.value).toBe(naive(table, s));
      }),
      { numRuns: 2000 },
    );
  });

  it('skips values shorter than the shortest token, and finds one after a long run of other token characters', () => {
    expect(findHoneytoken(table, planted[0]!.slice(0, 20))).toBeUndefined();
    expect(findHoneytoken(table, `${'a'.repeat(100)} ${planted[1]}`)?.value).toBe(planted[1]);
    expect(findHoneytoken(table, `Bearer ${planted[1]}`)?.value).toBe(planted[1]);
  });

  it('reads the credentials of Basic, and nothing from Bearer', () => {
    expect(basicCredentials(`Basic ${Buffer.from(`${planted[0]}:`).toString('base64')}`)).toBe(`${planted[0]}:`);
    expect(basicCredentials(`bearer ${planted[0]}`)).toBeUndefined();
  });
});

describe('planting', () => {
  it('values are base62 of the documented shapes, and differ each time', () => {
    expect(newHoneytokenValue('api_key')).toMatch(/^sk_live_[A-Za-z0-9]{32}$/);
    expect(newHoneytokenValue('bearer_token')).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(newHoneytokenValue('cookie')).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(Array.from({ length: 1000 }, () => randomBase62(32))).size).toBe(1000);
  });

  it('every base62 character comes up about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(248_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 4 000 each, sd 63; a byte taken modulo 62 would give the first eight 4 800 and the rest 3 900.
    for (const n of counts.values()) expect(Math.abs(n - 4000)).toBeLessThan(400);
  });

  it('the answer shows each planted value in place of its placeholder, sets the cookie, and leaves other placeholders alone', () => {
    const base = textResponse(200, 'OK', 'KEY=${api_key} KEY2=${api_key} T=${bearer_token}');
    const r = plantedResponse(base, { apiKey: true, bearerToken: false, cookie: 'session' }, [tokenOf('sk_live_A'), { ...tokenOf('C'), kind: 'cookie' }]);
    expect(r.body).toBe('KEY=sk_live_A KEY2=sk_live_A T=${bearer_token}');
    expect(r.headers['set-cookie']).toBe('session=C; Path=/; HttpOnly');
    expect(base.headers['set-cookie']).toBeUndefined();
  });
});
