import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameTracker, type WsHooks, type WsTarget, closeFrame, proxyWebSocket, writeUpgradeRefusal } from '../../src/upstream/ws-proxy';

/** Every socket a test server accepted, so cleanup can close upgraded ones too. */
const accepted = new WeakMap<net.Server, Set<net.Socket>>();

async function listen(server: http.Server | net.Server): Promise<number> {
  const set = new Set<net.Socket>();
  accepted.set(server, set);
  server.on('connection', (s: net.Socket) => {
    set.add(s);
    s.on('close', () => set.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Opens a raw TCP connection, writes `data`, collects everything until the peer closes. */
function rawExchange(port: number, data: string, ms = 2000): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended: false });
    }, ms);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(t);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended: true });
    });
    sock.write(data);
  });
}

describe('proxyWebSocket', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const closeServer = (s: http.Server | net.Server) => () =>
    new Promise<void>((r) => {
      for (const sock of accepted.get(s) ?? []) sock.destroy();
      s.close(() => r());
    });

  /** An echo WebSocket backend; records the upgrade requests it saw. */
  async function wsBackend(onConnection?: (ws: WebSocket) => void): Promise<{ port: number; upgrades: http.IncomingMessage[]; received: Buffer[] }> {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const upgrades: http.IncomingMessage[] = [];
    const received: Buffer[] = [];
    wss.on('connection', (ws, req) => {
      upgrades.push(req);
      ws.on('message', (m: Buffer) => {
        received.push(m);
        ws.send(m);
      });
      onConnection?.(ws);
    });
    const port = await listen(server);
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    });
    cleanups.push(closeServer(server));
    return { port, upgrades, received };
  }

  /** The proxy under test: every upgrade goes through proxyWebSocket. */
  async function proxy(target: (req: http.IncomingMessage) => WsTarget, hooks: WsHooks = {}): Promise<number> {
    const server = http.createServer((_req, res) => res.end('not an upgrade'));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => proxyWebSocket(req, socket, head, target(req), hooks));
    const port = await listen(server);
    cleanups.push(closeServer(server));
    return port;
  }

  function client(port: number, path = '/chat'): WebSocket {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.on('error', () => {});
    cleanups.push(() => ws.terminate());
    return ws;
  }

  const closeOf = (ws: WebSocket) => new Promise<number>((r) => ws.on('close', (code) => r(code)));

  test('relays messages both ways, with the mapped path and extra headers', async () => {
    const be = await wsBackend();
    const events: string[] = [];
    const port = await proxy(
      (req) => ({ host: '127.0.0.1', port: be.port, ssl: false, path: `/internal${req.url}`, headers: { 'X-Forwarded-For': '9.9.9.9' } }),
      { onOpen: () => events.push('open'), onClose: () => events.push('close'), onDone: () => events.push('done') },
    );
    const ws = client(port, '/chat?room=1');
    await new Promise((r) => ws.on('open', r));
    const replies: string[] = [];
    ws.on('message', (m: Buffer) => replies.push(m.toString()));
    ws.send('hello');
    ws.send('x'.repeat(70_000));
    await waitFor(() => replies.length === 2);
    expect(replies[0]).toBe('hello');
    expect(replies[1]).toHaveLength(70_000);
    expect(be.upgrades[0]!.url).toBe('/internal/chat?room=1');
    expect(be.upgrades[0]!.headers['x-forwarded-for']).toBe('9.9.9.9');
    expect(events).toEqual(['open']);
    ws.close(1000, 'bye');
    expect(await closeOf(ws)).toBe(1000);
    await waitFor(() => events.length === 3);
    expect(events).toEqual(['open', 'close', 'done']);
  });

  test('wss: the backend is verified as the configured server, whatever Host the client names', async () => {
    const tls = (f: string): Buffer => fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'tls', f));
    const server = https.createServer({ key: tls('server.key'), cert: tls('server.crt') });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (m: Buffer) => ws.send(m)));
    const bePort = await listen(server);
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    });
    cleanups.push(closeServer(server));
    const port = await proxy(() => ({ host: '127.0.0.1', port: bePort, ssl: true, ca: tls('ca.crt'), path: '/' }));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers: { host: 'shop.example' } });
    ws.on('error', () => {});
    cleanups.push(() => ws.terminate());
    await new Promise((r) => ws.on('open', r));
    const reply = new Promise<string>((r) => ws.on('message', (m: Buffer) => r(m.toString())));
    ws.send('over wss');
    expect(await reply).toBe('over wss');
  });

  test('a non-101 answer is passed back with Connection: close, and client bytes never reach the backend', async () => {
    let backendSaw = '';
    const backendServer = http.createServer((_req, res) => res.end('plain'));
    backendServer.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      backendSaw += `${req.method} ${req.url}|${head.toString('latin1')}`;
      socket.on('data', (d: Buffer) => (backendSaw += d.toString('latin1')));
      socket.on('end', () => {
        backendSaw += '<end>';
        socket.end();
      });
      // Refuses the upgrade but keeps the connection open, like a vulnerable backend would.
      socket.write('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-Reason: nope\r\n\r\nnope!');
    });
    const bePort = await listen(backendServer);
    cleanups.push(closeServer(backendServer));
    const opened: string[] = [];
    const port = await proxy(() => ({ host: '127.0.0.1', port: bePort, ssl: false, path: '/ws' }), {
      onOpen: () => opened.push('open'),
      onClose: () => opened.push('close'),
      onDone: () => opened.push('done'),
    });

    const smuggled = 'GET /internal/admin HTTP/1.1\r\nHost: internal\r\n\r\n';
    const res = await rawExchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n' +
        smuggled,
    );
    expect(res.ended).toBe(true);
    expect(res.text.startsWith('HTTP/1.1 426 Upgrade Required\r\n')).toBe(true);
    expect(res.text).toMatch(/\r\nConnection: close\r\n/);
    expect(res.text).not.toMatch(/keep-alive/i);
    expect(res.text).toMatch(/\r\nX-Reason: nope\r\n/);
    expect(res.text.endsWith('\r\n\r\nnope!')).toBe(true);
    // The proxy hung up on the backend without passing on a byte of what followed the upgrade.
    await waitFor(() => backendSaw.endsWith('<end>'));
    expect(backendSaw).toBe('GET /ws|<end>');
    expect(opened).toEqual(['done']);
  });

  test('bytes sent right after the upgrade request reach the backend once it answered 101', async () => {
    const be = await wsBackend();
    const port = await proxy(() => ({ host: '127.0.0.1', port: be.port, ssl: false, path: '/' }));
    // A masked client text frame "hi", in the same write as the upgrade request.
    const mask = [1, 2, 3, 4];
    const frame = Buffer.from([0x81, 0x82, ...mask, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    const sock = net.connect(port, '127.0.0.1');
    cleanups.push(() => void sock.destroy());
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.write(
      Buffer.concat([
        Buffer.from(
          'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ),
        frame,
      ]),
    );
    await waitFor(() => be.received.length === 1);
    expect(be.received[0]!.toString()).toBe('hi');
    await waitFor(() => text.includes('hi'));
    expect(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
  });

  test('only WebSocket upgrades are proxied (no h2c tunnel)', async () => {
    let backendHits = 0;
    const backendServer = http.createServer((_req, res) => {
      backendHits++;
      res.end();
    });
    backendServer.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      backendHits++;
      socket.destroy();
    });
    const bePort = await listen(backendServer);
    cleanups.push(closeServer(backendServer));
    const port = await proxy(() => ({ host: '127.0.0.1', port: bePort, ssl: false, path: '/' }));
    const res = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
    expect(res.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(res.ended).toBe(true);
    expect(backendHits).toBe(0);
  });

  test('a 101 that switches to something other than websocket is a 502', async () => {
    const backendServer = http.createServer();
    backendServer.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    });
    const bePort = await listen(backendServer);
    cleanups.push(closeServer(backendServer));
    const opened: string[] = [];
    const port = await proxy(() => ({ host: '127.0.0.1', port: bePort, ssl: false, path: '/' }), { onOpen: () => opened.push('x') });
    const res = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(res.text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(opened).toEqual([]);
  });

  test('an unreachable backend is a 502 to the client', async () => {
    const dead = http.createServer();
    const deadPort = await listen(dead);
    await closeServer(dead)();
    let done = 0;
    const port = await proxy(() => ({ host: '127.0.0.1', port: deadPort, ssl: false, path: '/' }), { onDone: () => done++ });
    const ws = client(port);
    const status = await new Promise<number>((r) => ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
    expect(status).toBe(502);
    expect(done).toBe(1);
  });

  test('a backend that does not answer in time is a 504', async () => {
    let upstreamClosed = false;
    const silent = net.createServer((s) => {
      s.resume();
      s.on('close', () => (upstreamClosed = true));
    });
    const silentPort = await listen(silent);
    cleanups.push(closeServer(silent));
    const port = await proxy(() => ({ host: '127.0.0.1', port: silentPort, ssl: false, path: '/', timeoutMs: 50 }));
    const res = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(res.text).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    expect(res.ended).toBe(true);
    await waitFor(() => upstreamClosed);
  });

  test('over the client byte budget: close 1008, the message does not reach the backend', async () => {
    const be = await wsBackend();
    let inBytes = 0;
    const events: string[] = [];
    const port = await proxy(() => ({ host: '127.0.0.1', port: be.port, ssl: false, path: '/' }), {
      onClientData: (n) => (inBytes += n) <= 60,
      onClose: () => events.push('close'),
      onDone: () => events.push('done'),
    });
    const ws = client(port);
    await new Promise((r) => ws.on('open', r));
    const replies: string[] = [];
    ws.on('message', (m: Buffer) => replies.push(m.toString()));
    ws.send('small');
    await waitFor(() => replies.length === 1);
    const closed = closeOf(ws);
    ws.send('y'.repeat(200));
    expect(await closed).toBe(1008);
    expect(be.received.map(String)).toEqual(['small']);
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['close', 'done']);
  });

  test('over the server byte budget: close 1008 before the message is relayed', async () => {
    const be = await wsBackend((ws) => ws.send('z'.repeat(500)));
    const port = await proxy(() => ({ host: '127.0.0.1', port: be.port, ssl: false, path: '/' }), { onServerData: (n) => n < 100 });
    const ws = client(port);
    const got: string[] = [];
    ws.on('message', (m: Buffer) => got.push(m.toString()));
    expect(await closeOf(ws)).toBe(1008);
    expect(got).toEqual([]);
  });

  test('a budget hit in the middle of a backend frame finishes a short frame before the close frame', async () => {
    const be = await wsBackend((ws) => ws.send('b'.repeat(120_000)));
    let outBytes = 0;
    let calls = 0;
    const port = await proxy(() => ({ host: '127.0.0.1', port: be.port, ssl: false, path: '/' }), {
      onServerData: (n) => {
        calls++;
        return (outBytes += n) <= 100_000;
      },
    });
    const ws = client(port);
    const got: number[] = [];
    ws.on('message', (m: Buffer) => got.push(m.length));
    // A clean 1008 (not 1006) proves the close frame landed on a frame boundary.
    expect(await closeOf(ws)).toBe(1008);
    expect(calls).toBeGreaterThan(1);
    expect(got).toEqual([120_000]);
  });

  test('a budget hit early in a long backend frame cuts the connection instead of relaying the rest', async () => {
    const be = await wsBackend((ws) => ws.send('b'.repeat(2_000_000)));
    let outBytes = 0;
    const closes: string[] = [];
    const port = await proxy(() => ({ host: '127.0.0.1', port: be.port, ssl: false, path: '/' }), {
      onServerData: (n) => (outBytes += n) <= 100_000,
      onClose: () => closes.push('close'),
    });
    const ws = client(port);
    const got: number[] = [];
    ws.on('message', (m: Buffer) => got.push(m.length));
    expect(await closeOf(ws)).toBe(1006);
    expect(got).toEqual([]);
    await waitFor(() => closes.length === 1);
  });

  test('tunnel.close() ends the session', async () => {
    const be = await wsBackend();
    let tunnel: { close(): void } | undefined;
    const server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      tunnel = proxyWebSocket(req, socket, head, { host: '127.0.0.1', port: be.port, ssl: false, path: '/' });
    });
    const port = await listen(server);
    cleanups.push(closeServer(server));
    const ws = client(port);
    await new Promise((r) => ws.on('open', r));
    const closed = closeOf(ws);
    tunnel!.close();
    expect(await closed).toBe(1006);
  });
});

