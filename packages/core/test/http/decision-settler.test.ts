import { decisionSettler } from '../../src/http/decision-settler';
import type { Decision, RawRequest } from '../../src/types';

const PASS: Decision = { action: 'pass' } as Decision;

/** An enforcer whose decide() does what `impl` says, with the adapters' three arguments recorded. */
function settlerWith(impl: () => Decision | Promise<Decision>, apply: (d: Decision) => unknown = () => 'applied') {
  const calls: string[] = [];
  const settle = decisionSettler<string, string, string, unknown>(
    { decide: impl },
    (a) => ({ url: a }) as unknown as RawRequest,
    (a, b, c, d) => {
      calls.push(`apply ${a} ${b} ${c} ${d.action}`);
      return apply(d);
    },
    (a, b, c, err) => {
      calls.push(`fail ${a} ${b} ${c} ${(err as Error).message}`);
      return 'failed';
    },
  );
  return { settle, calls };
}

describe('decisionSettler', () => {
  it('applies a synchronous decision before returning, with the adapter arguments', () => {
    const { settle, calls } = settlerWith(() => PASS);
    expect(settle('req', 'res', 'next')).toBe('applied');
    expect(calls).toEqual(['apply req res next pass']);
  });

  it('applies a pending decision once it settles', async () => {
    const { settle, calls } = settlerWith(() => Promise.resolve(PASS));
    const r = settle('req', 'res', 'next');
    expect(calls).toEqual([]);
    await expect(r).resolves.toBe('applied');
    expect(calls).toEqual(['apply req res next pass']);
  });

  it('fails closed when decide() throws or rejects', async () => {
    const thrown = settlerWith(() => {
      throw new Error('boom');
    });
    expect(thrown.settle('req', 'res', 'next')).toBe('failed');
    expect(thrown.calls).toEqual(['fail req res next boom']);
    const rejected = settlerWith(() => Promise.reject(new Error('late')));
    await expect(rejected.settle('req', 'res', 'next')).resolves.toBe('failed');
    expect(rejected.calls).toEqual(['fail req res next late']);
  });

  it('fails closed when applying the decision throws, decided now or later', async () => {
    const explode = (): never => {
      throw new Error('apply broke');
    };
    const sync = settlerWith(() => PASS, explode);
    expect(sync.settle('a', 'b', 'c')).toBe('failed');
    expect(sync.calls).toEqual(['apply a b c pass', 'fail a b c apply broke']);
    const later = settlerWith(() => Promise.resolve(PASS), explode);
    await expect(later.settle('a', 'b', 'c')).resolves.toBe('failed');
    expect(later.calls).toEqual(['apply a b c pass', 'fail a b c apply broke']);
  });

  it('hands back what apply returns (the rest of the stack), leaving its errors to the caller', async () => {
    const downstream = new Error('route failed');
    const { settle, calls } = settlerWith(() => PASS, () => Promise.reject(downstream));
    await expect(settle('req', 'res', 'next')).rejects.toBe(downstream);
    expect(calls).toEqual(['apply req res next pass']);
  });
});
