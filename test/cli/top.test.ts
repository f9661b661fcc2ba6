import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { parsePromText } from '../../packages/cli/src/prom-text';
import { type DecisionRow, type TopSample, renderFrame } from '../../packages/cli/src/top';
import { api, configDir, pattern, servers } from '../helpers/config';
import { type Backend, freePort, request, startBackend } from '../helpers/http';
import { ASE_BIN, type RunningCli, runCli } from '../helpers/cli';

/*
 * `ase top`: the frame as a pure function of two samples, then the command end to end against a
 * real `ase start` with real traffic: the plain frame (`--once`, stdout not a terminal), the live
 * view in a real pseudo-terminal (script(1)), and the errors.
 */

const row = (api: string, outcome: string, reason: string, value: number, listType = '', tag = ''): DecisionRow => ({ api, outcome, reason, listType, tag, value });
const sample = (at: number, decisions: DecisionRow[], deny: TopSample['deny'] = []): TopSample => ({ at, decisions, deny });
const OPTS = { where: '127.0.0.1:8010', width: 80, intervalMs: 2000, live: false };

describe('parsePromText', () => {
  test('reads samples with labels, escapes and special values; skips comments and odd lines', () => {
    const text = [
      '# HELP ase_decisions_total Requests.',
      '# TYPE ase_decisions_total counter',
      'ase_decisions_total{api="shop",outcome="passed",reason="allowed"} 12',
      'ase_decisions_total{api="we\\"ird\\\\",outcome="blocked",reason="deny_list",list_type="ip",tag="decoy"} 3 1700000000000',
      'ase_info{version="0.1.0"} 1',
      'ase_upstream_duration_seconds_bucket{api="shop",le="+Inf"} +Inf',
      'not a sample line',
      'ase_bad{api="unterminated} 1',
      '',
    ].join('\n');
    expect(parsePromText(text)).toEqual([
      { name: 'ase_decisions_total', labels: { api: 'shop', outcome: 'passed', reason: 'allowed' }, value: 12 },
      { name: 'ase_decisions_total', labels: { api: 'we"ird\\', outcome: 'blocked', reason: 'deny_list', list_type: 'ip', tag: 'decoy' }, value: 3 },
      { name: 'ase_info', labels: { version: '0.1.0' }, value: 1 },
      { name: 'ase_upstream_duration_seconds_bucket', labels: { api: 'shop', le: '+Inf' }, value: Infinity },
    ]);
  });
});

describe('renderFrame', () => {
  const before = sample(1_000_000, [row('shop', 'passed', 'allowed', 10), row('shop', 'blocked', 'invalid_method', 2)]);
  const now = sample(1_002_000, [
    row('shop', 'passed', 'allowed', 30),
    row('shop', 'blocked', 'invalid_method', 2),
    row('shop', 'blocked', 'deny_list', 4, 'ip', 'decoy'),
    row('', 'passed', 'unmatched', 1),
  ]);

  test('per API: the rate from the counters moved since the last sample, totals, passed and refused', () => {
    const lines = renderFrame(now, before, OPTS);
    expect(lines[0]).toBe('ase top  127.0.0.1:8010  1970-01-01 00:16:42 UTC');
    expect(lines).toContain('shop                                          12.0        36        30         6');
    expect(lines).toContain('(no API)                                       0.5         1         1         0');
    // Refused requests by reason (the deny-list ones with their identifier type and tag), busiest first.
    const reasons = lines.slice(lines.findIndex((l) => l.startsWith('REFUSED BY REASON')) + 1);
    expect(reasons.slice(0, 2)).toEqual([
      'deny_list ip decoy                             2.0         4',
      'invalid_method                                 0.0         2',
    ]);
  });

  test('the first sample has no rate; a counter that went down counts from zero (the server restarted)', () => {
    expect(renderFrame(now, undefined, OPTS)).toContain('shop                                             -        36        30         6');
    const restarted = sample(1_004_000, [row('shop', 'passed', 'allowed', 4)]);
    expect(renderFrame(restarted, now, OPTS)).toContain('shop                                           2.0         4         4         0');
  });

  test('every line fits the width; long API ids are cut with a mark', () => {
    const wide = sample(1_000_000, [row('a-very-long-api-identifier-that-goes-on', 'passed', 'allowed', 123456)]);
    const lines = renderFrame(wide, undefined, { ...OPTS, width: 50 });
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(50);
    expect(lines.some((l) => l.startsWith('a-very-lo~ '))).toBe(true);
  });

  test('deny-list entries: newest first, values masked, control characters shown as ?, cut to the rows left', () => {
    const deny = [
      { tag: 'manual', type: 'token', value: 'secret-token-value' },
      { tag: 'manual', type: 'cookie', name: 'sid', value: 'abcdefgh' },
      { tag: 'decoy', type: 'ip', value: '192.0.2.1' },
      { tag: 'decoy', type: 'username', value: 'evil\x1b[2Jname' },
    ];
    const lines = renderFrame(sample(1_000_000, [], deny), undefined, OPTS);
    const at = lines.indexOf('DENY LIST  4 entries (manual 2, decoy 2)');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1)).toEqual(['decoy                 username evil?[2Jname', 'decoy                 ip 192.0.2.1', 'manual                cookie sid=abcd****', 'manual                token secr****']);
    expect(lines.join('\n')).not.toContain('secret-token-value');
    expect(lines.join('\n')).not.toContain('\x1b');

    const short = renderFrame(sample(1_000_000, [], deny), undefined, { ...OPTS, live: true, height: 12 });
    expect(short.length).toBeLessThanOrEqual(12);
    expect(short[short.length - 1]).toBe('... 2 more (ase view_blacklist)');
  });

  test('the live heading says how often and how to quit, and a failed refresh', () => {
    const lines = renderFrame(now, before, { ...OPTS, live: true, intervalMs: 500, problem: 'cannot reach the management API at 127.0.0.1:8010: is ase running?' });
    expect(lines[0]).toBe('ase top  127.0.0.1:8010  1970-01-01 00:16:42 UTC  every 500ms  q quits');
    expect(lines[1]).toBe('! cannot reach the management API at 127.0.0.1:8010: is ase running?');
  });
});

