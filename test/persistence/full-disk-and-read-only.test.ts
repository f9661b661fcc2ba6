import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir } from '../helpers/config';
import { type Backend, startBackend } from '../helpers/http';
import { runCli } from '../helpers/cli';
import { ADMIN, apiBody, call, expectMatches, filesUnder, newModel, served } from './management-model';
import * as http from 'node:http';

/**
 * A configuration directory without room, or one that cannot be written: the writer gets a clear
 * answer (507 `storage_full`, 503 `storage_read_only`), the refused change is not served, nothing
 * is left half-written, and a restart serves exactly what was acknowledged.
 *
 * No room is a file-size limit (`prlimit --fsize`: writes past it fail with EFBIG, which Node sees
 * as an error because it ignores SIGXFSZ), which any user may set. A read-only directory is a
 * directory without write permission; root ignores permissions, so as root the gateway runs as
 * `nobody` (`setpriv`). A read-only mount (EROFS) takes mount rights a test run in a container does
 * not have; it gets the same answer as a permission refusal (test/errors: persistFailed).
 */
describe('ase start on a full disk and on a read-only config directory', () => {
  let backend: Backend;
  const agent = new http.Agent({ keepAlive: false });
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(async () => {
    agent.destroy();
    await backend.close();
  });

  async function start(dir: string, via: string[] = []) {
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0'], { via });
    const m = await cli.waitFor(/gateway on port (\d+),.*management API on [^:]+:(\d+)/, 20000);
    return { cli, port: Number(m[1]), adminPort: Number(m[2]) };
  }
  const send = (port: number, method: string, p: string, body?: unknown) => call(agent, port, { method, path: p, ...(body === undefined ? {} : { body }) });
  const envelope = (r: { body: string }) => JSON.parse(r.body) as { status: string; status_message: string };
  const temps = (dir: string) => filesUnder(dir).filter((f) => f.endsWith('.tmp'));

  test('no room: 507 storage_full, the refused change is not served, and a restart serves what was acknowledged', async () => {
    const dir = configDir({ apis: { base: apiBody('base', backend.port) } });
    const model = newModel({ base: backend.port });
    const gw = await start(dir, ['prlimit', `--fsize=${64 * 1024}`, '--']);
    try {
      // An API whose file would pass the limit.
      const big = api('/big', { api_pattern_enforcement: { error_message_body: 'x'.repeat(65_536) }, servers: Array.from({ length: 64 }, (_, i) => ({ host: '127.0.0.1', port: 10000 + i })) });
      const refused = await send(gw.adminPort, 'POST', '/v4/ase/api?api_id=big', big);
      expect(refused.status).toBe(507);
      expect(envelope(refused)).toEqual({ status: 'storage_full', status_message: 'could not persist api big: no room left for the configuration files (EFBIG); nothing was changed' });
      expect((await send(gw.adminPort, 'GET', '/v4/ase/api?api_id=big')).status).toBe(404);
      expect(temps(dir)).toEqual([]);

      // Small changes still fit.
      expect((await send(gw.adminPort, 'POST', '/v4/ase/api?api_id=small', apiBody('small', backend.port))).status).toBe(200);
      model.apis.set('small', backend.port);
      expect((await send(gw.adminPort, 'POST', '/v4/ase/firewall?status=disable')).status).toBe(200);
      model.firewall = false;

      // List changes sent at once: the journal cannot grow past the limit, so some are refused;
      // each answer says which, and the snapshot written after a refusal holds none of the refused.
      const ips = Array.from({ length: 40 }, (_, i) => `10.9.0.${i + 1}`);
      const answers = await Promise.all(ips.map((ip) => send(gw.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: ip })));
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 507]));
      ips.forEach((ip, i) => answers[i]!.status === 200 && model.deny.add(ip));
      expectMatches(model, await served(gw.adminPort));

      // A clear the journal cannot take is refused whole: the entries stay listed. After a
      // refusal the next change is written as a new snapshot (which fits), and the one after it
      // needs room ahead in the journal again (which does not): the clear is that one.
      let status = 0;
      for (let i = 100; status !== 200; i++) {
        status = (await send(gw.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: `10.9.1.${i}` })).status;
        if (status === 200) model.deny.add(`10.9.1.${i}`);
      }
      const clear = await send(gw.adminPort, 'DELETE', '/v4/ase/firewall/blacklist?tag=all');
      expect(clear.status).toBe(507);
      expect(envelope(clear).status).toBe('storage_full');
      expect(model.deny.size).toBeGreaterThan(1);
      expectMatches(model, await served(gw.adminPort));
      expect(temps(dir)).toEqual([]);
    } finally {
      gw.cli.child.kill('SIGKILL');
      await gw.cli.exited;
    }

    const again = await start(dir);
    try {
      expectMatches(model, await served(again.adminPort));
      expect(fs.existsSync(path.join(dir, 'api', 'big.json'))).toBe(false);
    } finally {
      again.cli.child.kill('SIGTERM');
      expect(await again.cli.exited).toBe(0);
    }
    expect(temps(dir)).toEqual([]);
  }, 60_000);

  /** Write permission on `dir` and everything in it, for its owner: on or off. */
  function writable(dir: string, on: boolean): void {
    for (const rel of ['', ...filesUnder(dir), 'api', 'data', 'logs']) {
      const p = path.join(dir, rel);
      if (!fs.existsSync(p)) continue;
      const mode = fs.statSync(p).mode & 0o777;
      fs.chmodSync(p, on ? mode | 0o200 : mode & ~0o222);
    }
  }

  test('read-only: 503 storage_read_only, the refused change is not served, and a restart serves what was acknowledged', async () => {
    const dir = configDir({ apis: { base: apiBody('base', backend.port), gone: apiBody('gone', backend.port) } });
    const model = newModel({ base: backend.port, gone: backend.port });
    let via: string[] = [];
    if (process.getuid?.() === 0) {
      // Root writes whatever the permissions say: the gateway runs as nobody, owner of the directory.
      via = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
      fs.chmodSync(path.dirname(dir), 0o711); // the run's folder: nobody passes through to the directory
      fs.chmodSync(dir, 0o755);
      for (const rel of ['', ...filesUnder(dir), 'api']) fs.chownSync(path.join(dir, rel), 65534, 65534);
    }
    const gw = await start(dir, via);
    try {
      // Lists and the firewall switch written once while the directory can be written.
      for (const ip of ['10.8.0.1', '10.8.0.2']) {
        expect((await send(gw.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: ip })).status).toBe(200);
        model.deny.add(ip);
      }
      writable(dir, false);

      const created = await send(gw.adminPort, 'POST', '/v4/ase/api?api_id=late', apiBody('late', backend.port));
      expect(created.status).toBe(503);
      expect(envelope(created)).toEqual({ status: 'storage_read_only', status_message: 'could not persist api late: the configuration directory cannot be written (EACCES); nothing was changed' });
      const updated = await send(gw.adminPort, 'PUT', '/v4/ase/api?api_id=base', apiBody('base', backend.port + 1));
      expect([updated.status, envelope(updated).status]).toEqual([503, 'storage_read_only']);
      const deleted = await send(gw.adminPort, 'DELETE', '/v4/ase/api?api_id=gone');
      expect([deleted.status, envelope(deleted).status]).toEqual([503, 'storage_read_only']);
      const switched = await send(gw.adminPort, 'POST', '/v4/ase/firewall?status=disable');
      expect([switched.status, envelope(switched).status]).toEqual([503, 'storage_read_only']);
      // The journal was opened while it could be: its appends still reach the disk, and are acknowledged.
      const listed = await send(gw.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: '10.8.0.3' });
      expect(listed.status).toBe(200);
      model.deny.add('10.8.0.3');
      expectMatches(model, await served(gw.adminPort));
      expect(temps(dir)).toEqual([]);
    } finally {
      gw.cli.child.kill('SIGKILL');
      await gw.cli.exited;
      writable(dir, true);
    }

    const again = await start(dir, via);
    try {
      expectMatches(model, await served(again.adminPort));
    } finally {
      again.cli.child.kill('SIGTERM');
      expect(await again.cli.exited).toBe(0);
    }
    expect(temps(dir)).toEqual([]);
  }, 60_000);
});
