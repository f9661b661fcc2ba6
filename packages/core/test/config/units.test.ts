import {
  DURATION_PATTERN,
  RATE_PATTERN,
  SIZE_PATTERN,
  parseDuration,
  parseRate,
  parseSize,
} from '../../src/config/units';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['45s', 45 * S],
    ['200m', 200 * MIN],
    ['12h', 12 * H],
    ['3d', 3 * D],
    ['1w', 7 * D],
    ['2mnt', 60 * D],
    ['1yr', 365 * D],
    ['0s', 0],
  ])('reads %s as %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each([['200M'], ['1W'], ['2MNT'], ['1Yr'], ['3D'], ['5H'], ['9S']])('ignores the letter case of the unit in %s', (s) => {
    expect(parseDuration(s)).toBe(parseDuration(s.toLowerCase()));
    expect(parseDuration(s)).toBeDefined();
  });

  it.each([[''], ['200'], ['m'], ['200 m'], [' 200m'], ['200m '], ['-5m'], ['1.5h'], ['10ms'], ['2mo'], ['1y'], ['1hr'], ['10min'], ['5s5m'], ['0x10s']])(
    'rejects %j',
    (s) => {
      expect(parseDuration(s)).toBeUndefined();
    },
  );

  it('rejects a value beyond the safe integer range instead of rounding it', () => {
    expect(parseDuration('999999999999yr')).toBeUndefined();
  });
});

describe('parseSize', () => {
  it.each([
    ['512kb', 512 * 1024],
    ['128mb', 128 * 1024 * 1024],
    ['1gb', 1024 * 1024 * 1024],
    ['1GB', 1024 * 1024 * 1024],
    ['512 KB', 512 * 1024],
    ['128MB', 128 * 1024 * 1024],
    ['64 Mb', 64 * 1024 * 1024],
    ['0mb', 0],
  ])('reads %j as %d bytes', (s, bytes) => {
    expect(parseSize(s)).toBe(bytes);
  });

  it.each([[''], ['128'], ['mb'], ['128m'], ['128b'], ['128tb'], ['128  mb'], [' 128mb'], ['128mb '], ['1.5gb'], ['-1mb'], ['128 mb extra']])('rejects %j', (s) => {
    expect(parseSize(s)).toBeUndefined();
  });

  it('rejects a value beyond the safe integer range', () => {
    expect(parseSize('999999999999gb')).toBeUndefined();
  });
});

describe('parseRate', () => {
  it.each([
    ['10/second', 10, 'second', 1],
    ['100/minute', 100, 'minute', 60],
    ['1000/hour', 1000, 'hour', 3600],
    ['0/second', 0, 'second', 1],
    ['5/Minute', 5, 'minute', 60],
  ])('reads %j', (s, points, unit, windowSeconds) => {
    expect(parseRate(s)).toEqual({ points, unit, windowSeconds });
  });

  it.each([[''], ['10'], ['10/sec'], ['10/s'], ['10/day'], ['10 /second'], ['10/ second'], ['-1/second'], ['1.5/second'], ['/second'], ['10/second/hour']])(
    'rejects %j',
    (s) => {
      expect(parseRate(s)).toBeUndefined();
    },
  );
});

describe('the exported patterns accept exactly what the parsers accept', () => {
  const samples = ['200m', '1W', '2mnt', '1yr', '10ms', '200', '128mb', '512 KB', '1GB', '128', '10/second', '0/HOUR', '10/sec', '', ' 1s'];
  it.each([
    ['DURATION_PATTERN', DURATION_PATTERN, parseDuration],
    ['SIZE_PATTERN', SIZE_PATTERN, parseSize],
    ['RATE_PATTERN', RATE_PATTERN, parseRate],
  ] as const)('%s', (_name, pattern, parse) => {
    const re = new RegExp(pattern, 'u');
    for (const s of samples) expect([s, re.test(s)]).toEqual([s, parse(s) !== undefined]);
  });
});