describe('ase top against a running ase start', () => {
  let backend: Backend;
  let dir: string;
  let ase: RunningCli;
  let port: number;
  let adminPort: number;

  const top = async (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const cli = runCli(['--admin-port', String(adminPort), '-p', 'admin', 'top', ...args]);
    const code = await cli.exited;
    return { code, out: cli.stdout(), err: cli.stderr() };
  };
  /** The API table's numbers for `api` in a frame: [total, passed, refused]. */
  const apiRow = (out: string, id: string): number[] => {
    const m = new RegExp(`^${id} +\\S+ +(\\d+) +(\\d+) +(\\d+)$`, 'm').exec(out);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  };
  const reasonTotal = (out: string, reason: string): number => Number(new RegExp(`^${reason} +\\S+ +(\\d+)$`, 'm').exec(out)?.[1] ?? 0);

  beforeAll(async () => {
    backend = await startBackend('b');
    dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: {
        shop: api('/shop', {
          enable_blocking: true,
          oauth2_access_token: true,
          api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }),
          decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
          servers: servers(backend.port),
        }),
      },
    });
    ase = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const m = await ase.waitFor(/ASE ready: \w+ gateway on port (\d+), .*; management API on 127\.0\.0\.1:(\d+)/);
    port = Number(m[1]);
    adminPort = Number(m[2]);
  });
  afterAll(async () => {
    ase.child.kill('SIGTERM');
    expect(await ase.exited).toBe(0);
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--once: the requests of the API, the block reason that moved, and the entry a decoy added', async () => {
    const first = await top('--once');
    expect(first.code).toBe(0);
    const [total0 = 0, passed0 = 0, refused0 = 0] = apiRow(first.out, 'shop');

    for (let i = 0; i < 3; i++) expect((await request(port, { path: '/shop/items' })).status).toBe(200);
    expect((await request(port, { path: '/shop/items', method: 'DELETE', headers: { authorization: 'Bearer bad-token-1' } })).status).toBe(401);
    expect((await request(port, { path: '/shop/admin' })).status).toBe(200); // the decoy: lists 127.0.0.1
    expect((await request(port, { path: '/shop/items' })).status).toBe(401); // now deny-listed

    const r = await top('--once');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^ase top {2}127\.0\.0\.1:\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    expect(apiRow(r.out, 'shop')).toEqual([total0 + 6, passed0 + 3, refused0 + 3]);
    expect(reasonTotal(r.out, 'invalid_method')).toBe(reasonTotal(first.out, 'invalid_method') + 1);
    expect(reasonTotal(r.out, 'decoy')).toBe(reasonTotal(first.out, 'decoy') + 1);
    expect(reasonTotal(r.out, 'deny_list ip decoy')).toBe(reasonTotal(first.out, 'deny_list ip decoy') + 1);
    expect(r.out).toMatch(/^decoy +ip 127\.0\.0\.1$/m);
    expect(r.out).toMatch(/^invalid_method +token bad-\*\*\*\*$/m);
    expect(r.out).not.toContain('bad-token-1');
    expect(r.out).not.toContain('\x1b'); // a plain frame: no terminal control
  });

  test('wrong admin keys: one line on stderr, exit 1', async () => {
    const cli = runCli(['--admin-port', String(adminPort), '-p', 'not-the-password', 'top', '--once']);
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toBe('ase: authorization failure\n');
  });

  test('management API down: one line on stderr, exit 1', async () => {
    const nothing = await freePort();
    const cli = runCli(['--admin-port', String(nothing), '-p', 'admin', 'top']);
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toBe(`ase: cannot reach the management API at 127.0.0.1:${nothing}: is ase running?\n`);
  });

  test('options: --interval checked, --once and --interval belong to top', async () => {
    const bad = runCli(['--admin-port', String(adminPort), 'top', '--interval', '10ms']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('ase: --interval must be a duration from 200ms to 3600s, like 2s or 500ms (got "10ms")');
    const other = runCli(['--admin-port', String(adminPort), 'status', '--once']);
    expect(await other.exited).toBe(2);
    expect(other.stderr()).toContain('ase: --once is an option of ase top only');
    const help = runCli(['help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain('  top [--interval 2s] [--once]\n        a live view of the running enforcer');
  });

  /** Runs `inner` under script(1), in a real pseudo-terminal; resolves once it exits. */
  function inTerminal(inner: string): { out(): string; frames(): number; write(s: string): void; exited: Promise<number | null> } {
    const child = spawn('script', ['-qfec', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    return {
      out: () => out,
      frames: () => out.split('\x1b[Hase top  ').length - 1,
      write: (s) => void child.stdin.write(s),
      exited: new Promise((r) => child.on('exit', r)),
    };
  }
  const until = async (ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  /** `stty -g` lines: the terminal's modes, printed before and after. */
  const modes = (out: string): string[] => out.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+){10,}\r?$/.test(l));

  test.each([
    ['q', 'q'],
    ['Ctrl-C', '\x03'],
  ])('in a terminal: the alternate screen, redrawn in place, and %s restores the terminal', async (_key, key) => {
    // stty -g before and after shows the terminal's modes are as they were (raw mode undone).
    const t = inTerminal(`stty -g; ${process.execPath} ${ASE_BIN} --admin-port ${adminPort} -p admin top --interval 300ms; echo "exit=$?"; stty -g`);
    await until(() => t.frames() >= 2);
    expect(t.frames()).toBeGreaterThanOrEqual(2); // drawn, then redrawn in place from the top left
    t.write(key);
    expect(await t.exited).toBe(0);
    const out = t.out();
    expect(out).toContain('\x1b[?1049h'); // the alternate screen
    const left = out.lastIndexOf('\x1b[?25h\x1b[?1049l'); // cursor shown, alternate screen left
    expect(left).toBeGreaterThan(out.lastIndexOf('\x1b[Hase top  '));
    expect(out).toMatch(/^shop +[\d.-]+ +\d+ +\d+ +\d+\x1b\[K/m);
    expect(out).toContain('exit=0');
    const m = modes(out);
    expect(m).toHaveLength(2);
    expect(m[1]).toBe(m[0]);
  });

  test('in a terminal: SIGTERM leaves the alternate screen and exits 0', async () => {
    // Started in the background of the terminal's shell, which prints its pid and waits for it.
    const t = inTerminal(`${process.execPath} ${ASE_BIN} --admin-port ${adminPort} -p admin top --interval 300ms & echo "pid=$!"; wait $!; echo "exit=$?"`);
    await until(() => t.frames() >= 1 && /pid=\d+/.test(t.out()));
    expect(t.frames()).toBeGreaterThanOrEqual(1);
    process.kill(Number(/pid=(\d+)/.exec(t.out())![1]), 'SIGTERM');
    expect(await t.exited).toBe(0);
    const out = t.out();
    expect(out.lastIndexOf('\x1b[?25h\x1b[?1049l')).toBeGreaterThan(out.lastIndexOf('\x1b[Hase top  '));
    expect(out).toContain('exit=0');
  });
});
