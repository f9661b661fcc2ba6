import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import WebSocket from 'ws';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware, aseUpgrade } from '@ase/express';
import { type WsBackend, startWsBackend } from '../helpers/ws-backend';

/**
 * WebSocket bookkeeping is bounded (docs/security.md): a flood of WebSockets from distinct client
 * addresses, through a real Express server, keeps the byte meter at `tracked_clients_max` clients
 * (the window started longest ago is forgotten, the newest kept), and an open tunnel is counted
 * only while it is open.
 */

const BOUND = 20;
const FLOOD = 4 * BOUND;
/** A masked client frame of 30 bytes of payload is 36 bytes: one fits the 64-byte budget, two do not. */
const MESSAGE = 'm'.repeat(30);

interface Opened {
  ws: WebSocket;
  /** Resolves with the echo, or with the close code when ASE closed the connection instead. */
  send(text: string): Promise<string | number>;
  close(): Promise<void>;
}

function open(port: number, ip: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/room`, { headers: { 'x-forwarded-for': ip } });
    let closed: number | undefined;
    const closing = new Promise<number>((r) => ws.once('close', (code) => r((closed = code))));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('open', () =>
      resolve({
        ws,
        send: (text) => {
          if (closed !== undefined) return Promise.resolve(closed);
          const echo = new Promise<string>((r) => ws.once('message', (m) => r(m.toString())));
          ws.send(text);
          return Promise.race([echo, closing]);
        },
        close: async () => {
          if (closed === undefined) ws.close();
          await closing;
        },
      }),
    );
  });
}

const ip = (i: number): string => `10.1.${(i >> 8) & 255}.${i & 255}`;

describe('express: a flood of WebSockets from distinct clients', () => {
  let backend: WsBackend;
  let enforcer: Enforcer;
  let server: http.Server;
  let port: number;

  beforeEach(async () => {
    backend = await startWsBackend();
    enforcer = createEnforcer({
      conf: { enable_xff: true, tracked_clients_max: BOUND },
      apis: {
        chat: {
          api_metadata: {
            url: '/chat',
            hostname: '*',
            protocol: 'ws',
            flow_control: { bytes_in_threshold: '64/minute' },
            servers: [{ host: '127.0.0.1', port: backend.port }],
          },
        },
      },
      logger: silentLogger,
    });
    const app = express();
    app.use(aseMiddleware(enforcer));
    server = http.createServer(app);
    aseUpgrade(server, enforcer);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    enforcer.endWebSockets();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await enforcer.close();
    await backend.close();
  });

  const stats = () => enforcer.stats().apis['chat']!;

  async function settled(predicate: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  }

  test(`the byte meter keeps at most tracked_clients_max (${BOUND}) clients; open tunnels are counted only while open`, async () => {
    expect(stats().bytesIn).toEqual({ size: 0, max: BOUND });
    const first = await open(port, '192.0.2.1');
    expect(await first.send(MESSAGE)).toBe(`echo:${MESSAGE}`);
    await first.close();

    let peakMeter = 0;
    let peakOpen = 0;
    for (let from = 0; from < FLOOD; from += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => open(port, ip(from + k))));
      for (const b of batch) expect(await b.send(MESSAGE)).toBe(`echo:${MESSAGE}`);
      peakMeter = Math.max(peakMeter, stats().bytesIn!.size);
      peakOpen = Math.max(peakOpen, stats().webSockets);
      await Promise.all(batch.map((b) => b.close()));
      // Every tunnel's entry goes when its connection ends.
      await settled(() => stats().webSockets === 0);
      expect(stats().webSockets).toBe(0);
    }
    expect(peakMeter).toBe(BOUND);
    expect(peakOpen).toBe(10);

    // The first client's window was forgotten: its next message fits a fresh budget.
    const again = await open(port, '192.0.2.1');
    expect(await again.send(MESSAGE)).toBe(`echo:${MESSAGE}`);
    await again.close();
    // The last client's window was kept: a second message passes its budget and closes 1008.
    const last = await open(port, ip(FLOOD - 1));
    expect(await last.send(MESSAGE)).toBe(1008);
    await last.close();
    expect(stats().bytesIn!.size).toBeLessThanOrEqual(BOUND);
  }, 60_000);
});
