/** `ase start`'s management listener, end to end: the real binary and the real `ase` CLI. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import { configDir } from '../helpers/config';
import { runCli } from '../helpers/cli';

function get(port: number, o: { host?: string; secret?: string; to?: string; localAddress?: string } = {}): Promise<number> {
  const headers: Record<string, string> = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': o.secret ?? 'admin' };
  if (o.host) headers['host'] = o.host;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: o.to ?? '127.0.0.1', port, path: '/v4/ase/api', headers, agent: false, ...(o.localAddress ? { localAddress: o.localAddress } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('ase start: remote guesses (in parallel) lock the remote client out, a rebinding Host gets 421, and the local ase CLI keeps working', async () => {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  if (!external) throw new Error('this test needs a non-loopback IPv4 interface (none found in os.networkInterfaces())');
  const dir = configDir({ conf: 'management_bind=0.0.0.0\nmanagement_allowed_hosts=ase-admin.internal\n' });
  const ase = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
  try {
    const m = await ase.waitFor(/management API on 0\.0\.0\.0:(\d+)/);
    const port = Number(m[1]);
    const remote = { to: external, localAddress: external };
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, { ...remote, secret: `guess${i}` })));
    expect(guesses.filter((s) => s === 403)).toHaveLength(5);
    expect(guesses.filter((s) => s === 429)).toHaveLength(15);
    expect(await get(port, remote)).toBe(429);
    expect(await get(port, { host: 'evil.example' })).toBe(421);
    expect(await get(port, { host: `ase-admin.internal:${port}` })).toBe(200);
    expect(await get(port, { host: `${external}:${port}` })).toBe(200);

    const cli = runCli(['--admin-port', String(port), '--config-dir', dir, 'list_api']);
    expect(await cli.exited).toBe(0);
    const renamed = runCli(['--host', 'localhost', '--admin-port', String(port), '--config-dir', dir, 'list_api']);
    expect(await renamed.exited).toBe(0);
  } finally {
    ase.child.kill('SIGTERM');
    await ase.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
