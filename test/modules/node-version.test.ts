import * as fs from 'node:fs';
import * as path from 'node:path';

// The Node.js version the packages declare must be one every locked dependency declares support for,
// or installing on it prints engine warnings (and may not run).
const ROOT = path.resolve(__dirname, '..', '..');
const PUBLISHED = ['core', 'express', 'koa', 'fastify', 'admin', 'redis', 'cli'];

const readJson = (file: string): { engines?: { node?: string } } => JSON.parse(fs.readFileSync(file, 'utf8'));
const version = (v: string): number[] => v.split('.').map((n) => Number(n));
const above = (a: number[], b: number[]): boolean => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

/** Lower bounds of the locked packages whose engines.node is a plain `>=X[.Y.Z]` (the only form above 18 in the lockfile). */
function lockedLowerBounds(): { pkg: string; min: number[] }[] {
  const lock = fs.readFileSync(path.join(ROOT, 'pnpm-lock.yaml'), 'utf8');
  const out: { pkg: string; min: number[] }[] = [];
  const re = /^ {2}('?[^\s:']+'?):\n(?: {4}.*\n)*? {4}engines: \{node: '?>= ?([\d.]+)'?\}/gm;
  for (const m of lock.matchAll(re)) out.push({ pkg: m[1]!, min: version(m[2]!) });
  return out;
}

describe('supported Node.js version', () => {
  const declared = readJson(path.join(ROOT, 'package.json')).engines?.node ?? '';

  it('every published package declares the same engines.node as the workspace', () => {
    for (const p of PUBLISHED) {
      expect([p, readJson(path.join(ROOT, 'packages', p, 'package.json')).engines?.node]).toEqual([p, declared]);
    }
  });

  it('no locked dependency requires a newer Node.js than the packages declare', () => {
    const min = version(declared.replace(/^>=\s*/, ''));
    expect(lockedLowerBounds().length).toBeGreaterThan(10);
    const tooNew = lockedLowerBounds().filter((b) => above(b.min, min)).map((b) => `${b.pkg} needs >=${b.min.join('.')}`);
    expect(tooNew).toEqual([]);
  });
});
