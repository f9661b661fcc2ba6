import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { api, configDir, servers } from '../helpers/config';
import { freePort } from '../helpers/http';
import { runCli } from '../helpers/cli';
import { startWsBackend } from '../helpers/ws-backend';

/**
 * JWT verification holds for WebSocket upgrades too, on every framework of the gateway: an
 * allow-listed user name in a forged JWT does not open a socket from a deny-listed address, a
 * verified one does, and an API that requires a JWT refuses an upgrade without one.
 */

const SECRET = 'websocket-test-secret-'.padEnd(40, 'w');
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const hs256 = (sub: string): string => {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
};
const unsigned = (sub: string): string => `${b64({ alg: 'none' })}.${b64({ sub })}.`;

/** Opens a socket and round-trips one message; resolves `echo:…`, or `HTTP <status>` when refused. */
const attempt = (url: string, token: string | undefined): Promise<string> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    ws.once('open', () => {
      ws.once('message', (m) => {
        ws.close();
        resolve(m.toString());
      });
      ws.send('hi');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
    });
    ws.once('error', reject);
  });

describe.each(['express', 'koa', 'fastify'])('JWT verification of WebSocket upgrades through ase start --framework %s', (framework) => {
  let backend: Awaited<ReturnType<typeof startWsBackend>>;
  let cli: ReturnType<typeof runCli>;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    backend = await startWsBackend();
    const jwt = { location: 'h:authorization:bearer', username: 'sub', clientid: '' };
    const verification = { algorithms: ['HS256'], secret_file: 'keys/ws.secret' };
    dir = configDir({
      apis: {
        chat: api('/chat', { protocol: 'ws', enable_blocking: true, jwt, jwt_verification: verification, servers: servers(backend.port) }),
        feed: api('/feed', { protocol: 'ws', jwt, jwt_verification: { ...verification, required: true }, servers: servers(backend.port) }),
      },
    });
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.writeFileSync(path.join(dir, 'keys', 'ws.secret'), SECRET);
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(
      path.join(dir, 'data', 'lists.json'),
      JSON.stringify({ blacklist: [{ type: 'ip', value: '127.0.0.1', tag: 'manual' }], whitelist: [{ type: 'username', value: 'alice' }] }),
    );
    port = await freePort();
    cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0', '--framework', framework]);
    await cli.waitFor(/ASE ready/);
  });
  afterAll(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an allow-listed user in an unsigned JWT is refused from a deny-listed address; verified, the socket opens', async () => {
    expect(await attempt(`ws://127.0.0.1:${port}/chat`, unsigned('alice'))).toBe('HTTP 403');
    expect(await attempt(`ws://127.0.0.1:${port}/chat`, hs256('alice'))).toBe('echo:hi');
    // The same token again: verified from the cache, same answer.
    expect(await attempt(`ws://127.0.0.1:${port}/chat`, hs256('alice'))).toBe('echo:hi');
  });

  test('an API that requires a JWT refuses an upgrade without a valid one', async () => {
    expect(await attempt(`ws://127.0.0.1:${port}/feed`, undefined)).toBe('HTTP 403');
    expect(await attempt(`ws://127.0.0.1:${port}/feed`, unsigned('bob'))).toBe('HTTP 403');
    // /feed does not block (enable_blocking false): a valid JWT is all it asks for.
    expect(await attempt(`ws://127.0.0.1:${port}/feed`, hs256('bob'))).toBe('echo:hi');
  });
});
