/**
 * An existing Koa app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createEnforcer } from '@ase/core';
import { aseMiddleware, aseUpgrade } from '@ase/koa';
import { apis, startInventoryBackend } from './config';

function readJson(req: http.IncomingMessage): Promise<{ item?: unknown }> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      try {
        resolve(text ? (JSON.parse(text) as { item?: unknown }) : {});
      } catch (err) {
        reject(Object.assign(err as Error, { status: 400, expose: true }));
      }
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const inventory = await startInventoryBackend();
  const enforcer = createEnforcer({ conf: { enable_ase_detected_attack: true }, apis: apis(inventory.port) });

  const app = new Koa();
  app.use(aseMiddleware(enforcer)); // first: before body parsers and routes
  const orders = [{ id: 1, item: 'book' }];
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/health') {
      ctx.body = { status: 'ok' };
    } else if (ctx.method === 'GET' && ctx.path === '/api/orders') {
      ctx.body = orders;
    } else if (ctx.method === 'POST' && ctx.path === '/api/orders') {
      const order = { id: orders.length + 1, item: String((await readJson(ctx.req)).item ?? '') };
      orders.push(order);
      ctx.status = 201;
      ctx.body = order;
    }
    // anything else: Koa's 404
  });

  const server = http.createServer(app.callback());
  aseUpgrade(server, enforcer); // WebSocket upgrades never pass middleware: ASE decides them first
  server.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1', () => {
    console.log(`koa-app listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
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
