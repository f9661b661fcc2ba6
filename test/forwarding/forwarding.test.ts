import * as http from 'node:http';
import * as net from 'node:net';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { api, servers } from '../helpers/config';
import { type Backend, listen, rawReply, request, startBackend } from '../helpers/http';

/**
 * What the forwarder passes between client and backend, on all three frameworks: the framing of
 * one connection stays on it, everything else arrives whole (repeated fields, streamed bodies).
 */
describe.each(HARNESSES.map((h) => [h.framework, h] as const))('%s: forwarding to a backend', (_name, harness) => {
  let backend: Backend;
  let enforcer: Enforcer;
  let app: RunningApp;

  beforeAll(async () => {
    backend = await startBackend('b', (seen, res) => {
      if (seen.url.startsWith('/p/cookies')) {
        res.writeHead(200, [
          ['Set-Cookie', 'a=1; Path=/'],
          ['Set-Cookie', 'b=2; Path=/'],
          ['X-Multi', 'one'],
          ['Keep-Alive', 'timeout=99'],
          ['Content-Type', 'text/plain'],
        ] as unknown as http.OutgoingHttpHeaders);
        res.end('cookies');
        return true;
      }
      if (seen.url.startsWith('/p/big')) {
        // 4 MB in 64 KB writes, chunked: more than any socket buffer, so backpressure is exercised.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = 64;
        const pump = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return true;
      }
      return false;
    });
    enforcer = createEnforcer({ logger: silentLogger, apis: { p: api('/p', { servers: servers(backend.port) }) } as never });
    app = await harness.start(enforcer);
  });
  afterAll(async () => {
    await app.close();
    await enforcer.close();
    await backend.close();
  });

  test('hop-by-hop request fields stay on the client connection; the others and Host reach the backend', async () => {
    await rawReply(
      app.port,
      'GET /p/hop HTTP/1.1\r\nHost: shop.example\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nTE: trailers\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n',
    );
    const seen = backend.seen.at(-1)!;
    expect(seen.url).toBe('/p/hop');
    expect(seen.headers.host).toBe('shop.example');
    expect(seen.headers['x-kept']).toBe('yes');
    expect(seen.headers['x-secret-hop']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers['proxy-connection']).toBeUndefined();
    expect(seen.headers['x-forwarded-host']).toBe('shop.example');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
  });

  test('every repeated Set-Cookie of the backend reaches the client; its Keep-Alive does not', async () => {
    const res = await request(app.port, { path: '/p/cookies' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('cookies');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers['x-multi']).toBe('one');
    expect(res.headers['keep-alive']).not.toBe('timeout=99');
  });

  test('a chunked request body is streamed to the backend whole', async () => {
    const body = 'x'.repeat(100_000);
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/p/upload', agent: false }, (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      });
      req.on('error', reject);
      // Two writes without a Content-Length: node sends Transfer-Encoding: chunked.
      req.write(body.slice(0, 50_000));
      setTimeout(() => req.end(body.slice(50_000)), 20);
    });
    expect(res).toBe(200);
    const seen = backend.seen.at(-1)!;
    expect(seen.url).toBe('/p/upload');
    expect(seen.body).toBe(body);
  });

  test('a large answer arrives whole at a client that reads slowly', async () => {
    const total = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: app.port, path: '/p/big', agent: false }, (r) => {
        let n = 0;
        r.on('data', (c: Buffer) => {
          n += c.length;
          r.pause();
          setTimeout(() => r.resume(), 1);
        });
        r.on('end', () => resolve(n));
      });
      req.on('error', reject);
    });
    expect(total).toBe(64 * 64 * 1024);
  });
});

describe('forwarding: a client that leaves', () => {
  test('closing mid-answer releases the backend stream (the backend sees its response closed)', async () => {
    let backendClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (backendClosed = r));
    const sse = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      const t = setInterval(() => res.write('data: tick\n\n'), 10).unref();
      res.on('close', () => {
        clearInterval(t);
        backendClosed();
      });
    });
    const b = await listen(sse);
    const enforcer = createEnforcer({ logger: silentLogger, mode: 'gateway', apis: { s: api('/s', { servers: servers(b.port) }) } as never });
    const app = await HARNESSES[0]!.start(enforcer);
    try {
      const sock = net.connect(app.port, '127.0.0.1');
      sock.write('GET /s/events HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise<void>((r) => sock.once('data', () => r()));
      sock.destroy();
      const kept = new Promise<'kept open'>((r) => setTimeout(() => r('kept open'), 3000).unref());
      expect(await Promise.race([closed.then(() => 'closed'), kept])).toBe('closed');
    } finally {
      await app.close();
      await enforcer.close();
      await b.close();
    }
  });
});

describe('forwarding: a connection the backend breaks before answering', () => {
  async function withApp(
    handler: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void,
    run: (port: number, downs: string[]) => Promise<void>,
  ): Promise<void> {
    let n = 0;
    const b = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => handler(++n, req, res));
      }),
    );
    const enforcer = createEnforcer({ logger: silentLogger, mode: 'gateway', apis: { r: api('/r', { servers: servers(b.port) }) } as never });
    const downs: string[] = [];
    enforcer.on('backend_down', (e) => downs.push(e.server));
    const app = await HARNESSES[0]!.start(enforcer);
    try {
      await run(app.port, downs);
    } finally {
      await app.close();
      await enforcer.close();
      await b.close();
    }
  }

  test('a bodiless request is sent once more to the same server, which is not marked down', async () => {
    await withApp(
      (n, req, res) => (n === 1 ? req.socket.destroy() : res.end('second')),
      async (port, downs) => {
        const r = await request(port, { path: '/r/x' });
        expect(r.status).toBe(200);
        expect(r.body).toBe('second');
        expect(downs).toEqual([]);
        expect((await request(port, { path: '/r/y' })).status).toBe(200);
      },
    );
  });

  test('a request with a body is not replayed: 502, and the server stays up', async () => {
    await withApp(
      (n, req, res) => (n === 1 ? req.socket.destroy() : res.end('later')),
      async (port, downs) => {
        const r = await request(port, { path: '/r/x', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'once' });
        expect(r.status).toBe(502);
        expect(r.body).toBe('Error: Bad Gateway');
        expect(downs).toEqual([]);
        expect((await request(port, { path: '/r/y' })).body).toBe('later');
      },
    );
  });

  test('breaking the retry too marks the server down: 502', async () => {
    await withApp(
      (_n, req) => req.socket.destroy(),
      async (port, downs) => {
        const r = await request(port, { path: '/r/x' });
        expect(r.status).toBe(502);
        expect(downs).toHaveLength(1);
      },
    );
  });
});
