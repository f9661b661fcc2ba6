/**
 * The README's shell examples, run for real against the demo (`examples/standalone/demo.js` on a
 * copy of its config, on free ports): every `curl` and `ase` line of the "Try it by hand" table and
 * of the code blocks, with the documented result of each checked. A new example, a changed command
 * or a changed "you get" text fails here until this file says how to check it.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ASE_BIN, type RunningCli, runNode } from '../helpers/cli';
import { DEMO_PORTS, DEMO_READY, DEMO_SCRIPT, type DemoSetup, demoSetup } from '../helpers/demo';

const ROOT = path.resolve(__dirname, '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The text of `## title` up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

interface Row { what: string; command: string; get: string }

function tableRows(text: string): Row[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .slice(1) // header
    .map((l) => {
      const cells = l.slice(1, -1).split(/\s\|\s/).map((c) => c.trim());
      if (cells.length !== 3) throw new Error(`README table row without three cells: ${l}`);
      const [what, command, get] = cells as [string, string, string];
      return { what, command: command.replace(/^`|`$/g, ''), get };
    });
}

/** Lines of the fenced code blocks of `text` (fence info `sh`, or none). */
function codeLines(text: string, info: 'sh' | ''): string[] {
  const out: string[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] === info) out.push(...m[2]!.split('\n').filter((l) => l.trim() !== ''));
  }
  return out;
}

