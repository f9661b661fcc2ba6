import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '@ase/cli';
import { api, configDir, invalidApi, servers } from '../helpers/config';
import { type Backend, freePort, request, startBackend } from '../helpers/http';
import { type RunningCli, runCli } from '../helpers/cli';

/*
 * The management commands against a running `ase start`. Commands run in-process through main()
 * (same code as bin/ase.js, minus a Node start per command); the exit-code and connection cases
 * run the real binary.
 */

interface Result {
  code: number;
  out: string;
  err: string;
}

async function inProcess(argv: string[], env: Record<string, string> = {}): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    log.mockRestore();
    error.mockRestore();
  }
}

async function startAse(dir: string, extra: string[] = ['--admin-port', '0']): Promise<{ cli: RunningCli; port: number; adminPort: number; stop(): Promise<void> }> {
  const cli = runCli(['start', '--config-dir', dir, '--port', '0', ...extra]);
  const m = await cli.waitFor(/ASE ready: node gateway on port (\d+), \d+ APIs? loaded from .*; management API on 127\.0\.0\.1:(\d+)/);
  return {
    cli,
    port: Number(m[1]),
    adminPort: Number(m[2]),
    stop: async () => {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    },
  };
}

describe('ase management commands against a running ase start', () => {
  let backend: Backend;
  let dir: string;
  let ase: Awaited<ReturnType<typeof startAse>>;
  let run: (...args: string[]) => Promise<Result>;

  beforeAll(async () => {
    backend = await startBackend('b');
    dir = configDir({ apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) } });
    ase = await startAse(dir);
    run = (...args) => inProcess(['--admin-port', String(ase.adminPort), '--config-dir', dir, ...args]);
  });
  afterAll(async () => {
    await ase.stop();
    await backend.close();
  });

  test('status prints the reference-style block', async () => {
    const r = await run('status');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'ASE for Node.js, API Security Enforcer',
      'status                  : started',
      'mode                    : inline',
      'framework               : node',
      `http/ws                 : port ${ase.port}`,
      `management              : port ${ase.adminPort}`,
      'firewall                : enabled',
      'audit                   : enabled',
      'ase detected attack     : disabled',
      'attack list memory      : configured 128.00 MB, used 0.00 MB, free 128.00 MB',
      'log level               : info',
      'timezone                : UTC',
      'apis                    : 1',
    ]);
  });

  test('add_api FILE (api id = file name), list_api, api_info, delete_api', async () => {
    const file = path.join(configDir(), 'cart.json');
    fs.writeFileSync(file, JSON.stringify(api('/cart', { servers: servers(backend.port), decoy_config: { decoy_enabled: true, decoy_subpaths: ['/cart/admin'] } })));
    expect(await run('add_api', file)).toEqual({ code: 0, out: 'api cart added successfully', err: '' });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'api', 'cart.json'), 'utf8'))).toMatchObject({ api_metadata: { url: '/cart' } });
    expect((await request(ase.port, { path: '/cart/items' })).status).toBe(200);
    expect((await run('list_api')).out).toBe('cart ( loaded ), http, decoy: in-context\nshop ( loaded ), http');
    const info = await run('api_info', 'cart');
    expect(JSON.parse(info.out)).toMatchObject({ api_metadata: { url: '/cart', hostname: '*', protocol: 'http' } });
    expect(await run('add_api', file)).toEqual({ code: 1, out: '', err: 'ase: api cart already exists' });
    expect(await run('delete_api', 'cart')).toEqual({ code: 0, out: 'api cart deleted successfully', err: '' });
    expect(fs.existsSync(path.join(dir, 'api', 'cart.json'))).toBe(false);
    expect((await request(ase.port, { path: '/cart/items' })).status).toBe(503);
    expect(await run('delete_api', 'cart')).toEqual({ code: 1, out: '', err: 'ase: api cart does not exist' });
  });

  test('add_api refuses an invalid file, naming the file and the field; nothing is sent', async () => {
    const d = configDir();
    const bad = path.join(d, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(invalidApi('/bad', { enable_blocking: 'yes' })));
    const r = await run('add_api', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`ase: invalid API file ${bad}:`);
    expect(r.err).toMatch(/bad\.json: enable_blocking: must be true or false \(got "yes"\)/);
    const broken = path.join(d, 'broken.json');
    fs.writeFileSync(broken, '{"api_metadata": ');
    expect((await run('add_api', broken)).err).toMatch(/broken\.json: is not valid JSON/);
    expect(await run('add_api', path.join(d, 'missing.json'))).toEqual({ code: 1, out: '', err: `ase: ${path.join(d, 'missing.json')}: no such file` });
    expect((await run('add_api', path.join(d, 'shop.txt'))).err).toMatch(/must end in \.json/);
    expect((await run('list_api')).out).toBe('shop ( loaded ), http');
  });

  test('update_api NAME re-reads api/NAME.json of --config-dir', async () => {
    const file = path.join(dir, 'api', 'shop.json');
    const before = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, JSON.stringify(api('/shop', { enable_blocking: true, servers: servers(backend.port), api_mapping: { internal_url: '/v2/shop' } })));
      expect(await run('update_api', 'shop')).toEqual({ code: 0, out: 'api shop updated successfully', err: '' });
      await request(ase.port, { path: '/shop/x' });
      expect(backend.seen.at(-1)?.url).toBe('/v2/shop/x');
      fs.writeFileSync(file, '{"api_metadata": {"url": "shop", "hostname": "*"}}');
      const r = await run('update_api', 'shop');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/shop\.json: url: must be a path starting with "\/"/);
      expect(await run('update_api', 'nope')).toMatchObject({ code: 1, err: expect.stringMatching(/nope\.json: no such file/) });
    } finally {
      fs.writeFileSync(file, before);
      await run('update_api', 'shop');
    }
  });

  test('add_server, list_server, delete_server', async () => {
    expect(await run('add_server', 'shop', '127.0.0.2:8080', '10/second', '100')).toEqual({ code: 0, out: 'server 127.0.0.2:8080 added to api shop', err: '' });
    expect((await run('list_server', 'shop')).out).toBe(
      `127.0.0.1:${backend.port} ( Up ), server_spike_threshold: 0/second, server_connection_quota: 0\n127.0.0.2:8080 ( Up ), server_spike_threshold: 10/second, server_connection_quota: 100`,
    );
    expect(await run('add_server', 'shop', '127.0.0.2:8080')).toEqual({ code: 1, out: '', err: 'ase: server already exists' });
    expect(await run('delete_server', 'shop', '127.0.0.2:8080')).toEqual({ code: 0, out: 'server 127.0.0.2:8080 deleted from api shop', err: '' });
    expect(await run('delete_server', 'shop', '127.0.0.2:8080')).toEqual({ code: 1, out: '', err: 'ase: server does not exist' });
    expect((await run('add_server', 'shop', 'no-port')).code).toBe(2);
    expect(await run('add_server', 'nope', '127.0.0.2:8080')).toEqual({ code: 1, out: '', err: 'ase: api nope does not exist' });
  });

  test('add_blacklist takes a network and --ttl: the gateway blocks the network until it expires; view --history shows it', async () => {
    expect(await run('add_blacklist', 'ip', '127.0.0.9/8', '--ttl', '1s')).toEqual({ code: 0, out: 'IP 127.0.0.0/8 added to blacklist', err: '' });
    expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
    const view = await run('view_blacklist', 'manual', '--history');
    expect(view.out).toMatch(/^Manual Blacklist\n1\) type : ip, value : 127\.0\.0\.0\/8, added : \d{4}-\d\d-\d\dT[\d:.]+Z by manual via management, expires : \d{4}-[\d:.T-]+Z, hits : 1, last hit : \d{4}-[\d:.T-]+Z$/);
    expect((await run('view_blacklist', 'manual')).out).toBe('Manual Blacklist\n1) type : ip, value : 127.0.0.0/8');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await request(ase.port, { path: '/shop/x' })).status).toBe(200);
    expect(await run('add_blacklist', 'ip', '127.0.0.1', '--ttl', 'soon')).toMatchObject({ code: 2, err: expect.stringMatching(/^ase: --ttl must be a duration like 90s, 10m, 12h or 30d, from 1 second to 10 years \(got "soon"\)/) });
    expect(await run('add_blacklist', 'ip', '127.0.0.1', '--ttl', '0s')).toMatchObject({ code: 2 });
    expect(await run('view_whitelist', '--ttl', '1m')).toMatchObject({ code: 2, err: expect.stringMatching(/^ase: --ttl is an option of add_blacklist and add_whitelist only/) });
    await run('clear_blacklist');
  });

  test('deny list: add_blacklist blocks the next request; view, delete and clear', async () => {
    expect(await run('add_blacklist', 'ip', '127.0.0.1')).toEqual({ code: 0, out: 'IP 127.0.0.1 added to blacklist', err: '' });
    expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
    expect(await run('add_blacklist', 'cookie', 'JSESSIONID', 'abc')).toEqual({ code: 0, out: 'Cookie JSESSIONID abc added to blacklist', err: '' });
    expect(await run('add_blacklist', 'ip', '127.0.0.1')).toEqual({ code: 1, out: '', err: 'ase: IP 127.0.0.1 already exist' });
    expect((await run('view_blacklist', 'manual')).out).toBe('Manual Blacklist\n1) type : ip, value : 127.0.0.1\n2) type : cookie, name : JSESSIONID, value : abc');
    expect((await run('view_blacklist')).out.split('\n')).toEqual([
      'Manual Blacklist',
      '1) type : ip, value : 127.0.0.1',
      '2) type : cookie, name : JSESSIONID, value : abc',
      'ABS Generated Blacklist',
      'Realtime Decoy Blacklist',
      'Realtime Protocol Blacklist',
      'Realtime Method Blacklist',
      'Realtime Content-Type Blacklist',
      'Realtime Missing-Token Blacklist',
      'Realtime Honeytoken Blacklist',
    ]);
    expect(await run('delete_blacklist', 'ip', '127.0.0.1')).toEqual({ code: 0, out: 'IP 127.0.0.1 deleted from blacklist', err: '' });
    expect((await request(ase.port, { path: '/shop/x' })).status).toBe(200);
    expect(await run('clear_blacklist')).toEqual({ code: 0, out: 'Blacklist cleared', err: '' });
    expect((await run('view_blacklist', 'manual')).out).toBe('Manual Blacklist');
    expect((await run('add_blacklist', 'cookie', 'only-name')).code).toBe(2);
    expect((await run('add_blacklist', 'mac', 'x')).code).toBe(2);
    expect(await run('add_blacklist', 'ip', 'not-an-ip')).toMatchObject({ code: 1, err: expect.stringMatching(/^ase: value must be an IPv4 or IPv6 address/) });
    expect(await run('view_blacklist', 'bogus')).toMatchObject({ code: 2, err: expect.stringMatching(/^ase: view_blacklist: unknown tag "bogus"; allowed: all, manual, /) });
  });

  test('allow list: add_whitelist wins over the deny list; view, delete, clear', async () => {
    await run('add_blacklist', 'ip', '127.0.0.1');
    try {
      expect(await run('add_whitelist', 'ip', '127.0.0.1')).toEqual({ code: 0, out: 'IP 127.0.0.1 added to whitelist', err: '' });
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(200);
      expect(await run('add_whitelist', 'api_key', 'X-Key', 'k1')).toEqual({ code: 0, out: 'API key x-key k1 added to whitelist', err: '' });
      expect((await run('view_whitelist')).out).toBe('Whitelist\n1) type : ip, value : 127.0.0.1\n2) type : api_key, name : x-key, value : k1');
      expect(await run('delete_whitelist', 'ip', '127.0.0.1')).toEqual({ code: 0, out: 'IP 127.0.0.1 deleted from whitelist', err: '' });
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
      expect(await run('clear_whitelist')).toEqual({ code: 0, out: 'Whitelist cleared', err: '' });
      expect((await run('view_whitelist')).out).toBe('Whitelist');
    } finally {
      await run('clear_blacklist');
    }
  });

  test('view_blacklist and view_whitelist --sort, --limit, --offset page the list as the REST API does; bad values get its error', async () => {
    for (const v of ['tok-c', 'tok-a', 'tok-b']) await run('add_blacklist', 'token', v);
    await run('add_blacklist', 'ip', '127.0.0.1');
    try {
      // Two refused requests: the address entry is the one that blocked most.
      for (let i = 0; i < 2; i++) expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
      expect((await run('view_blacklist', 'manual', '--sort', '-hits', '--limit', '1')).out).toBe('Manual Blacklist\n1) type : ip, value : 127.0.0.1');
      expect((await run('view_blacklist', 'manual', '--sort', 'value', '--limit', '2')).out).toBe('Manual Blacklist\n1) type : ip, value : 127.0.0.1\n2) type : token, value : tok-a');
      // The second page is numbered on from the first.
      expect((await run('view_blacklist', 'manual', '--sort=value', '--limit=2', '--offset=2')).out).toBe('Manual Blacklist\n3) type : token, value : tok-b\n4) type : token, value : tok-c');
      expect((await run('view_blacklist', 'manual', '--sort', '-value', '--offset', '3', '--history')).out).toMatch(/^Manual Blacklist\n4\) type : ip, value : 127\.0\.0\.1, added : .* hits : 2, /);
      expect((await run('view_blacklist', '--sort', 'value', '--limit', '1')).out.split('\n').slice(0, 3)).toEqual(['Manual Blacklist', '1) type : ip, value : 127.0.0.1', 'ABS Generated Blacklist']);
      await run('add_whitelist', 'token', 'ok-2');
      await run('add_whitelist', 'token', 'ok-1');
      expect((await run('view_whitelist', '--sort', 'value', '--offset', '1')).out).toBe('Whitelist\n2) type : token, value : ok-2');

      const rest = async (query: string): Promise<unknown> => {
        const r = await request(ase.adminPort, { path: `/v4/ase/firewall/blacklist?${query}`, headers: { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' } });
        expect(r.status).toBe(403);
        return (JSON.parse(r.body) as { status_message: string }).status_message;
      };
      for (const [flag, value, query] of [['--sort', 'bogus', 'sort=bogus'], ['--limit', '0', 'limit=0'], ['--offset', '-1', 'offset=-1'], ['--limit', 'ten', 'limit=ten']] as const) {
        const r = await run('view_blacklist', flag, value);
        expect(r).toEqual({ code: 1, out: '', err: `ase: ${String(await rest(query))}` });
        expect(r.err).toBe(`ase: query parameter ${flag.slice(2)} contains invalid value`);
      }
      expect(await run('view_whitelist', '--sort', 'hit')).toEqual({ code: 1, out: '', err: 'ase: query parameter sort contains invalid value' });
      expect(await run('list_api', '--limit', '1')).toMatchObject({ code: 2, err: expect.stringMatching(/^ase: --limit is an option of view_blacklist and view_whitelist only/) });
      expect(await run('view_blacklist', '--sort')).toMatchObject({ code: 2, err: expect.stringMatching(/^ase: --sort needs a value/) });
    } finally {
      await run('clear_whitelist');
      await run('clear_blacklist');
    }
  });

  test('enable_firewall / disable_firewall and the ASE-detected attack switch', async () => {
    await run('add_blacklist', 'ip', '127.0.0.1');
    try {
      expect(await run('disable_firewall')).toEqual({ code: 0, out: 'Firewall is now disabled', err: '' });
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(200);
      expect((await run('disable_firewall')).out).toBe('Firewall is already disabled');
      expect((await run('status')).out).toMatch(/^firewall {16}: disabled$/m);
      expect((await run('enable_firewall')).out).toBe('Firewall is now enabled');
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
      expect((await run('enable_ase_detected_attack')).out).toBe('ASE detected attack is now enabled');
      expect((await run('status')).out).toMatch(/^ase detected attack {5}: enabled$/m);
      expect((await run('disable_ase_detected_attack')).out).toBe('ASE detected attack is now disabled');
    } finally {
      await run('clear_blacklist');
    }
  });

  test('flow-control update_* commands', async () => {
    await run('add_server', 'shop', '127.0.0.3:8080');
    try {
      expect(await run('update_client_spike_threshold', 'shop', '700/second')).toEqual({ code: 0, out: 'client_spike_threshold of api shop updated to 700/second', err: '' });
      expect((await run('list_api')).out).toBe('shop ( loaded ), http, client_spike_threshold: 700/second, server_connection_queueing: disabled');
      expect((await run('update_server_spike_threshold', 'shop', '127.0.0.3:8080', '5/minute')).out).toBe('server_spike_threshold of server 127.0.0.3:8080 of api shop updated to 5/minute');
      expect((await run('update_server_connection_quota', 'shop', '127.0.0.3:8080', '50')).out).toBe('server_connection_quota of server 127.0.0.3:8080 of api shop updated to 50');
      expect((await run('list_server', 'shop')).out).toMatch(/127\.0\.0\.3:8080 \( Up \), server_spike_threshold: 5\/minute, server_connection_quota: 50$/);
      expect((await run('update_bytes_in_threshold', 'shop', '10/second')).code).toBe(0);
      expect((await run('update_bytes_out_threshold', 'shop', '20/second')).code).toBe(0);
      const fc = JSON.parse(fs.readFileSync(path.join(dir, 'api', 'shop.json'), 'utf8')) as { api_metadata: { flow_control: Record<string, unknown> } };
      expect(fc.api_metadata.flow_control).toMatchObject({ client_spike_threshold: '700/second', bytes_in_threshold: '10/second', bytes_out_threshold: '20/second' });
      const bad = await run('update_client_spike_threshold', 'shop', 'fast');
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/^ase: client_spike_threshold: must be a rate like "10\/second"/);
      expect((await run('update_server_connection_quota', 'shop', '127.0.0.3:8080', 'many')).code).toBe(2);
      expect((await run('update_client_spike_threshold', 'shop')).code).toBe(2);
    } finally {
      await run('update_client_spike_threshold', 'shop', '0/second');
      await run('delete_server', 'shop', '127.0.0.3:8080');
    }
  });

  test('the real binary: exit codes and one-line messages', async () => {
    const down = await freePort();
    const [refused, wrong, ok, usage] = [
      runCli(['--admin-port', String(down), 'list_api']),
      runCli(['-u', 'admin', '-p', 'nope', '--admin-port', String(ase.adminPort), 'list_api']),
      runCli(['--admin-port', String(ase.adminPort), 'add_blacklist', 'token', 'tok-123']),
      runCli(['add_blacklist', 'cookie']),
    ];
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toBe(`ase: cannot reach the management API at 127.0.0.1:${down}: is ase running?\n`);
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr()).toBe('ase: authorization failure\n');
    expect(await ok.exited).toBe(0);
    expect(ok.stdout()).toBe('Token tok-123 added to blacklist\n');
    expect(await usage.exited).toBe(2);
    expect(usage.stderr()).toMatch(/^ase: cookie entries take a name and a value\nusage: ase add_blacklist /);
    await run('clear_blacklist');
  });

  test('update_password takes effect without a restart; -p, ASE_PASSWORD; CLI actions are audited as cli', async () => {
    // Last test against this server: the default password cannot be set back (it is too weak).
    expect(await run('update_password', 'N3w-pass-2026')).toEqual({ code: 0, out: 'password updated successfully', err: '' });
    expect(await run('status')).toEqual({ code: 1, out: '', err: 'ase: authorization failure' });
    expect((await run('-p', 'N3w-pass-2026', 'status')).code).toBe(0);
    expect((await inProcess(['--admin-port', String(ase.adminPort), 'list_api'], { ASE_PASSWORD: 'N3w-pass-2026' })).code).toBe(0);
    expect((await inProcess(['--admin-port', String(ase.adminPort), '-p', 'N3w-pass-2026', 'update_password'], { ASE_NEW_PASSWORD: 'an0ther-pass-2026' })).out).toBe('password updated successfully');
    expect((await run('-p', 'an0ther-pass-2026', 'status')).code).toBe(0);
    const audit = fs.readFileSync(path.join(dir, 'logs', 'audit.log'), 'utf8');
    expect(audit).toMatch(/\| cli \| update_password \| username=admin, new_password=\*{10}, client=127\.0\.0\.1, result=200\n/);
    expect(audit).toMatch(/\| cli \| status \| username=admin, client=127\.0\.0\.1, result=403\n/);
    expect(audit).not.toMatch(/N3w-pass-2026/);
  });
});

