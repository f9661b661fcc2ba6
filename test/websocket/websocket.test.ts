import WebSocket from 'ws';
import { api, configDir, servers } from '../helpers/config';
import { freePort } from '../helpers/http';
import { runCli } from '../helpers/cli';
import { startWsBackend } from '../helpers/ws-backend';

const open = (url: string, headers: Record<string, string> = {}): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });

const roundTrip = (ws: WebSocket, text: string): Promise<string> =>
  new Promise((resolve) => {
    ws.once('message', (m) => resolve(m.toString()));
    ws.send(text);
  });

describe.each(['node', 'express', 'koa', 'fastify'])('WebSocket through ase start --framework %s', (framework) => {
  let backend: Awaited<ReturnType<typeof startWsBackend>>;
  let cli: ReturnType<typeof runCli>;
  let port: number;
  let adminPort: number;

  beforeAll(async () => {
    backend = await startWsBackend();
    const dir = configDir({
      conf: 'enable_ase_detected_attack=true\n',
      apis: {
        chat: api('/chat', { protocol: 'ws', enable_blocking: true, oauth2_access_token: true, api_mapping: { internal_url: '/ws' }, servers: servers(backend.port) }),
        capped: api('/capped', { protocol: 'ws', flow_control: { bytes_in_threshold: '16/minute' }, servers: servers(backend.port) }),
        rest: api('/rest', { servers: servers(backend.port) }),
      },
    });
    port = await freePort();
    cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0', '--framework', framework]);
    const m = await cli.waitFor(/management API on [^:]+:(\d+)/);
    adminPort = Number(m[1]);
  });
  afterAll(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await backend.close();
  });

  const persistent = async (): Promise<{ ws: number; wss: number }> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/v4/ase/persistentconnection?api_id=chat`, {
      headers: { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' },
    });
    const body = (await res.json()) as { api_id: string; persistent_connection_count: { ws: number; wss: number } };
    expect(body.api_id).toBe('chat');
    return body.persistent_connection_count;
  };

  test('an echo works through the gateway, mapped to internal_url, and is counted while open', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/chat/room1`);
    expect(await roundTrip(ws, 'hello')).toBe('echo:hello');
    expect(backend.paths.at(-1)).toBe('/ws/room1');
    expect(await persistent()).toEqual({ ws: 1, wss: 0 });
    ws.close();
    await new Promise((r) => ws.once('close', r));
    for (let i = 0; i < 20 && (await persistent()).ws !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await persistent()).toEqual({ ws: 0, wss: 0 });
  });

  test('a deny-listed client is refused at the upgrade with the block response', async () => {
    const added = await fetch(`http://127.0.0.1:${adminPort}/v4/ase/firewall/blacklist`, {
      method: 'POST',
      headers: { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'token', value: 'bad-token' }),
    });
    expect(added.status).toBe(200);
    await expect(open(`ws://127.0.0.1:${port}/chat/x`, { authorization: 'Bearer bad-token' })).rejects.toThrow(/HTTP 403/);
    const ok = await open(`ws://127.0.0.1:${port}/chat/x`, { authorization: 'Bearer good-token' });
    ok.close();
  });

  test('an upgrade to an API without protocol ws is refused; an unknown path gets 503', async () => {
    await expect(open(`ws://127.0.0.1:${port}/rest/x`)).rejects.toThrow(/HTTP 400/);
    await expect(open(`ws://127.0.0.1:${port}/nowhere`)).rejects.toThrow(/HTTP 503/);
  });

  test('bytes_in_threshold closes the WebSocket with 1008 once the client sends too much', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/capped/x`);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(64));
    expect(await closed).toBe(1008);
  });
});

describe.each(['node', 'express', 'koa', 'fastify'])('WebSocket byte thresholds per client through ase start --framework %s', (framework) => {
  let backend: Awaited<ReturnType<typeof startWsBackend>>;
  let cli: ReturnType<typeof runCli>;
  let port: number;

  beforeAll(async () => {
    backend = await startWsBackend();
    const dir = configDir({
      // The client address comes from X-Forwarded-For (the test client is the trusted loopback proxy).
      conf: 'enable_xff=true\n',
      apis: { capped: api('/capped', { protocol: 'ws', flow_control: { bytes_in_threshold: '100/minute' }, servers: servers(backend.port) }) },
    });
    port = await freePort();
    cli = runCli(['start', '--config-dir', dir, '--port', String(port), '--admin-port', '0', '--framework', framework]);
    await cli.waitFor(/management API on [^:]+:(\d+)/);
  });
  afterAll(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await backend.close();
  });

  test('an IPv6 client is metered by its /64: moving to another address of it does not reset bytes_in_threshold', async () => {
    const first = await open(`ws://127.0.0.1:${port}/capped/x`, { 'x-forwarded-for': '2001:db8:1:2::1' });
    expect(await roundTrip(first, 'a'.repeat(60))).toBe(`echo:${'a'.repeat(60)}`);
    first.close();
    const moved = await open(`ws://127.0.0.1:${port}/capped/x`, { 'x-forwarded-for': '2001:db8:1:2::99' });
    const closed = new Promise<number>((r) => moved.once('close', (code) => r(code)));
    moved.send('b'.repeat(60));
    expect(await closed).toBe(1008);
    // Another /64 is another client, with a budget of its own.
    const other = await open(`ws://127.0.0.1:${port}/capped/x`, { 'x-forwarded-for': '2001:db8:1:3::1' });
    expect(await roundTrip(other, 'c'.repeat(60))).toBe(`echo:${'c'.repeat(60)}`);
    other.close();
  });
});
