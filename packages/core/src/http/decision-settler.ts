import type { Decision, RawRequest } from '../types';

/**
 * How every adapter turns a request into an applied decision, built once per mount so the request
 * path allocates no closures while the decision is synchronous. `a`, `b`, `c` are the framework's
 * own arguments (Express: req, res, next; Koa: ctx, next; Fastify: request, reply, done).
 *
 * Fails closed: a throw from `toRaw` or `decide()`, a rejected decision, and a throw from `apply`
 * all go to `fail`. What `apply` returns (Koa: the rest of the stack) is handed back untouched, so
 * errors of the app's own routes stay the app's.
 */
export function decisionSettler<A, B, C, R>(
  enforcer: { decide(raw: RawRequest): Decision | Promise<Decision> },
  toRaw: (a: A) => RawRequest,
  apply: (a: A, b: B, c: C, decision: Decision) => R,
  fail: (a: A, b: B, c: C, err: unknown) => R,
): (a: A, b: B, c: C) => R | Promise<R> {
  const applyOrFail = (a: A, b: B, c: C, decision: Decision): R => {
    try {
      return apply(a, b, c, decision);
    } catch (err) {
      return fail(a, b, c, err);
    }
  };
  return function settle(a, b, c) {
    let result: Decision | Promise<Decision>;
    try {
      result = enforcer.decide(toRaw(a));
    } catch (err) {
      return fail(a, b, c, err);
    }
    // Flow control decides asynchronously; everything else applies now, without an extra tick.
    if (!(result instanceof Promise)) return applyOrFail(a, b, c, result);
    return result.then(
      (decision) => applyOrFail(a, b, c, decision),
      (err: unknown) => fail(a, b, c, err),
    );
  };
}
