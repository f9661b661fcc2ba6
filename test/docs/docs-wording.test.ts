import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The pages users read: the README, docs/ and every package's and example's README. */
function userDocs(): string[] {
  const out = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const dir of ['packages', 'examples']) {
    for (const name of fs.readdirSync(path.join(ROOT, dir))) {
      if (fs.existsSync(path.join(ROOT, dir, name, 'README.md'))) out.push(`${dir}/${name}/README.md`);
    }
  }
  return out;
}

// Docs say what the code does today, and point only at files a clone has.
const STALE = [
  { what: 'a reference to the project\'s issues', re: /\(issue \d+\)|\b(?:later|next|future) issues?\b|\bissue \d+\b/i },
  { what: 'a promise of later work', re: /\bare next\b|\buntil the [^.]* lands\b|\bonce [^.]* lands\b/i },
  { what: 'a file outside the repository', re: /\.\.\/shared\/|\bshared\/(?:design|seeds|fixtures)\b/ },
];

describe('user documentation', () => {
  it.each(userDocs())('%s speaks of the code as it is and of files a clone has', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const found = text
      .split('\n')
      .flatMap((line, i) => STALE.filter((s) => s.re.test(line)).map((s) => `${file}:${i + 1}: ${s.what}: ${line.trim()}`));
    expect(found).toEqual([]);
  });

  it('the listener form of the upgrade guard is shown only as deprecated, never beside aseUpgrade(server, enforcer) as an equal', () => {
    const equal: string[] = [];
    for (const file of userDocs()) {
      const paragraphs = fs.readFileSync(path.join(ROOT, file), 'utf8').split(/\n\s*\n|\n(?=- )/);
      for (const p of paragraphs) {
        if (/upgradeListener\(|aseUpgrade\(enforcer\b/.test(p) && !/deprecat/i.test(p)) equal.push(`${file}: ${p.trim().slice(0, 120)}`);
      }
    }
    expect(equal).toEqual([]);
  });

  it('relative links between the docs point at files that exist', () => {
    const broken: string[] = [];
    for (const file of userDocs()) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        if (!fs.existsSync(path.resolve(ROOT, path.dirname(file), target))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('.ci/run runs the README\'s test command and starts no service that no test uses', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const testCommand = /^npx --yes pnpm@[\d.]+ install --frozen-lockfile && npx --yes pnpm@[\d.]+ test$/m.exec(readme);
    expect(testCommand).not.toBeNull();
    expect(ci).toContain(testCommand![0]);
    const tests = ['packages', 'test'].flatMap((d) => listTests(path.join(ROOT, d))).map((f) => fs.readFileSync(f, 'utf8'));
    for (const service of [{ name: 'redis', used: /from ['"](?:ioredis|redis)['"]|require\(['"](?:ioredis|redis)['"]\)/ }]) {
      if (new RegExp(service.name, 'i').test(ci)) expect({ service: service.name, usedByATest: tests.some((t) => service.used.test(t)) }).toEqual({ service: service.name, usedByATest: true });
    }
  });
});

function listTests(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) listTests(full, out);
    else if (/\.test\.ts$/.test(e.name)) out.push(full);
  }
  return out;
}