test('ase start: a deny entry added with the CLI still blocks after a restart; the CLI finds management_port in --config-dir', async () => {
  const backend = await startBackend('b2');
  const adminPort = await freePort();
  const dir = configDir({ conf: `management_port=${adminPort}\n`, apis: { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) } });
  try {
    let ase = await startAse(dir, []);
    expect(ase.adminPort).toBe(adminPort);
    try {
      expect((await inProcess(['--config-dir', dir, 'add_blacklist', 'ip', '127.0.0.1'])).code).toBe(0);
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
    } finally {
      await ase.stop();
    }
    ase = await startAse(dir, []);
    try {
      expect((await request(ase.port, { path: '/shop/x' })).status).toBe(403);
      expect((await inProcess(['--config-dir', dir, 'view_blacklist', 'manual'])).out).toBe('Manual Blacklist\n1) type : ip, value : 127.0.0.1');
    } finally {
      await ase.stop();
    }
  } finally {
    await backend.close();
  }
});

test('ase start: a management port already in use stops the start with a clear message', async () => {
  const taken = await startBackend('taken');
  try {
    const cli = runCli(['start', '--config-dir', configDir(), '--port', '0', '--admin-port', String(taken.port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toBe(`ase: cannot start: management port ${taken.port} is already in use (set --admin-port or management_port)\n`);
  } finally {
    await taken.close();
  }
});
