/**
 * What the three framework examples share: the API definitions, the demo backend of the inventory
 * API, and starting and stopping. Each example's server.ts holds only its framework's lines.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiJsonInput, type Enforcer, closeServer, createEnforcer, listenOn } from '@ase/core';

/** The API definitions, as code objects (the same JSON as config/api/<id>.json files would hold). */
export function apis(inventoryPort: number): Record<string, ApiJsonInput> {
  return {
    // No servers: ASE checks the request, then the app's own /api routes answer it.
    api: {
      api_metadata: {
        protocol: 'http',
        url: '/api',
        hostname: '*',
        enable_blocking: true,
        api_pattern_enforcement: { methods_allowed: ['GET', 'POST'], content_type_allowed: 'application/json' },
        decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: '{"admin": true}', decoy_subpaths: ['/api/admin'] },
      },
    },
    // A server: ASE proxies the request to it.
    inventory: {
      api_metadata: { protocol: 'http', url: '/inventory', hostname: '*', enable_blocking: true, servers: [{ host: '127.0.0.1', port: inventoryPort }] },
    },
  };
}

/** The demo backend of the inventory API: answers JSON naming itself and the path it received. */
export async function startInventoryBackend(): Promise<http.Server & { port: number }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: 'inventory', url: req.url }));
    });
  });
  await listenOn(server, 0, '127.0.0.1');
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** An app listening: its port, and how to stop it. */
export interface Served {
  port: number;
  stop(): Promise<void>;
}

/** Listens with a Node server (Express, Koa) on 127.0.0.1. */
export async function serveNode(server: http.Server, port: number): Promise<Served> {
  await listenOn(server, port, '127.0.0.1');
  return { port: (server.address() as AddressInfo).port, stop: () => closeServer(server, 1000) };
}

/**
 * Runs an example: the inventory backend, an enforcer for {@link apis} (a violation or a decoy hit
 * deny-lists the client's IP), then `serve` with the app on `PORT` (3000 by default) until SIGINT
 * or SIGTERM.
 */
export function runExample(name: string, serve: (enforcer: Enforcer, port: number) => Promise<Served>): void {
  const main = async (): Promise<void> => {
    const inventory = await startInventoryBackend();
    const enforcer = createEnforcer({ conf: { enable_ase_detected_attack: true }, apis: apis(inventory.port) });
    const served = await serve(enforcer, Number(process.env['PORT'] ?? 3000));
    console.log(`${name} listening on http://127.0.0.1:${served.port}`);
    const stop = (): void => {
      void served.stop().then(() => enforcer.close());
      inventory.close();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  };
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
