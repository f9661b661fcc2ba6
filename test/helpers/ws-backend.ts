import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface WsBackend {
  port: number;
  /** The target of every upgrade it accepted, in order. */
  paths: string[];
  /** The request headers of every upgrade it accepted, in order. */
  upgrades: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A WebSocket echo backend on port 0 (`hello` → `echo:hello`) that records the upgrades it accepted. */
export async function startWsBackend(): Promise<WsBackend> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const paths: string[] = [];
  const upgrades: http.IncomingHttpHeaders[] = [];
  wss.on('connection', (ws, req) => {
    paths.push(req.url ?? '');
    upgrades.push(req.headers);
    ws.on('message', (m) => ws.send(`echo:${m.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    upgrades,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
