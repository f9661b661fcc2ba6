import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';

// Black-box: node and tsc load the built packages through the workspace's node_modules links, the way
// an application that installed them does (`pnpm test` builds first).
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'module-resolution');
const TSC = require.resolve('typescript/bin/tsc');

function node(file: string): string {
  return execFileSync(process.execPath, [path.join(FIXTURES, 'runtime', file)], { encoding: 'utf8' });
}

interface EntryReport {
  importNames: string[];
  requireNames: string[];
  importDefault: string;
  requireDefault: string;
  sameDefault: boolean;
}

describe('entry points of every package', () => {
  const report = JSON.parse(node('exports.mjs')) as Record<string, EntryReport>;

  it.each(Object.keys(report))('import of %s gives the same named exports as require', (spec) => {
    const entry = report[spec]!;
    expect(entry.requireNames.length).toBeGreaterThan(0);
    expect(entry.importNames).toEqual(entry.requireNames);
  });

  it.each(['@ase/express', '@ase/koa', '@ase/fastify', '@ase/admin/express', '@ase/admin/koa', '@ase/admin/fastify'])(
    'the default import of %s is the same function require gives as .default',
    (spec) => {
      expect(report[spec]).toMatchObject({ importDefault: 'function', requireDefault: 'function', sameDefault: true });
    },
  );

  it('a native ESM file imports default and named exports (import aseMiddleware from "@ase/express")', () => {
    expect(node('static-import.mjs')).toBe('ok');
  });

  it('a CommonJS file requires the same packages', () => {
    expect(node('require.cjs')).toBe('ok');
  });

  // The three type checks run side by side (each reads every declaration file, libraries' included).
  const PROJECTS = ['node16', 'nodenext', 'bundler'];
  let checks: Record<string, Promise<string>> = {};
  beforeAll(() => {
    checks = Object.fromEntries(
      PROJECTS.map((p) => [
        p,
        new Promise<string>((resolve) => {
          execFile(process.execPath, [TSC, '-p', path.join(FIXTURES, p, 'tsconfig.json')], { encoding: 'utf8' }, (err, stdout) => resolve(err ? stdout || String(err) : ''));
        }),
      ]),
    );
  });

  it.each(PROJECTS)(
    'TypeScript resolves the packages and @ase/admin/express, /koa, /fastify under moduleResolution %s',
    async (project) => {
      expect(await checks[project]).toBe('');
    },
    // Each check reads every declaration file (about 35 s alone on a 2-core machine); three side
    // by side beside other test files can pass two minutes.
    300000,
  );
});
