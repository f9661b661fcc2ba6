import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSnapshot } from '../../src/lists/snapshot-reader';

/**
 * `lists.json` is read from its bytes an entry at a time rather than by one JSON.parse. Whatever
 * the layout (the pretty-printed files of earlier versions, one entry per line, deny list first or
 * last), it must hand over exactly what JSON.parse of the file holds, allow list first, and refuse
 * what JSON.parse refuses.
 */
describe('readSnapshot', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-snapshot-reader-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const file = (text: string): string => {
    const f = path.join(dir, 'lists.json');
    fs.writeFileSync(f, text);
    return f;
  };
  const read = (text: string): { seq: number; bytes: number; got: [string, unknown, number][] } => {
    const got: [string, unknown, number][] = [];
    const r = readSnapshot(file(text), (list, raw, i) => got.push([list, raw, i]));
    return { ...r, got };
  };
  /** What JSON.parse makes of the text, in the order readSnapshot must hand it over. */
  const expected = (text: string): [string, unknown, number][] => {
    const v = JSON.parse(text) as { whitelist?: unknown[] | null; blacklist?: unknown[] | null };
    return [...(v.whitelist ?? []).map((e, i): [string, unknown, number] => ['whitelist', e, i]), ...(v.blacklist ?? []).map((e, i): [string, unknown, number] => ['blacklist', e, i])];
  };

  const deny = [
    { type: 'ip', value: '192.0.2.1', tag: 'manual', addedAt: 1700000000123, via: 'management', hits: 0 },
    { type: 'cookie', name: 'sid', value: 'sess-1', tag: 'decoy', expiresAt: 1900000000000, via: 'detection', api: 'shop', requestId: 'r-1', hits: 3, lastHit: 1700000000999 },
    { type: 'cookie', name: 'sid', value: 'sess-2', tag: 'decoy' },
    { type: 'token', value: 'quote " backslash \\ tab \t unicode é 𝄞 \u2028', tag: 'manual' },
    { type: 'username', value: 'ünïcödé', tag: 'manual', hits: 1.5, lastHit: 1e12, extra: { nested: [1, 2] } },
    { type: 'api_key', name: 'x-api-key', value: 'k', tag: 'manual', digest: true, api: null, hits: -0, addedAt: 123456789012345678 },
    { value: 'no type', __proto__: 'x' },
    'not an object',
    42,
    null,
    [],
    {},
  ];
  const allow = [{ type: 'ip', value: '198.51.100.0/24', tag: 'manual' }];

  test.each([
    ['pretty-printed, deny list first (what compaction wrote)', JSON.stringify({ version: 1, seq: 7, blacklist: deny, whitelist: allow }, null, 1)],
    ['one entry per line, allow list first', `{"version":1,"seq":9,"whitelist":[\n${allow.map((e) => JSON.stringify(e)).join(',\n')}\n],"blacklist":[\n${deny.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`],
    ['compact, tabs and CRLF', JSON.stringify({ blacklist: deny, whitelist: allow, other: { a: [1, '"]}'] } }, null, '\t').replace(/\n/g, '\r\n')],
    ['empty lists', '{"version":1,"blacklist":[],"whitelist":[ ]}'],
    ['null and absent lists', '{"blacklist":null}'],
    ['an empty object', ' {} '],
    ['a key spelled with an escape', '{"\\u0073eq":5,"blacklist":[{"type":"ip","value":"192.0.2.9"}]}'],
    ['entries with spaces inside', '{ "blacklist" : [ { "type" : "ip" , "value" : "192.0.2.9" , "hits" : 0 } , { } ] , "whitelist" : [ ] }'],
  ])('%s: the same entries as JSON.parse, allow list first', (_name, text) => {
    const r = read(text);
    expect(r.got).toEqual(expected(text));
    const v = JSON.parse(text) as { seq?: unknown };
    expect(r.seq).toBe(typeof v.seq === 'number' ? v.seq : 0);
    expect(r.bytes).toBe(Buffer.byteLength(text));
    // Own properties only, as JSON.parse makes them (a "__proto__" key is data, not a prototype).
    for (const [, raw] of r.got) if (raw && typeof raw === 'object' && !Array.isArray(raw)) expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
  });

  test.each([
    ['truncated in an entry', '{"blacklist":[{"type":"ip","value":"192.0.2.1"},{"type":"ip","val'],
    ['truncated after an entry', '{"blacklist":[{"type":"ip","value":"192.0.2.1"}'],
    ['a trailing comma in a list', '{"blacklist":[{"type":"ip","value":"192.0.2.1"},]}'],
    ['a trailing comma in an entry', '{"blacklist":[{"type":"ip","value":"192.0.2.1",}]}'],
    ['a leading zero', '{"blacklist":[{"type":"ip","value":"192.0.2.1","hits":01}]}'],
    ['a control character in a string', '{"blacklist":[{"type":"ip","value":"192.0.2.1\u0001"}]}'],
    ['a bad literal', '{"blacklist":[{"type":"ip","value":"192.0.2.1","digest":tru}]}'],
    ['garbage after the object', '{"blacklist":[]} x'],
    ['garbage in the deny list read last', '{"blacklist":[{"type":"ip" "value":"x"}],"whitelist":[]}'],
    ['zeros', '\u0000\u0000\u0000'],
    ['an empty file', ''],
  ])('%s: refused, as JSON.parse refuses it', (_name, text) => {
    expect(() => JSON.parse(text) as unknown as void).toThrow();
    expect(() => read(text)).toThrow();
  });

  test('a list that is not an array is refused, as loading always did', () => {
    expect(() => read('{"blacklist":{"type":"ip","value":"192.0.2.1"}}')).toThrow('blacklist must be an array');
    expect(() => read('{"whitelist":"192.0.2.1"}')).toThrow('whitelist must be an array');
  });

  test('a file larger than what is read at a time (4 MB): entries cut by a refill, long and escaped ones, deny list skipped and read again', () => {
    const entry = (i: number): Record<string, unknown> =>
      i % 997 === 0
        ? { type: 'token', value: `${'x'.repeat(3000)}\\"${i}é`, tag: 'manual', hits: 0.5 } // escapes, a fraction: read by JSON.parse
        : { type: 'cookie', name: `n${i % 3}`, value: `v-${i}`, tag: 'manual', addedAt: 1700000000000 + i, via: 'management', hits: i };
    const blacklist = Array.from({ length: 70_000 }, (_, i) => entry(i));
    const whitelist = Array.from({ length: 1_000 }, (_, i) => entry(i + 1));
    for (const text of [JSON.stringify({ version: 1, seq: 3, blacklist, whitelist }, null, 1), JSON.stringify({ whitelist, blacklist })]) {
      expect(text.length).toBeGreaterThan(5 << 20);
      const r = read(text);
      expect(r.got.length).toBe(71_000);
      expect(r.got).toEqual(expected(text));
      expect(r.bytes).toBe(Buffer.byteLength(text));
    }
  });

  test('a file cut short after the first 4 MB is refused', () => {
    const text = JSON.stringify({ blacklist: Array.from({ length: 200_000 }, (_, i) => ({ type: 'ip', value: `10.0.${i >> 8}.${i & 255}`, tag: 'manual' })) });
    expect(text.length).toBeGreaterThan(6 << 20);
    expect(() => read(text.slice(0, (5 << 20) + 7))).toThrow();
  });
});
