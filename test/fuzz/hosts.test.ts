import fc from 'fast-check';
import { HARNESSES } from '../conformance/harness';
import { hostLinesArb, placePathArb } from './host-grammar';
import { violations } from './invariant';
import { hostOf } from './oracle';
import { type Stand, startStand } from './stand';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);

/**
 * Generated `Host` lines (host-grammar.ts) on paths of every kind of place, on every framework,
 * from a clean client and from one whose bearer token is deny-listed: `members` and `guarded` are
 * bound to good.example, so no other Host, no spelling of it the receivers would read otherwise, and
 * no second Host line may step out of their rules into the host app (invariant.ts).
 */
describe.each(HARNESSES)('generated Host headers on $framework', (harness) => {
  let stand: Stand;
  beforeAll(async () => {
    stand = await startStand(harness);
  });
  afterAll(() => stand?.close());

  test('no Host steps out of a host-bound API', async () => {
    await fc.assert(
      fc.asyncProperty(placePathArb, hostLinesArb, fc.boolean(), async (target, hosts, denied) => {
        const out = await stand.send({ target, hosts, headers: denied ? [['Authorization', 'Bearer bad']] : [] });
        expect(violations(out, { host: hostOf(hosts), denied })).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 30_000 + RUNS * 100);
});
