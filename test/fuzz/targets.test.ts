import fc from 'fast-check';
import { HARNESSES } from '../conformance/harness';
import { violations } from './invariant';
import { GOOD_HOST } from './policy';
import { type Stand, startStand } from './stand';
import { targetArb } from './target-grammar';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);

/**
 * Generated request targets (target-grammar.ts) against the policy of policy.ts, on every
 * framework, from a clean client and from one whose bearer token is deny-listed: whatever reaches
 * the backend or the host app leads, however its receiver reads it, to the place the enforcer
 * decided on (invariant.ts). fast-check prints the seed and the shrunk target of a failure; each
 * defect found has its hand-written regression case among the security scenarios.
 */
describe.each(HARNESSES)('generated request targets on $framework', (harness) => {
  let stand: Stand;
  beforeAll(async () => {
    stand = await startStand(harness);
  });
  afterAll(() => stand?.close());

  test('every target that reaches a receiver leads where the policy decided', async () => {
    await fc.assert(
      fc.asyncProperty(targetArb, fc.boolean(), async (target, denied) => {
        const out = await stand.send({ target, hosts: [GOOD_HOST], headers: denied ? [['Authorization', 'Bearer bad']] : [] });
        expect(violations(out, { host: GOOD_HOST, denied })).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 30_000 + RUNS * 100);
});
