import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function testFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) testFiles(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

// A skipped test passes silently everywhere it skips; a test that cannot run must fail instead.
const SKIPS = /\b(?:it|test|describe)\.skip\b|\b(?:xit|xtest|xdescribe)\s*\(|\b(?:it|test)\.todo\b/;
// Tests read only what the repository holds, so they run the same in every clone and in CI.
const OUTSIDE = /['"`][^'"`]*\bshared\/(?:fixtures|seeds|design)\b/;

describe('the suite runs every test everywhere', () => {
  const files = ['packages', 'test', 'examples'].flatMap((d) => testFiles(path.join(ROOT, d)));

  it('finds the test files', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('no test file skips tests or leaves them as todo', () => {
    const skipping = files.filter((f) => SKIPS.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    expect(skipping).toEqual([]);
  });

  it('no test file reads fixtures from outside the repository', () => {
    const outside = files.filter((f) => OUTSIDE.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    expect(outside).toEqual([]);
  });
});
