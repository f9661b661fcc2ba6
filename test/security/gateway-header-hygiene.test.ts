import * as fs from 'node:fs';
import * as net from 'node:net';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, freePort, rawReply, request, startBackend } from '../helpers/http';
import { type RunningCli, runCli } from '../helpers/cli';
import { startWsBackend } from '../helpers/ws-backend';

/**
 * The proxy's header hygiene through the standalone gateway (`ase start --framework <f>`), for
 * plain requests and for WebSocket upgrades, whose upstream request is built apart from the HTTP
 * forwarder (docs/security.md, "The proxy's header hygiene").
 */

/** Sends a raw upgrade request and resolves with the status line's code once the head is back. */
function rawUpgrade(port: number, path: string, headers: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const head = [`GET ${path} HTTP/1.1`, 'Host: gw.example', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...headers, '', ''].join('\r\n');
    const sock = net.connect(port, '127.0.0.1', () => sock.write(head));
    let text = '';
    sock.setTimeout(5000, () => {
      sock.destroy();
      reject(new Error(`no answer to the upgrade: ${text}`));
    });
    sock.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        sock.destroy();
        resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
      }
    });
    sock.on('error', reject);
  });
}

describe.each(['express', 'koa', 'fastify'])('the gateway (ase start --framework %s) keeps its upstream headers clean', (framework) => {
  let ws: Awaited<ReturnType<typeof startWsBackend>>;
  let backend: Backend;
  let cli: RunningCli;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    ws = await startWsBackend();
    backend = await startBackend('b');
    dir = configDir({
      conf: 'enable_xff=false\n',
      apis: {
        chat: api('/chat', { protocol: 'ws', apikey_header: 'X-API-Key', servers: servers(ws.port) }),
        shop: api('/shop', { apikey_header: 'X-API-Key', servers: servers(backend.port) }),
      },
    });
    port = await freePort();
    cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0', '--framework', framework]);
    await cli.waitFor(/management API on [^:]+:(\d+)/);
  });
  afterAll(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await ws.close();
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a WebSocket upgrade reaches the backend without forged forwarding headers or fields its Connection header names, but with the API key', async () => {
    const status = await rawUpgrade(port, '/chat/x', [
      'Connection: Upgrade, X-API-Key, X-Custom',
      'X-API-Key: k-1',
      'X-Custom: hop',
      'Forwarded: for=198.51.100.9',
      'X-Real-IP: 198.51.100.9',
      'X-Forwarded-Host: evil.example',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Port: 8443',
      'X-Forwarded-Prefix: /admin',
    ]);
    expect(status).toBe(101);
    const got = ws.upgrades.at(-1)!;
    expect({
      'x-api-key': got['x-api-key'],
      'x-custom': got['x-custom'],
      forwarded: got['forwarded'],
      'x-real-ip': got['x-real-ip'],
      'x-forwarded-host': got['x-forwarded-host'],
      'x-forwarded-proto': got['x-forwarded-proto'],
      'x-forwarded-port': got['x-forwarded-port'],
      'x-forwarded-prefix': got['x-forwarded-prefix'],
      'x-forwarded-for': got['x-forwarded-for'],
    }).toEqual({
      'x-api-key': 'k-1',
      'x-custom': undefined,
      forwarded: undefined,
      'x-real-ip': undefined,
      'x-forwarded-host': 'gw.example',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': undefined,
      'x-forwarded-prefix': undefined,
      'x-forwarded-for': '127.0.0.1',
    });
  });

  test('with enable_xff on, an upgrade from a peer outside xff_trusted_proxies has its X-Forwarded-For chain replaced; a trusted one extended', async () => {
    for (const [trusted, expected] of [
      ['10.0.0.1', '127.0.0.1'],
      ['127.0.0.1', '198.51.100.9, 127.0.0.1'],
    ] as const) {
      const xffDir = configDir({
        conf: `enable_xff=true\nxff_trusted_proxies=${trusted}\n`,
        apis: { chat: api('/chat', { protocol: 'ws', servers: servers(ws.port) }) },
      });
      const gw = runCli(['start', '--config-dir', xffDir, '--port', '0', '--admin-port', '0', '--framework', framework]);
      try {
        const gwPort = Number((await gw.waitFor(/gateway on port (\d+)/))[1]);
        expect(await rawUpgrade(gwPort, '/chat/x', ['Connection: Upgrade', 'X-Forwarded-For: 198.51.100.9'])).toBe(101);
        expect([trusted, ws.upgrades.at(-1)!['x-forwarded-for']]).toEqual([trusted, expected]);
      } finally {
        gw.child.kill('SIGTERM');
        await gw.exited;
      }
    }
  });

  test('a plain request reaches the backend without forged forwarding headers', async () => {
    const res = await request(port, { path: '/shop/x', headers: { host: 'gw.example', forwarded: 'for=198.51.100.9', 'x-real-ip': '198.51.100.9', 'x-forwarded-host': 'evil.example', 'x-forwarded-prefix': '/admin' } });
    expect(res.status).toBe(200);
    const got = backend.seen.at(-1)!.headers;
    expect([got['forwarded'], got['x-real-ip'], got['x-forwarded-host'], got['x-forwarded-prefix']]).toEqual([undefined, undefined, 'gw.example', undefined]);
  });

  test('a request with two Host headers gets 400 Error: Malformed Request and reaches no backend', async () => {
    const before = backend.seen.length;
    const res = await rawReply(port, 'GET /shop/x HTTP/1.1\r\nHost: gw.example\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect([res.status, res.body]).toEqual([400, 'Error: Malformed Request']);
    expect(backend.seen.length).toBe(before);
  });
});
