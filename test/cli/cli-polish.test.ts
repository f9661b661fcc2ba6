import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import { adminExpress } from '@ase/admin';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { api, configDir, invalidApi } from '../helpers/config';
import { type Backend, listen, request, startBackend } from '../helpers/http';
import { type RunningCli, runCli } from '../helpers/cli';

/* What a new user meets at the command line: real `ase` processes against a real management API. */

/** Waits for the exit; a CLI that does not end by itself (a start that should have failed) is killed. */
async function done(cli: RunningCli): Promise<{ code: number | null; out: string; err: string }> {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, out: cli.stdout(), err: cli.stderr() };
}

const ase = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => done(runCli(args));

describe('usage errors exit 2 and say what is allowed', () => {
  test('an unknown command suggests the closest one and prints a short usage', async () => {
    const r = await ase('lst_api');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ase: unknown command "lst_api"; did you mean "list_api"\?\n/);
    expect(r.err).toMatch(/ase help/);
    expect(r.err.trimEnd().split('\n').length).toBeLessThanOrEqual(6);
    expect(r.out).toBe('');
  });

  test('an unknown command with nothing close gets no suggestion; no command at all gets the short usage', async () => {
    const far = await ase('xyzzy');
    expect(far.code).toBe(2);
    expect(far.err).not.toMatch(/did you mean/);
    const none = await ase();
    expect(none.code).toBe(2);
    expect(none.err.trimEnd().split('\n').length).toBeLessThanOrEqual(6);
    const help = await ase('help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/view_blacklist/);
  });

  test('view_blacklist with an unknown tag names the allowed tags and exits 2 before calling the API', async () => {
    const r = await ase('--admin-port', '1', 'view_blacklist', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^ase: view_blacklist: unknown tag "bogus"; allowed: all, manual, abs_generated, decoy, invalid_protocol, invalid_method, invalid_content_type, missing_token, honeytoken\n/,
    );
  });

  test('a bad flag value, a bad file name or a bad api id is a usage error (exit 2)', async () => {
    expect((await ase('--admin-port', 'x', 'status')).code).toBe(2);
    expect((await ase('--url', 'ftp://h/admin', 'status')).code).toBe(2);
    expect((await ase('add_api', 'shop.txt')).code).toBe(2);
    expect((await ase('delete_api')).code).toBe(2);
    expect((await ase('start', 'extra')).code).toBe(2);
  });

  test('update_password refuses a weak password before sending it, saying the rule', async () => {
    for (const weak of ['admin', 'short1A', 'alllowercaseletters', '123456789012345']) {
      const r = await ase('--admin-port', '1', 'update_password', weak);
      expect(r.code).toBe(2);
      expect(r.err).toBe('ase: the new password must be at least 12 characters and mix at least two of: lower-case letters, upper-case letters, digits, other characters\n');
    }
  });
});

describe('against a management API mounted under /admin in an Express app', () => {
  let dir: string;
  let enforcer: Enforcer;
  let app: { port: number; close(): Promise<void> };
  let backend: Backend;
  let url: string;

  beforeAll(async () => {
    backend = await startBackend('b');
    dir = configDir({ apis: { shop: api('/shop', { servers: [{ host: '127.0.0.1', port: backend.port }] }) } });
    enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    const e = express();
    e.use('/admin', adminExpress(enforcer));
    app = await listen(http.createServer(e));
    url = `http://127.0.0.1:${app.port}/admin`;
  });
  afterAll(async () => {
    await app.close();
    await enforcer.close();
    await backend.close();
  });

  test('--url http://host:port/admin reaches it; a wrong prefix says what answered', async () => {
    const r = await ase('--url', url, 'list_api');
    expect(r).toEqual({ code: 0, out: 'shop ( loaded ), http\n', err: '' });
    expect(await ase('--url', `${url}/`, 'view_blacklist', 'manual')).toEqual({ code: 0, out: 'Manual Blacklist\n', err: '' });
    const wrong = await ase('--url', `http://127.0.0.1:${app.port}/wrong`, 'list_api');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(new RegExp(`^ase: unexpected answer from the management API at http://127\\.0\\.0\\.1:${app.port}/wrong`));
  });

  test('errors speak of the field, not of the request body JSON path', async () => {
    const r = await ase('--url', url, 'update_client_spike_threshold', 'shop', 'fast');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ase: client_spike_threshold: must be a rate like "10\/second"/);
    expect(r.err).not.toMatch(/request body|\/flow_control\//);
    const bad = path.join(configDir(), 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(invalidApi('/bad', { enable_blocking: 'yes' })));
    const file = await ase('--url', url, 'add_api', bad);
    expect(file.code).toBe(1);
    expect(file.err).toMatch(/bad\.json: enable_blocking: must be true or false \(got "yes"\)/);
    expect(file.err).not.toMatch(/\/api_metadata\//);
  });

  test('the admin API itself refuses a weak new password with the same rule', async () => {
    const r = await request(app.port, {
      method: 'POST',
      path: '/admin/v4/ase/password',
      headers: { 'content-type': 'application/json', 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' },
      body: JSON.stringify({ new_password: 'password' }),
    });
    expect(JSON.parse(r.body)).toEqual({
      status: 'validation_error',
      status_message: 'the new password must be at least 12 characters and mix at least two of: lower-case letters, upper-case letters, digits, other characters',
    });
    expect(r.status).toBe(403);
    expect(await ase('--url', url, 'status')).toMatchObject({ code: 0 });
  });
});