// Run by the suite's own set-up or for minutes (the set-up, test, demo and bench commands, the
// soak, whose short form test/soak runs), or a second gateway on the demo's ports (`ase start` is
// run by test/gateway).
const NOT_RUN_HERE = [/^npx --yes pnpm@[\d.]+ /, /^(?:npx pnpm exec )?ase start\b/, /^node bench\/soak\.js\b/];
// The `ase` listing shows commands with placeholders: a file of your own, a terminal to type into.
const ASE_NOT_RUN = [/^ase add_api \.\//, /^ase update_password\b/, /^ase \[/];

const KEYS = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' };

let setup: DemoSetup;
let demo: RunningCli;

function withPorts(text: string): string {
  const p = setup.ports;
  return text
    .replace(/\b(localhost|127\.0\.0\.1):8000\b/g, `$1:${p.gateway}`)
    .replace(/\b(localhost|127\.0\.0\.1):8010\b/g, `$1:${p.admin}`)
    .replace(/\b(backend-|127\.0\.0\.1:)8080\b/g, `$1${p.backendA}`)
    .replace(/\b(backend-|127\.0\.0\.1:)8081\b/g, `$1${p.backendB}`)
    .replace(/--config-dir examples\/standalone\/config\b/g, `--config-dir ${setup.configDir}`);
}

interface Ran { code: number; out: string }

/** A shell word splitter for the README's command lines ('…' and "…" quoting, no expansions). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return out;
}

const HAVE_CURL = fs.existsSync('/usr/bin/curl') || fs.existsSync('/bin/curl') || fs.existsSync('/usr/local/bin/curl');

/** `curl` as the README writes it: the real curl through sh when installed, else the same line with Node's client. */
function curl(line: string): Promise<Ran> {
  if (HAVE_CURL) {
    return new Promise((resolve) =>
      execFile('sh', ['-c', line], { timeout: 10000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr })),
    );
  }
  const args = words(line).slice(1);
  let method = 'GET';
  let include = false;
  let body: string | undefined;
  let url = '';
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-i') include = true;
    else if (a === '-X') method = args[++i]!;
    else if (a === '-H') {
      const h = args[++i]!;
      headers[h.slice(0, h.indexOf(':')).trim()] = h.slice(h.indexOf(':') + 1).trim();
    } else if (a === '-d') {
      body = args[++i]!;
      if (method === 'GET') method = 'POST';
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (a === '-s' || a === '--path-as-is') continue;
    else if (a.startsWith('-')) throw new Error(`the curl stand-in does not know ${a}`);
    else url = a;
  }
  const m = /^(?:http:\/\/)?([^:/]+):(\d+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`cannot read the URL of: ${line}`);
  return new Promise((resolve) => {
    const req = http.request({ host: m[1] === 'localhost' ? '127.0.0.1' : m[1], port: Number(m[2]), path: m[3] ?? '/', method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${Object.entries(res.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`;
        resolve({ code: 0, out: (include ? head : '') + text });
      });
    });
    req.on('error', (err) => resolve({ code: 7, out: err.message }));
    req.end(body);
  });
}

/** An `ase` line as the README writes it, run with the built CLI from a folder whose ./config is the demo's. */
function ase(line: string): Promise<Ran> {
  if (!/^(?:npx pnpm exec )?ase\b/.test(line)) throw new Error(`not a curl or ase command: ${line}`);
  const args = words(line.replace(/^(?:npx pnpm exec )?ase\s*/, '').replace(/\s+#.*$/, ''));
  const cli = runNode(ASE_BIN, args, { cwd: setup.root });
  return cli.exited.then((code) => ({ code: code ?? 1, out: cli.stdout() + cli.stderr() }));
}

function status(r: Ran): number {
  const m = /^HTTP\/[\d.]+ (\d{3})/m.exec(r.out);
  if (!m) throw new Error(`no status line in: ${r.out}`);
  return Number(m[1]);
}

async function denyTags(): Promise<string[]> {
  const r = await curl(`curl -s -H 'x-ase-access-key: admin' -H 'x-ase-secret-key: admin' 'localhost:${setup.ports.admin}/v4/ase/firewall/blacklist?tag=all'`);
  const lists = JSON.parse(r.out) as Record<string, unknown[]>;
  return Object.entries(lists).filter(([, entries]) => JSON.stringify(entries).includes('127.0.0.1')).map(([k]) => k.replace(/_blacklist$/, ''));
}

/**
 * What each row of "Try it by hand" promises, in README order (each row runs after the ones above
 * it, as a reader would type them): the "you get" text, and how it is checked.
 */
const TRY_IT: Record<string, { get: string; check(run: () => Promise<Ran>): Promise<void> }> = {
  'proxied, round-robin': {
    get: '200 from backend-8080, then backend-8081',
    async check(run) {
      for (const name of [`backend-${setup.ports.backendA}`, `backend-${setup.ports.backendB}`]) {
        const r = await run();
        expect(status(r)).toBe(200);
        expect(r.out).toContain(`"server": "${name}"`);
      }
    },
  },
  '`internal_url` mapping': {
    get: 'the backend sees `/internal/v2/catalog/books`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(200);
      expect(r.out).toContain('"url": "/internal/v2/catalog/books"');
    },
  },
  'no API': {
    get: '503 `Error: Unknown API`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(503);
      expect(r.out).toContain('Error: Unknown API');
    },
  },
  'traversal above the root': {
    get: '400 `Error: Malformed Request`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(400);
      expect(r.out).toContain('Error: Malformed Request');
    },
  },
  'dot segments resolved first': {
    get: 'proxied as `/shop/items`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(200);
      expect(r.out).toContain('"url": "/shop/items"');
    },
  },
  'encoded slash': {
    get: '400 `Error: Malformed Request`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(400);
      expect(r.out).toContain('Error: Malformed Request');
    },
  },
  'spoofed XFF (enable_xff off)': {
    get: 'ignored: the backend sees `x-forwarded-for: 127.0.0.1`',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(200);
      expect(r.out).toContain('"x-forwarded-for": "127.0.0.1"');
      expect(r.out).not.toContain('1.2.3.4');
    },
  },
  'method not allowed': {
    get: '403 `Error: Forbidden by ASE`; your IP is deny-listed (`invalid_method`)',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(403);
      expect(r.out).toContain('Error: Forbidden by ASE');
      expect(await denyTags()).toEqual(['invalid_method']);
    },
  },
  'blocked afterwards': {
    get: '403 (shop has `enable_blocking: true`)',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(403);
      expect(r.out).not.toContain('"server"');
    },
  },
  'detect-only API': {
    get: 'still 200 (catalog has `enable_blocking: false`)',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(200);
      expect(r.out).toContain('"url": "/internal/v2/catalog/books"');
    },
  },
  'start over': {
    get: '`Blacklist cleared`; `/shop/items` is served again',
    async check(run) {
      const r = await run();
      expect(r).toEqual({ code: 0, out: 'Blacklist cleared\n' });
      expect(await denyTags()).toEqual([]);
      expect(status(await curl(`curl -i localhost:${setup.ports.gateway}/shop/items`))).toBe(200);
    },
  },
  'content type not allowed': {
    get: '403, deny-listed (`invalid_content_type`)',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(403);
      expect(await denyTags()).toEqual(['invalid_content_type']);
    },
  },
  'start over again': {
    get: '`Blacklist cleared`',
    async check(run) {
      expect(await run()).toEqual({ code: 0, out: 'Blacklist cleared\n' });
      expect(await denyTags()).toEqual([]);
    },
  },
  decoy: {
    get: '200 `{"admin": true}`, your IP is deny-listed (`decoy`)',
    async check(run) {
      const r = await run();
      expect(status(r)).toBe(200);
      expect(r.out).toContain('{"admin": true}');
      expect(await denyTags()).toEqual(['decoy']);
      // decoys answer before the lists: a listed client still gets the decoy answer there
      expect(status(await run())).toBe(200);
    },
  },
};

describe('the README against the demo', () => {
  beforeAll(async () => {
    setup = await demoSetup();
    demo = runNode(DEMO_SCRIPT, setup.args, { cwd: setup.root });
    await demo.waitFor(DEMO_READY, 15000);
  });

  afterAll(async () => {
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });

  it('the demo listens where the README says (ports rewritten to free ones here)', () => {
    expect(README).toContain(`localhost:${DEMO_PORTS.gateway}/`);
    expect(README).toContain(`localhost:${DEMO_PORTS.admin}/`);
    expect(demo.stdout()).toContain(`Management API on http://127.0.0.1:${setup.ports.admin}`);
  });

  it('every row of "Try it by hand" gives what its "you get" column says', async () => {
    const rows = tableRows(section('Try it by hand'));
    expect(rows.map((r) => r.what)).toEqual(Object.keys(TRY_IT));
    for (const row of rows) {
      expect({ row: row.what, get: row.get }).toEqual({ row: row.what, get: TRY_IT[row.what]!.get });
      const command = withPorts(row.command);
      await TRY_IT[row.what]!.check(() => (/^curl /.test(command) ? curl(command) : ase(command)));
    }
  });

  it('every curl and ase line of the code blocks runs as shown', async () => {
    const lines = [...codeLines(README, 'sh'), ...codeLines(section('Management API and CLI'), '').filter((l) => /^ase\b/.test(l))];
    const ran: string[] = [];
    for (const line of lines) {
      if (NOT_RUN_HERE.some((re) => re.test(line)) || ASE_NOT_RUN.some((re) => re.test(line))) continue;
      const command = withPorts(line);
      const documented = /#\s*->\s*(.+)$/.exec(line)?.[1]?.trim();
      const r = /^curl /.test(command) ? await curl(command) : await ase(command);
      expect({ line, code: r.code }).toEqual({ line, code: 0 });
      expect(r.out).not.toMatch(/"status"\s*:\s*"fail"|^ase: /m);
      if (documented) expect(r.out).toContain(withPorts(documented));
      if (/\/v4\/ase\/api\b/.test(command)) expect(r.out).toMatch(/shop[\s\S]*catalog|catalog[\s\S]*shop/);
      ran.push(line);
    }
    // the management API's curl and the CLI listing are really there and were run
    expect(ran.some((l) => /^curl .*:8010\/v4\/ase\/api/.test(l))).toBe(true);
    expect(ran.filter((l) => /^ase /.test(l)).length).toBeGreaterThanOrEqual(5);
  });
});
