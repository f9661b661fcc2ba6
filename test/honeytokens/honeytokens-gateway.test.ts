/**
 * Honeytokens in the standalone gateway (`ase start`, no cluster): planted by a decoy, caught on a
 * path no API matches (answered Unknown API, the sender listed all the same) and on an API, and
 * still caught after the gateway is stopped and started again (data/honeytokens.jsonl).
 */
import * as fs from 'node:fs';
import { configDir, servers } from '../helpers/config';
import { type Backend, freePort, request, startBackend } from '../helpers/http';
import { type RunningCli, runCli } from '../helpers/cli';
import { ATTACKER, CONF, HONEYTOKEN_APIS, from, planted } from './honeytoken-fixtures';

describe('ase start: honeytokens', () => {
  let backend: Backend;
  let dir: string;
  const running: RunningCli[] = [];

  beforeAll(async () => {
    backend = await startBackend('shop');
  });
  afterAll(async () => {
    await backend.close();
  });
  afterEach(async () => {
    for (const cli of running.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ port: number; stop(): Promise<void> }> => {
    const port = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--bind', '127.0.0.1', '--admin-port', '0']);
    running.push(cli);
    await cli.waitFor(/ASE ready: \w+ gateway on port/, 30_000);
    return {
      port,
      stop: async () => {
        cli.child.kill('SIGTERM');
        expect(await cli.exited).toBe(0);
      },
    };
  };

  test('caught on an unknown path and on an API, and again after a restart', async () => {
    const shop = { api_metadata: { ...HONEYTOKEN_APIS.shop.api_metadata, servers: servers(backend.port) } };
    dir = configDir({ conf: CONF, apis: { ...HONEYTOKEN_APIS, shop } });
    const first = await start();
    const decoy = await request(first.port, { path: '/ops/.env', headers: from(ATTACKER) });
    const tokens = planted(decoy.body, decoy.headers['set-cookie']);

    const ip = '198.51.100.30';
    const unknown = await request(first.port, { path: '/nothing', headers: from(ip, { 'x-anything': tokens.apiKey }) });
    expect([unknown.status, unknown.body]).toEqual([503, 'Error: Unknown API']);
    expect((await request(first.port, { path: '/shop/items', headers: from(ip) })).status).toBe(403);
    expect((await request(first.port, { path: '/shop/items', headers: from('198.51.100.31') })).status).toBe(200);
    await first.stop();

    const second = await start();
    expect((await request(second.port, { path: '/shop/items', headers: from('198.51.100.32', { cookie: `session=${tokens.cookie}` }) })).status).toBe(403);
    expect((await request(second.port, { path: '/shop/items', headers: from('198.51.100.33') })).status).toBe(200);
    await second.stop();
  }, 120_000);
});
