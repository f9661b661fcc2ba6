import { parseRate } from '../../src/config/units';
import { ByteMeter } from '../../src/flow/byte-meter';

const rate = (s: string) => parseRate(s)!;

describe('ByteMeter', () => {
  test('counts bytes per key in a fixed window', () => {
    const m = new ByteMeter(rate('100/second'));
    expect(m.add('a', 60, 1000)).toBe(true);
    expect(m.add('a', 40, 1500)).toBe(true); // exactly at the limit is allowed
    expect(m.add('a', 1, 1999)).toBe(false);
    expect(m.used('a', 1999)).toBe(101);
    expect(m.add('b', 100, 1999)).toBe(true); // other keys are independent
    // a new window starts 1 s after the first byte of the previous one
    expect(m.add('a', 100, 2000)).toBe(true);
    expect(m.used('a', 2000)).toBe(100);
  });

  test('one chunk larger than the budget is over at once', () => {
    const m = new ByteMeter(rate('10/minute'));
    expect(m.add('a', 11, 0)).toBe(false);
    expect(m.add('a', 0, 59_999)).toBe(false);
    expect(m.add('a', 5, 60_000)).toBe(true);
  });

  test('a 0/... rate is off', () => {
    const m = new ByteMeter(rate('0/second'));
    expect(m.enabled).toBe(false);
    expect(m.add('a', 1e12)).toBe(true);
    expect(m.size).toBe(0);
  });

  test('the number of keys is bounded, oldest windows go first', () => {
    const m = new ByteMeter(rate('10/hour'), { maxKeys: 3 });
    m.add('a', 10, 0);
    m.add('b', 10, 1);
    m.add('c', 10, 2);
    m.add('d', 1, 3);
    expect(m.size).toBe(3);
    expect(m.used('a', 4)).toBe(0); // forgotten: a fresh budget
    expect(m.used('b', 4)).toBe(10);
    expect(m.add('b', 1, 5)).toBe(false);
  });

  test('a clock going backwards starts a new window rather than trusting a negative age', () => {
    const m = new ByteMeter(rate('10/second'));
    m.add('a', 10, 5000);
    expect(m.add('a', 5, 4000)).toBe(true);
  });
});
