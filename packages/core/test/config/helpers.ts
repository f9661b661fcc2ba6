import { AseConfigError, type ConfigProblem } from '../../src/errors';

/** Runs `fn`, expects it to throw an AseConfigError, and returns its problems. */
export function problemsOf(fn: () => unknown): ConfigProblem[] {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error('expected an AseConfigError, but nothing was thrown');
  if (!(thrown instanceof AseConfigError)) throw thrown;
  expect(thrown.code).toBe('ERR_ASE_CONFIG');
  expect(thrown.problems.length).toBeGreaterThan(0);
  return [...thrown.problems];
}

/** Freezes an object and everything in it, to prove a function does not modify its input. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