describe('writeUpgradeRefusal', () => {
  test('writes a plain response with Connection: close and closes the socket; headers are sanitised', async () => {
    const server = net.createServer((socket) =>
      writeUpgradeRefusal(socket, 429, 'Too Many\r\nRequests', 'Error: Too Many Requests', {
        'Retry-After': '3',
        'X-Evil': 'a\r\nSet-Cookie: x=1',
        'bad name': 'x',
        'Content-Length': '999',
      }),
    );
    const port = await listen(server);
    try {
      const res = await rawExchange(port, '');
      expect(res.ended).toBe(true);
      expect(res.text).toBe(
        'HTTP/1.1 429 Too ManyRequests\r\n' +
          'Content-Type: text/plain; charset=utf-8\r\n' +
          'Retry-After: 3\r\n' +
          'X-Evil: aSet-Cookie: x=1\r\n' +
          'Content-Length: 24\r\n' +
          'Connection: close\r\n\r\n' +
          'Error: Too Many Requests',
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a destroyed socket is left alone', () => {
    const s = new net.Socket();
    s.destroy();
    expect(() => writeUpgradeRefusal(s, 403, 'Forbidden', 'x')).not.toThrow();
  });
});

describe('closeFrame and FrameTracker', () => {
  test('closeFrame is an unmasked FIN close frame with the code and reason', () => {
    expect([...closeFrame(1008, 'Policy')]).toEqual([0x88, 8, 0x03, 0xf0, ...Buffer.from('Policy')]);
    expect(closeFrame(1000, 'r'.repeat(200)).length).toBe(4 + 123);
  });

  const frame = (len: number, masked = false): Buffer => {
    const payload = Buffer.alloc(len, 1);
    const mask = masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0);
    let header: Buffer;
    if (len < 126) header = Buffer.from([0x82, (masked ? 0x80 : 0) | len]);
    else if (len < 65536) header = Buffer.from([0x82, (masked ? 0x80 : 0) | 126, len >> 8, len & 255]);
    else {
      header = Buffer.alloc(10);
      header[0] = 0x82;
      header[1] = (masked ? 0x80 : 0) | 127;
      header.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      header.writeUInt32BE(len >>> 0, 6);
    }
    return Buffer.concat([header, mask, payload]);
  };

  test('follows boundaries across chunk splits, for 7-bit, 16-bit and 64-bit lengths, masked or not', () => {
    const stream = Buffer.concat([frame(5), frame(300, true), frame(0), frame(70_000), frame(2, true)]);
    for (const step of [1, 3, 7, 1000, stream.length]) {
      const t = new FrameTracker();
      const boundaries: number[] = [];
      let pos = 0;
      while (pos < stream.length) {
        const chunk = stream.subarray(pos, Math.min(pos + step, stream.length));
        let off = 0;
        while (off < chunk.length) {
          const n = t.feed(chunk.subarray(off), true);
          if (n < 0) break;
          off += n;
          boundaries.push(pos + off);
        }
        pos += chunk.length;
      }
      expect(t.atBoundary).toBe(true);
      const ends = [7, 7 + 4 + 4 + 300, 7 + 308 + 2, 7 + 308 + 2 + 10 + 70_000, stream.length];
      expect(boundaries).toEqual(ends);
    }
  });

  test('mid-frame is not a boundary', () => {
    const t = new FrameTracker();
    const f = frame(10);
    expect(t.feed(f.subarray(0, 5))).toBe(5);
    expect(t.atBoundary).toBe(false);
    expect(t.feed(f.subarray(5, 7), true)).toBe(-1);
    expect(t.feed(f.subarray(7), true)).toBe(5);
    expect(t.atBoundary).toBe(true);
    const h = new FrameTracker();
    h.feed(Buffer.from([0x82]));
    expect(h.atBoundary).toBe(false); // inside a header
  });
});
