import * as fs from 'node:fs';
import * as path from 'node:path';

// The modules of @ase/core import each other without cycles: at run time a cycle makes load order
// decide which module sees the other half-initialised, and between types it ties two concerns
// together all the same. Two graphs are checked: the imports that exist at run time (`import type`,
// `export type` and `import { type A }` lists holding only types are erased by tsc), which must
// have no cycle at all, and every import, type-only ones included.
const SRC = path.resolve(__dirname, '..', '..', 'packages', 'core', 'src');

/** A module past this many lines holds more than one concern (docs/architecture.md); a bit of slack over 400. */
const MAX_MODULE_LINES = 420;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Relative imports of one file (those that remain at run time unless `withTypes`), as module names relative to SRC. */
function importsOf(file: string, text: string, withTypes: boolean): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[4] ?? m[5]!;
    if (!spec.startsWith('.')) continue;
    if (!withTypes && m[2]) continue; // import type / export type
    const clause = m[3] ?? '';
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    if (!withTypes && braces && braces[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
    out.push(resolveModule(path.dirname(file), spec));
  }
  return out;
}

function resolveModule(from: string, spec: string): string {
  const base = path.resolve(from, spec.replace(/\.js$/, ''));
  const candidates = [`${base}.ts`, path.join(base, 'index.ts')];
  const hit = candidates.find((c) => fs.existsSync(c));
  if (!hit) throw new Error(`${from}: import '${spec}' does not resolve to a .ts file`);
  return path.relative(SRC, hit).split(path.sep).join('/');
}

/** Every elementary cycle's representative: Tarjan's strongly connected components, one cycle each. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(cycleIn(graph, new Set(scc)));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One cycle through a strongly connected component, from its smallest module, for the message. */
function cycleIn(graph: Map<string, string[]>, scc: Set<string>): string[] {
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        for (let u = v; u !== start; u = prev.get(u)!) cycle.unshift(prev.get(u)!);
        return cycle;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

describe('the import graph of packages/core/src', () => {
  const graph = new Map<string, string[]>();
  const typeGraph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const name = path.relative(SRC, file).split(path.sep).join('/');
    const text = fs.readFileSync(file, 'utf8');
    graph.set(name, importsOf(file, text, false));
    typeGraph.set(name, importsOf(file, text, true));
  }
  const named = (g: Map<string, string[]>): string[] => cycles(g).map((c) => [...c, c[0]].join(' -> '));

  it('reads the imports of every module', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('enforcer.ts')).toContain('pipeline/decide.ts');
  });

  it('has no runtime import cycle', () => {
    expect(named(graph)).toEqual([]);
  });

  it('has no import cycle through type-only imports either', () => {
    expect(named(typeGraph)).toEqual([]);
  });

  it(`has no module over ${MAX_MODULE_LINES} lines`, () => {
    const long = sourceFiles(SRC)
      .map((f) => ({ name: path.relative(SRC, f), lines: fs.readFileSync(f, 'utf8').split('\n').length }))
      .filter((m) => m.lines > MAX_MODULE_LINES);
    expect(long).toEqual([]);
  });

  it('the decision pipeline imports neither the Enforcer nor management nor persistence (pipeline/README.md)', () => {
    const reaching = [...typeGraph].flatMap(([from, tos]) =>
      from.startsWith('pipeline/') ? tos.filter((to) => to === 'enforcer.ts' || /^(management|persistence)\//.test(to)).map((to) => `${from} -> ${to}`) : [],
    );
    expect(reaching).toEqual([]);
  });

  it('the access log does not import the Enforcer', () => {
    expect(typeGraph.get('logs/access-log.ts')).not.toContain('enforcer.ts');
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(g).map((c) => c.join(' -> '))).toEqual(['a.ts -> b.ts -> c.ts']);
  });

  it('tells type-only imports from value imports', () => {
    const file = path.join(SRC, 'enforcer.ts');
    const text = "import type { A } from './events';\nimport { type B } from './types';\nimport { decide } from './pipeline/decide';\nexport { x } from './errors';\n";
    expect(importsOf(file, text, false)).toEqual(['pipeline/decide.ts', 'errors.ts']);
    expect(importsOf(file, text, true)).toEqual(['events.ts', 'types.ts', 'pipeline/decide.ts', 'errors.ts']);
  });
});
