import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '@ase/cli';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { type RunningCli, runCli } from '../helpers/cli';

/* `ase explain` against a running `ase start` (gateway mode), and `ase check CONFIG_DIR`. */

interface Result {
  code: number;
  out: string;
  err: string;
}

async function inProcess(argv: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const PATTERN = {
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: ['GET'],
  content_type_allowed: '',
  error_code: '403',
  error_def: 'Forbidden',
  error_message_body: 'Error: Forbidden',
};

describe('ase explain against a running ase start', () => {
  let backend: Backend;
  let dir: string;
  let cli: RunningCli;
  let port: number;
  let adminPort: number;
  let run: (...args: string[]) => Promise<Result>;

  beforeAll(async () => {
    backend = await startBackend('b');
    dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: {
        shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: PATTERN, servers: servers(backend.port) }),
        other: api('/other', { hostname: 'other.example', servers: servers(backend.port) }),
      },
    });
    cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
    const m = await cli.waitFor(/ASE ready: node gateway on port (\d+), \d+ APIs? loaded from .*; management API on 127\.0\.0\.1:(\d+)/);
    port = Number(m[1]);
    adminPort = Number(m[2]);
    run = (...args) => inProcess(['--admin-port', String(adminPort), ...args]);
  });
  afterAll(async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a request that passes: the backend it would go to, then the real request goes there', async () => {
    const r = await run('explain', 'GET', '/shop/items', '-H', 'Authorization: Bearer tok-abcdef', '--ip', '192.0.2.7');
    expect(r).toEqual({
      code: 0,
      err: '',
      out: [
        'api         : shop',
        'decided by  : route',
        'outcome     : pass',
        'status      : answered by the app or backend',
        `route       : 127.0.0.1:${backend.port}`,
        'identifiers :',
        '  ip 192.0.2.7',
        '  token tok-****',
      ].join('\n'),
    });
    const seen = backend.seen.length;
    expect((await request(port, { path: '/shop/items' })).status).toBe(200);
    expect(backend.seen.length).toBe(seen + 1);
  });

  test('a method violation: the block, the detection it would list; nothing listed by explaining', async () => {
    const r = await run('explain', 'DELETE', '/shop/items', '--ip', '192.0.2.8');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'api         : shop',
      'decided by  : pattern',
      'outcome     : block (invalid_method)',
      'status      : 403',
      'route       : answered by ase',
      'identifiers :',
      '  ip 192.0.2.8',
      'detections  :',
      '  invalid_method on ip 192.0.2.8, would be deny-listed',
    ]);
    const deny = await run('view_blacklist');
    expect(deny.out).not.toContain('192.0.2.8');
  });

  test('--json prints the answer as JSON; a host no API serves', async () => {
    const r = await run('explain', 'GET', 'http://elsewhere.example/other/x', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      api: null,
      match: 'no_prefix',
      stage: 'match',
      outcome: 'refuse',
      reason: 'unknown_api',
      status: 503,
      identifiers: [],
      would_list: [],
      route: null,
    });
    const real = await request(port, { path: '/other/x', headers: { host: 'elsewhere.example' } });
    expect(real.status).toBe(503);
    const nohost = JSON.parse((await run('explain', 'GET', '/x', '-H', 'Host: nobody.example', '--json')).out) as Record<string, unknown>;
    expect(nohost).toMatchObject({ api: null, status: 503 });
    expect((await request(port, { path: '/x', headers: { host: 'nobody.example' } })).status).toBe(503);
  });

  test('usage errors: arguments, -H without a colon, options of explain on other commands', async () => {
    expect(await run('explain', 'GET')).toMatchObject({ code: 2, err: expect.stringContaining('usage: ase explain METHOD URL') });
    expect(await run('explain', 'GET', '/shop', '-H', 'no colon')).toMatchObject({ code: 2, err: expect.stringContaining("-H takes 'Name: value'") });
    expect(await run('status', '--json')).toMatchObject({ code: 2, err: expect.stringContaining('--json is an option of ase explain only') });
    expect(await run('explain', 'GET', '/shop', '--ip', 'nope')).toMatchObject({ code: 1, err: 'ase: ip: an IPv4 or IPv6 address such as 192.0.2.1' });
  });
});

describe('ase check CONFIG_DIR', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a good directory: exit 0 and a one-line summary; nothing written', async () => {
    const dir = configDir({ conf: 'http_ws_port=8000\n', apis: { shop: api('/shop'), admin: api('/admin') } });
    dirs.push(dir);
    const before = fs.readdirSync(dir).sort();
    const r = await inProcess(['check', dir]);
    expect(r).toEqual({ code: 0, err: '', out: `${dir}: ok (ase.conf, 2 APIs, 0 list entries)` });
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  test('a directory with bad files: exit 1 (real binary), every problem with its file and field', async () => {
    const dir = configDir({
      conf: 'http_ws_port=eighty\n',
      apis: { shop: api('/shop', { flow_control: { client_spike_threshold: 'ten' } }), first: api('/dup'), same: api('/dup') },
      rawApis: { broken: '{"api_metadata": ' },
    });
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'lists.json'), JSON.stringify({ seq: 1, blacklist: [{ type: 'ip', value: 'not-an-ip', tag: 'manual' }], whitelist: [] }));
    const cli = runCli(['check', dir]);
    expect(await cli.exited).toBe(1);
    const err = cli.stderr();
    expect(cli.stdout()).toBe('');
    expect(err).toContain(`${path.join(dir, 'ase.conf')}: line 1: http_ws_port:`);
    expect(err).toContain(`${path.join(dir, 'api', 'broken.json')}:`);
    expect(err).toContain(`${path.join(dir, 'api', 'shop.json')}: /api_metadata/flow_control/client_spike_threshold:`);
    expect(err).toMatch(/same\.json: \/api_metadata\/url: api `first` already has the same hostname and url/);
    expect(err).toContain(`${path.join(dir, 'data', 'lists.json')}: blacklist[0] skipped`);
    expect(err).toMatch(/: 5 problems\n$/);
  });

  test('no directory, or none that exists', async () => {
    expect(await inProcess(['check'])).toMatchObject({ code: 2, err: expect.stringContaining('usage: ase check CONFIG_DIR') });
    const r = await inProcess(['check', '/nonexistent/ase-config']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/nonexistent/ase-config: config directory does not exist');
  });
});
