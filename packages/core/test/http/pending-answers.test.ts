import { PendingAnswers } from '../../src/http/pending-answers';
import { textResponse } from '../../src/policy/responses';

const spec = (n: number) => textResponse(403, 'Forbidden', `answer ${n}`);

describe('PendingAnswers: the refusals nginx has still to fetch', () => {
  it('serves each ticket once', () => {
    const a = new PendingAnswers();
    const t = a.put(spec(1));
    expect(a.take(t)?.body).toBe('answer 1');
    expect(a.take(t)).toBeUndefined();
    expect(a.size).toBe(0);
  });

  it('never holds more than its bound: the oldest ticket goes first', () => {
    const a = new PendingAnswers(3, 10_000);
    const tickets = [1, 2, 3, 4, 5].map((n) => a.put(spec(n), 1000));
    expect(a.size).toBe(3);
    expect(a.take(tickets[0]!, 1000)).toBeUndefined();
    expect(a.take(tickets[1]!, 1000)).toBeUndefined();
    expect(a.take(tickets[4]!, 1000)?.body).toBe('answer 5');
  });

  it('forgets a ticket past its lifetime, and drops expired ones as new ones come', () => {
    const a = new PendingAnswers(100, 50);
    const old = a.put(spec(1), 1000);
    expect(a.take(old, 1051)).toBeUndefined();
    a.put(spec(2), 1000);
    a.put(spec(3), 1000);
    a.put(spec(4), 2000); // the two expired ones are dropped on the way in
    expect(a.size).toBe(1);
  });

  it('gives tickets no one can guess: 128 random bits, all different', () => {
    const a = new PendingAnswers();
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(a.put(spec(i)));
    expect(seen.size).toBe(1000);
    for (const t of seen) expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
