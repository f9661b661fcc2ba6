import fc from 'fast-check';
import { HARNESSES } from '../conformance/harness';
import { identityArb } from './identity-grammar';
import { carriesDenied } from './identity-oracle';
import { violations } from './invariant';
import { GOOD_HOST } from './policy';
import { type Stand, startStand } from './stand';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);

/**
 * Generated identities (identity-grammar.ts) on the proxied API, the in-process one and the
 * host-bound one, on every framework: a request carrying a deny-listed copy of any identity, as
 * any receiver could read it (identity-oracle.ts), never reaches the backend or the host app.
 */
describe.each(HARNESSES)('generated identities on $framework', (harness) => {
  let stand: Stand;
  beforeAll(async () => {
    stand = await startStand(harness);
  });
  afterAll(() => stand?.close());

  test('no spelling of a deny-listed identity gets through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/shop/items', '/app/items', '/members/me'), identityArb, async (path, id) => {
        const target = id.query ? `${path}?${id.query}` : path;
        const out = await stand.send({ target, hosts: [GOOD_HOST], headers: id.headers });
        expect(violations(out, { host: GOOD_HOST, denied: carriesDenied(id) })).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 30_000 + RUNS * 100);
});
