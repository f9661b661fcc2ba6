/**
 * An existing Express app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 * The API definitions, the backend and starting/stopping are shared with the other examples.
 */
import * as http from 'node:http';
import express from 'express';
import { aseMiddleware, aseUpgrade } from '@ase/express';
import { runExample, serveNode } from '../../common/dist/example-app';

runExample('express-app', async (enforcer, port) => {
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
  return serveNode(server, port);
});
