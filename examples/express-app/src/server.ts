/**
 * An existing Express app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createEnforcer } from '@ase/core';
import { aseMiddleware, aseUpgrade } from '@ase/express';
import { apis, startInventoryBackend } from './config';

async function main(): Promise<void> {
  const inventory = await startInventoryBackend();
  const enforcer = createEnforcer({ conf: { enable_ase_detected_attack: true }, apis: apis(inventory.port) });

  const app = express();
  app.use(aseMiddleware(enforcer)); // first: before body parsers and routes
  app.use(express.json());
  const orders = [{ id: 1, item: 'book' }];
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/api/orders', (_req, res) => void res.json(orders));
  app.post('/api/orders', (req, res) => {
    const order = { id: orders.length + 1, item: String((req.body as { item?: unknown }).item ?? '') };
    orders.push(order);
    res.status(201).json(order);
  });

  const server = http.createServer(app);
  aseUpgrade(server, enforcer); // WebSocket upgrades never pass middleware: ASE decides them first
  server.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1', () => {
    console.log(`express-app listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    inventory.close();
    void enforcer.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
