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

// Every request here goes to 127.0.0.1: tests send traffic to loopback only. The per-source budgets
// (a remote lockout leaves loopback alone) are shown with given addresses in
// packages/admin/test/throttle-by-client.test.ts.
test('ase start: a rebinding Host gets 421, its own names and the local ase CLI work, and parallel guesses are counted as they start', async () => {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  const dir = configDir({ conf: 'management_bind=0.0.0.0\nmanagement_allowed_hosts=ase-admin.internal\n' });
  const ase = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
  try {
    const m = await ase.waitFor(/management API on 0\.0\.0\.0:(\d+)/);
    const port = Number(m[1]);
    expect(await get(port, { host: 'evil.example' })).toBe(421);
    expect(await get(port, { host: `ase-admin.internal:${port}` })).toBe(200);
    // Bound to every interface: each interface's address is one of its names (only the Host header says so).
    if (external) expect(await get(port, { host: `${external}:${port}` })).toBe(200);

    const cli = runCli(['--admin-port', String(port), '--config-dir', dir, 'list_api']);
    expect(await cli.exited).toBe(0);
    const renamed = runCli(['--host', 'localhost', '--admin-port', String(port), '--config-dir', dir, 'list_api']);
    expect(await renamed.exited).toBe(0);

    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, { secret: `guess${i}` })));
    expect(guesses.filter((s) => s === 403)).toHaveLength(5);
    expect(guesses.filter((s) => s === 429)).toHaveLength(15);
    expect(await get(port)).toBe(429);
  } finally {
    ase.child.kill('SIGTERM');
    await ase.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
