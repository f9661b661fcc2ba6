import { configDir } from '../helpers/config';
import { request } from '../helpers/http';
import { runCli } from '../helpers/cli';

/*
 * Where `ase start` listens: the data port and the management port each take an address, from the
 * command line (--bind, --admin-bind) or ase.conf (http_ws_bind, management_bind). The ready line names
 * both as the listeners report them. Traffic only ever goes to loopback.
 */

const READY = /ASE ready: node gateway on port (\d+), \d+ APIs? loaded from .*; listening on (\S+):(\d+); management API on (\S+):(\d+)\n/;

async function start(args: string[]): Promise<{ m: RegExpMatchArray; stop(): Promise<void> }> {
  const cli = runCli(['start', '--port', '0', '--admin-port', '0', ...args]);
  const m = await cli.waitFor(READY).catch(async (err: unknown) => {
    cli.child.kill('SIGKILL');
    await cli.exited;
    throw err;
  });
  return {
    m,
    stop: async () => {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    },
  };
}

test('--bind 127.0.0.1 and --admin-bind 127.0.0.1: the ready line names both loopback listeners, which answer', async () => {
  const ase = await start(['--config-dir', configDir(), '--bind', '127.0.0.1', '--admin-bind', '127.0.0.1']);
  try {
    const [, port, host, port2, adminHost, adminPort] = ase.m;
    expect([host, port2, adminHost]).toEqual(['127.0.0.1', port, '127.0.0.1']);
    expect((await request(Number(port), { path: '/nothing' })).status).toBe(503);
    expect((await request(Number(adminPort), { path: '/v4/ase/status' })).status).toBe(403);
  } finally {
    await ase.stop();
  }
});

test('http_ws_bind in ase.conf chooses the data address', async () => {
  const ase = await start(['--config-dir', configDir({ conf: 'http_ws_bind=127.0.0.1\n' })]);
  try {
    expect(ase.m[2]).toBe('127.0.0.1');
    expect((await request(Number(ase.m[1]), { path: '/x' })).status).toBe(503);
  } finally {
    await ase.stop();
  }
});

test('by default the data port listens on every interface and the management port on 127.0.0.1 only', async () => {
  const ase = await start(['--config-dir', configDir()]);
  try {
    expect(ase.m[2]).toMatch(/^(\[::\]|0\.0\.0\.0)$/);
    expect(ase.m[4]).toBe('127.0.0.1');
  } finally {
    await ase.stop();
  }
});

test('--bind overrides http_ws_bind; a bad address is a usage error naming what is accepted', async () => {
  const dir = configDir({ conf: 'http_ws_bind=0.0.0.0\n' });
  const ase = await start(['--config-dir', dir, '--bind', '127.0.0.1']);
  try {
    expect(ase.m[2]).toBe('127.0.0.1');
  } finally {
    await ase.stop();
  }
  const bad = runCli(['start', '--config-dir', dir, '--port', '0', '--bind', 'example.com']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr()).toMatch(/^ase: --bind must be an IP address \(like "127\.0\.0\.1", "0\.0\.0\.0" or "::"\), "localhost", or "\*" for every interface \(got "example\.com"\)\n/);
  const badConf = runCli(['start', '--config-dir', configDir({ conf: 'http_ws_bind=example.com\n' }), '--port', '0']);
  expect(await badConf.exited).toBe(1);
  expect(badConf.stderr()).toMatch(/http_ws_bind: must be an IP address/);
});
