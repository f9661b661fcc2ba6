import { HARNESSES } from './harness';
import { runScenario } from './run';
import { SCENARIOS } from './scenarios';
import { SECURITY_SCENARIOS } from './security';
import type { Scenario } from './types';

/**
 * The conformance suite: every scenario of scenarios.ts and security/ on every framework, over real listening
 * servers with real backends. A scenario that fails on one framework only is an adapter bug (or a
 * framework difference that belongs in the scenario's `differs`, with its reason).
 */
describe.each(HARNESSES)('conformance on $framework', (harness) => {
  const title = (s: Scenario): string => (s.steps.some((step) => 'differs' in step && step.differs?.[harness.framework]) ? `${s.name} [${harness.framework} differs: see scenarios.ts]` : s.name);
  test.each([...SCENARIOS, ...SECURITY_SCENARIOS].map((s) => [title(s), s] as const))('%s', (_title, scenario) => runScenario(harness, scenario));
});
