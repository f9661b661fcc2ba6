import { RateLimiterMemory } from 'rate-limiter-flexible';
import { parseRate } from '../../src/config/units';
import { type RateLimiter, createRateLimiter } from '../../src/flow/rate-limit';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';

/*
 * peek: what consume would answer, without counting. explain() reads a client's limit with it,
 * so a dry run never uses up the budget of the client it describes.
 */

const rate = parseRate('2/minute')!;

async function peekAndConsume(l: RateLimiter): Promise<void> {
  expect(await l.peek('c')).toMatchObject({ ok: true, remaining: 1 });
  expect(await l.peek('c')).toMatchObject({ ok: true, remaining: 1 });
  expect(await l.consume('c')).toMatchObject({ ok: true, remaining: 1 });
  expect(await l.peek('c')).toMatchObject({ ok: true, remaining: 0 });
  expect(await l.consume('c')).toMatchObject({ ok: true, remaining: 0 });
  const over = await l.peek('c');
  expect(over).toMatchObject({ ok: false, remaining: 0 });
  expect(over.ok ? 0 : over.retryAfterMs).toBeGreaterThan(0);
  expect(await l.consume('c')).toMatchObject({ ok: false });
  // Another client is untouched by all of it.
  expect(await l.peek('d')).toMatchObject({ ok: true, remaining: 1 });
}

test('in-process counters (the default): peek answers at once and counts nothing', async () => {
  const l = createRateLimiter(rate, 'p|')!;
  expect(l.peek('c')).not.toBeInstanceOf(Promise);
  await peekAndConsume(l);
});

test('a shared counter store (through CounterStore.get)', async () => {
  const store = new MemoryCounterStore();
  // Not the private in-process path: a store seen as shared goes through get/consume with the prefix.
  const shared = { localKeys: false, consume: store.consume.bind(store), get: store.get.bind(store), reset: store.reset.bind(store) };
  const l = createRateLimiter(rate, 'p|', shared)!;
  await peekAndConsume(l);
  expect(store.get('p|c')?.consumed).toBe(3);
});

test('a rate-limiter-flexible store (through its get)', async () => {
  const l = createRateLimiter(rate, 'p|', (o) => new RateLimiterMemory(o))!;
  await peekAndConsume(l);
});

test('a store that fails: the answer its failure policy gives, without telling onStoreError', async () => {
  const errors: unknown[] = [];
  const failing = {
    localKeys: false,
    consume: () => Promise.reject(new Error('down')),
    get: () => Promise.reject(new Error('down')),
    reset: () => undefined,
  };
  const open = createRateLimiter(rate, 'p|', failing, { onStoreError: (e) => errors.push(e) })!;
  expect(await open.peek('c')).toMatchObject({ ok: true, degraded: true });
  const closed = createRateLimiter(rate, 'p|', failing, { failClosed: true, onStoreError: (e) => errors.push(e) })!;
  expect(await closed.peek('c')).toMatchObject({ ok: false, degraded: true });
  expect(errors).toEqual([]);
});
